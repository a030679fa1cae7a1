"""Deep dive and scan on the real small demo warehouse, checked against its planted-incident manifest."""

import duckdb
import pandas as pd
import pytest
from scipy import stats

from gnelib import metrics
from gnelib.analysis.deep_dive import deep_dive
from gnelib.analysis.detection import findings, scan
from gnelib.analysis.errors import AnalysisError
from gnelib.periods import PeriodError, weeks_between
from gnelib.warehouse import connect


@pytest.fixture(scope="module")
def conn(small_warehouse):
    return connect(small_warehouse)


@pytest.fixture(scope="module")
def incidents(small_warehouse) -> pd.DataFrame:
    with duckdb.connect(str(small_warehouse), read_only=True) as raw:
        return raw.sql("SELECT * FROM incidents").df().set_index("name")


@pytest.mark.parametrize(
    ("incident", "metric"),
    [
        ("logistics_delay", "late_delivery_rate"),
        ("moderation_regression", "appeal_overturn_rate"),
        ("counterfeit_wave", "counterfeit_claim_rate"),
    ],
)
def test_planted_rate_incident_is_the_top_driver(conn, incidents, incident, metric):
    planted = incidents.loc[incident]
    result = deep_dive(conn, metric, planted["market"], planted["start_week"])
    assert result.change.significant and result.change.abs_change > 0
    top = result.root_cause.segments.query("candidate and significant").iloc[0]
    assert (top["dimension"], top["value"], top["effect"]) == (
        planted["dimension"],
        planted["dimension_value"],
        "rate",
    )
    headline = next(insight for insight in result.insights if insight.kind == "change")
    assert (
        headline.direction == "bad"
        and f"{planted['dimension'].replace('_', ' ')} {planted['dimension_value']}" in headline.text
    )


def test_sustained_incident_falls_back_to_the_trailing_average(conn, incidents):
    planted = incidents.loc["logistics_delay"]
    result = deep_dive(conn, "late_delivery_rate", planted["market"], planted["end_week"])
    assert result.comparison.startswith("against the 4-week average")
    assert result.trailing_change.significant
    assert result.root_cause.segments.query("candidate and significant").iloc[0]["value"] == "carrier_b"


def test_mix_shift_incident_is_reported_as_mix(conn, incidents):
    planted = incidents.loc["mix_shift"]
    result = deep_dive(conn, "late_dispatch_rate", planted["market"], planted["start_week"])
    mix = [insight for insight in result.insights if insight.kind in ("mix", "mix_shift")]
    assert mix and "channel live" in mix[0].text
    channel = result.decompositions["channel"].set_index("channel")
    assert channel.loc["live", "current_share"] == pytest.approx(planted["expected_size"], abs=0.05)


def test_deep_dive_numbers_agree_with_the_metric_frame(conn):
    result = deep_dive(conn, "refund_rate", "US", "2026-W40", dimensions=["channel", "category"])
    frame = metrics.compute(conn, "refund_rate", weeks=["2026-W39", "2026-W40"], where={"market": "US"})
    values = frame.set_index("period")["value"]
    assert (result.change.baseline, result.change.current) == pytest.approx(
        (values["2026-W39"], values["2026-W40"])
    )
    for table in result.decompositions.values():
        assert table["total"].sum() == pytest.approx(result.change.abs_change, abs=1e-12)
    assert set(result.decompositions) == {"channel", "category"}
    assert list(result.series["period"]) == weeks_between("2026-W18", "2026-W40")  # data start at W18


def test_duration_metric_uses_a_rank_test(conn):
    result = deep_dive(conn, "median_hours_to_refund", "GB", "2026-W40")
    events = metrics.samples(
        conn, "median_hours_to_refund", weeks=["2026-W39", "2026-W40"], where={"market": "GB"}
    )
    before, after = (events.loc[events["period"] == week, "value"] for week in ("2026-W39", "2026-W40"))
    assert result.change.p_value == pytest.approx(stats.mannwhitneyu(after, before).pvalue)
    assert result.root_cause is None and result.decompositions == {}


def test_bad_inputs_name_the_fix(conn):
    with pytest.raises(PeriodError, match="YYYY-Www"):
        deep_dive(conn, "refund_rate", "ID", "2026-47")
    with pytest.raises(AnalysisError, match="choose from category, channel"):
        deep_dive(conn, "refund_rate", "ID", "2026-W40", dimensions=["colour"])
    with pytest.raises(AnalysisError, match="no data in market ID for 2026-W10"):
        deep_dive(conn, "refund_rate", "ID", "2026-W11")


def test_scan_flags_the_planted_carrier_delay_with_its_carrier(conn, incidents):
    planted = incidents.loc["logistics_delay"]
    table = scan(conn, planted["start_week"], markets=[planted["market"], "GB"], metrics=["late_delivery_rate"])
    total = table[(table["market"] == planted["market"]) & (table["dimension"] == "")].iloc[0]
    assert total["flag"] and total["verdict"] == "bad" and total["direction"] == "up"
    found = findings(table).set_index("market").loc[planted["market"]]
    assert found["segments"][0] == f"{planted['dimension']}={planted['dimension_value']}"
