"""`gne check`: the project config and the catalog against the live warehouse, before any report runs.

Every source table, view and column a metric uses must exist; the grain, the calendar, the completeness metric and
the experiments source must work. Problems are sentences naming the metric, view, column and table, e.g.
"metric late_delivery_rate, view order_facts: column delivered_at not found in table orders" — never a raw engine
error. A problem confined to some metrics makes those metrics unavailable; any other problem is fatal. The full
check (`execute`) also validates every goal file (parameters/goals/*.yaml) as the goals report does: the same
`file:line: field: problem; fix` lines, which make the check fail but no report.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.scope import Scope, traverse_scope

from gnelib.config import Project
from gnelib.errors import GneError
from gnelib.metrics.catalog import Catalog, load_catalog
from gnelib.metrics.model import Metric, View

EXPERIMENT_DESIGN_COLUMNS = ("experiment_id", "name", "unit", "start_date", "end_date", "designed_split",
                             "primary_metric", "guardrail_metrics")
EXPERIMENT_UNIT_COLUMNS = ("experiment_id", "variant")  # and the unit id, named like the catalog's unit column
POLICY_LAUNCH_COLUMNS = ("policy", "metric", "market", "launch_date")


@dataclass
class CheckReport:
    """What `gne check` found: fatal problems (nothing can run), and problems that make some metrics unavailable."""

    source: str
    fatal: list[str] = field(default_factory=list)
    metric_problems: dict[str, list[str]] = field(default_factory=dict)
    goal_problems: list[str] = field(default_factory=list)
    checked_metrics: int = 0
    tables: int = 0
    checked_goals: int = 0

    @property
    def ok(self) -> bool:
        return not self.fatal and not self.metric_problems and not self.goal_problems

    @property
    def unavailable(self) -> list[str]:
        """Metrics that cannot be computed on this warehouse."""
        return sorted(self.metric_problems)

    def lines(self) -> list[str]:
        """Every problem as one sentence (fatal first, goal files last)."""
        metric_lines = (line for problems in self.metric_problems.values() for line in problems)
        return [*self.fatal, *metric_lines, *self.goal_problems]


def check_project(project: Project, execute: bool = True) -> CheckReport:
    """Check `project` (config + catalog) against its warehouse; `execute` also runs each metric for one week."""
    from gnelib.warehouse import connect

    report = CheckReport(project.source)
    try:
        catalog = load_catalog(project.catalog)
    except GneError as error:
        report.fatal.append(f"catalog: {error}")
        return report
    try:
        conn = connect(project=project)
    except GneError as error:
        report.fatal.append(f"source: {error}")
        return report
    try:
        _check(conn, project, catalog, report, execute)
    finally:
        conn.close()
    return report


def _check(conn, project: Project, catalog: Catalog, report: CheckReport, execute: bool) -> None:
    schema = Schema(conn)
    view_problems = {name: _view_problems(view, catalog, schema) for name, view in catalog.views.items()}
    for metric in catalog:
        problems = _metric_problems(metric, catalog, schema, view_problems)
        if problems:
            report.metric_problems[metric.name] = problems
    report.checked_metrics = len(catalog)
    _check_config(conn, project, catalog, schema, report)
    if execute and not report.fatal:
        _execute_metrics(conn, catalog, report)
        _check_goals(conn, project, catalog, report)
    report.tables = len([name for name, columns in schema.known.items() if columns is not None])


class Schema:
    """The warehouse's tables and columns, read on demand with `SELECT * FROM t LIMIT 0` (any engine)."""

    def __init__(self, conn):
        self.conn = conn
        self.known: dict[str, dict[str, str] | None] = {}

    def columns(self, table: str) -> dict[str, str] | None:
        """{column: dtype} of `table`, or None when the warehouse has no such table."""
        key = table.lower()
        if key not in self.known:
            try:
                frame = self.conn.sql(f"SELECT * FROM {table} LIMIT 0")
                self.known[key] = {str(name).lower(): str(dtype) for name, dtype in frame.dtypes.items()}
            except Exception:  # the engine's "no such table", whatever its type
                self.known[key] = None
        return self.known[key]


def _table_name(table: exp.Table) -> str:
    return ".".join(part.name for part in table.parts)


