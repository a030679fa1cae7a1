"""Deep-dive views: tables for every metric kind, cards that agree with the finding, escaped seller names."""

import dataclasses
import html
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gnelib import metrics
from gnelib.analysis.concentration import seller_concentration
from gnelib.analysis.decomposition import decompose
from gnelib.analysis.deep_dive import DeepDiveResult
from gnelib.analysis.root_cause import cube_frames, explain_change
from gnelib.analysis.significance import Change, two_proportion_test
from gnelib.formats import format_change, format_value
from gnelib.views import deep_dive as view

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "analysis"))
from analysis_cubes import order_cube  # noqa: E402

HOSTILE = "<script>alert('shop')</script>"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261202)


def result_for(metric: str, change: Change, trailing: Change | None = None, comparison: str = "week over week",
               **fields) -> DeepDiveResult:
    series = pd.DataFrame({"period": ["W1", "W2"], "flag": [False, False], "is_mature": [True, True]})
    return DeepDiveResult(metric=metrics.get(metric), market="ID", week="W2", baseline_week="W1", series=series,
                          change=change, trailing_change=trailing, comparison=comparison, **fields)


def test_count_decomposition_table_shows_each_segments_change(rng):
    frame = pd.DataFrame({"period": np.repeat(["W0", "W1", "W2"], 4), "category": ["a", "b", "c", "d"] * 3,
                          "numerator": rng.poisson(400, 12).astype(float)})
    table = decompose(frame, "category", ["W0", "W1"], "W2", kind="count")
    change = Change(1.0, 2.0, 1.0, 1.0, 0.0, 2.0, 0.5, "test", False)
    result = result_for("orders", change, decompositions={"category": table})
    page = view.decomposition_table(result, "category")
    assert "Mix effect" not in page and "Before (per week)" in page
    wide = frame.pivot(index="category", columns="period", values="numerator")
    before, delta = (wide["W0"] + wide["W1"]) / 2, wide["W2"] - (wide["W0"] + wide["W1"]) / 2
    for segment in "abcd":
        assert f">{format_value(before[segment], 'count')}</td>" in page
        assert format_change(delta[segment], "count") in page
    assert f"total change of {format_change(delta.sum(), 'count')} (W2 vs W0–W1)" in page
    assert view.decomposition_parts(result) == ["total"]


def test_ratio_root_cause_and_count_root_cause_tables(rng):
    before = order_cube(rng, "W1", 100_000, lambda cat, ch, ca: 0.02)
    after = order_cube(rng, "W2", 100_000, lambda cat, ch, ca: 0.05 if cat == "books" else 0.02)
    cube = pd.concat([before, after])
    change = two_proportion_test(*cube.groupby("period")[["numerator", "denominator"]].sum().to_numpy().ravel())
    for metric, kind, column in (("refund_rate", "ratio", "Rate now"), ("orders", "count", "Now")):
        root = explain_change(cube_frames(cube, ["category", "channel"]), "W1", "W2", kind=kind)
        page = view.root_cause_table(result_for(metric, change, root_cause=root))
        assert column in page and "category books" in page
    assert "segment breakdown" in view.root_cause_table(result_for("median_hours_to_refund", change))


def test_history_card_is_the_scan_rows_verdict():
    rise = Change(0.02, 0.03, 0.01, 0.5, 0.005, 0.015, 1e-6, "test", True)
    row = pd.Series({"flag": True, "z": 4.5, "abs_change": 0.01, "comparison": "week", "pattern": "spike",
                     "weeks_running": 1, "window_weeks": 1, "baseline_weeks": 12, "p_adjusted": 2e-5})
    cases = [({}, "unusually high", "bad"), ({"pattern": "sustained", "weeks_running": 2}, "still elevated, week 2",
                                              "bad"),
             ({"comparison": "window", "window_weeks": 3, "abs_change": -0.01}, "falling for 3 weeks", "good"),
             ({"flag": False, "z": 1.2}, "within its usual range", "")]
    for fields, value, tone in cases:
        card = view.history_card(result_for("refund_rate", rise, finding=pd.Series({**row, **fields})))
        assert (card.value, card.tone) == (value, tone)
    assert "p < 0.001 against its last 12 usual weeks" == view.history_card(result_for("refund_rate", rise,
                                                                                      finding=row)).change
    assert view.history_card(result_for("refund_rate", rise)) is None  # no scan row: no other judge


