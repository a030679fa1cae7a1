"""The CI slice of Spark end to end (one market, one week, one SparkSession): what the metric deep-dive template
shows — headline cards, key insights, root-cause, seller and decomposition tables, each rendered by the same
gnelib.views functions the template calls — is identical when the data is on Spark and when it is in DuckDB."""

import pytest

from gnelib import metrics
from gnelib.analysis.deep_dive import deep_dive
from gnelib.views import deep_dive as view
from gnelib.viz.blocks import cards, insight_list
from gnelib.warehouse import connect

pytestmark = pytest.mark.spark

MARKET, WEEK, METRIC = "ID", "2026-W47", "counterfeit_claim_rate"  # a planted counterfeit wave: every section fills


def sections(conn) -> dict[str, str]:
    """The deep dive's sections as the template renders them (HTML strings)."""
    result = deep_dive(conn, metrics.get(METRIC), MARKET, WEEK)
    shown = {"cards": cards(view.headline_cards(result)).data, "insights": insight_list(result.insights).data,
             "root_cause": view.root_cause_summary(result) + view.root_cause_table(result),
             "sellers": view.concentration_summary(result) + view.concentration_table(result)}
    for dimension in view.ranked_dimensions(result)[:3]:
        shown[f"by {dimension}"] = view.decomposition_table(result, dimension)
    return shown


def test_deep_dive_sections_equal_duckdb(spark, small_warehouse):
    with connect(small_warehouse) as duck:
        expected = sections(duck)
    assert "Counterfeit claim rate in ID" in expected["insights"] and "beauty" in expected["root_cause"]
    on_spark = sections(spark)
    assert list(on_spark) == list(expected)
    for name, html in expected.items():
        assert on_spark[name] == html, f"{name} differs on Spark"
