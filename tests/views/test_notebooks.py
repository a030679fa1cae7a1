"""The four report templates: committed clean, and executed with papermill on the small warehouse (warm kernels, as
`gne run` executes them)."""

from pathlib import Path

import nbformat
import pytest
from template_runs import execute_warm, html_of, outputs

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
TEMPLATES = ["seller_risk", "listing_compliance", "after_sales", "experiment_readout"]
WEEK = "2026-W47"
RUNS = [("seller_risk", {"market": "VN"}), ("seller_risk", {"market": "GB"}),
        ("listing_compliance", {"market": "MY"}), ("listing_compliance", {"market": "ID"}),
        ("after_sales", {"market": "ID"}), ("after_sales", {"market": "US"}),
        ("experiment_readout", {"experiment": "dispatch_sla_nudge"})]
SRM = ("experiment_readout", {"experiment": "refund_fast_track"})  # a sample-ratio mismatch: the readout is invalid
EMPTY_WEEK = ("seller_risk", {"market": "VN", "week": "2026-W10"})


def run_id(name: str, parameters: dict) -> str:
    return f"{name}-{'-'.join(parameters.values())}"


@pytest.fixture(scope="module")
def executed(small_warehouse, tmp_path_factory):
    """Every run of this module, executed once; `executed(name, parameters)` → its notebook, after checking it ran."""
    runs = {run_id(name, parameters): (NOTEBOOKS / f"{name}.ipynb", {"week": WEEK, **parameters})
            for name, parameters in [*RUNS, SRM, EMPTY_WEEK]}
    executions = execute_warm(runs, small_warehouse, tmp_path_factory.mktemp("templates"))

    def notebook(name: str, parameters: dict):
        execution = executions[run_id(name, parameters)]
        assert execution.ok, execution.failure.summary()
        return execution.notebook

    return notebook


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_is_committed_clean(name):
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert "parameters" in notebook.cells[1].metadata.get("tags", [])
    assert "week: str = " in notebook.cells[1].source
    assert not outputs(notebook)
    assert all(cell.get("execution_count") is None for cell in notebook.cells if cell.cell_type == "code")
    assert any(cell.source.strip() == "## Key insights" for cell in notebook.cells if cell.cell_type == "markdown")


@pytest.mark.parametrize(("name", "parameters"), RUNS, ids=[run_id(n, p) for n, p in RUNS])
def test_template_executes_with_key_insights(executed, name, parameters):
    notebook = executed(name, parameters)
    produced = outputs(notebook)
    assert not [output for output in produced if output.output_type in ("error", "stream")]
    page = html_of(notebook)
    assert '<ol class="gne-insights">' in page
    assert "<script>" not in page and "onerror=" not in page
    assert sum("image/png" in output.get("data", {}) for output in produced) >= 1


def test_experiment_with_srm_is_invalid_and_shows_no_lift(executed):
    notebook = executed(*SRM)
    page = html_of(notebook)
    assert "INVALID" in page and "withheld" in page and '<ol class="gne-insights">' in page
    assert "relative change" not in page
    assert not [output for output in outputs(notebook) if "image/png" in output.get("data", {})]


def test_empty_week_says_no_data_and_skips_the_rest(executed):
    notebook = executed(*EMPTY_WEEK)
    page = html_of(notebook)
    assert "There is no data for VN in 2026-W10" in page
    assert '<ol class="gne-insights">' not in page
    assert not [output for output in outputs(notebook) if "image/png" in output.get("data", {})]
