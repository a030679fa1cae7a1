"""Run plans (`parameters/*.yaml`): which templates, markets and weeks to run; expanded into RunSpecs.

```yaml
templates_dir: notebooks          # where <template>.ipynb live (relative to the working directory)
markets: all                      # `all` (every market in the warehouse) or a list: [US, GB]
weeks: latest                     # `latest`, a list [2026-W46, latest], or {from: 2026-W40, to: latest}
parameters: {}                    # shared values, passed to each template that declares them
templates:
  weekly_scorecard: {}
  metric_deep_dive:
    parameters: {metric: refund_rate}   # per-template values (must be declared by the template)
  experiment_readout:
    markets: [all]                # per-template markets; `[all]` = one run over all markets combined
    parameters: {experiment: recent}    # one readout per experiment running in the week or ended in the 8 before
```

A template with an `experiment` parameter publishes one report per experiment: `<template>-<experiment name>`
(`reports/<week>/all/experiment_readout-dispatch_sla_nudge.html`), whether a plan or `gne run` asked for it.
"""

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gnelib.config import yaml_line
from gnelib.periods import shift_week
from gnelib.reporting.errors import ParameterError, PlanError, choices_hint, echo
from gnelib.reporting.facts import WarehouseFacts
from gnelib.reporting.params import (
    ALL_MARKETS,
    DeclaredParameter,
    ValidationContext,
    declared_parameters,
    validate_parameters,
    validate_week,
)
from gnelib.reporting.paths import report_paths
from gnelib.reporting.requirements import template_requirements, unmet
from gnelib.reporting.spec import RunSpec

RECENT_EXPERIMENTS = "recent"
"""Plan value of `experiment`: one run per experiment running in the week or ended in the RECENT_WEEKS before."""
RECENT_WEEKS = 8


class WeekRange(BaseModel):
    """An inclusive range of ISO weeks; either end may be `latest`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    first: str = Field(alias="from")
    last: str = Field(alias="to")


class TemplateEntry(BaseModel):
    """Per-template settings in a plan."""

    model_config = ConfigDict(extra="forbid")
    parameters: dict[str, Any] = {}
    markets: Literal["all"] | list[str] | None = None


class Plan(BaseModel):
    """A validated run plan."""

    model_config = ConfigDict(extra="forbid")
    templates: dict[str, TemplateEntry | None]
    markets: Literal["all"] | list[str] = "all"
    weeks: str | list[str] | WeekRange = "latest"
    parameters: dict[str, Any] = {}
    templates_dir: str = "notebooks"
    deep_dive: Literal["flagged"] | None = None  # flagged: deep dives of the scan's findings (gnelib.reporting.flagged)


def load_plan(path: str | os.PathLike) -> Plan:
    """Read and validate a plan; errors name the file, the line and the fix."""
    location = Path(path)
    if not location.is_file():
        raise PlanError(
            f"Plan {str(location)!r} does not exist: pass a YAML file such as parameters/weekly.yaml."
        )
    text = location.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{location}:{mark.line + 1}:{mark.column + 1}" if mark else str(location)
        problem = getattr(error, "problem", None) or str(error)
        tag = _TAG.search(problem) if isinstance(error, yaml.constructor.ConstructorError) else None
        if tag:
            raise PlanError(
                f"{where}: unsupported YAML tag {_shown_tag(tag.group(1))} (plans are plain YAML: mappings, lists, "
                "strings and numbers, no tags). Remove the tag."
            ) from None
        raise PlanError(
            f"{where}: not valid YAML ({problem}). "
            "Fix the indentation (spaces, not tabs), close open brackets "
            "and quotes, and put a space after each `key:`."
        ) from None
    if not isinstance(raw, dict):
        raise PlanError(
            f"{location}:1: a plan is a mapping with at least `templates:`; see parameters/smoke.yaml."
        )
    if isinstance(raw.get("templates"), list):
        raw["templates"] = {name: None for name in raw["templates"]}
    try:
        return Plan.model_validate(raw)
    except ValidationError as error:
        problems = [
            f"{location}:{yaml_line(text, issue['loc'])}: {'.'.join(map(str, issue['loc'])) or 'plan'}: "
            f"{issue['msg']}"
            for issue in error.errors()
        ]
        raise PlanError(
            "\n".join(problems)
            + "\nFix: allowed keys are templates, markets, weeks, parameters, templates_dir, deep_dive (flagged); "
            "per template: parameters, markets."
        ) from None


_TAG = re.compile(r"for the tag '([^']+)'")


def _shown_tag(tag: str) -> str:
    """`tag:yaml.org,2002:python/object:os.system` as written in the file: `!!python/object:os.system`."""
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,2002:") else tag


def expand_plan(plan: Plan, plan_path: Path, reports_dir: Path, context: ValidationContext,
                follow_flags: bool = True) -> list[RunSpec]:
    """Every (template × market × week) run of the plan, validated before any kernel starts, then its flagged deep
    dives (`flagged_runs`) unless `follow_flags` is False.

    Markets given twice (e.g. `[US, us]`) yield one run per report slot.
    """
    templates_dir = Path(plan.templates_dir)
    weeks = _weeks(plan.weeks, context)
    specs: list[RunSpec] = []
    problems: list[str] = []
    for name, entry in plan.templates.items():
        entry = entry or TemplateEntry()
        template = _template_path(templates_dir, name, plan_path)
        reason = unmet(template_requirements(template), context.available)
        declared = declared_parameters(template)
        markets = _markets(entry.markets if entry.markets is not None else plan.markets, context)
        if "market" not in declared:
            markets = [ALL_MARKETS]
        shared = {key: value for key, value in plan.parameters.items() if key in declared}
        for week in weeks:
            for market in markets:
                values = {**shared, **entry.parameters}
                if "market" in declared:
                    values["market"] = market
                if "week" in declared:
                    values["week"] = week
                if reason:
                    specs.append(not_applicable_spec(template, values, reports_dir, context, week, market, reason))
                    continue
                runs = [values]
                if "experiment" in declared and values.get("experiment") == RECENT_EXPERIMENTS:
                    runs = [{**values, "experiment": found} for found in recent_experiments(context.facts, week)]
                for run in runs:
                    try:
                        specs.append(build_spec(template, run, reports_dir, context, week=week, market=market))
                    except ParameterError as error:
                        problems.append(f"{name} ({market}, {week}): {error}")
    _refuse(plan_path, problems)
    unique: dict[str, RunSpec] = {}
    for spec in specs:
        unique.setdefault(spec.slot, spec)
    return list(unique.values()) + (flagged_runs(plan, plan_path, reports_dir, context) if follow_flags else [])


def flagged_runs(plan: Plan, plan_path: Path, reports_dir: Path, context: ValidationContext) -> list[RunSpec]:
    """The deep dives of a `deep_dive: flagged` plan ([] for another plan). Runs the weekly scan and writes its
    findings to the reports directory: call it holding the directory's lock."""
    if plan.deep_dive != "flagged":
        return []
    from gnelib.reporting.flagged import DEEP_DIVE_TEMPLATE, flagged_specs

    template = _template_path(Path(plan.templates_dir), DEEP_DIVE_TEMPLATE, plan_path)
    found, problems = flagged_specs(template, _weeks(plan.weeks, context), _markets(plan.markets, context),
                                    reports_dir, context, build_spec)
    _refuse(plan_path, problems)
    return found