def _view_problems(view: View, catalog: Catalog, schema: Schema) -> list[str]:
    """Missing tables and columns in one view's SQL (its own problems; views it reads are checked on their own)."""
    problems: list[str] = []
    try:
        scopes = traverse_scope(view.query())
    except sqlglot.errors.SqlglotError as error:
        return [f"view {view.name}: cannot analyse its SQL ({error})"]
    for scope in scopes:
        sources = {alias: _source_columns(source, catalog, schema) for alias, source in scope.sources.items()}
        for alias, source in scope.sources.items():
            if isinstance(source, exp.Table) and sources[alias] is None and _table_name(source) not in catalog.views:
                problems.append(f"view {view.name}: table {_table_name(source)} not found in the warehouse")
        for column in scope.columns:
            problem = _column_problem(column, scope, sources, catalog)
            if problem:
                problems.append(f"view {view.name}: {problem}")
    return list(dict.fromkeys(problems))


def _source_columns(source: object, catalog: Catalog, schema: Schema) -> set[str] | None:
    """Output columns of a scope source: a base table, a catalog view, or a subquery/CTE; None if unknown."""
    if isinstance(source, Scope):
        return _output_columns(source.expression)
    if isinstance(source, exp.Table):
        name = _table_name(source)
        if name in catalog.views:
            return _output_columns(catalog.views[name].query())
        columns = schema.columns(name)
        return None if columns is None else set(columns)
    return None


def _output_columns(query: exp.Expression) -> set[str] | None:
    """The names a query selects; None when it selects `*` (anything may be there)."""
    if not isinstance(query, exp.Query) or any(isinstance(e, exp.Star) or
                                               (isinstance(e, exp.Column) and e.is_star)
                                               for e in getattr(query, "selects", [])):
        return None
    return {name.lower() for name in query.named_selects}


def _column_problem(column: exp.Column, scope: Scope, sources: dict, catalog: Catalog) -> str | None:
    name = column.name.lower()
    if not name or column.is_star:
        return None
    if column.table:
        if column.table not in scope.sources:
            return None  # an outer-scope or lateral reference: sqlglot reports it elsewhere
        known = sources[column.table]
        if known is None or name in known:
            return None
        return f"column {column.name} not found in {_describe(scope.sources[column.table], catalog)}"
    selected = {alias.lower() for alias in getattr(scope.expression, "named_selects", [])}
    candidates = [known for known in sources.values()]
    if name in selected or any(known is None or name in known for known in candidates) or not candidates:
        return None
    where = " or ".join(_describe(source, catalog) for source in scope.sources.values())
    return f"column {column.name} not found in {where}"


def _describe(source: object, catalog: Catalog) -> str:
    if isinstance(source, exp.Table):
        name = _table_name(source)
        return f"view {name}" if name in catalog.views else f"table {name}"
    return "a subquery"


def _metric_columns(metric: Metric) -> list[str]:
    """Every column a metric names outside its SQL aggregates, then the columns inside them."""
    names = [metric.time_column, metric.unit_column, *metric.dimensions]
    if metric.event_time_column:
        names.append(metric.event_time_column)
    if metric.duration is not None:
        names += [metric.duration.start, metric.duration.end]
    expressions = [metric.expression(part) for part in ("numerator", "denominator") if getattr(metric, part)]
    expressions += metric.filter_expressions()
    for expression in expressions:
        names += [column.name for column in expression.find_all(exp.Column)]
    return list(dict.fromkeys(name for name in names if name))


def _metric_problems(metric: Metric, catalog: Catalog, schema: Schema, view_problems: dict) -> list[str]:
    """The metric's own missing columns, and the problems of every view it reads (named with the metric)."""
    problems = [f"metric {metric.name}, {problem}" for view in _views_read(metric.source, catalog)
                for problem in view_problems.get(view, [])]
    if metric.source in catalog.views:
        available, where = _output_columns(catalog.views[metric.source].query()), f"view {metric.source}"
    else:
        columns = schema.columns(metric.source)
        if columns is None:
            return [*problems, f"metric {metric.name}: table {metric.source} not found in the warehouse"]
        available, where = set(columns), f"table {metric.source}"
    if available is not None:
        for name in _metric_columns(metric):
            if name.lower() not in available:
                problems.append(f"metric {metric.name}: column {name} not found in {where}")
    return problems


def _views_read(source: str, catalog: Catalog, seen: tuple[str, ...] = ()) -> list[str]:
    """`source` and every catalog view it reads, if `source` is a view."""
    if source not in catalog.views or source in seen:
        return []
    tables = {_table_name(table) for table in catalog.views[source].query().find_all(exp.Table)}
    nested = [view for name in sorted(tables) for view in _views_read(name, catalog, (*seen, source))]
    return [source, *nested]


