"""What the goals template and the scorecard's goal section show: each goal's progress to target, its trajectory
with the projection to the deadline, its status by the stated rule, and the markets that drag a global goal."""

import html

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from gnelib import metrics
from gnelib.analysis.insights import Insight
from gnelib.formats import axis_formatter, format_change, format_value
from gnelib.goals import (
    GLOBAL,
    Goal,
    GoalError,
    GoalProgress,
    evaluate,
    load_goals,
    market_gaps,
    validate_against_data,
)
from gnelib.views.common import finding, table_html
from gnelib.viz.charts import legend_below, plain_text, week_axis
from gnelib.viz.tables import html_table
from gnelib.viz.theme import PALETTE

STATUS_TONE = {"on track": "good", "met": "good", "off track": "bad", "missed": "bad"}
RULE = (
    "On track: the projection for the deadline week meets the target. At risk: only the 80% prediction "
    "interval reaches it. Off track: not even the interval does."
)
GAP_COLUMNS = {  # important columns first (issue 17): market, level, its part of the gap, then the context
    "market": ("market", None),
    "value": ("level (last 4 weeks)", None),
    "gap": ("part of the gap", None),
    "share": ("share of the drag", "percent"),
    "weight": ("weight", "percent"),
}


def goals_for(conn, market: str) -> list[Goal]:
    """The goals a report of `market` shows: all of them for `all`, else the market's own and the global ones;
    validated against the warehouse (GoalError names file, line and fix)."""
    goals = load_goals()
    validate_against_data(conn, goals)
    return [goal for goal in goals if market == GLOBAL or goal.market in (market, GLOBAL)]


def progress_of(conn, goals: list[Goal], week: str) -> list[GoalProgress]:
    """Each goal's progress as of `week`, in file order."""
    return [evaluate(conn, goal, week) for goal in goals]


def progress_table(progress: list[GoalProgress]) -> str:
    """One row per goal, important columns first: goal, market, current level, target, progress
    (`GoalProgress.progress_label`: -100% … 100%, below 0% when the metric moved away from the target, `reached`,
    `< -100%`, `met at start`) and the status (▲ on track / met, ▼ off track / missed); then the projection with its
    80% interval, deadline, start level, term and owner."""
    rows = []
    for item in progress:
        goal, fmt = item.goal, metrics.get(item.goal.metric).format
        end = item.projection.iloc[-1] if len(item.projection) else None
        rows.append(
            {
                "Goal": goal.title,
                "Market": "all markets" if goal.is_global else goal.market,
                "Now": format_value(item.current, fmt),
                "Target": format_value(goal.target, fmt),
                "Progress": item.progress_label,
                "Status": item.status,
                "Projected": "–" if end is None else format_value(end["mean"], fmt),
                "80% interval": "–"
                if end is None
                else f"{format_value(end['lower_80'], fmt)} to {format_value(end['upper_80'], fmt)}",
                "Deadline": goal.deadline.isoformat(),
                "Start": format_value(item.start_level, fmt),
                "Term": goal.term,
                "Owner": goal.owner,
            }
        )
    frame = pd.DataFrame(rows)
    tone = frame["Status"].map(STATUS_TONE).fillna("")
    return html_table(
        frame,
        tone={"Status": tone},
        caption="Goals: start and now are 4-week levels; progress is the share of the way from start to target "
        "covered (reached at or past it); projected is the damped-trend projection for the deadline week",
    )


def key_insights(progress: list[GoalProgress]) -> list[Insight]:
    """A count of goals by status, then one sentence per goal (ranked: off track and missed first); none without
    goals."""
    if not progress:
        return []
    counts = pd.Series([item.status for item in progress]).value_counts()
    summary = ", ".join(f"{count} {status}" for status, count in counts.items())
    sentences = [
        finding(
            _sentence(item),
            item.goal.metric,
            direction={"good": "good", "bad": "bad"}.get(STATUS_TONE.get(item.status, ""), "neutral"),
            severity={"off track": "alert", "missed": "alert", "at risk": "warn"}.get(item.status, "info"),
            market=None if item.goal.is_global else item.goal.market,
            kind="note",
        )
        for item in progress
    ]
    ranked = sorted(sentences, key=lambda insight: -insight.score)  # stable: file order within a status
    return [finding(f"{len(progress)} goals: {summary}.", "goals", severity="info", kind="note"), *ranked]


