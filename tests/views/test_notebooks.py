"""The four report templates: committed clean, and executed with papermill on the small warehouse."""

from pathlib import Path

import nbformat
import papermill
import pytest

from gnelib.warehouse.connection import WAREHOUSE_ENV_VAR

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
TEMPLATES = ["seller_risk", "listing_compliance", "after_sales", "experiment_readout"]
RUNS = [("seller_risk", {"market": "VN"}), ("seller_risk", {"market": "GB"}),
        ("listing_compliance", {"market": "MY"}), ("listing_compliance", {"market": "ID"}),
        ("after_sales", {"market": "ID"}), ("after_sales", {"market": "US"}),
        ("experiment_readout", {"experiment": "dispatch_sla_nudge"})]


def outputs(notebook) -> list[dict]:
    return [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]


def html_of(notebook) -> str:
    return "".join(output.get("data", {}).get("text/html", "") for output in outputs(notebook))


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


def execute(name: str, parameters: dict, warehouse: Path, monkeypatch, tmp_path: Path):
    monkeypatch.setenv(WAREHOUSE_ENV_VAR, str(warehouse))
    out = tmp_path / f"{name}.ipynb"
    papermill.execute_notebook(str(NOTEBOOKS / f"{name}.ipynb"), str(out), parameters={**parameters,
                               "week": "2026-W47"}, kernel_name="python3", progress_bar=False)
    return nbformat.read(out, as_version=4)


@pytest.mark.parametrize(("name", "parameters"), RUNS, ids=[f"{n}-{'-'.join(p.values())}" for n, p in RUNS])
def test_template_executes_with_key_insights(name, parameters, small_warehouse, monkeypatch, tmp_path):
    notebook = execute(name, parameters, small_warehouse, monkeypatch, tmp_path)
    produced = outputs(notebook)
    assert not [output for output in produced if output.output_type in ("error", "stream")]
    page = html_of(notebook)
    assert '<ol class="gne-insights">' in page
    assert "<script>" not in page and "onerror=" not in page
    assert sum("image/png" in output.get("data", {}) for output in produced) >= 1


def test_experiment_with_srm_is_invalid_and_shows_no_lift(small_warehouse, monkeypatch, tmp_path):
    notebook = execute("experiment_readout", {"experiment": "refund_fast_track"}, small_warehouse, monkeypatch,
                       tmp_path)
    page = html_of(notebook)
    assert "INVALID" in page and "withheld" in page and '<ol class="gne-insights">' in page
    assert "relative change" not in page
    assert not [output for output in outputs(notebook) if "image/png" in output.get("data", {})]


def test_empty_week_says_no_data_and_skips_the_rest(small_warehouse, monkeypatch, tmp_path):
    monkeypatch.setenv(WAREHOUSE_ENV_VAR, str(small_warehouse))
    out = tmp_path / "empty.ipynb"
    papermill.execute_notebook(str(NOTEBOOKS / "seller_risk.ipynb"), str(out),
                               parameters={"market": "VN", "week": "2026-W10"}, kernel_name="python3",
                               progress_bar=False)
    notebook = nbformat.read(out, as_version=4)
    page = html_of(notebook)
    assert "There is no data for VN in 2026-W10" in page
    assert '<ol class="gne-insights">' not in page
    assert not [output for output in outputs(notebook) if "image/png" in output.get("data", {})]
