"""Deep dive and scan on the real small demo warehouse, checked against its planted-incident manifest."""

import duckdb
import numpy as np
import pandas as pd
import pytest

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


def test_sustained_incident_stays_bad_against_its_usual_level(conn, incidents):
    planted = incidents.loc["logistics_delay"]
    result = deep_dive(conn, "late_delivery_rate", planted["market"], planted["end_week"])
    assert result.change.significant and result.change.abs_change > 0
    assert result.change.baseline == pytest.approx(result.finding["baseline"])
    assert result.change.p_value == result.finding["p_adjusted"]
    assert result.insights[0].direction == "bad" and "fell" not in result.insights[0].text
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
    assert result.finding["comparison"] == "week" and result.finding["baseline_weeks"] == 12
    history = weeks_between("2026-W28", "2026-W39")
    frame = metrics.compute(conn, "refund_rate", weeks=["2026-W40", *history], where={"market": "US"})
    before = frame[frame["period"].isin(history)]
    pooled = before["numerator"].sum() / before["denominator"].sum()
    current = frame.set_index("period").loc["2026-W40", "value"]
    assert (result.change.baseline, result.change.current) == pytest.approx((pooled, current))
    for table in result.decompositions.values():
        assert table["total"].sum() == pytest.approx(result.change.abs_change, abs=1e-12)
    assert set(result.decompositions) == {"channel", "category"}
    assert list(result.series["period"]) == weeks_between("2026-W18", "2026-W40")  # data start at W18


def test_duration_headline_is_the_weeks_median_against_the_median_of_weekly_medians(conn):
    result = deep_dive(conn, "median_hours_to_refund", "GB", "2026-W40")
    assert result.finding["comparison"] == "week"
    history = weeks_between("2026-W28", "2026-W39")
    events = metrics.samples(conn, "median_hours_to_refund", weeks=["2026-W40", *history], where={"market": "GB"})
    weekly = events.groupby("period")["value"].median()
    assert result.change.current == pytest.approx(weekly["2026-W40"])
    assert result.change.baseline == pytest.approx(np.median(weekly[history]))
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
