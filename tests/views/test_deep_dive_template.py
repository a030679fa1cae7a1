"""The metric deep-dive template on every catalog metric (ratio, count, sum, duration), in warm kernels."""

from pathlib import Path

import pytest
from template_runs import execute_warm, html_of, outputs

from gnelib import metrics
from gnelib.warehouse import connect

TEMPLATE = Path(__file__).resolve().parents[2] / "notebooks" / "metric_deep_dive.ipynb"
MARKET, WEEK = "ID", "2026-W47"


@pytest.fixture(scope="module")
def executions(small_warehouse, tmp_path_factory) -> dict:
    """Every catalog metric through the template, in two warm kernels."""
    runs = {name: (TEMPLATE, {"market": MARKET, "metric": name, "week": WEEK})
            for name in metrics.load_catalog().names()}
    return execute_warm(runs, small_warehouse, tmp_path_factory.mktemp("deep_dives"))


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
        produced = outputs(notebook)
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

