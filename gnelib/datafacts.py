"""What the data says, read only through the project config and the catalog: the as-of time, the week span, the
values of the report grain, the experiments (when the config names an experiments source), and a fingerprint of
the tables the catalog reads."""

from dataclasses import dataclass

import pandas as pd

from gnelib import metrics
from gnelib.check import Schema
from gnelib.config import Project, load_project
from gnelib.metrics.catalog import Catalog, load_catalog
from gnelib.metrics.compiler import compile_distinct, compile_table_summary, source_tables
from gnelib.metrics.model import Metric
from gnelib.periods import week_of, week_range, week_start


@dataclass(frozen=True)
class WeekSpan:
    """The first week with data and the last week that had ended at the as-of time."""

    first_week: str
    last_complete_week: str
    as_of: pd.Timestamp


def as_of(conn) -> pd.Timestamp:
    """The data's as-of time (the config's `calendar.as_of`, via the connection's `meta()`)."""
    return pd.Timestamp(conn.meta()["as_of"])


def week_span(conn, project: Project | None = None, catalog: Catalog | None = None) -> WeekSpan:
    """First and last complete ISO week from the completeness metric's weekly counts and the as-of time."""
    project = project or load_project()
    catalog = catalog or load_catalog(project.catalog)
    frame = metrics.compute(conn, project.completeness.metric, catalog=catalog)
    moment = as_of(conn)
    if frame.empty:
        raise metrics.MetricError(
            f"The completeness metric {project.completeness.metric!r} ({project.origin}) has no rows: the "
            "warehouse is empty or the metric's source is wrong; run `gne check`."
        )
    last = week_of(moment)
    if week_range(last)[1] > moment:  # the as-of week has not ended yet
        last = week_of(week_start(last) - pd.Timedelta(days=1))
    first = str(frame["period"].min())
    return WeekSpan(first, last, moment)


def grain_values(conn, project: Project | None = None, catalog: Catalog | None = None) -> list[str]:
    """The values of the report grain (e.g. every market) in the completeness metric's source, sorted."""
    project = project or load_project()
    catalog = catalog or load_catalog(project.catalog)
    metric = catalog.get(project.completeness.metric)
    compiled = compile_distinct(metric, catalog.views, project.grain, conn.dialect)
    return sorted(str(value) for value in conn.sql(compiled.sql, compiled.params)["value"])


@dataclass(frozen=True)
class Experiment:
    """One row of the experiments source's designs."""

    experiment_id: str
    name: str
    first_week: str = ""  # ISO weeks of its start_date and end_date ("" when the designs table has no dates)
    last_week: str = ""


def experiments(conn, project: Project | None = None) -> list[Experiment]:
    """The experiments in the config's `experiments.designs` table (none when the config has no experiments)."""
    project = project or load_project()
    if project.experiments is None:
        return []
    designs = conn.sql(f"SELECT * FROM {project.experiments.designs} ORDER BY experiment_id")
    found = []
    for row in designs.to_dict("records"):
        start, end = row.get("start_date"), row.get("end_date")
        weeks = (week_of(start), week_of(end)) if pd.notna(start) and pd.notna(end) else ("", "")
        found.append(Experiment(str(row["experiment_id"]), str(row["name"]), *weeks))
    return found


def policies(conn, project: Project | None = None) -> list[str]:
    """The policies in the config's `policies.launches` table (none when the config names no launches)."""
    project = project or load_project()
    if project.policies is None:
        return []
    names = conn.sql(f"SELECT DISTINCT policy FROM {project.policies.launches} ORDER BY policy")["policy"]
    return [str(name) for name in names]


def fingerprint(conn, catalog: Catalog) -> dict[str, list[str]]:
    """Per warehouse table the catalog reads: its row count and, for each of the catalog's time columns it holds,
    the non-null count and newest value. It changes with any insert or delete, and with an update that sets or
    moves one of those times (one aggregate query per table; cheap next to a batch)."""
    times = {column.lower() for metric in catalog for column in _time_columns(metric)}
    schema, content = Schema(conn), {}
    for table in source_tables(catalog, catalog.views):
        columns = schema.columns(table)
        if columns is None:  # a missing table: its metrics are unavailable (`gne check`), nothing to version
            content[table] = ["missing"]
            continue
        compiled = compile_table_summary(table, sorted(times & set(columns)), conn.dialect)
        content[table] = [str(value) for value in conn.sql(compiled.sql).iloc[0].tolist()]
    return content


def _time_columns(metric: Metric) -> list[str]:
    duration = [metric.duration.start, metric.duration.end] if metric.duration else []
    return [metric.time_column, *([metric.event_time_column] if metric.event_time_column else []), *duration]
