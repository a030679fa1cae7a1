"""ISO weeks as the reports use them: `"2026-W47"` strings, Monday start (ISO 8601, `date.isocalendar`)."""

import datetime as dt
import re
from collections.abc import Iterable

import pandas as pd

from gnelib.errors import GneError


class PeriodError(GneError):
    """A week or period the user wrote that is not valid; the message shows the right form."""

_WEEK_PATTERN = re.compile(r"^\s*(\d{4})-?[Ww](\d{1,2})\s*$")
WEEK_FORMAT_HELP = "use the ISO week format YYYY-Www, e.g. 2026-W47"


def parse_week(week: str) -> tuple[int, int]:
    """`"2026-W47"` → `(2026, 47)`; raises PeriodError naming the format for anything else."""
    match = _WEEK_PATTERN.match(week) if isinstance(week, str) else None
    if match is None:
        raise PeriodError(f"Week {week!r} is not an ISO week: {WEEK_FORMAT_HELP}.")
    year, number = int(match.group(1)), int(match.group(2))
    last = weeks_in_year(year)
    if not 1 <= number <= last:
        raise PeriodError(
            f"Week {week!r} does not exist: {year} has weeks W01 to W{last:02d}; {WEEK_FORMAT_HELP}."
        )
    return year, number


def validate_week(week: str) -> str:
    """The week in canonical form (`"2026-w7"` → `"2026-W07"`), or PeriodError if malformed."""
    year, number = parse_week(week)
    return format_week(year, number)


def format_week(year: int, number: int) -> str:
    """`(2026, 7)` → `"2026-W07"`."""
    return f"{year:04d}-W{number:02d}"


def weeks_in_year(year: int) -> int:
    """52 or 53: the ISO week number of 28 December."""
    return dt.date(year, 12, 28).isocalendar()[1]


def week_start(week: str) -> pd.Timestamp:
    """The Monday (00:00) that starts the ISO week."""
    year, number = parse_week(week)
    return pd.Timestamp(dt.date.fromisocalendar(year, number, 1))


def week_range(week: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """`(Monday 00:00, next Monday 00:00)`: the half-open interval the week covers."""
    start = week_start(week)
    return start, start + pd.Timedelta(days=7)


def week_of(moment: dt.date | dt.datetime | pd.Timestamp | str) -> str:
    """The ISO week a date or timestamp falls in."""
    year, number, _ = pd.Timestamp(moment).isocalendar()
    return format_week(year, number)


def shift_week(week: str, weeks: int) -> str:
    """The week `weeks` later (negative: earlier)."""
    return week_of(week_start(week) + pd.Timedelta(weeks=weeks))


def previous_week(week: str) -> str:
    """The week before."""
    return shift_week(week, -1)


def trailing_weeks(week: str, count: int, include_current: bool = False) -> list[str]:
    """The `count` weeks before `week` (or ending with it), oldest first."""
    if count < 0:
        raise PeriodError(f"Trailing week count must be 0 or more, got {count}.")
    end = 0 if include_current else -1
    return [shift_week(week, offset) for offset in range(end - count + 1, end + 1)]


def weeks_between(first: str, last: str) -> list[str]:
    """Every week from `first` to `last`, inclusive, oldest first."""
    start, stop = week_start(first), week_start(last)
    if stop < start:
        raise PeriodError(
            f"Week range {first}..{last} is empty: the first week must not come after the last."
        )
    return [week_of(start + pd.Timedelta(weeks=i)) for i in range((stop - start).days // 7 + 1)]


def year_over_year_week(week: str, available: Iterable[str] | None = None) -> str | None:
    """The same ISO week number one year earlier (W53 → that year's last week); None if not in `available`."""
    year, number = parse_week(week)
    candidate = format_week(year - 1, min(number, weeks_in_year(year - 1)))
    if available is not None and candidate not in set(available):
        return None
    return candidate
