"""Why did a metric move? ISO weeks, significance, decomposition, root cause, the weekly scan, insights.

The core works on metric frames (docs/metric-frames.md); `deep_dive` and `scan` fetch them via gnelib.metrics.
"""

from gnelib.analysis.decomposition import decompose, decompose_additive, decompose_ratio
from gnelib.analysis.deep_dive import DeepDiveResult, deep_dive
from gnelib.analysis.detection import findings, scan
from gnelib.analysis.errors import AnalysisError
from gnelib.analysis.insights import Insight, build_insights
from gnelib.analysis.root_cause import RootCause, explain_change
from gnelib.analysis.significance import Change, benjamini_hochberg, change_test

__all__ = [
    "AnalysisError",
    "Change",
    "DeepDiveResult",
    "Insight",
    "RootCause",
    "benjamini_hochberg",
    "build_insights",
    "change_test",
    "decompose",
    "decompose_additive",
    "decompose_ratio",
    "deep_dive",
    "explain_change",
    "findings",
    "scan",
]
