"""Immature weeks are compared like with like, so the newest week never shows a false improvement."""

import duckdb
import pandas as pd
import pytest

from gnelib import metrics
from gnelib.analysis.deep_dive import deep_dive
from gnelib.analysis.detection import TOTAL, findings, scan
from gnelib.analysis.maturity import MIN_HORIZON_DAYS, age_days, reading
from gnelib.reporting.digest import build_digest
from gnelib.warehouse import connect


@pytest.fixture(scope="module")
def conn(small_warehouse):
    with connect(small_warehouse) as connection:
        yield connection


def test_reading_steps_back_to_a_week_old_enough_and_fixes_the_horizon(conn):
    refund = metrics.get("refund_rate")
    as_of = pd.Timestamp(conn.meta()["as_of"])
    w47_age = (as_of - pd.Timestamp("2026-11-23")).days  # Monday after 2026-W47
    assert age_days(conn, "2026-W47") == w47_age
    read = reading(conn, refund, "2026-W47")
    assert w47_age < MIN_HORIZON_DAYS
    assert read.read_week == "2026-W46" and read.moved
    assert read.horizon_days == w47_age + 7
    assert reading(conn, refund, "2026-W30").horizon_days is None  # long mature: read as is
    assert not reading(conn, metrics.get("orders"), "2026-W47").moved  # nothing arrives late


def test_newest_week_shows_no_false_improvement(conn):
    as_is = deep_dive(conn, "refund_rate", "US", "2026-W47", horizon_days=None)
    like_with_like = deep_dive(conn, "refund_rate", "US", "2026-W47")
    # Taken as they are, the newest week's refunds have not arrived yet: a large, "significant" fall.
    assert as_is.change.significant and as_is.change.abs_change < 0
    # Read at a fixed horizon in a week old enough, the quiet market US shows no significant change...
    assert like_with_like.week == "2026-W46"
    assert not like_with_like.change.significant
    # ...and the report says how the weeks were compared.
    assert any(i.kind == "maturity" and "2026-W46" in i.text and "within" in i.text for i in like_with_like.insights)


LATE_ARRIVING = ["late_delivery_rate", "late_dispatch_rate", "valid_tracking_rate", "appeal_overturn_rate"]


@pytest.fixture(scope="module")
def late_scan(conn) -> pd.DataFrame:
    """The W47 scan of the four late-arriving operations metrics, every market."""
    return scan(conn, "2026-W47", metrics=LATE_ARRIVING)


def test_late_arriving_operations_metrics_are_read_like_refunds(conn):
    w46 = age_days(conn, "2026-W46")
    delivery, appeals = (
        reading(conn, metrics.get("late_delivery_rate"), "2026-W47"),
        reading(conn, metrics.get("appeal_overturn_rate"), "2026-W47"),
    )
    assert (delivery.read_week, delivery.horizon_days) == (appeals.read_week, appeals.horizon_days) == ("2026-W46", w46)
    tracking = reading(conn, metrics.get("valid_tracking_rate"), "2026-W47")
    assert (tracking.read_week, tracking.horizon_days) == ("2026-W46", None)  # 7-day maturity: W46 is final
    assert all(metrics.get(name).event_time_column for name in LATE_ARRIVING)


def test_no_late_delivery_drop_that_is_only_immaturity(conn, late_scan):
    """As they are, W47's deliveries have not arrived: every market's late-delivery rate sits below its 12 weeks
    before (independently recomputed from the raw orders). Read at the fixed horizon, no market shows a drop."""
    orders = conn.sql(
        "SELECT market, ordered_at, shipped_at, delivered_at, promised_delivery_by FROM orders "
        "WHERE shipped_at IS NOT NULL AND ordered_at >= TIMESTAMP '2026-08-24'"
    )
    calendar = pd.to_datetime(orders["ordered_at"]).dt.isocalendar()
    orders["week"] = calendar["year"].astype(str) + "-W" + calendar["week"].astype(str).str.zfill(2)
    orders["late"] = orders["delivered_at"] > orders["promised_delivery_by"]
    as_is = orders.groupby(["market", "week"])["late"].mean().unstack()
    history = [f"2026-W{number}" for number in range(35, 47)]
    assert (as_is["2026-W47"] < as_is[history].min(axis=1)).all()
    totals = late_scan[(late_scan["metric"] == "late_delivery_rate") & (late_scan["dimension"] == TOTAL)]
    assert len(totals) == len(as_is) and (totals["read_week"] == "2026-W46").all()
    assert not (totals["significant"] & (totals["abs_change"] < 0)).any()
    assert not totals.loc[totals["abs_change"] < 0, "flag"].any()


def test_the_carrier_delay_is_still_reported_as_worse_and_ongoing(conn, late_scan, small_warehouse):
    """TH's carrier_b delay (W45–W46) shows in the W47 scan as a bad, sustained move, and the digest calls it
    ongoing, never resolved."""
    with duckdb.connect(str(small_warehouse), read_only=True) as raw:
        planted = raw.sql("SELECT * FROM incidents WHERE name = 'logistics_delay'").df().iloc[0]
    current = findings(late_scan).set_index(["metric", "market"])
    row = current.loc[("late_delivery_rate", planted["market"])]
    assert row["verdict"] == "bad" and row["read_week"] == planted["end_week"] and row["weeks_running"] >= 2
    assert f"{planted['dimension']}={planted['dimension_value']}" in row["segments"]
    previous = findings(scan(conn, "2026-W46", metrics=["late_delivery_rate"]))
    digest = build_digest(findings(late_scan), previous, "2026-W47")
    entry = next(e for e in digest.entries if (e.metric, e.market) == ("late_delivery_rate", planted["market"]))
    assert entry.status == "ongoing" and entry.verdict == "bad" and "rose" in entry.sentence
    assert not [e for e in digest.resolved if (e.metric, e.market) == ("late_delivery_rate", planted["market"])]
