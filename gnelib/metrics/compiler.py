"""Compile a metric request into one SQL query (a sqlglot tree), transpiled to the engine's dialect.

The query aggregates twice: first per unit of analysis (seller, order or listing) inside each period × segment
cell, then per cell, so the sums of squares the delta method needs are computed by the engine and pandas only
ever sees one row per cell. Identifiers come from the validated catalog; every user value (weeks, filter
values, horizon) is a named bound parameter (`$p0` in DuckDB, `:p0` in Spark, `%(p0)s` in PostgreSQL).
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlglot
from sqlglot import exp

from gnelib.metrics.errors import MetricError, UnknownChoiceError
from gnelib.metrics.model import IDENTIFIER, Metric, View

DIALECTS = ("duckdb", "spark", "postgres", "trino")
SCAFFOLD_DIALECT = "duckdb"  # the dialect of the snippets this module writes itself


@dataclass(frozen=True)
class CompiledQuery:
    """SQL text in one dialect and the values of its named parameters."""

    sql: str
    params: dict[str, object]
    dialect: str


@dataclass
class _Params:
    values: dict[str, object] = field(default_factory=dict)

    def bind(self, value: object) -> exp.Placeholder:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return exp.Placeholder(this=name)


def check_dialect(dialect: str) -> str:
    """Validate a target dialect name."""
    if dialect not in DIALECTS:
        raise UnknownChoiceError("SQL dialect", dialect, DIALECTS)
    return dialect


def check_by(metric: Metric, by: Sequence[str] | str) -> list[str]:
    """Validate `by` against the metric's dimensions."""
    columns = [by] if isinstance(by, str) else list(by)
    for name in columns:
        if name not in metric.dimensions:
            raise UnknownChoiceError(f"dimension for metric {metric.name!r}:", name, metric.dimensions)
    if len(set(columns)) != len(columns):
        raise MetricError(f"by={columns!r} names a dimension twice.")
    return columns


def check_where(metric: Metric, where: Mapping[str, object] | None) -> dict[str, list[object]]:
    """Validate `where` keys against the metric's dimensions; normalise values to non-empty lists."""
    checked: dict[str, list[object]] = {}
    for name, value in (where or {}).items():
        if name not in metric.dimensions:
            raise UnknownChoiceError(f"filter column for metric {metric.name!r}:", name, metric.dimensions)
        values = list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]
        if not values:
            raise MetricError(
                f"where[{name!r}] is an empty list; give at least one value or drop the filter."
            )
        checked[name] = values
    return checked


def compile_frame(
    metric: Metric,
    views: Mapping[str, View],
    *,
    by: Sequence[str] = (),
    where: Mapping[str, list[object]] | None = None,
    ranges: Sequence[tuple[datetime, datetime]] = (),
    period: str = "week",
    horizon_days: int | None = None,
    dialect: str = "duckdb",
) -> CompiledQuery:
    """The metric-frame query: one row per period × `by` segment with sums and sums of squares."""
    params = _Params()
    if metric.kind == "duration":
        inner = _per_event(metric, by, where, ranges, period, horizon_days, params)
        outer = _duration_cells(by, metric.duration.quantile)
        name = "per_event"
    else:
        inner = _per_unit(metric, by, where, ranges, period, horizon_days, params)
        outer = _ratio_cells(metric, by)
        name = "per_unit"
    query = outer.from_(name).group_by(*_cell_keys(by)).order_by(*_cell_keys(by))
    return _finish(_with_views(query, metric, views, [(name, inner)]), params, dialect)


