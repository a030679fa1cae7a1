"""The environment every process of a batch reads the warehouse under (warehouse, catalog, config, reports
directory, DuckDB memory limit and spill folder), and running parent-process code under it."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gnelib.config import CATALOG_ENV_VAR, CONFIG_ENV_VAR, WAREHOUSE_ENV_VAR
from gnelib.warehouse.connection import MEMORY_LIMIT_ENV_VAR, SPILL_DIR_ENV_VAR

REPORTS_DIR_ENV_VAR = "GNE_REPORTS_DIR"
SPILL_FOLDER = ".spill"
MEMORY_SHARE = 0.6  # of the machine's memory, split between the parent process and the workers
MIN_LIMIT_MB = 256
MAX_LIMIT_MB = 640  # per process: with Python and pandas on top, a process stays under 1 GB; DuckDB spills beyond


def kernel_environment(facts, reports_dir: Path, workers: int = 1) -> dict[str, str]:
    """What every report kernel, and the parent's own scans, are told: the warehouse, catalog and config, the
    metrics left out, the reports directory (links to deep dives, last week's report), and DuckDB's memory
    limit (`memory_limit(workers)`) and spill folder (`<reports>/.spill`)."""
    from gnelib.metrics.catalog import UNAVAILABLE_ENV_VAR

    environment = {WAREHOUSE_ENV_VAR: facts.source, CATALOG_ENV_VAR: str(facts.catalog),
                   UNAVAILABLE_ENV_VAR: ",".join(facts.unavailable), REPORTS_DIR_ENV_VAR: str(reports_dir.resolve()),
                   MEMORY_LIMIT_ENV_VAR: memory_limit(workers),
                   SPILL_DIR_ENV_VAR: str((reports_dir / SPILL_FOLDER).resolve())}
    if facts.config is not None:
        environment[CONFIG_ENV_VAR] = str(facts.config)
    return environment


def memory_limit(workers: int) -> str:
    """`GNE_DUCKDB_MEMORY_LIMIT` if set, else `MEMORY_SHARE` of the machine's memory split over the workers and
    the parent, at most `MAX_LIMIT_MB` (DuckDB spills to its temporary directory beyond it)."""
    given = os.environ.get(MEMORY_LIMIT_ENV_VAR, "").strip()
    if given:
        return given
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    share = int(total * MEMORY_SHARE / (workers + 1) / 2**20)
    return f"{min(max(share, MIN_LIMIT_MB), MAX_LIMIT_MB)}MB"


@contextmanager
def environment_set(values: dict[str, str]) -> Iterator[None]:
    """Set `values` in `os.environ` for the block, then restore what was there (or remove what was not)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
