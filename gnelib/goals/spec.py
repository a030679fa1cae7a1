"""Goal files (`parameters/goals/*.yaml`): targets on catalog metrics, validated with file, line and fix.

```yaml
goals:
  - metric: refund_rate            # a catalog metric (`gne metrics list`)
    market: ID                     # a market (a value of the report grain), or `all` for the global goal
    target: 0.03                   # the weekly value to reach, in the metric's units (0.03 = 3%)
    start: 2026-W40                # the ISO week the goal was set: its value is where progress counts from
    deadline: 2026-12-31           # the date by which the weekly value should reach the target
    owner: gne-make-it-right       # who answers for it
    title: Refunds back under 3%   # optional; default "<metric title> in <market>"
    direction: higher_is_better    # only for a metric whose catalog direction is neutral (orders, GMV)
```

`load_goals` checks what the files alone can say (YAML, fields, metric, week, date, direction); `check_goals`
checks what needs the warehouse (the market exists, the target asks for an improvement on the start value).
"""

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gnelib.config import load_project, yaml_line
from gnelib.errors import GneError
from gnelib.metrics import Catalog, UnknownChoiceError, load_catalog
from gnelib.periods import PeriodError, validate_week, week_of, week_start

GOALS_ENV_VAR = "GNE_GOALS"
GOALS_FOLDER = Path("parameters") / "goals"
SHORT_TERM_WEEKS = 14  # a goal whose start-to-deadline span fits in a quarter is short term
GLOBAL = "all"


class GoalError(GneError):
    """A goal file that does not load or a goal the data contradicts; each line names file, line and fix."""


