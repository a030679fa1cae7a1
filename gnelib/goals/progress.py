"""Where a goal stands in a report week: its weekly history, the damped-trend projection to the deadline with
80 % / 95 % intervals, the on-track rule, and (for a global goal) how much each market adds to the gap.

The rule: **on track** when the projected weekly value at the deadline meets the target; **at risk** when only the
80 % prediction interval reaches it; **off track** otherwise; once the deadline week has been read, **met** or
**missed** by its value. A metric that has never been negative is not projected below zero. The projection is
fitted on the trailing `FIT_WEEKS` weeks that were complete and mature in the report week (a metric with late
events, such as refunds, is not read before its maturity window has passed), so a report of a past week sees what
was known then.
"""

from dataclasses import dataclass

import pandas as pd

from gnelib import metrics
from gnelib.analysis.projection import MIN_POINTS, project
from gnelib.config import Project, load_project
from gnelib.datafacts import grain_values
from gnelib.goals.spec import Goal, GoalError, check_goals, load_goals
from gnelib.metrics import Catalog, load_catalog
from gnelib.metrics.store import Request
from gnelib.periods import shift_week, trailing_weeks, week_range, week_start, weeks_between

FIT_WEEKS = 26
LEVEL_WEEKS = 4  # start and current levels, and a global goal's market split, pool 4 weeks
STATUSES = ("on track", "at risk", "off track", "met", "missed", "not enough data")


@dataclass
class GoalProgress:
    """One goal as of a report week, its target resolved (`goal.target`: a relative goal's start level × (1 +
    change)). `history`: the goal's weekly metric frame (start to report week, with `used` marking the weeks
    fitted); `projection`: `period`, `period_start`, `mean`, `lower_80` … `upper_95` from the
    week after the last fitted one to the deadline week (empty without enough data or after the deadline).
    `start_level` and `current` are 4-week levels (`LEVEL_WEEKS` pooled: the weeks up to the start week, the last
    fitted weeks), so one noisy week does not decide the progress shown."""

    goal: Goal
    week: str
    history: pd.DataFrame
    projection: pd.DataFrame
    start_level: float | None
    current: float | None
    status: str

    @property
    def current_week(self) -> str | None:
        """The last week the projection was fitted on."""
        used = self.history[self.history["used"]]
        return str(used["period"].iloc[-1]) if len(used) else None

    @property
    def projected(self) -> float | None:
        """The projected value in the deadline week."""
        return float(self.projection["mean"].iloc[-1]) if len(self.projection) else None

    @property
    def met_at_start(self) -> bool:
        """Whether the start level already met the target (an absolute target set at or past it)."""
        return None not in (self.start_level, self.goal.target) and self.goal.better(self.start_level, self.goal.target)

    @property
    def progress(self) -> float | None:
        """The share of the way from the start level to the target covered by the current level (1 = reached, below
        0 = moved away); None without both levels or when the target was met at start (there was no way to go)."""
        if self.start_level is None or self.current is None or self.goal.target is None or self.met_at_start:
            return None
        return (self.start_level - self.current) / (self.start_level - self.goal.target)

    @property
    def progress_label(self) -> str:
        """What a reader sees of `progress`: a share of the planned way bounded to -100% … 100%, since a target a
        hair from its start level turns a small move into thousands of per cent: `reached` at or past the target,
        `< -100%` when the metric moved away by more than the whole planned change, `met at start` when the start
        level already met the target, `–` without data."""
        if self.met_at_start:
            return "met at start"
        share = self.progress
        if share is None:
            return "–"
        if share >= 1 - 1e-9:  # tolerances: a level exactly on the target or a whole planned change away
            return "reached"
        if share < -1 - 1e-9:
            return "< -100%"
        return f"{round(share * 100)}%"


def usable_week(week: str, maturity_days: int) -> str:
    """The newest week whose events had all arrived by the end of `week` (its last day + maturity ≤ week's end)."""
    end = week_range(week)[1]
    candidate = week
    while week_range(candidate)[1] + pd.Timedelta(days=maturity_days) > end:
        candidate = shift_week(candidate, -1)
    return candidate


def frame_weeks(goal: Goal, week: str) -> tuple[str, str]:
    """(first, last): the first week of the goal's frame in a report of `week` (its start level's weeks, or the fit
    window's start if earlier) and the last mature week (`usable_week`), where the fit window ends."""
    last = usable_week(week, metrics.get(goal.metric).maturity_days)
    return min(start_weeks(goal)[0], shift_week(last, 1 - FIT_WEEKS), key=week_start), last


