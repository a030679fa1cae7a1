"""Notebook parameters: what a template declares, type coercion, and validators by parameter name.

Everything here runs before any kernel starts. Validators are looked up by parameter name in `VALIDATORS`
(register more with `@validator("name")`); each returns the value in canonical form or raises ParameterError
naming the parameter, the bad value and the valid choices (closest match first).
"""

import ast
import dataclasses
import io
import json
import os
import re
import tokenize
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml

from gnelib.analysis.value import ASSUMPTION_NAMES, ValueAssumptionError, check_assumption
from gnelib.config import Project
from gnelib.reporting.errors import ParameterError, choices_hint, echo
from gnelib.reporting.facts import WarehouseFacts, load_facts, resolve_project
from gnelib.reporting.requirements import Available

ALL_MARKETS = "all"
LATEST_WEEK = "latest"


@dataclass(frozen=True)
class DeclaredParameter:
    """One assignment in a template's `parameters` cell, e.g. `market: str = "US"  # market code`."""

    name: str
    type_name: str  # "str", "int", "float", "bool", "list", ... or "" when neither annotated nor inferable
    default: object
    help: str


def declared_parameters(template: str | os.PathLike) -> dict[str, DeclaredParameter]:
    """The parameters a template declares, by name: the `name: type = default  # help` assignments of its cell
    tagged `parameters`. Read with `ast`, not papermill's `inspect_notebook`, whose import (papermill, nbclient,
    requests) would cost bad input about a second before it is rejected."""
    path = Path(template)
    if not path.is_file():
        raise ParameterError(f"Template {str(path)!r} does not exist: pass the path of a notebook (.ipynb).")
    notebook = json.loads(path.read_bytes())
    sources = [
        "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for cell in notebook.get("cells", [])
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get("tags", [])
    ]
    declared = _assignments(sources[0], path.name) if sources else {}
    if not declared:
        raise ParameterError(
            f"Template {path.name} declares no parameters: tag its parameters cell `parameters` "
            "(JupyterLab: property inspector → cell tags) and write one `name: type = default  # help` "
            "per line."
        )
    if not notebook.get("metadata", {}).get("kernelspec", {}).get("name"):
        raise ParameterError(
            f"Template {path.name} names no kernel: open it in JupyterLab, choose the Python 3 (python3) kernel "
            "and save it."
        )
    return declared


def _assignments(source: str, template: str) -> dict[str, DeclaredParameter]:
    """`name: type = default  # help` (or `name = default  # help`) statements of a parameters cell."""
    try:
        tree = ast.parse(source)
        comments = {
            token.start[0]: token.string.lstrip("#").strip()
            for token in tokenize.generate_tokens(io.StringIO(source).readline)
            if token.type == tokenize.COMMENT
        }
    except (SyntaxError, tokenize.TokenError) as error:
        raise ParameterError(
            f"Template {template}: its parameters cell is not valid Python (line {getattr(error, 'lineno', '?')}: "
            f"{getattr(error, 'msg', error)}); fix that line."
        ) from None
    declared = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and node.value is not None and isinstance(node.target, ast.Name):
            name, annotation = node.target.id, node.annotation
            type_name = annotation.value if isinstance(annotation, ast.Constant) else ast.unparse(annotation)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, type_name = node.targets[0].id, ""
        else:
            continue
        default = _literal(ast.get_source_segment(source, node.value) or "")
        if not type_name or type_name == "None":
            type_name = "" if default is None else type(default).__name__
        declared[name] = DeclaredParameter(name, str(type_name).split("[")[0], default,
                                           comments.get(node.end_lineno, ""))
    return declared


