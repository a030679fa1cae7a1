"""Fixtures for the PostgreSQL tests: one throwaway cluster per session with the small demo warehouse loaded."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_server import cluster

from gnelib.warehouse.postgres import load_duckdb


@pytest.fixture(scope="session")
def postgres_url(small_warehouse: Path) -> Iterator[str]:
    """URL of a PostgreSQL database holding every table of the small demo warehouse (seed 7)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail("psycopg is not installed: `make test` installs it (pip install -e '.[postgres]').")
    try:
        with cluster() as url:
            started = time.perf_counter()
            counts = load_duckdb(small_warehouse, url)
            print(f"PostgreSQL: loaded {sum(counts.values()):,} rows in {time.perf_counter() - started:.1f} s")
            yield url
    except RuntimeError as error:
        pytest.fail(f"The PostgreSQL test server: {error}")
