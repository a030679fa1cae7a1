"""Goal files (`parameters/goals/*.yaml`): targets on catalog metrics, validated with file, line and fix.

```yaml
goals:
  - metric: refund_rate            # a catalog metric (`gne metrics list`)
    market: ID                     # a market (a value of the report grain), or `all` for the global goal
    target: 0.03                   # the weekly value to reach, in the metric's units (0.03 = 3%); or instead:
    change: -10%                   # the change to reach, relative to the level at the start (signed, with %)
    start: 2026-W40                # the ISO week the goal was set: its value is where progress counts from
    deadline: 2026-12-31           # the date by which the weekly value should reach the target
    owner: gne-make-it-right       # who answers for it
    title: Refunds back under 3%   # optional; default "<metric title> in <market>"
    direction: higher_is_better    # only for a metric whose catalog direction is neutral (orders, GMV)
```

A goal gives `target:` or `change:`, not both. A change is resolved against the goal's start level (the metric's
level in the 4 weeks to its start week): `change: -10%` on a start level of 3.2% is a target of 2.88%, so one file
works on any warehouse. `load_goals` checks what the files alone can say (YAML, fields, metric, week, date,
direction, the sign of a change); `check_goals` checks what needs the warehouse (the market exists; a change has a
positive start level to apply to). An absolute target already met at the start is not an error: the report reads
it as "met at start" (docs/goals.md says why).
"""

import dataclasses
import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gnelib.config import Project, load_project, yaml_line
from gnelib.errors import GneError
from gnelib.metrics import Catalog, UnknownChoiceError, load_catalog
from gnelib.periods import PeriodError, validate_week, week_of, week_start

GOALS_ENV_VAR = "GNE_GOALS"
GOALS_FOLDER = Path("parameters") / "goals"
SHORT_TERM_WEEKS = 14  # a goal whose start-to-deadline span fits in a quarter is short term
GLOBAL = "all"
TARGET_OR_CHANGE = (
    "give `target:` (the weekly value to reach, in the metric's units: 0.03 = 3%) or `change:` (relative to the "
    "level at the start week, signed, e.g. `change: -10%`)"
)
_PERCENT = re.compile(r"^\s*([+\-\u2212]?)\s*(\d+(?:\.\d+)?|\.\d+)\s*%\s*$")


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
    target: float | None = None
    change: float | None = None
    start: str
    deadline: dt.date
    owner: str = Field(min_length=1)
    title: str | None = None
    direction: Literal["lower_is_better", "higher_is_better"] | None = None

    @field_validator("target", mode="before")
    @classmethod
    def _target_number(cls, value: object) -> object:
        if isinstance(value, str) and "%" in value:
            raise ValueError(
                f"{value!r} is not a value in the metric's units; `target:` is the weekly value to reach (0.03 = 3%). "
                f"For a change relative to the start level write `change: {value.strip()}` instead"
            )
        return value

    @field_validator("change", mode="before")
    @classmethod
    def _change_percent(cls, value: object) -> object:
        match = _PERCENT.match(value) if isinstance(value, str) else None
        if match is None:
            raise ValueError(
                f"{value!r} is not a percentage; write the change relative to the start level with its sign and a "
                "% sign, e.g. `change: -10%` (10% below the start level) or `change: +5%`"
            )
        sign = -1.0 if match.group(1) in ("-", "\u2212") else 1.0
        return sign * float(match.group(2)) / 100.0

    @model_validator(mode="after")
    def _one_target(self) -> "GoalEntry":
        if (self.target is None) == (self.change is None):
            both = self.target is not None
            raise ValueError(
                f"{'both `target:` and `change:` are given' if both else 'no target'}; {TARGET_OR_CHANGE}"
                f"{', not both' if both else ''}"
            )
        return self

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
    """A validated goal, with where it was written (for messages) and the direction that counts as progress.
    A relative goal (`change`, a fraction: -0.1 = 10% down) has no `target` until `resolve` gives it its start
    level; `evaluate` returns its progress with the goal resolved."""

    metric: str
    market: str
    target: float | None
    start: str
    deadline: dt.date
    owner: str
    title: str
    direction: str
    file: Path
    lines: dict  # field → line of the goal in its file
    change: float | None = None

    @property
    def relative(self) -> bool:
        """Whether the target is a change relative to the start level."""
        return self.change is not None

    def resolve(self, start_level: float | None) -> "Goal":
        """This goal with a relative target made absolute: start level × (1 + change); unchanged when the target is
        absolute, or when there is no positive start level to apply the change to."""
        if self.change is None or start_level is None or start_level <= 0:
            return self
        return dataclasses.replace(self, target=start_level * (1.0 + self.change))

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


def goals_folder(project: Project | None = None) -> Path:
    """$GNE_GOALS, else `parameters/goals` beside the project config (gne.yaml; `project`, default the loaded one),
    else under the working directory."""
    if os.environ.get(GOALS_ENV_VAR):
        return Path(os.environ[GOALS_ENV_VAR]).expanduser()
    config = (project or load_project()).file
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
        if entry.change is not None and (
            entry.change == 0 or (entry.change < 0) != (direction == "lower_is_better") or entry.change < -1
        ):
            problems.append(f"{at['change']}: change: {_change_problem(entry.change, entry.metric, direction)}")
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
                entry.change,
            )
        )
    return goals, problems


def _change_problem(change: float, metric: str, direction: str) -> str:
    lower = direction == "lower_is_better"
    written = f"{change * 100:+g}%"
    if change < -1:
        return f"{written} would take {metric} below zero; a change is at least -100% (down to zero)."
    way = "lower" if lower else "higher"
    example = "-10%" if lower else "+10%"
    if change == 0:
        return f"{written} asks for no change; {way} is better for {metric}: write e.g. `change: {example}`."
    return (
        f"{written} makes {metric} worse ({direction.replace('_', ' ')}); write a "
        f"{'negative' if lower else 'positive'} change, e.g. `change: {example}`."
    )


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
            "unknown field; check the spelling (fields: metric, market, target or change, start, deadline, "
            "owner, title, direction)"
        )
    elif issue["type"] == "model_type" and not issue["loc"]:
        message = "a goal file is a mapping with `goals:`, a list of goals (see docs/goals.md)"
    return f"{path}:{yaml_line(text, issue['loc'])}: {field}: {message}"


def check_goals(goals: list[Goal], markets: list[str], start_level) -> list[Goal]:
    """The goals with relative targets resolved (`Goal.resolve`). Raise GoalError for goals on a market not in
    `markets`, and for relative goals without a positive level at the start to apply their change to
    (`start_level(goal)`: that level, or None when the weeks to the start have no data). An absolute target that does
    not improve on the start level is not an error: the report reads it as met at start."""
    problems, resolved = [], []
    for goal in goals:
        if goal.market != GLOBAL and goal.market not in markets:
            problems.append(
                f"{goal.at('market')}: market: {goal.market!r} is not in the data; use `all` or one "
                f"of: {', '.join(markets)}."
            )
            continue
        if not goal.relative:
            resolved.append(goal)
            continue
        value = start_level(goal)
        if value is None or value <= 0:
            found = "no data" if value is None else f"a level of {value:.6g}"
            problems.append(
                f"{goal.at('change')}: change: {goal.metric} has {found} in the 4 weeks to {goal.start}, so a change "
                f"of {goal.change * 100:+g}% has nothing to apply to; give a start week with data, or an absolute "
                "`target:` (the weekly value to reach) instead of `change:`."
            )
            continue
        resolved.append(goal.resolve(value))
    if problems:
        raise GoalError("\n".join(problems))
    return resolved
