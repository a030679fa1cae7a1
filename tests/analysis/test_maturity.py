"""Immature weeks are compared like with like, so the newest week never shows a false improvement."""

import pandas as pd
import pytest

from gnelib import metrics
from gnelib.analysis.deep_dive import deep_dive
from gnelib.analysis.maturity import MIN_HORIZON_DAYS, age_days, reading
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
