"""ISO-week labels ('2026-W47') and the time ranges a `weeks=` argument selects."""

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import pandas as pd

from gnelib import periods
from gnelib.metrics.errors import MetricError

PERIODS = ("week", "day")

WeeksArg = str | Sequence[str] | tuple[str, str] | None


def week_start(label: str) -> date:
    """Monday of the ISO week `label` ('2026-W47' → 2026-11-16)."""
    try:
        return periods.week_start(label).date()
    except periods.PeriodError as error:
        raise MetricError(str(error)) from None


def period_label(start: pd.Timestamp, period: str) -> str:
    """How a frame names a period: '2026-W47' for weeks, '2026-11-16' for days."""
    return periods.week_of(start) if period == "week" else start.strftime("%Y-%m-%d")


def period_length(period: str) -> timedelta:
    """The length of one period."""
    return timedelta(days=7 if period == "week" else 1)


def check_period(period: str) -> str:
    """Validate `period`."""
    if period not in PERIODS:
        raise MetricError(f"period {period!r} is not supported; use one of: {', '.join(PERIODS)}.")
    return period


def week_ranges(weeks: WeeksArg) -> list[tuple[datetime, datetime]]:
    """Half-open [start, end) datetime ranges selected by `weeks`, merged where contiguous.

    `None` → no restriction (empty list); `'2026-W47'` → that week; a list → those weeks;
    a 2-tuple `(first, last)` → every week from first to last inclusive.
    """
    if weeks is None:
        return []
    if isinstance(weeks, str):
        starts = [week_start(weeks)]
    elif isinstance(weeks, tuple) and len(weeks) == 2:
        first, last = week_start(weeks[0]), week_start(weeks[1])
        if last < first:
            raise MetricError(f"weeks range {weeks!r} ends before it starts; write (first, last).")
        starts = [first + timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]
    else:
        starts = sorted({week_start(label) for label in weeks})
        if not starts:
            raise MetricError("weeks is an empty list; pass None for all weeks, or at least one week label.")
    ranges: list[tuple[datetime, datetime]] = []
    for start in starts:
        begin = datetime.combine(start, datetime.min.time())
        end = begin + timedelta(days=7)
        if ranges and ranges[-1][1] == begin:
            ranges[-1] = (ranges[-1][0], end)
        else:
            ranges.append((begin, end))
    return ranges
