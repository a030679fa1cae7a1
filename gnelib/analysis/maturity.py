"""Like-with-like comparisons for metrics whose events arrive after the order (refunds, reviews, appeals).

While a week is still inside a metric's maturity window, its value is artificially good: most late events have not
happened yet. Comparing it with mature weeks would report a false improvement. Instead every week is measured at
the same fixed horizon: only events within N days of the order count, where N is how long the read week's last day
has been observable at the data's as-of time. When the report's week is younger than `MIN_HORIZON_DAYS` (too young
for claims to have arrived at all), the reading moves back to the newest week that is old enough.
"""

from dataclasses import dataclass

import pandas as pd

from gnelib.periods import previous_week, week_range

AUTO = "auto"
MIN_HORIZON_DAYS = 7


@dataclass(frozen=True)
class Reading:
    """Which week a metric is read in for a report on `report_week`, and at which fixed horizon (None: as is)."""

    report_week: str
    read_week: str
    horizon_days: int | None

    @property
    def moved(self) -> bool:
        return self.read_week != self.report_week


def age_days(conn, week: str) -> int:
    """Whole days between the end of `week` and the warehouse's as-of time (negative while the week is open)."""
    as_of = pd.Timestamp(conn.meta()["as_of"])
    return int((as_of - week_range(week)[1]) / pd.Timedelta(days=1))


def reading(conn, metric, week: str) -> Reading:
    """Read mature weeks as they are; read a maturing week at its fixed horizon, stepping back to the newest week
    with at least `MIN_HORIZON_DAYS` of history when `week` is younger than that. Metrics without a fixed-horizon
    variant (no `event_time_column`) are read as they are."""
    if not metric.maturity_days or not getattr(metric, "event_time_column", None):
        return Reading(week, week, None)
    if age_days(conn, week) >= metric.maturity_days:
        return Reading(week, week, None)
    read = week
    while age_days(conn, read) < min(MIN_HORIZON_DAYS, metric.maturity_days):
        read = previous_week(read)
    horizon = age_days(conn, read)
    return Reading(week, read, None if horizon >= metric.maturity_days else horizon)


def anchor(metric) -> str:
    """What a metric's late events are counted from, in words: `the order` (ordered_at), else its time column."""
    column = getattr(metric, "time_column", "ordered_at")
    return "the order" if column == "ordered_at" else column


def describe(metric, read: Reading) -> str:
    """The sentence a report shows about how a maturing metric was read."""
    late = f"up to {metric.maturity_days} days after {anchor(metric)}"
    moved = (
        f"{read.report_week} is too recent for {metric.title.lower()} (its events arrive {late}), so this reads "
        f"{read.read_week}. " if read.moved else ""
    )
    if read.horizon_days is None:
        return moved.strip()
    plural = "s" if read.horizon_days != 1 else ""
    return (
        f"{moved}To compare like with like, every week counts only events within {read.horizon_days} day{plural} "
        f"of {anchor(metric)}, so the values are lower than the final ones."
    )