def _sentence(item: GoalProgress) -> str:
    goal, fmt = item.goal, metrics.get(item.goal.metric).format
    target = format_value(goal.target, fmt)
    if goal.relative and goal.target is not None:
        way = "below" if goal.change < 0 else "above"
        target += f" ({abs(goal.change) * 100:g}% {way} the start level, {format_value(item.start_level, fmt)})"
    elif item.met_at_start:
        target += f" (already met at the start, {format_value(item.start_level, fmt)}: the goal only asks to hold it)"
    if item.status == "not enough data":
        return f"{goal.title}: not enough weeks of data to project (owner {goal.owner})."
    if item.status in ("met", "missed"):
        return (
            f"{goal.title} was {item.status}: {format_value(item.current, fmt)} against {target} by "
            f"{goal.deadline} (owner {goal.owner})."
        )
    end = item.projection.iloc[-1]
    return (
        f"{goal.title} is {item.status}: projected {format_value(end['mean'], fmt)} in {goal.deadline_week} "
        f"(80% interval {format_value(end['lower_80'], fmt)} to {format_value(end['upper_80'], fmt)}) "
        f"against a target of {target}; now {format_value(item.current, fmt)} (owner {goal.owner})."
    )


def trajectory_chart(item: GoalProgress, ax: Axes | None = None) -> Axes:
    """The goal's weekly values up to the last fitted week (hollow: weeks before the fit window; weeks still
    maturing are left out), the projection to the deadline with its 80% and 95% intervals, the target line and
    the deadline."""
    goal, fmt = item.goal, metrics.get(item.goal.metric).format
    ax = ax or plt.subplots()[1]
    history = item.history.dropna(subset=["value"])
    used = history[history["used"]]
    if len(used):
        history = history[history["period_start"] <= used["period_start"].max()]
    ax.plot(history["period_start"], history["value"], color=PALETTE["muted"], linewidth=1, zorder=1)
    ax.scatter(used["period_start"], used["value"], color=PALETTE["primary"], s=18, zorder=3, label="weekly value")
    earlier = history[~history["used"]]
    if len(earlier):
        ax.scatter(
            earlier["period_start"],
            earlier["value"],
            facecolors="white",
            edgecolors=PALETTE["primary"],
            s=24,
            zorder=3,
            label="before the fit window",
        )
    if len(item.projection):
        start = used.iloc[[-1]][["period_start", "value"]].rename(columns={"value": "mean"})
        path = pd.concat([start, item.projection[["period_start", "mean"]]], ignore_index=True)
        ax.plot(path["period_start"], path["mean"], color=PALETTE["primary"], linestyle="--", label="projection")
        for level, alpha in (("95", 0.12), ("80", 0.25)):
            ax.fill_between(
                item.projection["period_start"],
                item.projection[f"lower_{level}"],
                item.projection[f"upper_{level}"],
                color=PALETTE["primary"],
                alpha=alpha,
                linewidth=0,
                label=f"{level}% interval",
            )
    ax.axhline(goal.target, color=PALETTE["good"], linestyle=":", linewidth=1.5, label="target")
    ax.axvline(pd.Timestamp(goal.deadline), color=PALETTE["highlight"], linestyle="--", linewidth=1, label="deadline")
    low, high = ax.get_ylim()
    ax.yaxis.set_major_formatter(FuncFormatter(axis_formatter(fmt, span=high - low)))
    week_axis(ax.xaxis, pd.concat([history["period_start"], item.projection.get("period_start", pd.Series())]))
    ax.set_title(f"{goal.title}: {item.status}")
    legend_below(ax)
    return plain_text(ax)


def gap_table(conn, item: GoalProgress) -> str:
    """For a global goal: each market's level, weight and part of the gap to the target, the largest drag first."""
    gaps = market_gaps(conn, item.goal, item.week)
    fmt = metrics.get(item.goal.metric).format
    shown = gaps.assign(
        value=[format_value(v, fmt) for v in gaps["value"]], gap=[format_change(v, fmt) for v in gaps["gap"]]
    )
    tone = pd.Series(["bad" if v > 0 else "good" for v in gaps["gap"]], index=gaps.index)
    return table_html(shown, GAP_COLUMNS, caption=f"{item.goal.title}: which markets hold it back", tone={"gap": tone})


def scorecard_section(conn, market: str, week: str) -> str:
    """The scorecard's "Progress to target" block: the goals of `market` and the global goals as a table; a note
    when there are none; the goal files' problems (file, line, fix) in an error box instead of failing the page."""
    try:
        goals = goals_for(conn, market)
    except GoalError as error:
        problems = "".join(f"<li>{html.escape(line)}</li>" for line in str(error).splitlines())
        heading = "<strong>The goal files have problems:</strong>"
        return f'<div class="gne-callout gne-callout-error">{heading}<ul>{problems}</ul></div>'
    if not goals:
        return f"<p>No goals are set for {html.escape(market)} (parameters/goals/*.yaml).</p>"
    return progress_table(progress_of(conn, goals, week)) + f"<p class='gne-note'>{html.escape(RULE)}</p>"