def _check_config(conn, project: Project, catalog: Catalog, schema: Schema, report: CheckReport) -> None:
    """The grain, the completeness metric, the calendar, the metadata query and the experiments source."""
    origin = project.origin
    rule = project.completeness.metric
    if rule not in catalog:
        report.fatal.append(f"completeness.metric in {origin}: {rule!r} is not a metric in the catalog "
                            f"({project.catalog}); name the metric that counts rows per week, e.g. orders.")
    else:
        metric = catalog.get(rule)
        if metric.kind != "count":
            report.fatal.append(f"completeness.metric in {origin}: {rule!r} is a {metric.kind} metric; name a "
                                "count metric (COUNT(*) per week).")
        if project.grain not in metric.dimensions:
            report.fatal.append(f"grain in {origin}: {project.grain!r} is not a dimension of the completeness "
                                f"metric {rule!r} (its dimensions: {', '.join(metric.dimensions) or 'none'}).")
        if rule in report.metric_problems:
            report.fatal.append(f"completeness.metric in {origin}: {rule!r} cannot be computed (see below).")
    if project.grain not in catalog.dimensions:
        report.fatal.append(f"grain in {origin}: {project.grain!r} is not a dimension declared in the catalog "
                            f"(declared: {', '.join(catalog.dimensions) or 'none'}).")
    try:
        conn.meta()
    except GneError as error:
        report.fatal.append(str(error))
    if project.experiments is not None:
        for field_name, table, needed in (("designs", project.experiments.designs, EXPERIMENT_DESIGN_COLUMNS),
                                          ("units", project.experiments.units, EXPERIMENT_UNIT_COLUMNS)):
            columns = schema.columns(table)
            if columns is None:
                report.fatal.append(f"experiments.{field_name} in {origin}: table {table} not found in the "
                                    "warehouse; fix the name or remove `experiments:`.")
                continue
            missing = [name for name in needed if name not in columns]
            if missing:
                report.fatal.append(f"experiments.{field_name} in {origin}: table {table} lacks column(s) "
                                    f"{', '.join(missing)}.")
    if project.policies is not None:
        table = project.policies.launches
        columns = schema.columns(table)
        missing = [name for name in POLICY_LAUNCH_COLUMNS if columns is not None and name not in columns]
        if columns is None or missing:
            problem = "not found in the warehouse" if columns is None else f"lacks column(s) {', '.join(missing)}"
            report.fatal.append(f"policies.launches in {origin}: table {table} {problem}; fix the name, remove "
                                "`policies:`, or rebuild a demo warehouse older than the policy launches "
                                "(gne warehouse build).")


def _execute_metrics(conn, catalog: Catalog, report: CheckReport) -> None:
    """Run every statically sound metric for the as-of week: catches unusable types and engine-specific SQL."""
    from gnelib import metrics
    from gnelib.datafacts import as_of
    from gnelib.periods import week_of

    week = week_of(as_of(conn))
    for metric in catalog:
        if metric.name in report.metric_problems:
            continue
        try:
            metrics.compute(conn, metric, weeks=week, catalog=catalog)
        except Exception as error:  # report, never raise: the message is what the user needs
            text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            report.metric_problems[metric.name] = [
                f"metric {metric.name}: its query fails on the warehouse ({type(error).__name__}: {text}); check "
                "the column types its numerator, denominator and filters use."
            ]


def _check_goals(conn, project: Project, catalog: Catalog, report: CheckReport) -> None:
    """The goal files as the goals report checks them (files, then markets and start levels on the warehouse); a
    goal on a metric this warehouse cannot compute is named too."""
    from gnelib.goals import GoalError, goals_folder, load_goals, validate_against_data

    try:
        goals = load_goals(goals_folder(project), catalog)
    except GoalError as error:
        report.goal_problems.extend(str(error).splitlines())
        return
    report.checked_goals = len(goals)
    for goal in goals:
        if goal.metric in report.metric_problems:
            report.goal_problems.append(f"{goal.at('metric')}: metric: {goal.metric!r} cannot be computed on this "
                                        "warehouse (see its problem above); fix that, or remove the goal.")
    try:
        validate_against_data(conn, [goal for goal in goals if goal.metric not in report.metric_problems],
                              project, catalog)
    except GoalError as error:
        report.goal_problems.extend(str(error).splitlines())


def problems_text(report: CheckReport, limit: int | None = None) -> Iterable[str]:
    """The problems as printable lines, shortened after `limit` lines."""
    lines = report.lines()
    shown = lines if limit is None else lines[:limit]
    yield from shown
    if limit is not None and len(lines) > limit:
        yield f"... and {len(lines) - limit} more (run `gne check` for the full list)"
