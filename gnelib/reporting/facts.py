"""What the reporting layer must know about the data before any kernel starts: the grain values (markets), the
weeks, the experiments, and a version of the data and catalog, all read through the project config."""

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from gnelib import datafacts
from gnelib.config import Project, load_project
from gnelib.errors import GneError
from gnelib.metrics.catalog import Catalog, load_catalog
from gnelib.reporting.errors import ReportingError


@dataclass(frozen=True)
class WarehouseFacts:
    """The valid values of the data-driven parameters, and a version string of the data snapshot."""

    source: str  # the warehouse URL or file the runs read
    catalog: Path
    config: Path | None  # None: the packaged demo config
    grain: str
    markets: tuple[str, ...]  # the values of the grain dimension
    first_week: str
    last_complete_week: str
    as_of: str
    experiments: tuple[str, ...]  # experiment names
    experiment_ids: tuple[str, ...]
    data_version: str
    experiment_weeks: tuple[tuple[str, str], ...] = ()  # per experiment: its first and last ISO week ("" unknown)
    metric_names: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    unavailable: tuple[str, ...] = ()  # catalog metrics that `gne check` found broken on this warehouse
    source_given: str = ""  # how the source was named (see config.Project), for re-run commands
    catalog_given: str = ""
    policies: tuple[str, ...] = ()  # policy names in the config's policy-launch table


def resolve_project(warehouse: str | os.PathLike | None = None, catalog: str | os.PathLike | None = None) -> Project:
    """The project config with `--warehouse` / `--catalog` applied on top of it (and of the env overrides)."""
    project = load_project()
    if warehouse is not None:
        project = dataclasses.replace(project, source=str(warehouse), source_given=str(warehouse))
    if catalog is not None:
        project = dataclasses.replace(project, catalog=Path(catalog).resolve(), catalog_given=str(catalog))
    return project


def load_facts(
    warehouse: str | os.PathLike | None = None,
    catalog: str | os.PathLike | None = None,
    project: Project | None = None,
) -> WarehouseFacts:
    """Read grain values, the week range, as-of and experiments through the config and the catalog."""
    from gnelib.warehouse import connect

    project = project or resolve_project(warehouse, catalog)
    definitions = load_catalog(project.catalog)
    try:
        conn = connect(project=project)
    except GneError as error:
        raise ReportingError(f"{error} (warehouse from {project.origin}, or --warehouse / $GNE_WAREHOUSE)") from None
    try:
        span = datafacts.week_span(conn, project, definitions)
        markets = datafacts.grain_values(conn, project, definitions)
        experiments = datafacts.experiments(conn, project)
        policies = datafacts.policies(conn, project)
        content = None if _local_file(project.source) else datafacts.fingerprint(conn, definitions)
    finally:
        conn.close()
    if not markets:
        raise ReportingError(f"The warehouse has no values of the grain dimension {project.grain!r}; "
                             f"check `grain` in {project.origin} and run `gne check`.")
    return WarehouseFacts(
        source=project.source,
        catalog=project.catalog,
        config=project.file,
        grain=project.grain,
        markets=tuple(markets),
        first_week=span.first_week,
        last_complete_week=span.last_complete_week,
        as_of=f"{span.as_of:%Y-%m-%d %H:%M:%S}",
        experiments=tuple(experiment.name for experiment in experiments),
        experiment_ids=tuple(experiment.experiment_id for experiment in experiments),
        experiment_weeks=tuple((experiment.first_week, experiment.last_week) for experiment in experiments),
        data_version=data_version(project, definitions, span, content),
        metric_names=tuple(definitions.names()),
        groups=tuple(definitions.by_pillar()),
        source_given=project.source_given,
        catalog_given=project.catalog_given,
        policies=tuple(policies),
    )


def data_version(project: Project, catalog: Catalog, span: datafacts.WeekSpan,
                 content: dict[str, list[str]] | None = None) -> str:
    """A short hash of the source, its as-of time, the data (a file's size and mtime; a server's `content`, the
    tables' fingerprint from `datafacts.fingerprint`) and the catalog files: it changes when the data or the metric
    definitions do."""
    payload: dict[str, object] = {"source": project.source, "as_of": str(span.as_of), "weeks": str(span)}
    if _local_file(project.source):
        stat = Path(project.source).stat()
        payload.update(size=stat.st_size, mtime_ns=stat.st_mtime_ns)
    if content is not None:
        payload["content"] = content
    payload["catalog"] = [hashlib.sha256(path.read_bytes()).hexdigest() for path in catalog.files]
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _local_file(source: str) -> bool:
    """A DuckDB file on this machine (its size and mtime version it), not a server or a Parquet folder."""
    return "://" not in source and Path(source).is_file()
