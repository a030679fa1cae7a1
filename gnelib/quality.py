"""Data quality gate: is a market's week complete enough to report confident numbers?"""

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from gnelib.periods import week_range

TRAILING_WEEKS = 4
MIN_VOLUME_RATIO = 0.6


@dataclass(frozen=True)
class Completeness:
    """What the report should say about its data before showing any number."""

    market: str
    week: str
    status: str  # "ok" | "partial" | "no_data"
    orders: int
    trailing_median: float
    week_closed: bool
    as_of: str
    message: str

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def check_completeness(conn, market: str, week: str) -> Completeness:
    """Compare the week's order count with the trailing weeks' median, and check the week closed before as-of."""
    start, end = (moment.to_pydatetime() for moment in week_range(week))
    history_start = start - dt.timedelta(days=7 * TRAILING_WEEKS)
    counts = conn.sql(
        "SELECT date_trunc('week', ordered_at) AS week_start, count(*) AS orders FROM orders "
        "WHERE market = ? AND ordered_at >= ? AND ordered_at < ? GROUP BY 1",
        [market, history_start, end],
    )
    counts["week_start"] = pd.to_datetime(counts["week_start"])
    this_week = int(counts.loc[counts["week_start"] == start, "orders"].sum())
    trailing = counts.loc[counts["week_start"] < start, "orders"]
    median = float(trailing.median()) if len(trailing) else float("nan")
    as_of = pd.Timestamp(conn.meta()["as_of"])
    closed = as_of >= pd.Timestamp(end)
    if this_week == 0:
        status, message = "no_data", (
            f"No orders for {market} in {week}: the data has not arrived or the market had no activity. "
            "The numbers below are not computed; re-run once the week is loaded."
        )
    elif not closed or (median == median and this_week < MIN_VOLUME_RATIO * median):
        reason = (
            f"the week had not ended at the data's as-of time ({as_of:%Y-%m-%d %H:%M})"
            if not closed
            else f"it has {this_week:,} orders against a median of {median:,.0f} in the previous {len(trailing)} weeks"
        )
        message = f"Data for {market} {week} looks incomplete: {reason}. Treat the numbers with care."
        status = "partial"
    else:
        status, message = "ok", (
            f"Data complete: {this_week:,} orders in {week} (previous {len(trailing)} weeks' median {median:,.0f}); "
            f"data as of {as_of:%Y-%m-%d %H:%M}."
        )
    return Completeness(market, week, status, this_week, median, closed, f"{as_of:%Y-%m-%d %H:%M}", message)
