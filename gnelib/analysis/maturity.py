"""Like-with-like comparisons for metrics whose events arrive after the order (refunds, reviews, appeals).

While a week is still inside a metric's maturity window, its value is artificially good: most late events have not
happened yet. Comparing it with mature weeks would report a false improvement. Instead every week is measured at
the same fixed horizon: only events within N days of the order count, where N is how long the newest week's last
day has been observable at the data's as-of time.
"""

import pandas as pd

from gnelib.analysis.periods import week_range

AUTO = "auto"


def comparable_horizon(conn, metric, week: str) -> int | None:
    """Days every unit of `week` has been observable at the warehouse's as-of time, when the week is still maturing
    and the metric has a fixed-horizon variant (an `event_time_column`); otherwise None (compare values as they are)."""
    if not metric.maturity_days or not getattr(metric, "event_time_column", None):
        return None
    as_of = pd.Timestamp(conn.meta()["as_of"])
    days = int((as_of - week_range(week)[1]) / pd.Timedelta(days=1))
    if days >= metric.maturity_days or days < 1:
        return None
    return days


def resolve_horizon(conn, metric, week: str, horizon_days: int | str | None) -> int | None:
    """`auto` → `comparable_horizon`; an explicit number or None is kept as given."""
    return comparable_horizon(conn, metric, week) if horizon_days == AUTO else horizon_days
