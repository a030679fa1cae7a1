"""Nothing in the warehouse happens after the as-of time, and the newest weeks are visibly immature."""

import pandas as pd
from warehouse_reference import AS_OF

TIME_COLUMNS = {
    "orders": ["ordered_at", "shipped_at", "delivered_at", "cancelled_at"],
    "after_sales": ["requested_at", "resolved_at"],
    "reviews": ["created_at"],
    "listing_moderation": ["reviewed_at", "decided_at", "appeal_decided_at"],
    "enforcement": ["detected_at", "actioned_at"],
    "sellers": ["joined_at"],
    "listings": ["created_at"],
}


def test_no_event_after_as_of(tables):
    for table, columns in TIME_COLUMNS.items():
        for column in columns:
            assert (tables[table][column].dropna() < AS_OF).all(), (table, column)
    meta = dict(tables["warehouse_meta"][["key", "value"]].itertuples(index=False))
    assert pd.Timestamp(meta["as_of"]) == AS_OF
    assert (meta["first_week"], meta["last_complete_week"]) == ("2026-W18", "2026-W47")


def test_order_window_and_partial_last_week(tables):
    orders = tables["orders"]
    assert orders["ordered_at"].min() >= pd.Timestamp("2026-04-27")
    weeks = sorted(orders["week"].unique())
    assert weeks[0] == "2026-W18" and weeks[-1] == "2026-W48" and len(weeks) == 31
    assert orders.loc[orders["week"] == "2026-W48", "ordered_at"].max() < AS_OF
    assert (orders["week"] == "2026-W48").sum() < 0.6 * (orders["week"] == "2026-W47").sum()


def test_recent_weeks_are_immature(tables):
    orders = tables["orders"]
    delivered_share = orders.groupby("week")["delivered_at"].apply(lambda s: s.notna().mean())
    assert delivered_share["2026-W40"] > 0.9
    assert delivered_share["2026-W47"] < 0.8 * delivered_share["2026-W40"]
    assert delivered_share["2026-W48"] < 0.2
    claims = tables["after_sales"].merge(orders[["order_id", "week"]], on="order_id")
    pending = claims.groupby("week")["status"].apply(lambda s: (s == "pending").mean())
    assert pending["2026-W47"] > 0.3 and pending["2026-W40"] == 0


def test_event_fields_are_consistent(tables):
    orders = tables["orders"]
    cancelled = orders["cancelled_at"].notna()
    assert orders.loc[cancelled, "shipped_at"].isna().all()
    assert (
        orders.loc[cancelled, "cancel_fault"].notna().all()
        and orders.loc[~cancelled, "cancel_fault"].isna().all()
    )
    shipped = orders["shipped_at"].notna()
    assert (
        orders.loc[shipped, "tracking_valid"].notna().all()
        and orders.loc[~shipped, "tracking_valid"].isna().all()
    )
    assert (orders.loc[shipped, "shipped_at"] > orders.loc[shipped, "ordered_at"]).all()
    assert orders.loc[orders["delivered_at"].notna(), "shipped_at"].notna().all()
    assert (orders["promised_ship_by"] - orders["ordered_at"] >= pd.Timedelta(days=2)).all()
    weekday_orders = orders[orders["ordered_at"].dt.day_of_week <= 2]  # Mon-Wed: exactly two days later
    assert (weekday_orders["promised_ship_by"] - weekday_orders["ordered_at"] == pd.Timedelta(days=2)).all()

    claims = tables["after_sales"]
    pending = claims["status"] == "pending"
    assert (
        claims.loc[pending, "resolved_at"].isna().all() and claims.loc[~pending, "resolved_at"].notna().all()
    )
    assert (claims.loc[claims["status"] != "approved", "refund_amount_usd"] == 0).all()
    assert claims.loc[~claims["escalated_to_dispute"], "dispute_outcome"].isna().all()
    with_delivery = claims.merge(orders[["order_id", "delivered_at"]], on="order_id")
    assert (with_delivery["requested_at"] > with_delivery["delivered_at"]).all()
