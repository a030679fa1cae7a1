"""Fixtures for the template views: the small warehouse opened once, and its raw tables as pandas frames for the
independent recomputations."""

from pathlib import Path

import pandas as pd
import pytest
from template_runs import discard_kernels

from gnelib.warehouse import connect


@pytest.fixture(scope="session", autouse=True)
def _warm_kernels():
    """The warm kernels the template tests share (template_runs.py) are stopped when the session ends."""
    yield
    discard_kernels()


@pytest.fixture(scope="session")
def conn(small_warehouse: Path):
    return connect(str(small_warehouse))


@pytest.fixture(scope="session")
def raw(conn) -> dict[str, pd.DataFrame]:
    """Raw warehouse tables (buyer ids dropped) with an ISO `week` label on each table's time column."""
    tables = {
        "orders": ("SELECT * EXCLUDE (buyer_id) FROM orders", "ordered_at"),
        "enforcement": ("SELECT * FROM enforcement", "actioned_at"),
        "sellers": ("SELECT * EXCLUDE (display_name) FROM sellers", None),
        "listing_moderation": ("SELECT * FROM listing_moderation", "reviewed_at"),
        "after_sales": ("SELECT a.*, o.market, o.ordered_at, o.category, o.channel, o.cancelled_at FROM after_sales a "
                        "JOIN orders o USING (order_id)", "requested_at"),
    }
    frames = {}
    for name, (query, time_column) in tables.items():
        frame = conn.sql(query)
        if time_column:
            frame["week"] = iso_week(frame[time_column])
        frames[name] = frame
    return frames


def iso_week(moments: pd.Series) -> pd.Series:
    """`2026-W47` labels computed with pandas' own ISO calendar."""
    calendar = pd.to_datetime(moments).dt.isocalendar()
    return calendar["year"].astype(str) + "-W" + calendar["week"].astype(str).str.zfill(2)
