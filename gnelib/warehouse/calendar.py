"""The warehouse calendar: the order window, the as-of time, ISO weeks and mega-sale days.

Times inside the generator are int64 microseconds since 1970-01-01 (naive UTC), DuckDB's TIMESTAMP unit.
"""

from datetime import date, datetime, timedelta

import numpy as np

US_PER_HOUR = 3_600_000_000
US_PER_DAY = 24 * US_PER_HOUR

FIRST_DAY = date(2026, 4, 27)  # Monday of 2026-W18
AS_OF = datetime(2026, 11, 26)  # data cut-off: post-order events after it are not known yet
FIRST_WEEK = "2026-W18"
LAST_COMPLETE_WEEK = "2026-W47"
N_DAYS = (AS_OF.date() - FIRST_DAY).days  # 213: 30 full weeks plus Mon-Wed of 2026-W48
N_WEEKS = (N_DAYS + 6) // 7  # 31 week chunks, the last one partial

# Volume multipliers on the big shopping days; rates are unchanged on these days.
MEGA_SALE_DAYS = {date(2026, 9, 9): 2.2, date(2026, 10, 10): 2.6, date(2026, 11, 11): 3.4}


def to_us(moment: date | datetime) -> int:
    """Microseconds since the epoch for a date (midnight) or a naive datetime."""
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    return int((moment - datetime(1970, 1, 1)) / timedelta(microseconds=1))


FIRST_US = to_us(FIRST_DAY)
AS_OF_US = to_us(AS_OF)


def day_start_us(day_index: int) -> int:
    """Midnight of the window's day `day_index` (0 = 2026-04-27)."""
    return FIRST_US + day_index * US_PER_DAY


def week_start_us(week: str) -> int:
    """Monday 00:00 of an ISO week label such as '2026-W46'."""
    year, number = week.split("-W")
    return to_us(date.fromisocalendar(int(year), int(number), 1))


def week_index(week: str) -> int:
    """Position of an ISO week in the window (0 = 2026-W18)."""
    return (week_start_us(week) - FIRST_US) // (7 * US_PER_DAY)


def week_label(index: int) -> str:
    """ISO week label of the window's week `index`."""
    year, number, _ = (FIRST_DAY + timedelta(weeks=index)).isocalendar()
    return f"{year}-W{number:02d}"


def week_index_of(times_us: np.ndarray) -> np.ndarray:
    """Window week index of each timestamp (negative before the window)."""
    return np.floor_divide(times_us - FIRST_US, 7 * US_PER_DAY)


def add_business_days(times_us: np.ndarray, days: int) -> np.ndarray:
    """Add `days` business days (Mon-Fri), keeping the time of day; weekend starts roll to Monday."""
    day = np.floor_divide(times_us, US_PER_DAY)
    shifted = np.busday_offset(day.astype("datetime64[D]"), days, roll="forward").astype(np.int64)
    return times_us + (shifted - day) * US_PER_DAY