def compile_frames(
    metrics: Sequence[Metric],
    views: Mapping[str, View],
    *,
    by: Sequence[str] = (),
    where: Mapping[str, list[object]] | None = None,
    ranges: Sequence[tuple[datetime, datetime]] = (),
    period: str = "week",
    horizon_days: int | None = None,
    dialect: str = "duckdb",
) -> CompiledQuery:
    """One pass for several ratio/count/sum metrics that share a source, time column and unit: per metric `i` the
    columns `numerator_i, denominator_i, units_i, sum_x2_i, sum_y2_i, sum_xy_i` (each metric's own filters and
    its fixed horizon become FILTER clauses on its aggregates, so one scan serves them all)."""
    first = metrics[0]
    shared = {(m.source, m.time_column, m.unit_column, m.kind != "duration") for m in metrics}
    if len(shared) != 1 or first.kind == "duration":
        raise MetricError("compile_frames needs non-duration metrics with one source, time column and unit.")
    params = _Params()
    unit = exp.column(first.unit_column)
    columns = [exp.alias_(_period_start(first, period), "period_start"), *map(exp.column, by),
               exp.alias_(unit, "unit_id")]
    cells = [*_cell_keys(by)]
    for index, metric in enumerate(metrics):
        condition = exp.and_(*metric.filter_expressions()) if metric.filters else None
        numerator = metric.expression("numerator")
        if horizon_days is not None:
            numerator = _within_horizon(numerator, metric, horizon_days, params)
        x, y, n = exp.column(f"x{index}"), exp.column(f"y{index}"), exp.column(f"n{index}")
        columns.append(exp.alias_(_as_double(_zero_if_null(_only(numerator, condition))), x.name))
        columns.append(exp.alias_(_only(exp.Count(this=exp.Star()), condition), n.name))
        has_denominator = metric.kind == "ratio"
        if has_denominator:
            columns.append(exp.alias_(
                _as_double(_zero_if_null(_only(metric.expression("denominator"), condition))), y.name))
        cells += [
            exp.alias_(_as_double(exp.func("SUM", x)), f"numerator_{index}"),
            exp.alias_(_as_double(exp.func("SUM", y)) if has_denominator else _null_double(), f"denominator_{index}"),
            exp.alias_(exp.func("COUNT_IF", exp.GT(this=n, expression=exp.Literal.number(0))), f"units_{index}"),
            exp.alias_(_as_double(exp.func("SUM", exp.Mul(this=x, expression=x))), f"sum_x2_{index}"),
            exp.alias_(_as_double(exp.func("SUM", exp.Mul(this=y, expression=y))) if has_denominator
                       else _null_double(), f"sum_y2_{index}"),
            exp.alias_(_as_double(exp.func("SUM", exp.Mul(this=x, expression=y))) if has_denominator
                       else _null_double(), f"sum_xy_{index}"),
        ]
    shared_conditions = _conditions(first.model_copy(update={"filters": ()}), where, ranges, params)
    inner = sqlglot.select(*columns).from_(_source(first)).where(*shared_conditions)
    inner = inner.group_by(_period_start(first, period), *map(exp.column, by), unit)
    query = sqlglot.select(*cells).from_("per_unit").group_by(*_cell_keys(by)).order_by(*_cell_keys(by))
    return _finish(_with_views(query, first, views, [("per_unit", inner)]), params, dialect)


def _only(aggregate: exp.Expression, condition: exp.Expression | None) -> exp.Expression:
    """`aggregate` restricted to rows meeting `condition` (a FILTER clause on each aggregate function)."""
    if condition is None:
        return aggregate

    def restrict(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Filter):
            return exp.Filter(this=node.this, expression=exp.Where(
                this=exp.and_(node.args["expression"].this, condition.copy())))
        if isinstance(node, exp.AggFunc) and not isinstance(node.parent, exp.Filter):
            return exp.Filter(this=node.copy(), expression=exp.Where(this=condition.copy()))
        return node

    return aggregate.transform(restrict, copy=True)