def _literal(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


class ValidationContext:
    """Lazily loaded facts the validators check values against (warehouse, metric catalog), read through the
    project config with the `--warehouse` / `--catalog` overrides."""

    def __init__(
        self,
        warehouse: str | os.PathLike | None = None,
        facts: WarehouseFacts | None = None,
        catalog: str | os.PathLike | None = None,
        project: Project | None = None,
        unavailable: tuple[str, ...] = (),
    ):
        self._warehouse = warehouse
        self._catalog = catalog
        self._unavailable = tuple(unavailable)
        if facts is not None:
            self.__dict__["facts"] = facts
        if project is not None:
            self.__dict__["project"] = project

    @cached_property
    def project(self) -> Project:
        return resolve_project(self._warehouse, self._catalog)

    @cached_property
    def facts(self) -> WarehouseFacts:
        return dataclasses.replace(load_facts(project=self.project), unavailable=self._unavailable)

    @cached_property
    def available(self) -> Available:
        """What templates may require here: catalog metrics that work, groups, an experiments source."""
        facts = self.facts
        return Available(
            metrics=[name for name in facts.metric_names if name not in facts.unavailable],
            groups=facts.groups,
            experiments=bool(facts.experiments),
            unavailable=facts.unavailable,
            policies=self.project.policies is not None,
        )

    @cached_property
    def metric_names(self) -> list[str]:
        from gnelib.metrics.catalog import load_catalog

        return list(load_catalog(self.facts.catalog).names())


ParameterValidator = Callable[[object, DeclaredParameter, ValidationContext], object]
VALIDATORS: dict[str, ParameterValidator] = {}


def validator(name: str) -> Callable[[ParameterValidator], ParameterValidator]:
    """Register `function(value, declared, context) -> canonical value` for parameters called `name`."""

    def register(function: ParameterValidator) -> ParameterValidator:
        VALIDATORS[name] = function
        return function

    return register


def invalid(name: str, value: object, reason: str, choices: list[str] | None = None) -> ParameterError:
    """The standard error: parameter, bad value, why, and the valid choices (closest first)."""
    hint = f"; {choices_hint(value, choices)}" if choices is not None else ""
    return ParameterError(f"Parameter {echo(name)} = {echo(value)} is not valid: {reason}{hint}.")


@validator("market")
def validate_market(value: object, declared: DeclaredParameter, context: ValidationContext) -> str:
    """A value of the report grain in the data (any case), or `all` if the template's default is `all`."""
    markets = list(context.facts.markets)
    allow_all = declared.default == ALL_MARKETS
    choices = markets + ([ALL_MARKETS] if allow_all else [])
    text = str(value).strip()
    if allow_all and text.lower() == ALL_MARKETS:
        return ALL_MARKETS
    for market in markets:
        if text.upper() == market.upper():
            return market
    grain = context.facts.grain
    what = "a market" if grain == "market" else f"a value of {grain!r}"
    raise invalid(declared.name, value, f"not {what} in the warehouse", choices)


_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@validator("week")
def validate_week(value: object, declared: DeclaredParameter, context: ValidationContext) -> str:
    """An ISO week `YYYY-Www` inside the data's complete weeks; `latest` is the last complete week."""
    from gnelib.periods import PeriodError
    from gnelib.periods import validate_week as canonical_week

    facts = context.facts
    text = str(value).strip()
    if text.lower() == LATEST_WEEK:
        return facts.last_complete_week
    try:
        week = canonical_week(text)
    except PeriodError as error:
        reason = str(error).replace(f"Week {text!r}", "it", 1)  # `invalid` echoes the value (shortened)
        raise invalid(declared.name, value, f"{reason} Or use `latest` (= {facts.last_complete_week})") from None
    if not _week_key(facts.first_week) <= _week_key(week) <= _week_key(facts.last_complete_week):
        raise invalid(
            declared.name,
            value,
            f"outside the data: complete weeks run from {facts.first_week} to {facts.last_complete_week} "
            f"(data as of {facts.as_of}); use a week in that range or `latest`",
        )
    return week


def _week_key(week: str) -> tuple[int, int]:
    match = _ISO_WEEK.match(week)
    if match is None:
        raise ParameterError(f"Warehouse week {week!r} is not an ISO week: rebuild the warehouse.")
    return int(match.group(1)), int(match.group(2))


@validator("metric")
def validate_metric(value: object, declared: DeclaredParameter, context: ValidationContext) -> str:
    """A metric name from the catalog."""
    names = context.metric_names
    if str(value) in names:
        return str(value)
    raise invalid(declared.name, value, "not a metric in the catalog (`gne metrics list`)", names)


@validator("experiment")
def validate_experiment(value: object, declared: DeclaredParameter, context: ValidationContext) -> object:
    """An experiment name (or id) from the config's experiments source."""
    facts = context.facts
    if str(value) in facts.experiments or str(value) in facts.experiment_ids:
        return value
    if not facts.experiments and context.project.experiments is None:
        raise invalid(declared.name, value, "the project config names no experiments source (`experiments:` in "
                      "gne.yaml)")
    raise invalid(declared.name, value, "not an experiment in the experiments source (`recent`, one run per recent "
                  "experiment, is a plan value)", list(facts.experiments))


@validator("policy")
def validate_policy(value: object, declared: DeclaredParameter, context: ValidationContext) -> object:
    """A policy name from the config's policy-launch table, or `all`."""
    if str(value) == "all" or str(value) in context.facts.policies:
        return value
    if context.project.policies is None:
        raise invalid(declared.name, value, "the project config names no policy launches (`policies:` in gne.yaml)")
    raise invalid(declared.name, value, "not a policy in the policy-launch table (`all` runs every policy)",
                  list(context.facts.policies))


def validate_money_assumption(value: object, declared: DeclaredParameter, context: ValidationContext) -> float:
    """An assumption of the money section (`gnelib.analysis.value.ASSUMPTION_NAMES`): a number in its range."""
    try:
        return check_assumption(declared.name, value)
    except ValueAssumptionError as error:
        raise ParameterError(str(error)) from None


for _name in ASSUMPTION_NAMES:
    validator(_name)(validate_money_assumption)


_TRUE, _FALSE = {"true", "yes", "y", "1", "on"}, {"false", "no", "n", "0", "off"}


def coerce(declared: DeclaredParameter, value: object) -> object:
    """Convert a value (a CLI string, or a YAML scalar) to the declared type, or raise ParameterError."""
    kind = declared.type_name
    try:
        if kind == "str":
            if isinstance(value, list | dict):
                raise ValueError("a list or mapping is not a string")
            return str(value)
        if kind == "bool":
            return _to_bool(value)
        if kind == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError("not a whole number")
            return int(value)
        if kind == "float":
            if isinstance(value, bool):
                raise ValueError("not a number")
            return float(value)
        if kind in ("list", "tuple", "dict"):
            parsed = yaml.safe_load(value) if isinstance(value, str) else value
            expected = dict if kind == "dict" else list
            if not isinstance(parsed, expected):
                raise ValueError(f"not a {expected.__name__}")
            return parsed
    except (TypeError, ValueError, yaml.YAMLError) as error:
        raise ParameterError(
            f"Parameter {declared.name!r} = {echo(value)} is not a {kind} ({error}); the template declares "
            f"`{declared.name}: {kind} = {declared.default!r}`."
        ) from None
    return value


def _to_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("use true or false")


def validate_parameters(
    template: str | os.PathLike, values: Mapping[str, object], context: ValidationContext
) -> dict[str, object]:
    """Check `values` against the template's declaration and the validators; return the canonical values.

    Unknown names are rejected. Declared parameters that have a validator but were not given are checked on
    their template default and passed explicitly (so a default `week = "latest"` resolves before the run).
    All problems are reported together.
    """
    declared = declared_parameters(template)
    problems: list[str] = []
    result: dict[str, object] = {}
    for name in values:
        if name not in declared:
            problems.append(
                f"Template {Path(template).name} has no parameter {echo(name)}; {choices_hint(name, declared)}."
            )
    for name, parameter in declared.items():
        if name not in values and name not in VALIDATORS:
            continue
        raw = values.get(name, parameter.default)
        try:
            value = coerce(parameter, raw)
            check = VALIDATORS.get(name)
            result[name] = check(value, parameter, context) if check else value
        except ParameterError as error:
            origin = "" if name in values else f" (the template's default for {name!r})"
            problems.append(f"{error}{origin}")
    if problems:
        raise ParameterError("\n".join(problems))
    return result
