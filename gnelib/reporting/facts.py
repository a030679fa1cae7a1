"""What the reporting layer must know about the data before any kernel starts: markets, weeks, experiments."""

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from gnelib.reporting.errors import ReportingError


@dataclass(frozen=True)
class WarehouseFacts:
    """The valid values of the data-driven parameters, and a version string of the data snapshot."""

    path: Path
    markets: tuple[str, ...]
    first_week: str
    last_complete_week: str
    as_of: str
    experiments: tuple[str, ...]  # experiment names
    experiment_ids: tuple[str, ...]
    data_version: str


def warehouse_path(path: str | os.PathLike | None = None) -> Path:
    """The warehouse file: the argument, else $GNE_WAREHOUSE, else data/gne.duckdb; it must exist."""
    from gnelib.warehouse import default_warehouse_path

    chosen = Path(path) if path is not None else default_warehouse_path()
    if not chosen.is_file():
        raise ReportingError(
            f"Warehouse file {str(chosen)!r} does not exist: build it with "
            f"`gne warehouse build --path {chosen}`, "
            "or point --warehouse (or $GNE_WAREHOUSE) at an existing file."
        )
    return chosen.resolve()


def load_facts(path: str | os.PathLike | None = None) -> WarehouseFacts:
    """Read markets, the week range, as-of and experiments from the warehouse (read-only, fixed SQL)."""
    from gnelib.warehouse import connect

    location = warehouse_path(path)
    conn = connect(location)
    try:
        meta = {str(key): str(value) for key, value in conn.meta().items()}
        markets = conn.sql("SELECT DISTINCT market FROM orders ORDER BY market")["market"].astype(str)
        experiments = conn.sql("SELECT experiment_id, name FROM experiment_designs ORDER BY experiment_id")
    finally:
        conn.close()
    missing = {"first_week", "last_complete_week", "as_of"} - meta.keys()
    if missing:
        raise ReportingError(
            f"Warehouse {location} has no {', '.join(sorted(missing))} in warehouse_meta: rebuild it with "
            "`gne warehouse build`."
        )
    return WarehouseFacts(
        path=location,
        markets=tuple(markets),
        first_week=meta["first_week"],
        last_complete_week=meta["last_complete_week"],
        as_of=meta["as_of"],
        experiments=tuple(experiments["name"].astype(str)),
        experiment_ids=tuple(experiments["experiment_id"].astype(str)),
        data_version=data_version(location, meta),
    )


def data_version(location: Path, meta: dict[str, str]) -> str:
    """A short hash of the warehouse's meta rows, file size and mtime: it changes when the data does."""
    stat = location.stat()
    payload = json.dumps({"meta": meta, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]