def compile_samples(
    metric: Metric,
    views: Mapping[str, View],
    *,
    by: Sequence[str] = (),
    where: Mapping[str, list[object]] | None = None,
    ranges: Sequence[tuple[datetime, datetime]] = (),
    period: str = "week",
    horizon_days: int | None = None,
    dialect: str = "duckdb",
) -> CompiledQuery:
    """Per-event hours (duration metrics) or per-unit numerator/denominator (other kinds), one row each."""
    params = _Params()
    keys = _cell_keys(by)
    if metric.kind == "duration":
        inner = _per_event(metric, by, where, ranges, period, horizon_days, params)
        query = sqlglot.select(*keys, "unit_id", exp.alias_(exp.column("x"), "value")).from_("per_event")
        query = query.order_by(*keys, "x")
        name = "per_event"
    else:
        inner = _per_unit(metric, by, where, ranges, period, horizon_days, params)
        value = (
            exp.column("x")
            if metric.kind != "ratio"
            else exp.Div(
                this=exp.column("x"), expression=exp.func("NULLIF", exp.column("y"), exp.Literal.number(0))
            )
        )
        denominator = exp.column("y") if metric.kind == "ratio" else _null_double()
        query = sqlglot.select(
            *keys,
            "unit_id",
            exp.alias_(exp.column("x"), "numerator"),
            exp.alias_(denominator, "denominator"),
            exp.alias_(value, "value"),
        )
        query = query.from_("per_unit").order_by(*keys, "unit_id")
        name = "per_unit"
    return _finish(_with_views(query, metric, views, [(name, inner)]), params, dialect)


def compile_distinct(metric: Metric, views: Mapping[str, View], column: str, dialect: str) -> CompiledQuery:
    """The distinct non-null values of one of the metric's dimension columns in its source."""
    check_by(metric, [column])
    query = sqlglot.select(exp.alias_(exp.column(column), "value")).distinct().from_(_source(metric))
    query = query.where(exp.column(column).is_(exp.null()).not_())
    return _finish(_with_views(query, metric, views), _Params(), dialect)


def compile_records(
    metric: Metric,
    views: Mapping[str, View],
    columns: Sequence[str],
    *,
    where: Mapping[str, list[object]] | None = None,
    ranges: Sequence[tuple[datetime, datetime]] = (),
    distinct: bool = False,
    dialect: str = "duckdb",
) -> CompiledQuery:
    """The rows of the metric's source that it counts (its filters, `ranges` of its time column, `where`), with
    `columns` of that source and no aggregation (`distinct`: each combination once)."""
    params = _Params()
    query = sqlglot.select(*map(_identifier, columns)).distinct(distinct=distinct).from_(_source(metric))
    query = query.where(*_conditions(metric, where, ranges, params))
    return _finish(_with_views(query, metric, views), params, dialect)


def compile_rows(
    table: str,
    columns: Sequence[str] = (),
    *,
    equals: Mapping[str, object] | None = None,
    order_by: Sequence[str] = (),
    dialect: str = "duckdb",
) -> CompiledQuery:
    """`SELECT columns (all when empty) FROM table WHERE column = value … ORDER BY …` with every value bound: for
    tables the project config names (the experiments source)."""
    params = _Params()
    query = sqlglot.select(*(map(_identifier, columns) if columns else [exp.Star()])).from_(exp.to_table(table))
    for column, value in (equals or {}).items():
        query = query.where(_identifier(column).eq(params.bind(value)))
    return _finish(query.order_by(*map(_identifier, order_by)), params, dialect)


def source_tables(metrics: Iterable[Metric], views: Mapping[str, View]) -> list[str]:
    """The warehouse tables `metrics` read: their sources that are tables, and the tables of the views they use."""
    tables: set[str] = set()
    for metric in metrics:
        if metric.source not in views:
            tables.add(metric.source)
        for name in _views_needed(metric.source, views):
            body = views[name].query()
            local = {cte.alias_or_name for cte in body.find_all(exp.CTE)} | set(views)
            tables |= {".".join(part.name for part in table.parts) for table in body.find_all(exp.Table)
                       if table.db or table.name not in local}
    return sorted(tables)