def test_the_headline_card_is_the_comparison_the_finding_uses():
    week = Change(0.020, 0.021, 0.001, 0.05, -0.001, 0.003, 0.4, "test", False)
    trailing = Change(0.015, 0.021, 0.006, 0.4, 0.003, 0.009, 1e-5, "test", True)
    result = result_for("refund_rate", week, trailing=trailing, comparison="against the 4-week average")
    cards = view.headline_cards(result)
    assert cards[1].label == "Against the 4-week average" and cards[1].tone == "bad"
    assert cards[1].value == format_change(0.006, "percent")
    assert [card.label for card in cards[2:]] == ["vs W1"]
    assert view.result_delta(result) == pytest.approx(0.006)


def test_concentration_table_escapes_shop_names(rng):
    sellers = 100
    orders = rng.poisson(50, (2, sellers)).astype(float)
    defects = np.vstack([rng.binomial(orders[0].astype(int), 0.02),
                         rng.binomial(orders[1].astype(int), np.where(np.arange(sellers) == 7, 0.6, 0.02))])
    samples = pd.DataFrame({"period": np.repeat(["W1", "W2"], sellers), "unit_id": np.tile(np.arange(sellers), 2),
                            "numerator": defects.ravel().astype(float), "denominator": orders.ravel()})
    found = seller_concentration(samples, "W1", "W2", "ratio", names={7: HOSTILE})
    assert found.concentrated
    change = Change(0.02, 0.03, 0.01, 0.5, 0.005, 0.015, 1e-6, "test", True)
    result = result_for("refund_rate", change)
    result.concentration = found
    page = view.concentration_table(result) + view.concentration_summary(result)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert ">7</td>" in page and "One seller explains" in page


def test_broad_based_summary_line(rng):
    shares = {"live": 0.7, "short_video": 0.1, "mall": 0.1, "search": 0.1}
    before = order_cube(rng, "W1", 300_000, lambda cat, ch, ca: 0.03, shares)
    after = order_cube(rng, "W2", 300_000, lambda cat, ch, ca: 0.036, shares)
    cube = pd.concat([before, after])
    root = explain_change(cube_frames(cube, ["category", "channel"]), "W1", "W2")
    change = two_proportion_test(*cube.groupby("period")[["numerator", "denominator"]].sum().to_numpy().ravel())
    assert root.broad_based
    line = view.root_cause_summary(result_for("refund_rate", change, root_cause=root))
    assert line.startswith("<p>The rise is broad-based")
    assert view.root_cause_summary(result_for("refund_rate", change)) == ""


def test_root_cause_rows_read_worse_or_better_sort_by_share_and_explain_offsets(rng):
    """Books got much worse, toys somewhat better: books explains more than the whole rise (offset by toys), and
    each row says which way its rate went; a change that is not significant labels the table exploratory."""
    rates = {"books": (0.02, 0.06), "toys": (0.04, 0.02)}
    before = order_cube(rng, "W1", 100_000, lambda cat, ch, ca: rates.get(cat, (0.02, 0.02))[0])
    after = order_cube(rng, "W2", 100_000, lambda cat, ch, ca: rates.get(cat, (0.02, 0.02))[1])
    cube = pd.concat([before, after])
    change = two_proportion_test(*cube.groupby("period")[["numerator", "denominator"]].sum().to_numpy().ravel())
    root = explain_change(cube_frames(cube, ["category"]), "W1", "W2", kind="ratio")
    page = view.root_cause_table(result_for("refund_rate", change, root_cause=root))
    rows = [[html.unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page, re.S)]
    table = {row[0]: row for row in rows if row}  # Segment, Rate now, Share of change, Adjusted p, Driven by, ...
    assert "worse/better" not in page
    assert table["category books"][4] == "its rate got worse" and table["category toys"][4] == "its rate got better"
    shares = [float(row[2].rstrip("%")) for row in rows if row]
    assert shares == sorted(shares, reverse=True)
    books = root.segments.set_index("value").loc["books", "explained_share"]
    sums = cube.groupby(["period", "category"])[["numerator", "denominator"]].sum()
    rate = sums["numerator"] / sums["denominator"]
    weight = sums["denominator"] / sums.groupby("period")["denominator"].transform("sum")
    own = (weight * rate).unstack("period")  # each category's additive part of the overall rate
    assert books == pytest.approx((own["W2"] - own["W1"])["books"] / (own["W2"] - own["W1"]).sum(), abs=0.02)
    assert books > 1
    assert f"category books: {books:+.0%} here, offset by {1 - books:+.0%} elsewhere in category" in page
    assert "Exploratory" not in page
    quiet = dataclasses.replace(change, significant=False, p_value=0.4)
    assert "Exploratory: the change itself is not significant (p = 0.40)" in view.root_cause_table(
        result_for("refund_rate", quiet, root_cause=root))
