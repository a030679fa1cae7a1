"""Run metric queries against a warehouse connection and shape the results into metric frames."""

import os
import weakref
from collections.abc import Mapping, Sequence
from datetime import timedelta

import numpy as np
import pandas as pd

from gnelib.metrics.catalog import Catalog, load_catalog
from gnelib.metrics.compiler import (
    CompiledQuery,
    check_by,
    check_dialect,
    check_where,
    compile_distinct,
    compile_frame,
    compile_frames,
    compile_latest_time,
    compile_records,
    compile_samples,
)
from gnelib.metrics.engine import Connection, as_connection, connection_meta
from gnelib.metrics.errors import MetricError, UnknownChoiceError
from gnelib.metrics.model import Metric
from gnelib.metrics.periods import WeeksArg, check_period, period_label, period_length, week_ranges
from gnelib.metrics.store import AggregateStore, week_labels

FRAME_TAIL = ["numerator", "denominator", "value", "units", "sum_x2", "sum_y2", "sum_xy", "is_mature"]
CatalogArg = Catalog | str | os.PathLike | None


def compute(
    conn: object,
    metric: str | Metric,
    weeks: WeeksArg = None,
    by: Sequence[str] | str = (),
    where: Mapping[str, object] | None = None,
    period: str = "week",
    horizon_days: int | None = None,
    catalog: CatalogArg = None,
) -> pd.DataFrame:
    """The metric frame (docs/metric-frames.md): one row per period × `by` segment, computed in the engine."""
    connection, definition, catalog = _prepare(conn, metric, catalog)
    request = _request(definition, by, where, weeks, period, horizon_days)
    stored = _from_store(definition, request, weeks)
    if stored is not None:
        return stored
    _check_where_values(connection, definition, catalog, request["where"])
    compiled = compile_frame(definition, catalog.views, dialect=connection.dialect, **request)
    frame = _run(connection, compiled)
    return _shape_frame(frame, connection, definition, catalog, request)


def compute_many(
    conn: object,
    names: Sequence[str],
    weeks: WeeksArg = None,
    by: Sequence[str] | str = (),
    where: Mapping[str, object] | None = None,
    period: str = "week",
    horizon_days: int | None = None,
    catalog: CatalogArg = None,
) -> dict[str, pd.DataFrame]:
    """`compute` for several metrics at once: metrics that share a source, time column and unit are computed in
    one pass over the data (duration metrics one by one). Returns {name: metric frame}, same frames as `compute`."""
    connection, catalog = as_connection(conn), _catalog(catalog)
    definitions = [catalog.get(name) for name in names]
    frames = {}
    for definition in definitions:
        stored = _from_store(definition, _request(definition, by, where, weeks, period, horizon_days), weeks)
        if stored is not None:
            frames[definition.name] = stored
    groups: dict[tuple, list[Metric]] = {}
    for definition in (d for d in definitions if d.name not in frames):
        key = (definition.source, definition.time_column, definition.unit_column, definition.kind == "duration")
        groups.setdefault(key, []).append(definition)
    for (*_, is_duration), members in groups.items():
        if is_duration or len(members) == 1:
            for definition in members:
                frames[definition.name] = compute(connection, definition, weeks, by, where, period, horizon_days,
                                                  catalog)
            continue
        requests = [_request(definition, by, where, weeks, period, horizon_days) for definition in members]
        for definition, request in zip(members, requests, strict=True):
            _check_where_values(connection, definition, catalog, request["where"])
        request = requests[0]
        compiled = compile_frames(members, catalog.views, by=request["by"], where=request["where"],
                                  ranges=request["ranges"], period=request["period"], horizon_days=horizon_days,
                                  dialect=connection.dialect)
        wide = _run(connection, compiled)
        keys = ["period_start", *request["by"]]
        for index, definition in enumerate(members):
            stats = {f"{column}_{index}": column for column in
                     ("numerator", "denominator", "units", "sum_x2", "sum_y2", "sum_xy")}
            frame = wide[keys + list(stats)].rename(columns=stats)
            frame = frame[frame["units"] > 0].reset_index(drop=True)
            frames[definition.name] = _shape_frame(frame, connection, definition, catalog, request)
    return {name: frames[name] for name in names}