def goal_frame(conn, goal: Goal, week: str, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """The goal's metric frame from its start (or the fit window, if earlier) to `week`, with `used` marking the
    mature weeks of the fit window."""
    first, last = frame_weeks(goal, week)
    where = None if goal.is_global else {_grain(): goal.market}
    frame = metrics.compute(conn, goal.metric, weeks=(first, week), by=list(by), where=where)
    frame = frame.sort_values("period_start").reset_index(drop=True)
    window = weeks_between(shift_week(last, 1 - FIT_WEEKS), last)
    used = frame["period"].isin(window) & frame["is_mature"].astype(bool) & frame["value"].notna()
    return frame.assign(used=used)


def goal_requests(week: str) -> list[Request]:
    """The metric frames the goals ask for in reports of `week` (each goal's `goal_frame`, which also holds its
    start level), for the batch aggregate store to compute once; none when there are no goal files or they have
    problems (the reports show those)."""
    try:
        goals = load_goals()
    except GoalError:
        return []
    requests = []
    for goal in goals:
        first, _ = frame_weeks(goal, week)
        level = () if goal.is_global else (_grain(),)
        requests.append(Request(goal.metric, level, None, "week", first, max(week, goal.start, key=week_start)))
    return requests


def start_weeks(goal: Goal) -> list[str]:
    """The weeks pooled into the goal's start level: the `LEVEL_WEEKS` weeks up to its start week."""
    return trailing_weeks(goal.start, LEVEL_WEEKS, include_current=True)


def evaluate(conn, goal: Goal, week: str) -> GoalProgress:
    """The goal's history, projection and status as of `week`; a relative goal is resolved against its start level
    (`progress.goal.target`), and without a start level to resolve it has `not enough data`."""
    frame = goal_frame(conn, goal, week)
    kind = metrics.get(goal.metric).kind
    used = frame[frame["used"]]
    start_level = level(frame[frame["period"].isin(start_weeks(goal))], kind)
    goal = goal.resolve(start_level)
    current = level(used.tail(LEVEL_WEEKS), kind)
    if len(used) < MIN_POINTS or goal.target is None:
        return GoalProgress(goal, week, frame, pd.DataFrame(), start_level, current, "not enough data")
    last = str(used["period"].iloc[-1])
    if week_start(goal.deadline_week) <= week_start(last):  # the deadline week has been read: met or missed
        at_deadline = frame.loc[(frame["period"] == goal.deadline_week) & frame["value"].notna(), "value"]
        met = goal.better(float(at_deadline.iloc[0] if len(at_deadline) else used["value"].iloc[-1]), goal.target)
        return GoalProgress(goal, week, frame, pd.DataFrame(), start_level, current, "met" if met else "missed")
    weeks = weeks_between(shift_week(last, 1), goal.deadline_week)
    projection = project(used["value"], len(weeks))
    projection = projection.assign(period=weeks, period_start=[week_start(w) for w in weeks])
    end = projection.iloc[-1]
    favourable = end["lower_80"] if goal.direction == "lower_is_better" else end["upper_80"]
    status = (
        "on track"
        if goal.better(end["mean"], goal.target)
        else "at risk"
        if goal.better(favourable, goal.target)
        else "off track"
    )
    return GoalProgress(goal, week, frame, projection, start_level, current, status)


def level(rows: pd.DataFrame, kind: str) -> float | None:
    """Weekly values pooled: weighted by the denominator for ratios and durations (Σnum/Σden for a ratio), the
    plain mean for counts and sums; None without rows."""
    rows = rows[rows["value"].notna()]
    if rows.empty:
        return None
    weight = rows["denominator"] if kind in ("ratio", "duration") else pd.Series(1.0, index=rows.index)
    return float((rows["value"] * weight).sum() / weight.sum())


def market_gaps(conn, goal: Goal, week: str) -> pd.DataFrame:
    """A global goal's gap split by market over the last `LEVEL_WEEKS` fitted weeks: `market`, `value` (its level),
    `weight` (its share of the denominator — orders, sellers, events —; for counts and sums its share of the start
    level, by which the target is shared out), `gap` (its part of the distance to the target, positive = holding
    the goal back; the parts add up to the global gap — exactly for ratios, counts and sums, as a weighted mean of
        medians for durations) and `share`: a lagging market's part of the sum of the lagging markets' gaps (blank for
    markets ahead of the target). Largest drag first. A relative goal must be resolved first (`evaluate(...).goal`)."""
    if goal.target is None:
        raise ValueError(f"goal {goal.title!r} has a relative target; pass the resolved goal, evaluate(...).goal")
    kind = metrics.get(goal.metric).kind
    grain = _grain()
    frame = goal_frame(conn, goal, week, by=(grain,))
    recent_weeks = sorted(frame.loc[frame["used"], "period"].unique(), key=week_start)[-LEVEL_WEEKS:]
    recent = frame[frame["used"] & frame["period"].isin(recent_weeks)]
    first_weeks = start_weeks(goal)
    rows = []
    for market, cells in recent.groupby(grain):
        weight = (
            cells["denominator"].sum()
            if kind in ("ratio", "duration")
            else level(frame[(frame[grain] == market) & frame["period"].isin(first_weeks)], kind) or 0.0
        )
        rows.append({"market": str(market), "value": level(cells, kind), "weight": float(weight)})
    out = pd.DataFrame(rows, columns=["market", "value", "weight"])
    out["weight"] = out["weight"] / out["weight"].sum()
    if kind in ("count", "sum"):
        distance = out["value"] - goal.target * out["weight"]
    else:
        distance = out["weight"] * (out["value"] - goal.target)
    out["gap"] = distance if goal.direction == "lower_is_better" else -distance
    behind = out["gap"].clip(lower=0.0)
    out["share"] = (behind / behind.sum()).where(out["gap"] > 0) if behind.sum() > 0 else float("nan")
    return out.sort_values("gap", ascending=False).reset_index(drop=True)


def validate_against_data(
    conn, goals: list[Goal], project: Project | None = None, catalog: Catalog | None = None
) -> list[Goal]:
    """`check_goals` with the warehouse's markets and each goal's start level (the 4 weeks up to its start): the
    goals with relative targets resolved; GoalError names file, line and fix. `project` and `catalog` default to the
    loaded ones."""
    project = project or load_project()
    catalog = catalog or load_catalog(project.catalog)
    cache: dict[tuple[str, str, str], float | None] = {}

    def start_level(goal: Goal) -> float | None:
        key = (goal.metric, goal.market, goal.start)
        if key not in cache:
            where = None if goal.is_global else {project.grain: goal.market}
            weeks = start_weeks(goal)
            frame = metrics.compute(conn, goal.metric, weeks=(weeks[0], weeks[-1]), where=where, catalog=catalog)
            cache[key] = level(frame, catalog.get(goal.metric).kind)
        return cache[key]

    return check_goals(goals, grain_values(conn, project, catalog), start_level)


def _grain() -> str:
    return load_project().grain
