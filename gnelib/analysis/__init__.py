"""Why did a metric move? ISO weeks, significance, decomposition, root cause, the weekly scan, insights.

The core works on metric frames (docs/metric-frames.md); `deep_dive` and `scan` fetch them via gnelib.metrics.
"""

import importlib

# Imported on first use (PEP 562), so `gnelib.analysis.value` and the other light modules do not load scipy and the
# scan: `gne run` validates parameters with `value` before any kernel starts, and bad input must fail fast. The
# function deep_dive is not re-exported: `gnelib.analysis.deep_dive` is its module (import it from there).
_HOMES = {
    "decomposition": ("decompose", "decompose_additive", "decompose_ratio"),
    "deep_dive": ("DeepDiveResult",),
    "detection": ("findings", "scan"),
    "errors": ("AnalysisError",),
    "insights": ("Insight", "build_insights"),
    "root_cause": ("RootCause", "explain_change"),
    "significance": ("Change", "benjamini_hochberg", "change_test"),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> object:
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'gnelib.analysis' has no attribute {name!r}")
    return getattr(importlib.import_module(f"gnelib.analysis.{_MODULE_OF[name]}"), name)


__all__ = sorted(_MODULE_OF)
