"""Regenerate the nbval references: execute every template with fixed parameters on the small demo warehouse.

Run through `make nbval-refresh` (which builds that warehouse and sets GNE_WAREHOUSE).
"""

import os
import sys
from pathlib import Path

import nbformat
import papermill

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_PARAMETERS = {
    "weekly_scorecard": {"market": "ID", "week": "2026-W47"},
    "metric_deep_dive": {"market": "TH", "metric": "late_delivery_rate", "week": "2026-W46"},
    "seller_risk": {"market": "VN", "week": "2026-W47"},
    "listing_compliance": {"market": "MY", "week": "2026-W47"},
    "after_sales": {"market": "ID", "week": "2026-W47"},
    "experiment_readout": {"market": "all", "experiment": "dispatch_sla_nudge", "week": "2026-W47"},
    "creator_risk": {"market": "TH", "week": "2026-W47"},
    "goals": {"market": "all", "week": "2026-W47"},
    "policy_impact": {"market": "all", "policy": "all", "week": "2026-W47"},
}


def main() -> int:
    if not os.environ.get("GNE_WAREHOUSE"):
        print("Set GNE_WAREHOUSE to the small seed-7 warehouse (make nbval-refresh does).", file=sys.stderr)
        return 2
    for template, parameters in REFERENCE_PARAMETERS.items():
        source = ROOT / "notebooks" / f"{template}.ipynb"
        if not source.exists():
            print(f"skipping {template}: {source} does not exist", file=sys.stderr)
            continue
        target = ROOT / "tests" / "notebooks" / f"{template}.ipynb"
        papermill.execute_notebook(str(source), str(target), parameters=parameters, kernel_name="python3",
                                   progress_bar=False)
        _drop_run_metadata(target)
        print(f"wrote {target.relative_to(ROOT)}")
    return 0


def _drop_run_metadata(path: Path) -> None:
    """Remove timings and timestamps so a refresh only shows real changes in `git diff`."""
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata.pop("papermill", None)
    for cell in notebook.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nbformat.write(notebook, path)


if __name__ == "__main__":
    sys.exit(main())