def compile_table_summary(table: str, columns: Sequence[str], dialect: str) -> CompiledQuery:
    """One row: `row_count` of `table`, and per column `i` of `columns` its non-null count `filled_i` and its
    largest value `newest_i` (a cheap fingerprint of the table's content)."""
    select = [exp.alias_(exp.Count(this=exp.Star()), "row_count")]
    for index, column in enumerate(columns):
        select += [exp.alias_(exp.Count(this=_identifier(column)), f"filled_{index}"),
                   exp.alias_(exp.func("MAX", _identifier(column)), f"newest_{index}")]
    return _finish(sqlglot.select(*select).from_(exp.to_table(table)), _Params(), dialect)


def compile_latest_time(metric: Metric, views: Mapping[str, View], dialect: str) -> CompiledQuery:
    """The newest value of the metric's time column (the as-of fallback for warehouses without metadata)."""
    query = sqlglot.select(exp.alias_(exp.func("MAX", exp.column(metric.time_column)), "latest"))
    return _finish(_with_views(query.from_(_source(metric)), metric, views), _Params(), dialect)


def _per_unit(metric, by, where, ranges, period, horizon_days, params) -> exp.Select:
    numerator = metric.expression("numerator")
    if horizon_days is not None:
        numerator = _within_horizon(numerator, metric, horizon_days, params)
    unit = exp.column(metric.unit_column)
    columns = [
        exp.alias_(_period_start(metric, period), "period_start"),
        *map(exp.column, by),
        exp.alias_(unit, "unit_id"),
        exp.alias_(_as_double(_zero_if_null(numerator)), "x"),
    ]
    if metric.kind == "ratio":
        columns.append(exp.alias_(_as_double(_zero_if_null(metric.expression("denominator"))), "y"))
    query = sqlglot.select(*columns).from_(_source(metric))
    query = query.where(*_conditions(metric, where, ranges, params))
    return query.group_by(_period_start(metric, period), *map(exp.column, by), unit)


def _per_event(metric, by, where, ranges, period, horizon_days, params) -> exp.Select:
    start, end = metric.duration.start, metric.duration.end
    hours = _scaffold(f"DATE_DIFF('microsecond', {start}, {end}) / 3600000000.0")
    conditions = _conditions(metric, where, ranges, params)
    conditions += [exp.column(start).is_(exp.null()).not_(), exp.column(end).is_(exp.null()).not_()]
    if horizon_days is not None:
        conditions.append(_horizon_condition(metric.time_column, end, horizon_days, params))
    columns = [
        exp.alias_(_period_start(metric, period), "period_start"),
        *map(exp.column, by),
        exp.alias_(exp.column(metric.unit_column), "unit_id"),
        exp.alias_(_as_double(hours), "x"),
    ]
    return sqlglot.select(*columns).from_(_source(metric)).where(*conditions)


def _ratio_cells(metric: Metric, by: Sequence[str]) -> exp.Select:
    x, y = exp.column("x"), exp.column("y")
    has_denominator = metric.kind == "ratio"
    return sqlglot.select(
        *_cell_keys(by),
        exp.alias_(_as_double(exp.func("SUM", x)), "numerator"),
        exp.alias_(_as_double(exp.func("SUM", y)) if has_denominator else _null_double(), "denominator"),
        exp.alias_(exp.Count(this=exp.Star()), "units"),
        exp.alias_(_as_double(exp.func("SUM", exp.Mul(this=x, expression=x))), "sum_x2"),
        exp.alias_(
            _as_double(exp.func("SUM", exp.Mul(this=y, expression=y))) if has_denominator else _null_double(),
            "sum_y2",
        ),
        exp.alias_(
            _as_double(exp.func("SUM", exp.Mul(this=x, expression=y))) if has_denominator else _null_double(),
            "sum_xy",
        ),
    )


