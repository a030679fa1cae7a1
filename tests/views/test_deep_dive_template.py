"""The metric deep-dive template on every catalog metric (ratio, count, sum, duration), in warm kernels."""

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gnelib import metrics
from gnelib.reporting.execute import execute_run
from gnelib.reporting.kernel_pool import KernelSource
from gnelib.warehouse import connect
from gnelib.warehouse.connection import WAREHOUSE_ENV_VAR

TEMPLATE = Path(__file__).resolve().parents[2] / "notebooks" / "metric_deep_dive.ipynb"
MARKET, WEEK = "ID", "2026-W47"
KERNELS = 2  # the CI machine has two cores
RUN_TIMEOUT = 120


def html_of(notebook) -> str:
    return "".join(output.get("data", {}).get("text/html", "")
                   for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs)


@pytest.fixture(scope="module")
def executions(small_warehouse, tmp_path_factory) -> dict:
    """Every catalog metric through the template, split over `KERNELS` warm kernels (one thread each)."""
    out = tmp_path_factory.mktemp("deep_dives")
    names = metrics.load_catalog().names()
    previous = os.environ.get(WAREHOUSE_ENV_VAR)
    os.environ[WAREHOUSE_ENV_VAR] = str(small_warehouse)  # kernels inherit it when they start

    def run_share(share: list[str]) -> dict:
        source = KernelSource("warm")
        try:
            return {name: execute_run(TEMPLATE, {"market": MARKET, "metric": name, "week": WEEK},
                                      out / f"{name}.ipynb", source, RUN_TIMEOUT) for name in share}
        finally:
            source.discard()

    try:
        with ThreadPoolExecutor(KERNELS) as pool:
            results = {}
            for part in pool.map(run_share, [names[i::KERNELS] for i in range(KERNELS)]):
                results.update(part)
    finally:
        if previous is None:
            os.environ.pop(WAREHOUSE_ENV_VAR, None)
        else:
            os.environ[WAREHOUSE_ENV_VAR] = previous
    return results


def test_every_metric_kind_is_in_the_catalog():
    kinds = {metrics.get(name).kind for name in metrics.load_catalog().names()}
    assert kinds == {"ratio", "count", "sum", "duration"}


def test_deep_dive_template_runs_on_every_catalog_metric(executions, small_warehouse):
    conn = connect(str(small_warehouse))
    names = metrics.load_catalog().names()
    failed = {name: executions[name].failure.summary() for name in names if not executions[name].ok}
    assert not failed
    explained = []
    for name in names:
        notebook = executions[name].notebook
        produced = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
        assert not [output for output in produced if output.output_type in ("error", "stream")], name
        page = html_of(notebook)
        if "No comparison." in page:  # said in words, and only where the data really has a gap
            weeks = metrics.compute(conn, name, weeks=("2026-W44", WEEK), where={"market": MARKET})
            assert len(weeks) < 4, name
            continue
        explained.append(name)
        assert '<ol class="gne-insights">' in page and "gne-card" in page, name
        assert any("image/png" in output.get("data", {}) for output in produced), name  # the trend chart
        if metrics.get(name).kind != "duration":
            assert "Which segments explain the change" not in page or "<table" in page, name
    assert len(explained) >= len(names) - 3


def test_count_and_sum_metrics_show_their_segment_changes(executions):
    for name in ("orders", "gmv_usd", "enforcement_actions", "listings_removed"):
        page = html_of(executions[name].notebook)
        assert "Before (per week)" in page and "Share of change" in page, name
        assert "Mix effect" not in page, name

