"""The weekly plan's generic templates run through `gne run --warehouse spark://local[2]?parquet=…` and say what the
DuckDB run on the same data says. Slow (every process starts its own Spark and the weekly scan runs on it): marked
`spark_e2e`, left out of the default run, run by `make spark-e2e`."""

import pytest
from engine_reports import assert_same_digest, assert_same_report, finish_run, start_run, write_plan

pytestmark = pytest.mark.spark_e2e

MARKET, WEEK = "VN", "2026-W47"
TEMPLATES = {"weekly_scorecard": {}, "metric_deep_dive": {"parameters": {"metric": "seller_fault_cancel_rate"}}}


@pytest.fixture(scope="module")
def runs(parquet_dir, small_warehouse, tmp_path_factory):
    """The same plan on Spark and on the DuckDB file; their reports directories."""
    folder = tmp_path_factory.mktemp("spark-reports")
    plan = write_plan(folder / "plan.yaml", MARKET, WEEK, TEMPLATES)
    duckdb = start_run(plan, str(small_warehouse), folder / "duckdb")
    finish_run(duckdb)
    spark = start_run(plan, f"spark://local[2]?parquet={parquet_dir}", folder / "spark", workers=1)
    finish_run(spark, timeout=3600)
    return {"spark": folder / "spark", "duckdb": folder / "duckdb"}


@pytest.mark.parametrize("template", TEMPLATES)
def test_report_says_what_the_duckdb_report_says(runs, template):
    page = f"{WEEK}/{MARKET}/{template}.html"
    facts = assert_same_report(runs["spark"] / page, runs["duckdb"] / page)
    assert f"Market {MARKET}" in facts["header"] and f"Week {WEEK}" in facts["header"]


def test_weekly_digest_says_what_the_duckdb_digest_says(runs):
    assert_same_digest(runs["spark"], runs["duckdb"], WEEK)