def _duration_cells(by: Sequence[str], quantile: float | None = 0.5) -> exp.Select:
    """Per cell: sums for the tests, and the value: the median, another percentile, or (quantile None) the mean."""
    x = exp.column("x")
    if quantile is None:
        statistic = exp.func("AVG", x)
    elif quantile == 0.5:
        statistic = exp.Median(this=x)
    else:
        statistic = exp.PercentileCont(this=x, expression=exp.Literal.number(quantile))
    events = _as_double(exp.Count(this=exp.Star()))
    return sqlglot.select(
        *_cell_keys(by),
        exp.alias_(_as_double(exp.func("SUM", x)), "numerator"),
        exp.alias_(events, "denominator"),
        exp.alias_(exp.Count(this=exp.Distinct(expressions=[exp.column("unit_id")])), "units"),
        exp.alias_(_as_double(exp.func("SUM", exp.Mul(this=x, expression=x))), "sum_x2"),
        exp.alias_(events.copy(), "sum_y2"),
        exp.alias_(_as_double(exp.func("SUM", x)), "sum_xy"),
        exp.alias_(_as_double(statistic), "value"),
    )


def _conditions(metric: Metric, where, ranges, params: _Params) -> list[exp.Expression]:
    time = exp.column(metric.time_column)
    conditions = [exp.paren(condition) for condition in metric.filter_expressions()]
    conditions.append(time.is_(exp.null()).not_())
    if ranges:
        spans = [
            exp.and_(
                exp.GTE(this=time.copy(), expression=_timestamp(params.bind(_iso(start)))),
                exp.LT(this=time.copy(), expression=_timestamp(params.bind(_iso(end)))),
            )
            for start, end in ranges
        ]
        conditions.append(exp.paren(exp.or_(*spans)))
    for column, values in (where or {}).items():
        conditions.append(exp.column(column).isin(*[params.bind(value) for value in values]))
    return conditions


def _within_horizon(numerator: exp.Expression, metric: Metric, horizon_days: int, params: _Params):
    """Count numerator events only when they happened within `horizon_days` of the time column."""
    if metric.event_time_column is None:
        raise MetricError(
            f"metric {metric.name!r} has no event_time_column, so it has no fixed-horizon "
            "variant; call it with horizon_days=None."
        )
    return _only(numerator, _horizon_condition(metric.time_column, metric.event_time_column, horizon_days, params))


def _horizon_condition(time_column: str, event_column: str, horizon_days: int, params: _Params):
    elapsed = _scaffold(f"DATE_DIFF('microsecond', {time_column}, {event_column})")
    return exp.and_(
        exp.column(event_column).is_(exp.null()).not_(),
        exp.LTE(this=elapsed, expression=params.bind(int(horizon_days) * 86_400_000_000)),
    )


def _with_views(
    query: exp.Select, metric: Metric, views: Mapping[str, View], ctes: Sequence[tuple[str, exp.Query]] = ()
) -> exp.Select:
    """Attach the views the metric's source needs (dependencies first), then the query's own `ctes`."""
    used = {column.name for column in query.find_all(exp.Column)}
    for _, body in ctes:
        used |= {column.name for column in body.find_all(exp.Column)}
    for name in _views_needed(metric.source, views):
        body = views[name].query()
        if name == metric.source and views[name].to_one_joins and isinstance(body, exp.Select):
            body = _prune_to_one_joins(body, used)
        query = query.with_(name, as_=body)
    for name, body in ctes:
        query = query.with_(name, as_=body)
    return query


def _prune_to_one_joins(view: exp.Select, used: set[str]) -> exp.Select:
    """Keep the view's output columns the query uses, and drop the LEFT JOINs none of them (nor another join's
    condition, nor the view's WHERE) refers to. Safe only for views whose joins are to-one (`to_one_joins`)."""
    view = view.copy()
    kept = [projection for projection in view.expressions if projection.alias_or_name in used]
    view.set("expressions", kept or view.expressions[:1])
    joins = list(view.args.get("joins") or [])
    while True:
        referenced = {column.table for part in (*view.expressions, view.args.get("where")) if part is not None
                      for column in part.find_all(exp.Column)}
        for join in joins:
            referenced |= {column.table for column in join.args.get("on", exp.true()).find_all(exp.Column)
                           if column.table != join.this.alias_or_name}
        unused = [join for join in joins
                  if join.side.upper() == "LEFT" and join.this.alias_or_name not in referenced]
        if not unused:
            break
        joins = [join for join in joins if join not in unused]
    view.set("joins", joins)
    return view


