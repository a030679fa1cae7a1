"""Segments of counts judged by their share of the market (gnelib.analysis.shares), against pandas by hand."""

import numpy as np
import pandas as pd
from scipy import stats

from gnelib.analysis.baseline import CellSeries, assess
from gnelib.analysis.detection import finding_change, finding_comparison, scan
from gnelib.analysis.shares import assess_shares
from gnelib.periods import shift_week
from gnelib.warehouse import connect

WEEKS = [shift_week("2026-W30", offset) for offset in range(16)]
CATEGORIES = {"beauty": 3000, "books": 800, "toys": 1500, "shoes": 1200}
SALE_WEEKS = {WEEKS[5], WEEKS[11]}  # every category +40 %: the market's own swing
RISE = 1.2  # books alone, newest week


def _orders(seed: int, rise: float = RISE) -> pd.DataFrame:
    """Order counts per market × category × week (one unit per order), sale weeks lifting every category."""
    rng = np.random.default_rng(seed)
    rows = []
    for market in ("PH", "TH"):
        for category, level in CATEGORIES.items():
            for week in WEEKS:
                mean = level * (1.4 if week in SALE_WEEKS else 1.0)
                mean *= rise if (category == "books" and week == WEEKS[-1]) else 1.0
                count = float(rng.poisson(mean))
                rows.append({"period": week, "market": market, "category": category, "numerator": count,
                             "denominator": np.nan, "units": count, "sum_x2": count, "sum_y2": np.nan,
                             "sum_xy": np.nan, "value": count})
    return pd.DataFrame(rows)


def test_a_rise_in_one_segment_is_found_though_market_wide_sales_fill_its_history():
    frame = _orders(seed=3)
    keys = ["market", "category"]
    shares = assess_shares(frame, keys, "market", WEEKS, "count", history=12)
    raw = assess(CellSeries.from_frame(frame, keys, WEEKS, "count"), history=12)
    books = (shares["market"] == "PH") & (shares["category"] == "books")
    assert shares.loc[books, "z"].iloc[0] > 3.5
    assert shares.loc[books, "p_value"].iloc[0] < 1e-3
    # on its own history the same rise hides among the sale weeks' swings
    assert raw.loc[books, "p_value"].iloc[0] > 10 * shares.loc[books, "p_value"].iloc[0]
    # the sale weeks, shared by every segment, are unusual for none of them as shares
    assert not any(week in SALE_WEEKS for weeks in shares["flagged_weeks"] for week in weeks)


def test_the_baseline_is_the_trend_of_the_share_times_this_weeks_market_total():
    frame = _orders(seed=5)
    table = assess_shares(frame, ["market", "category"], "market", WEEKS, "count", history=12)
    row = table[(table["market"] == "TH") & (table["category"] == "toys")].iloc[0]
    assert row["comparison"] == "week"
    market = frame[frame["market"] == "TH"]
    totals = market.groupby("period")["numerator"].sum()
    toys = market[market["category"] == "toys"].set_index("period")["numerator"]
    history = WEEKS[-13:-1]
    shares = (toys / totals)[history].to_numpy()
    slope, intercept = np.polyfit(np.arange(12), shares, 1)  # the line through the weekly shares, one week on
    assert np.isclose(row["baseline"], (intercept + slope * 12) * totals[WEEKS[-1]])
    assert np.isclose(row["current"], toys[WEEKS[-1]])


def test_p_values_of_quiet_segments_are_roughly_uniform():
    p_values = np.concatenate([
        assess_shares(_orders(seed, rise=1.0), ["market", "category"], "market", WEEKS, "count", 12)["p_value"]
        for seed in range(40)
    ])
    assert stats.kstest(p_values, "uniform").pvalue > 0.001
    assert np.mean(p_values < 0.05) < 0.1


def test_the_scan_says_a_count_segment_was_judged_by_its_share(small_warehouse):
    table = scan(connect(small_warehouse), "2026-W45", metrics=["orders", "late_delivery_rate"], markets=["TH"])
    orders, rates = table[table["metric"] == "orders"], table[table["metric"] == "late_delivery_rate"]
    assert set(orders.loc[orders["dimension"] != "", "basis"]) == {"share"}
    assert set(orders.loc[orders["dimension"] == "", "basis"]) == {"history"}
    assert set(rates["basis"]) == {"history"}
    segment = orders[(orders["dimension"] != "") & (orders["comparison"] == "week")].iloc[0]
    assert finding_comparison(segment).startswith("against its usual share of the market")
    assert finding_change(segment).method.startswith("its share of the market's total")
    total = orders[orders["dimension"] == ""].iloc[0]
    assert "share" not in finding_comparison(total)