class _Loader(yaml.SafeLoader):
    """Safe YAML without implicit dates: a deadline stays text, so a bad one is reported with its line."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class GoalEntry(BaseModel):
    """One goal as written."""

    model_config = ConfigDict(extra="forbid")
    metric: str
    market: str = GLOBAL
    target: float
    start: str
    deadline: dt.date
    owner: str = Field(min_length=1)
    title: str | None = None
    direction: Literal["lower_is_better", "higher_is_better"] | None = None

    @field_validator("start")
    @classmethod
    def _week(cls, week: str) -> str:
        try:
            return validate_week(week)
        except PeriodError as error:
            raise ValueError(str(error)) from None

    @field_validator("deadline", mode="before")
    @classmethod
    def _date_text(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-12-31") from None
        return value


class GoalsFile(BaseModel):
    """The top level of a goal file."""

    model_config = ConfigDict(extra="forbid")
    goals: list[GoalEntry]


@dataclass(frozen=True)
class Goal:
    """A validated goal, with where it was written (for messages) and the direction that counts as progress."""

    metric: str
    market: str
    target: float
    start: str
    deadline: dt.date
    owner: str
    title: str
    direction: str
    file: Path
    lines: dict  # field → line of the goal in its file

    @property
    def deadline_week(self) -> str:
        """The ISO week holding the deadline."""
        return week_of(self.deadline)

    @property
    def term(self) -> str:
        """`short term` when start to deadline fits in a quarter, else `long term`."""
        weeks = (week_start(self.deadline_week) - week_start(self.start)).days // 7
        return "short term" if weeks <= SHORT_TERM_WEEKS else "long term"

    @property
    def is_global(self) -> bool:
        return self.market == GLOBAL

    def at(self, field: str = "metric") -> str:
        """`file:line` of a field of this goal."""
        return f"{self.file}:{self.lines.get(field, self.lines['goal'])}"

    def better(self, a: float, b: float) -> bool:
        """Whether value `a` is at least as good as `b` for this goal."""
        return a <= b if self.direction == "lower_is_better" else a >= b


def goals_folder() -> Path:
    """$GNE_GOALS, else `parameters/goals` beside the project config (gne.yaml), else under the working directory."""
    if os.environ.get(GOALS_ENV_VAR):
        return Path(os.environ[GOALS_ENV_VAR]).expanduser()
    config = load_project().file
    return (config.parent if config is not None else Path.cwd()) / GOALS_FOLDER


def load_goals(folder: str | os.PathLike | None = None, catalog: Catalog | None = None) -> list[Goal]:
    """Every goal of the `*.yaml` files in `folder` (default `goals_folder()`), in file order; no folder, no goals.
    Raises GoalError listing every problem as `file:line: field: problem; fix`."""
    location = Path(folder) if folder is not None else goals_folder()
    files = [location] if location.is_file() else sorted(location.glob("*.yaml")) if location.is_dir() else []
    catalog = catalog or load_catalog()
    goals, problems = [], []
    for path in files:
        found, wrong = _read(path, catalog)
        goals.extend(found)
        problems.extend(wrong)
    if problems:
        raise GoalError("\n".join(problems))
    return goals


def _read(path: Path, catalog: Catalog) -> tuple[list[Goal], list[str]]:
    text = path.read_text(encoding="utf-8")
    try:
        raw = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        return [], [f"{where}: not valid YAML ({getattr(error, 'problem', None) or error}); fix the syntax there."]
    try:
        parsed = GoalsFile.model_validate(raw)
    except ValidationError as error:
        return [], [_validation_problem(path, text, issue) for issue in error.errors()]
    goals, problems = [], []
    for index, entry in enumerate(parsed.goals):
        lines = {"goal": yaml_line(text, ("goals", index))}
        lines.update({name: yaml_line(text, ("goals", index, name)) for name in entry.model_fields_set})
        at = {name: f"{path}:{line}" for name, line in lines.items()}
        if entry.metric not in catalog:
            error = UnknownChoiceError("metric", entry.metric, catalog.names(), " See `gne metrics list`.")
            problems.append(f"{at['metric']}: metric: {error}")
            continue
        definition = catalog.get(entry.metric)
        direction = entry.direction or definition.direction
        if direction == "neutral":
            problems.append(
                f"{at['metric']}: direction: metric {entry.metric!r} has no better direction in the "
                "catalog; add `direction: higher_is_better` or `direction: lower_is_better` to the goal."
            )
            continue
        if entry.direction and definition.direction not in ("neutral", entry.direction):
            problems.append(
                f"{at['direction']}: direction: {entry.metric!r} is {definition.direction} in the "
                "catalog; remove `direction:` (it is only for neutral metrics)."
            )
            continue
        if week_start(week_of(entry.deadline)) <= week_start(entry.start):
            problems.append(
                f"{at['deadline']}: deadline: {entry.deadline} is not after the start week "
                f"{entry.start}; give a later deadline or an earlier start."
            )
            continue
        title = entry.title or f"{definition.title} in {'all markets' if entry.market == GLOBAL else entry.market}"
        goals.append(
            Goal(
                entry.metric,
                entry.market,
                entry.target,
                entry.start,
                entry.deadline,
                entry.owner,
                title,
                direction,
                path,
                lines,
            )
        )
    return goals, problems


def _validation_problem(path: Path, text: str, issue: dict) -> str:
    field = ".".join(str(part) for part in issue["loc"]) or "goals"
    message = issue["msg"].removeprefix("Value error, ")
    if issue["type"] == "missing":
        name = issue["loc"][-1] if issue["loc"] else "goals"
        message = (
            f"required field is missing; add `{name}:` to the goal"
            if name != "goals"
            else "a goal file holds `goals:`, a list of goals (see docs/goals.md)"
        )
    elif issue["type"] == "extra_forbidden":
        message = (
            "unknown field; check the spelling (fields: metric, market, target, start, deadline, owner, "
            "title, direction)"
        )
    elif issue["type"] == "model_type" and not issue["loc"]:
        message = "a goal file is a mapping with `goals:`, a list of goals (see docs/goals.md)"
    return f"{path}:{yaml_line(text, issue['loc'])}: {field}: {message}"


def check_goals(goals: list[Goal], markets: list[str], start_level) -> None:
    """Raise GoalError for goals on a market not in `markets`, or whose target does not improve on their level at
    the start (`start_level(goal)`: that level, or None when the start has no data yet)."""
    problems = []
    for goal in goals:
        if goal.market != GLOBAL and goal.market not in markets:
            problems.append(
                f"{goal.at('market')}: market: {goal.market!r} is not in the data; use `all` or one "
                f"of: {', '.join(markets)}."
            )
            continue
        value = start_level(goal)
        if value is not None and goal.better(value, goal.target):
            side = "below" if goal.direction == "lower_is_better" else "above"
            problems.append(
                f"{goal.at('target')}: target: {goal.target:g} does not improve on {goal.metric}'s level at the "
                f"start ({value:.6g} in the 4 weeks to {goal.start}; {goal.direction.replace('_', ' ')}); set a "
                f"target {side} {value:.6g}."
            )
    if problems:
        raise GoalError("\n".join(problems))