def samples(
    conn: object,
    metric: str | Metric,
    weeks: WeeksArg = None,
    by: Sequence[str] | str = (),
    where: Mapping[str, object] | None = None,
    period: str = "week",
    horizon_days: int | None = None,
    catalog: CatalogArg = None,
) -> pd.DataFrame:
    """Row-level values for rank tests and bootstraps.

    Duration metrics: one row per event with its hours in `value`. Other kinds: one row per unit of analysis
    (`unit_id`) with its `numerator`, `denominator` and `value`. Both carry `period` and the `by` columns.
    """
    connection, definition, catalog = _prepare(conn, metric, catalog)
    request = _request(definition, by, where, weeks, period, horizon_days)
    _check_where_values(connection, definition, catalog, request["where"])
    compiled = compile_samples(definition, catalog.views, dialect=connection.dialect, **request)
    frame = _run(connection, compiled)
    frame.insert(0, "period", _labels(frame["period_start"], period))
    return frame.drop(columns="period_start").reset_index(drop=True)


def records(
    conn: object,
    metric: str | Metric,
    columns: Sequence[str],
    weeks: WeeksArg = None,
    where: Mapping[str, object] | None = None,
    distinct: bool = False,
    catalog: CatalogArg = None,
) -> pd.DataFrame:
    """The rows behind `metric` (its source with its filters, `weeks` of its time column and `where` applied), with
    `columns` of its source, unaggregated: for report tables of individual events or units (`distinct`: each
    combination of the columns once)."""
    connection, definition, catalog = _prepare(conn, metric, catalog)
    checked = check_where(definition, where)
    _check_where_values(connection, definition, catalog, checked)
    compiled = compile_records(definition, catalog.views, columns, where=checked, ranges=week_ranges(weeks),
                               distinct=distinct, dialect=connection.dialect)
    return _run(connection, compiled)


def compile_query(
    metric: str | Metric,
    weeks: WeeksArg = None,
    by: Sequence[str] | str = (),
    where: Mapping[str, object] | None = None,
    period: str = "week",
    horizon_days: int | None = None,
    dialect: str = "duckdb",
    catalog: CatalogArg = None,
) -> CompiledQuery:
    """The frame query for `metric` in `dialect` with its named parameters (nothing is executed)."""
    catalog = _catalog(catalog)
    definition = catalog.get(metric)
    request = _request(definition, by, where, weeks, period, horizon_days)
    return compile_frame(definition, catalog.views, dialect=check_dialect(dialect), **request)


def sql(
    metric: str | Metric,
    weeks: WeeksArg = None,
    by: Sequence[str] | str = (),
    where: Mapping[str, object] | None = None,
    period: str = "week",
    horizon_days: int | None = None,
    dialect: str = "duckdb",
    catalog: CatalogArg = None,
) -> str:
    """The SQL text `compute` would run for `metric`, in `dialect` (duckdb, spark, postgres or trino)."""
    return compile_query(metric, weeks, by, where, period, horizon_days, dialect, catalog).sql


def _catalog(catalog: CatalogArg) -> Catalog:
    return catalog if isinstance(catalog, Catalog) else load_catalog(catalog)


def _prepare(conn: object, metric: str | Metric, catalog: CatalogArg) -> tuple[Connection, Metric, Catalog]:
    catalog = _catalog(catalog)
    return as_connection(conn), catalog.get(metric), catalog


def _request(metric: Metric, by, where, weeks, period, horizon_days) -> dict:
    if horizon_days is not None and (
        isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or horizon_days <= 0
    ):
        raise MetricError(
            f"horizon_days must be a positive whole number of days or None, got {horizon_days!r}."
        )
    return {
        "by": check_by(metric, by),
        "where": check_where(metric, where),
        "ranges": week_ranges(weeks),
        "period": check_period(period),
        "horizon_days": horizon_days,
    }


