"""Seller-risk views against pandas recomputations on the raw small warehouse."""

import pandas as pd
import pytest

from gnelib.periods import trailing_weeks
from gnelib.views import seller_risk

WEEK = "2026-W47"  # the last complete week of the demo warehouse


@pytest.mark.parametrize("market", ["VN", "US"])
def test_enforcement_summary_matches_raw_counts(conn, raw, market):
    actions = raw["enforcement"][raw["enforcement"]["market"] == market]
    previous = trailing_weeks(WEEK, 4)
    this_week = actions[actions["week"] == WEEK].groupby(["action", "reason"]).size()
    baseline = actions[actions["week"].isin(previous)].groupby(["action", "reason"]).size() / 4
    table = seller_risk.enforcement_summary(conn, market, WEEK).set_index(["action", "reason"])
    expected = pd.DataFrame({"this_week": this_week, "baseline": baseline}).fillna(0.0)
    assert sorted(table.index) == sorted(expected.index)
    for key, row in expected.iterrows():
        assert table.loc[key, "this_week"] == row["this_week"]
        assert table.loc[key, "baseline"] == pytest.approx(row["baseline"])
        assert table.loc[key, "change"] == pytest.approx(row["this_week"] - row["baseline"])


def test_new_seller_cohorts_match_raw_orders_and_actions(conn, raw):
    cohorts = seller_risk.new_seller_cohorts(conn, "VN", WEEK, history=6).set_index("period")
    orders = raw["orders"][raw["orders"]["market"] == "VN"]
    joined = raw["sellers"].set_index("seller_id")["joined_at"]
    actions = raw["enforcement"][raw["enforcement"]["market"] == "VN"].copy()
    tenure = (actions["actioned_at"].dt.normalize() - actions["seller_id"].map(joined).dt.normalize()).dt.days
    actions["new"] = tenure < 30
    for week in trailing_weeks(WEEK, 6, include_current=True):
        mine = orders[orders["week"] == week]
        new = mine[mine["seller_tenure_band"] == "<30d"]
        cancels = mine["cancel_fault"].eq("seller")
        row = cohorts.loc[week]
        assert row["orders"] == len(mine)
        assert row["new_orders"] == len(new)
        assert row["new_cancels"] == new["cancel_fault"].eq("seller").sum()
        assert row["cancel_share"] == pytest.approx(new["cancel_fault"].eq("seller").sum() / cancels.sum())
        week_actions = actions[actions["week"] == week]
        assert row["actions"] == len(week_actions)
        assert row["new_actions"] == week_actions["new"].sum()


def test_fraud_ring_shows_in_new_seller_share_of_cancellations(conn):
    cohorts = seller_risk.new_seller_cohorts(conn, "VN", WEEK).set_index("period")
    ring = cohorts.loc[["2026-W44", "2026-W45", "2026-W46"], "cancel_share"].mean()
    before = cohorts.loc[trailing_weeks("2026-W44", 6), "cancel_share"].mean()
    assert ring > 3 * before


def test_top_risky_sellers_match_raw_orders_and_status(conn, raw):
    table = seller_risk.top_risky_sellers(conn, "VN", WEEK, limit=5)
    orders = raw["orders"][(raw["orders"]["market"] == "VN") & (raw["orders"]["week"] == WEEK)]
    per_seller = orders.groupby("seller_id").agg(orders=("order_id", "size"),
                                                 cancels=("cancel_fault", lambda faults: faults.eq("seller").sum()))
    rate = per_seller["cancels"].sum() / per_seller["orders"].sum()
    per_seller["excess"] = per_seller["cancels"] - per_seller["orders"] * rate
    eligible = per_seller[per_seller["cancels"] >= 2].sort_values(["excess", "orders"], ascending=False)
    assert len(table) == min(5, len(eligible))
    assert table["excess_cancels"].tolist() == pytest.approx(eligible["excess"].head(5).tolist())
    week_end = pd.Timestamp("2026-11-23")
    actions = raw["enforcement"][raw["enforcement"]["actioned_at"] < week_end].sort_values("actioned_at")
    for row in table.itertuples():
        assert row.orders == per_seller.loc[row.seller_id, "orders"]
        assert row.seller_fault_cancels == per_seller.loc[row.seller_id, "cancels"]
        mine = actions[actions["seller_id"] == row.seller_id]
        assert row.actions_to_date == len(mine)
        assert row.enforcement == ("none" if mine.empty else
                                   f"{mine.iloc[-1]['action']} · {mine.iloc[-1]['reason']} · "
                                   f"{mine.iloc[-1]['actioned_at']:%Y-%m-%d}")
    assert "display_name" not in table.columns and "buyer_id" not in table.columns


def test_key_insights_name_the_new_seller_ring_in_vn(conn):
    texts = [insight.text for insight in seller_risk.key_insights(conn, "VN", WEEK)]
    assert any("Sellers under 30 days old" in text and "p < 0.001" in text for text in texts)  # confidence: the p-value