def _views_needed(source: str, views: Mapping[str, View]) -> list[str]:
    """Views `source` depends on, dependencies first."""
    ordered: list[str] = []

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if name not in views or name in ordered:
            return
        if name in trail:
            raise MetricError(f"views {' → '.join((*trail, name))} refer to each other in a cycle.")
        body = views[name].query()
        local = {cte.alias_or_name for cte in body.find_all(exp.CTE)}
        for table in body.find_all(exp.Table):
            if not table.db and table.name not in local:
                visit(table.name, (*trail, name))
        ordered.append(name)

    visit(source, ())
    return ordered


def _finish(query: exp.Expression, params: _Params, dialect: str) -> CompiledQuery:
    check_dialect(dialect)
    if dialect == "postgres":
        return CompiledQuery(sql=_postgres_sql(query, params), params=dict(params.values), dialect=dialect)
    return CompiledQuery(
        sql=query.sql(dialect=dialect, pretty=True), params=dict(params.values), dialect=dialect
    )


def _postgres_sql(query: exp.Expression, params: _Params) -> str:
    """PostgreSQL text for psycopg: what sqlglot does not transpile rewritten, every literal `%` doubled (psycopg
    reads `%` as a parameter marker) except in the `%(pN)s` placeholders."""
    text = query.transform(_postgres_node, copy=True).sql(dialect="postgres", pretty=True).replace("%", "%%")
    for name in params.values:
        text = text.replace(f"%%({name})s", f"%({name})s")
    return text


def _postgres_node(node: exp.Expression) -> exp.Expression:
    """DuckDB's DATE_DIFF('microsecond', a, b) → EXTRACT(EPOCH FROM b - a) * 1000000 (exact: NUMERIC epochs)."""
    if isinstance(node, exp.DateDiff) and node.unit is not None and node.unit.name.upper() == "MICROSECOND":
        elapsed = exp.Sub(this=node.this.copy(), expression=node.expression.copy())
        epoch = exp.Extract(this=exp.var("EPOCH"), expression=elapsed)
        return exp.Mul(this=epoch, expression=exp.Literal.number(1_000_000))
    return node


def _source(metric: Metric) -> exp.Table:
    return exp.to_table(metric.source)


def _period_start(metric: Metric, period: str) -> exp.Expression:
    time = metric.time_column
    return _scaffold(
        f"CAST(DATE_TRUNC('week', {time}) AS DATE)" if period == "week" else f"CAST({time} AS DATE)"
    )


def _identifier(name: str) -> exp.Column:
    """A plain column name as a column (anything else is refused, never pasted into SQL)."""
    if not re.match(IDENTIFIER, name):
        raise MetricError(f"{name!r} is not a plain column name.")
    return exp.column(name)


def _cell_keys(by: Sequence[str]) -> list[exp.Column]:
    return [exp.column("period_start"), *map(exp.column, by)]


def _scaffold(text: str) -> exp.Expression:
    return sqlglot.parse_one(text, read=SCAFFOLD_DIALECT)


def _timestamp(value: exp.Expression) -> exp.Cast:
    return exp.cast(value, exp.DataType.build("TIMESTAMP", dialect=SCAFFOLD_DIALECT))


def _as_double(value: exp.Expression) -> exp.Cast:
    return exp.cast(value, exp.DataType.build("DOUBLE"))


def _zero_if_null(value: exp.Expression) -> exp.Expression:
    return exp.func("COALESCE", value, exp.Literal.number(0))


def _null_double() -> exp.Cast:
    return _as_double(exp.null())


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")
