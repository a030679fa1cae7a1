"""Immature weeks are compared like with like, so the newest week never shows a false improvement."""

import pandas as pd
import pytest

from gnelib import metrics
from gnelib.analysis.deep_dive import deep_dive
from gnelib.analysis.maturity import comparable_horizon
from gnelib.warehouse import connect


@pytest.fixture(scope="module")
def conn(small_warehouse):
    with connect(small_warehouse) as connection:
        yield connection


def test_horizon_is_the_days_the_week_has_been_observable(conn):
    refund = metrics.get("refund_rate")
    as_of = pd.Timestamp(conn.meta()["as_of"])
    week_end = pd.Timestamp("2026-11-23")  # Monday after 2026-W47
    assert comparable_horizon(conn, refund, "2026-W47") == (as_of - week_end).days
    assert comparable_horizon(conn, refund, "2026-W30") is None  # long mature
    assert comparable_horizon(conn, metrics.get("orders"), "2026-W47") is None  # nothing arrives late


def test_newest_week_shows_no_false_improvement(conn):
    as_is = deep_dive(conn, "refund_rate", "US", "2026-W47", horizon_days=None)
    like_with_like = deep_dive(conn, "refund_rate", "US", "2026-W47")
    # Taken as they are, the newest week's refunds have not arrived yet: a large, "significant" fall.
    assert as_is.change.significant and as_is.change.abs_change < 0
    # Measured at the same horizon in both weeks, the quiet market US shows no significant change...
    assert not like_with_like.change.significant
    # ...and the report says how the weeks were compared.
    assert any(i.kind == "maturity" and "within" in i.text for i in like_with_like.insights)
