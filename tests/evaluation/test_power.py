"""Scoring rules of the detection power benchmark (gnelib.evaluation.power) on hand-made findings frames."""

import math

import pandas as pd

from gnelib.evaluation.power import ideal_recall, quiet_cells, recall_table, score_incidents, size_bin, touched_cells


def incident(incident_id: int, kind: str, metric: str, market: str, segment: str, weeks: str, size: float,
             direction: str = "up", verdict: str = "bad") -> dict:
    dimension, _, value = segment.partition("=")
    return {"incident_id": incident_id, "kind": kind, "metric": metric, "market": market, "dimension": dimension,
            "value": value, "segment": segment, "weeks": weeks, "last_week": weeks.split(",")[-1],
            "size_se": size, "direction": direction, "verdict": verdict}


def finding(metric: str, market: str, week: str, verdict: str, direction: str, segments: list[str]) -> dict:
    return {"metric": metric, "market": market, "week": week, "verdict": verdict, "direction": direction,
            "segments": segments, "level": "market", "pattern": "spike"}


MANIFEST = pd.DataFrame([
    incident(1, "cell_rate", "refund_rate", "ID", "category=beauty", "2026-W40", 6.0),
    incident(2, "sustained", "late_dispatch_rate", "TH", "channel=live", "2026-W40,2026-W41", 4.0),
    incident(3, "improvement", "negative_review_rate", "VN", "carrier=carrier_a", "2026-W41", 2.5, "down", "good"),
    incident(4, "volume_sale", "orders", "MY", "category=toys", "2026-W40", 1.0, "up", "neutral"),
])
FOUND = pd.DataFrame([
    finding("refund_rate", "ID", "2026-W40", "bad", "up", ["category=beauty", "channel=live"]),
    finding("late_dispatch_rate", "TH", "2026-W41", "bad", "up", ["carrier=carrier_b"]),
    finding("late_dispatch_rate", "TH", "2026-W40", "good", "down", []),
    finding("negative_review_rate", "VN", "2026-W41", "bad", "up", ["carrier=carrier_a"]),
    finding("orders", "MY", "2026-W40", "neutral", "up", ["category=toys"]),
    finding("refund_rate", "GB", "2026-W40", "bad", "up", []),
])


def test_found_needs_the_expected_verdict_in_an_incident_week():
    scored = score_incidents(MANIFEST, FOUND).set_index("incident_id")
    assert scored["found"].to_dict() == {1: True, 2: True, 3: False, 4: True}
    assert scored.loc[2, "found_week"] == "2026-W41"
    assert scored["segment_first"].to_dict() == {1: True, 2: False, 3: False, 4: True}


def test_wrong_verdicts_are_counted_both_ways():
    scored = score_incidents(MANIFEST, FOUND).set_index("incident_id")
    assert scored["wrong_verdict"].to_dict() == {1: False, 2: True, 3: True, 4: False}


def test_recall_table_bins_by_size():
    assert size_bin(pd.Series([1.99, 2.0, 4.99, 5.0])).astype(str).tolist() == ["<2", "2-3", "3-5", ">=5"]
    table = recall_table(score_incidents(MANIFEST, FOUND))
    assert table.loc["all", ">=5"] == (1, 1)
    assert table.loc["all", "<2"] == (1, 1)
    assert table.loc["all", "2-3"] == (0, 1)
    assert table.loc["sustained", "3-5"] == (1, 1)


def test_quiet_cells_exclude_touched_cells_and_generator_events():
    cells = pd.DataFrame({"market": ["ID", "GB", "GB", "US"], "metric": ["refund_rate", "refund_rate", "orders",
                                                                       "refund_rate"],
                          "week": ["2026-W40", "2026-W40", "2026-W41", "2026-W41"]})
    table = quiet_cells(cells, FOUND, touched={("ID", "refund_rate", "2026-W40")},
                        events={("orders", "2026-W41")}, manifest=MANIFEST.iloc[:1])
    table = table.set_index(["market", "metric", "week"])
    assert table["quiet"].tolist() == [False, True, False, True]
    assert table["alarm"].tolist() == [True, True, False, False]
    assert table["generator_event"].tolist() == [False, False, True, False]
    assert not table["after_incident"].any()


def test_touched_cells_compare_numerators_and_denominators():
    before = {"refund_rate": pd.DataFrame({"market": ["ID", "ID"], "period": ["2026-W40", "2026-W41"],
                                           "numerator": [10.0, 12.0], "denominator": [100.0, 100.0]})}
    after = {"refund_rate": before["refund_rate"].assign(numerator=[10.0, 13.0])}
    assert touched_cells(before, after) == {("ID", "refund_rate", "2026-W41")}


def test_ideal_recall_is_the_power_of_a_bonferroni_z_test():
    # One cell at a 5 % budget: the two-sided 1.96 threshold, so an incident of exactly 1.96 SE is found half
    # the time (plus the negligible far tail); 20 cells at 2 %: threshold Φ⁻¹(1 − 0.0005) = 3.2905.
    one = ideal_recall([[1.959964]], [1], budget=0.05)[0]
    assert abs(one - 0.5) < 1e-3
    twenty = ideal_recall([[3.2905267]], [20], budget=0.02)[0]
    assert abs(twenty - 0.5) < 1e-4
    # A two-week incident of 3 SE a week is combined as √(3² + 3²) = 4.243 SE.
    sustained = ideal_recall([[3.0, 3.0]], [20], budget=0.02)[0]
    assert abs(sustained - (1 - 0.5 * math.erfc((4.2426407 - 3.2905267) / math.sqrt(2)))) < 1e-4


def test_a_policy_launch_is_a_generator_event_in_its_own_market_only(small_warehouse):
    from gnelib.evaluation.power import POLICY_WEEKS, generator_events, is_event
    from gnelib.periods import shift_week, week_of
    from gnelib.warehouse import connect

    conn = connect(small_warehouse)
    launches = conn.sql("SELECT metric, market, launch_date FROM policy_launches").drop_duplicates()
    events = generator_events(conn, ["2026-W40"])
    for launch in launches.itertuples(index=False):
        first = week_of(launch.launch_date)
        assert is_event(events, launch.market, launch.metric, first)
        assert is_event(events, launch.market, launch.metric, shift_week(first, POLICY_WEEKS))
        assert not is_event(events, launch.market, launch.metric, shift_week(first, POLICY_WEEKS + 1))
        assert not is_event(events, launch.market, launch.metric, shift_week(first, -1))
    assert not is_event(events, "US", "valid_tracking_rate", "2026-W30")  # US never launches
    assert is_event(events, "US", "orders", week_of(pd.Timestamp("2026-10-10")))  # all-market events still count
