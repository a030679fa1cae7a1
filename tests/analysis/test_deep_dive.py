"""Deep dive and scan on the real small demo warehouse, checked against its planted-incident manifest."""

import functools

import duckdb
import numpy as np
import pandas as pd
import pytest

from gnelib import metrics
from gnelib.analysis.deep_dive import deep_dive
from gnelib.analysis.detection import TOTAL, findings, scan
from gnelib.analysis.errors import AnalysisError
from gnelib.periods import PeriodError, shift_week, weeks_between
from gnelib.views import deep_dive as view
from gnelib.warehouse import connect


@pytest.fixture(scope="module")
def conn(small_warehouse):
    return connect(small_warehouse)


@pytest.fixture(scope="module")
def dive(conn):
    """`deep_dive` on the module's connection, each metric × market × week computed once."""
    return functools.cache(lambda metric, market, week: deep_dive(conn, metric, market, week))


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
def test_planted_rate_incident_is_the_top_driver(dive, incidents, incident, metric):
    planted = incidents.loc[incident]
    result = dive(metric, planted["market"], planted["start_week"])
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


def test_sustained_incident_stays_bad_against_its_usual_level(dive, incidents):
    planted = incidents.loc["logistics_delay"]
    result = dive("late_delivery_rate", planted["market"], planted["end_week"])
    assert result.change.significant and result.change.abs_change > 0
    assert result.change.baseline == pytest.approx(result.finding["baseline"])
    assert result.change.p_value == result.finding["p_adjusted"]
    assert result.insights[0].direction == "bad" and "fell" not in result.insights[0].text
    assert result.root_cause.segments.query("candidate and significant").iloc[0]["value"] == "carrier_b"


def test_mix_shift_incident_is_reported_as_mix(dive, incidents):
    planted = incidents.loc["mix_shift"]
    result = dive("late_dispatch_rate", planted["market"], planted["start_week"])
    mix = [insight for insight in result.insights if insight.kind in ("mix", "mix_shift")]
    assert mix and "channel live" in mix[0].text
    channel = result.decompositions["channel"].set_index("channel")
    assert channel.loc["live", "current_share"] == pytest.approx(planted["expected_size"], abs=0.05)


def test_deep_dive_numbers_agree_with_the_metric_frame(conn):
    # a week whose best look is the week itself (in W40 the 2-week window is: a drift test of its own)
    result = deep_dive(conn, "refund_rate", "US", "2026-W39", dimensions=["channel", "category"])
    assert result.finding["comparison"] == "week" and result.finding["baseline_weeks"] == 12
    history = weeks_between("2026-W27", "2026-W38")
    frame = metrics.compute(conn, "refund_rate", weeks=["2026-W39", *history], where={"market": "US"})
    before = frame[frame["period"].isin(history)]
    pooled = before["numerator"].sum() / before["denominator"].sum()
    current = frame.set_index("period").loc["2026-W39", "value"]
    assert (result.change.baseline, result.change.current) == pytest.approx((pooled, current))
    for table in result.decompositions.values():
        assert table["total"].sum() == pytest.approx(result.change.abs_change, abs=1e-12)
    assert set(result.decompositions) == {"channel", "category"}
    assert list(result.series["period"]) == weeks_between("2026-W18", "2026-W39")  # data start at W18


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


def test_the_trend_marks_the_weeks_the_scan_flags(dive, conn, incidents):
    """The chart's red weeks are the scan's: each week around the planted carrier delay scanned on its own."""
    planted = incidents.loc["logistics_delay"]
    market, metric = planted["market"], "late_delivery_rate"
    result = dive(metric, market, planted["end_week"])
    marked = set(result.series.loc[result.series["flag"], "period"])
    around = weeks_between(shift_week(planted["start_week"], -3), planted["end_week"])
    flagged = set()
    for week in around:
        table = scan(conn, week, markets=[market], metrics=[metric])
        flagged |= {week} if table[table["dimension"] == TOTAL]["flag"].iloc[0] else set()
    assert marked == flagged == set(weeks_between(planted["start_week"], planted["end_week"]))
    assert set(result.series["period"]) >= set(around)
    quiet = dive(metric, market, shift_week(planted["start_week"], -1))
    assert not quiet.finding["flag"] and not quiet.series["flag"].any()


@pytest.mark.parametrize(
    ("incident", "metric", "when"),
    [("logistics_delay", "late_delivery_rate", "start_week"), ("logistics_delay", "late_delivery_rate", "end_week"),
     ("mix_shift", "late_dispatch_rate", "start_week")],
)
def test_no_card_insight_or_mark_contradicts_the_scan_row(dive, incidents, incident, metric, when):
    planted = incidents.loc[incident]
    result = dive(metric, planted["market"], planted[when])
    row = result.finding
    assert bool(result.series.set_index("period").loc[result.week, "flag"]) == bool(row["flag"])
    assert {insight.kind for insight in result.insights} <= {"change", "driver", "mix_shift", "mix", "concentration",
                                                             "no_change", "maturity"}
    card = view.headline_cards(result)[-1]
    assert card.label == "Against its own history" and (card.value == "within its usual range") == (not row["flag"])
    if row["flag"]:
        assert result.insights[0].direction == row["verdict"] and card.tone == row["verdict"]
        assert ("rose" in result.insights[0].text) == (row["direction"] == "up")
    else:
        assert result.insights[0].kind == "no_change"
