"""Creator-risk views against pandas recomputations on the raw small warehouse."""

import pandas as pd
import pytest

from gnelib import metrics
from gnelib.periods import trailing_weeks
from gnelib.views import creator_risk

WEEK = "2026-W47"  # the last complete week of the demo warehouse; the creator ring's week in TH
MARKET = "TH"


@pytest.fixture(scope="module")
def creator_orders(conn) -> pd.DataFrame:
    """TH creator-driven orders with the creator's tier and a defect flag computed from the raw tables."""
    frame = conn.sql(
        "SELECT o.order_id, o.ordered_at, o.creator_id, o.cancel_fault, o.cancelled_at, c.tier, a.reason, r.rating "
        "FROM orders o JOIN creators c USING (creator_id) LEFT JOIN after_sales a USING (order_id) "
        f"LEFT JOIN reviews r USING (order_id) WHERE o.market = '{MARKET}'"
    )
    frame["week"] = frame["ordered_at"].dt.strftime("%G-W%V")
    frame["defect"] = (
        frame["reason"].isin(["not_as_described", "counterfeit"])
        | (frame["rating"] <= 2)
        | (frame["cancel_fault"].eq("seller") & frame["cancelled_at"].notna())
    )
    return frame


def test_defect_rate_by_tier_matches_raw_orders(conn, creator_orders):
    table = creator_risk.by_tier(conn, "creator_order_defect_rate", MARKET, WEEK)
    now = creator_orders[creator_orders["week"] == WEEK].groupby("tier")["defect"].agg(["sum", "size"])
    before = (
        creator_orders[creator_orders["week"].isin(trailing_weeks(WEEK, 4))]
        .groupby("tier")["defect"]
        .agg(["sum", "size"])
    )
    current = table[table["period"] == WEEK].set_index("creator_tier")
    baseline = table[table["period"] != WEEK].set_index("creator_tier")
    for tier in now.index:
        assert current.loc[tier, "numerator"] == now.loc[tier, "sum"]
        assert current.loc[tier, "denominator"] == now.loc[tier, "size"]
        assert baseline.loc[tier, "value"] == pytest.approx(before.loc[tier, "sum"] / before.loc[tier, "size"])
    assert current.loc["rising", "value"] == current["value"].max(), "the ring's tier has the worst defect rate"


def test_top_risky_creators_match_raw_orders_and_status(conn, creator_orders):
    table = creator_risk.top_risky_creators(conn, MARKET, WEEK, limit=5)
    week = creator_orders[creator_orders["week"] == WEEK]
    per_creator = week.groupby("creator_id").agg(
        orders=("order_id", "size"), defects=("defect", "sum"), tier=("tier", "first")
    )
    rate = per_creator["defects"].sum() / per_creator["orders"].sum()
    per_creator["excess"] = per_creator["defects"] - per_creator["orders"] * rate
    expected = per_creator[per_creator["defects"] >= 2].sort_values(["excess", "orders"], ascending=False).head(5)
    assert table["creator_id"].tolist() == expected.index.tolist()
    assert table["defects"].tolist() == expected["defects"].tolist()
    assert table["excess_defects"].to_numpy() == pytest.approx(expected["excess"].to_numpy())
    assert table["creator_tier"].tolist() == expected["tier"].tolist()
    actions = conn.sql(
        f"SELECT creator_id, action, reason, actioned_at FROM creator_enforcement "
        f"WHERE market = '{MARKET}' AND actioned_at < TIMESTAMP '2026-11-23'"
    )
    for _, row in table.iterrows():
        mine = actions[actions["creator_id"] == row["creator_id"]].sort_values("actioned_at")
        if mine.empty:
            assert row["enforcement"] == "none"
        else:
            latest = mine.iloc[-1]
            assert row["enforcement"] == f"{latest['action']} · {latest['reason']} · {latest['actioned_at']:%Y-%m-%d}"
    removals = conn.sql(
        f"SELECT creator_id, count(*) AS n FROM creator_content_moderation WHERE market = '{MARKET}' "
        "AND decision = 'removed' AND reviewed_at >= TIMESTAMP '2026-11-16' "
        "AND reviewed_at < TIMESTAMP '2026-11-23' GROUP BY creator_id"
    ).set_index("creator_id")["n"]
    assert table["removals"].tolist() == [float(removals.get(c, 0)) for c in table["creator_id"]]


def test_headline_cards_and_insights_name_the_ring(conn):
    cards = creator_risk.headline_cards(conn, MARKET, WEEK)
    assert [card.label for card in cards] == [metrics.get(name).title for name in creator_risk.HEALTH_METRICS]
    violation = cards[creator_risk.HEALTH_METRICS.index("creator_violation_rate")]
    assert violation.tone == "bad", "the ring's removals lift the violation rate significantly"
    texts = [insight.text for insight in creator_risk.key_insights(conn, MARKET, WEEK)]
    assert any("rising creators" in text for text in texts)