def build_spec(
    template: Path,
    values: dict[str, object],
    reports_dir: Path,
    context: ValidationContext,
    week: str | None = None,
    market: str | None = None,
) -> RunSpec:
    """Validate `values` for `template` and place the run in its report slot; a template whose requirements the
    catalog or config do not meet is refused, saying why."""
    reason = unmet(template_requirements(template), context.available)
    if reason:
        raise ParameterError(f"Template {template.stem} cannot run on this warehouse: {reason}.")
    parameters = validate_parameters(template, values, context)
    slot_week = str(parameters.get("week", week or context.facts.last_complete_week))
    slot_market = str(parameters.get("market", market or ALL_MARKETS))
    report = template.stem
    if "experiment" in parameters:
        report = f"{report}-{experiment_name(context.facts, str(parameters['experiment']))}"
    return RunSpec(
        template=template.resolve(),
        week=slot_week,
        market=slot_market,
        parameters=parameters,
        paths=report_paths(reports_dir, slot_week, slot_market, report),
        data_version=context.facts.data_version,
        report=report,
    )


def experiment_name(facts: WarehouseFacts, experiment: str) -> str:
    """The name of an experiment given (and validated) by name or id."""
    if experiment in facts.experiments:
        return experiment
    return facts.experiments[facts.experiment_ids.index(experiment)]


def recent_experiments(facts: WarehouseFacts, week: str) -> list[str]:
    """Experiments that ran in `week` or ended in the RECENT_WEEKS before it (started by `week`), oldest first."""
    earliest = shift_week(week, -RECENT_WEEKS)
    return [name for name, (first, last) in zip(facts.experiments, facts.experiment_weeks, strict=True)
            if first and first <= week and last >= earliest]


def not_applicable_spec(
    template: Path, values: dict[str, object], reports_dir: Path, context: ValidationContext, week: str,
    market: str, reason: str,
) -> RunSpec:
    """The report slot of a template that will not run here, with the reason (parameters unvalidated)."""
    return RunSpec(
        template=template.resolve(),
        week=week,
        market=market,
        parameters=values,
        paths=report_paths(reports_dir, week, market, template.stem),
        data_version=context.facts.data_version,
        unmet=reason,
    )


def _refuse(plan_path: Path, problems: list[str]) -> None:
    if problems:
        raise PlanError(f"{plan_path}: some runs have invalid parameters:\n" + "\n".join(problems))


def _template_path(templates_dir: Path, name: str, plan_path: Path) -> Path:
    path = templates_dir / f"{name}.ipynb"
    if not path.is_file():
        available = sorted(p.stem for p in templates_dir.glob("*.ipynb")) if templates_dir.is_dir() else []
        raise PlanError(
            f"{plan_path}: template {echo(name)} not found as {path}; {choices_hint(name, available)} "
            "(or set templates_dir)."
        )
    return path


def _markets(markets: str | list[str], context: ValidationContext) -> list[str]:
    if markets == "all":
        return list(context.facts.markets)
    return [str(market) for market in markets]


def _weeks(weeks: str | list[str] | WeekRange, context: ValidationContext) -> list[str]:
    from gnelib.periods import weeks_between

    declared = DeclaredParameter("week", "str", "latest", "")

    def canonical(week: str) -> str:
        try:
            return validate_week(week, declared, context)
        except ParameterError as error:
            raise PlanError(f"weeks: {error}") from None

    if isinstance(weeks, WeekRange):
        return weeks_between(canonical(weeks.first), canonical(weeks.last))
    if isinstance(weeks, str):
        return [canonical(weeks)]
    return list(dict.fromkeys(canonical(str(week)) for week in weeks))
