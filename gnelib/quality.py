"""Data quality gate: is a week of one grain value (a market) complete enough to report confident numbers?

The project config's `completeness` names the catalog metric that counts rows per week and the thresholds."""

from dataclasses import dataclass

import pandas as pd

from gnelib.config import Project, load_project
from gnelib.metrics.catalog import load_catalog
from gnelib.periods import shift_week, week_range


@dataclass(frozen=True)
class Completeness:
    """What the report should say about its data before showing any number."""

    market: str
    week: str
    status: str  # "ok" | "partial" | "no_data"
    orders: int  # the completeness metric's count this week
    trailing_median: float
    week_closed: bool
    as_of: str
    message: str

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def check_completeness(conn, market: str, week: str, project: Project | None = None) -> Completeness:
    """Compare the week's count of the config's completeness metric in `market` (a value of the report grain) with
    the trailing weeks' median, and check the week closed before the data's as-of time."""
    from gnelib import metrics

    project = project or load_project()
    rule = project.completeness
    catalog = load_catalog(project.catalog)
    noun = catalog.get(rule.metric).title.lower()
    frame = metrics.compute(conn, rule.metric, weeks=(shift_week(week, -rule.trailing_weeks), week),
                            where={project.grain: market}, catalog=catalog)
    this_week = int(frame.loc[frame["period"] == week, "value"].sum())
    trailing = frame.loc[frame["period"] != week, "value"]
    median = float(trailing.median()) if len(trailing) else float("nan")
    as_of = pd.Timestamp(conn.meta()["as_of"])
    closed = as_of >= week_range(week)[1]
    if this_week == 0:
        status, message = "no_data", (
            f"No {noun} for {market} in {week}: the data has not arrived or the {project.grain} had no activity. "
            "The numbers below are not computed; re-run once the week is loaded."
        )
    elif not closed or (median == median and this_week < rule.min_ratio * median):
        reason = (
            f"the week had not ended at the data's as-of time ({as_of:%Y-%m-%d %H:%M})"
            if not closed
            else f"it has {this_week:,} {noun} against a median of {median:,.0f} in the previous {len(trailing)} weeks"
        )
        message = f"Data for {market} {week} looks incomplete: {reason}. Treat the numbers with care."
        status = "partial"
    else:
        status, message = "ok", (
            f"Data complete: {this_week:,} {noun} in {week} (previous {len(trailing)} weeks' median {median:,.0f}); "
            f"data as of {as_of:%Y-%m-%d %H:%M}."
        )
    return Completeness(market, week, status, this_week, median, closed, f"{as_of:%Y-%m-%d %H:%M}", message)
