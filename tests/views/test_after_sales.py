"""After-sales views against pandas recomputations on the raw small warehouse."""

import pandas as pd
import pytest

from gnelib.analysis import maturity
from gnelib.periods import trailing_weeks
from gnelib.views import after_sales

WEEK = "2026-W47"  # the last complete week of the demo warehouse


def test_read_plan_moves_back_to_a_week_old_enough(conn):
    as_of = pd.Timestamp(conn.meta()["as_of"])
    plan = after_sales.read_plan(conn, WEEK)
    w47_age = (as_of - pd.Timestamp("2026-11-23")).days
    w46_age = (as_of - pd.Timestamp("2026-11-16")).days
    assert w47_age < maturity.MIN_HORIZON_DAYS <= w46_age
    assert (plan.read_week, plan.horizon_days) == ("2026-W46", w46_age)
    assert "2026-W46" in plan.note
    mature = after_sales.read_plan(conn, "2026-W40")
    assert (mature.read_week, mature.horizon_days, mature.note) == ("2026-W40", None, "")


def test_refund_by_channel_at_fixed_horizon_matches_raw(conn, raw):
    plan = after_sales.read_plan(conn, WEEK)
    segments = after_sales.refund_by(conn, "ID", plan, "channel")
    orders = raw["orders"]
    orders = orders[(orders["market"] == "ID") & orders["cancelled_at"].isna()]
    requests = raw["after_sales"].set_index("order_id")
    resolved = orders["order_id"].map(requests["resolved_at"])
    approved = orders["order_id"].map(requests["status"]).eq("approved")
    within = resolved <= orders["ordered_at"] + pd.Timedelta(days=plan.horizon_days)
    orders = orders.assign(refunded=approved & within)
    now = orders[orders["week"] == plan.read_week].groupby("channel")["refunded"].mean()
    before = orders[orders["week"].isin(trailing_weeks(plan.read_week, 4))].groupby("channel")["refunded"].mean()
    table = after_sales.segment_table(segments, "channel", plan.read_week).set_index("segment")
    assert table["current"].to_dict() == pytest.approx(now.to_dict())
    assert table["baseline"].to_dict() == pytest.approx(before.to_dict())


def test_request_mix_matches_raw_requests(conn, raw):
    requests = raw["after_sales"][raw["after_sales"]["market"] == "ID"]
    mix = after_sales.request_mix(conn, "ID", WEEK).set_index(["type", "reason"])
    now = requests[requests["week"] == WEEK]
    before = requests[requests["week"].isin(trailing_weeks(WEEK, 4))]
    counts = now.groupby(["type", "reason"]).size()
    for key, count in counts.items():
        assert mix.loc[key, "requests"] == count
        assert mix.loc[key, "share"] == pytest.approx(count / len(now))
        group = now.set_index(["type", "reason"]).loc[[key]]
        assert mix.loc[key, "approval_rate"] == pytest.approx((group["status"] == "approved").mean())
        assert mix.loc[key, "refunded_usd"] == pytest.approx(group["refund_amount_usd"].sum())
    baseline = before.groupby(["type", "reason"]).size() / len(before)
    assert mix["baseline_share"].to_dict() == pytest.approx(baseline.reindex(mix.index, fill_value=0).to_dict())


def test_key_insights_find_the_counterfeit_wave_in_beauty(conn):
    texts = [insight.text for insight in after_sales.key_insights(conn, "ID", WEEK)]
    assert any("Counterfeit claim rate in ID rose" in text and "beauty" in text for text in texts)