def _check_where_values(connection: Connection, metric: Metric, catalog: Catalog, where: dict) -> None:
    """Every filter value must exist in the data; an unknown one lists the valid values, closest first."""
    for column, values in where.items():
        known = _known_values(connection, compile_distinct(metric, catalog.views, column, connection.dialect))
        for value in values:
            if str(value) not in known:
                raise UnknownChoiceError(f"value for {column!r} (metric {metric.name!r}):", value, known)


_KNOWN_VALUES: "weakref.WeakKeyDictionary[Connection, dict[str, set[str]]]" = weakref.WeakKeyDictionary()


def _known_values(connection: Connection, compiled: CompiledQuery) -> set[str]:
    """The distinct values `compiled` returns, asked once per connection (a read-only warehouse's values do not
    change while it is open; each check would otherwise scan the source again)."""
    try:
        cache = _KNOWN_VALUES.setdefault(connection, {})
    except TypeError:  # a connection that cannot be weakly referenced is asked every time
        cache = {}
    if compiled.sql not in cache:
        cache[compiled.sql] = {str(value) for value in _run(connection, compiled)["value"]}
    return cache[compiled.sql]


def _from_store(metric: Metric, request: dict, weeks: WeeksArg) -> pd.DataFrame | None:
    """The frame from the batch aggregate store (`GNE_AGGREGATES`) when one covers the request; None sends the
    request to the warehouse."""
    store = AggregateStore.active()
    if store is None:
        return None
    return store.get(metric.name, request["by"], request["where"], week_labels(weeks), request["horizon_days"],
                     request["period"])


def _run(connection: Connection, compiled: CompiledQuery) -> pd.DataFrame:
    return connection.sql(compiled.sql, compiled.params)


def _shape_frame(
    frame: pd.DataFrame, connection: Connection, metric: Metric, catalog: Catalog, request: dict
) -> pd.DataFrame:
    period, by = request["period"], request["by"]
    frame = frame.copy()
    frame["period_start"] = pd.to_datetime(frame["period_start"]).astype("datetime64[ns]")
    for column in ["numerator", "denominator", "sum_x2", "sum_y2", "sum_xy"]:
        frame[column] = frame[column].astype("float64")
    frame["units"] = frame["units"].astype("int64")
    if metric.kind == "ratio":
        denominator = frame["denominator"].where(frame["denominator"] != 0)
        frame["value"] = frame["numerator"] / denominator
    elif metric.kind in ("count", "sum"):
        frame["value"] = frame["numerator"]
    else:
        frame["value"] = frame["value"].astype("float64")
    wait = request["horizon_days"] if request["horizon_days"] is not None else metric.maturity_days
    as_of = _as_of(connection, metric, catalog)
    ends = frame["period_start"] + period_length(period) + timedelta(days=wait)
    frame["is_mature"] = np.asarray(ends <= as_of, dtype=bool) if as_of is not None else False
    frame.insert(0, "period", _labels(frame["period_start"], period))
    frame.insert(0, "metric", metric.name)
    return frame[["metric", "period", "period_start", *by, *FRAME_TAIL]].reset_index(drop=True)


def _as_of(connection: Connection, metric: Metric, catalog: Catalog) -> pd.Timestamp | None:
    """The data's as-of time: the connection's `meta()["as_of"]` (the project config's calendar), else the newest
    value of the metric's time column."""
    as_of = connection_meta(connection).get("as_of")
    if as_of is None:
        latest = _run(connection, compile_latest_time(metric, catalog.views, connection.dialect))["latest"]
        as_of = latest.iloc[0] if len(latest) else None
    return None if as_of is None or pd.isna(as_of) else pd.Timestamp(as_of)


def _labels(starts: pd.Series, period: str) -> pd.Series:
    """Each start's period label (computed once per distinct start)."""
    labels = {start: period_label(pd.Timestamp(start), period) for start in starts.unique()}
    return starts.map(labels).astype("object")
