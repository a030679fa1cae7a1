"""The generic templates run through `gne run --warehouse postgresql://…` and say what the DuckDB run on the same
data says: the same key numbers, insight sentences, cards and tables."""

import pytest
from engine_reports import assert_same_report, finish_run, start_run, write_plan

MARKET, WEEK = "ID", "2026-W47"
TEMPLATES = {"weekly_scorecard": {}, "metric_deep_dive": {"metric": "counterfeit_claim_rate"}}


@pytest.fixture(scope="module")
def runs(postgres_url, small_warehouse, tmp_path_factory):
    """The same plan on PostgreSQL and on the DuckDB file, run side by side; their reports directories."""
    folder = tmp_path_factory.mktemp("postgres-reports")
    plan = write_plan(folder / "plan.yaml", MARKET, WEEK, TEMPLATES)
    started = {name: start_run(plan, warehouse, folder / name)
               for name, warehouse in (("postgres", postgres_url), ("duckdb", str(small_warehouse)))}
    outputs = {name: finish_run(process) for name, process in started.items()}
    assert "aggregates: 0 metric frames computed" not in outputs["postgres"], outputs["postgres"]
    return {name: folder / name for name in started}


@pytest.mark.parametrize("template", TEMPLATES)
def test_report_says_what_the_duckdb_report_says(runs, template):
    page = f"{WEEK}/{MARKET}/{template}.html"
    facts = assert_same_report(runs["postgres"] / page, runs["duckdb"] / page)
    assert f"Market {MARKET}" in facts["header"] and f"Week {WEEK}" in facts["header"]


def test_weekly_digest_says_what_the_duckdb_digest_says(runs):
    """The batch's digest: the weekly scan of every market on PostgreSQL (this week's and last week's findings)."""
    page = f"{WEEK}/digest.html"
    assert_same_report(runs["postgres"] / page, runs["duckdb"] / page, needs=("insights",))
