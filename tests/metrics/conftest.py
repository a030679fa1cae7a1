"""Fixtures for the metric tests: the small demo warehouse, its raw tables in pandas, and a connection."""

from pathlib import Path

import pytest
from metric_reference import Tables

from gnelib.warehouse import build_warehouse, connect


@pytest.fixture(scope="session")
def metric_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo warehouse (seed 7): the metric values are checked on it."""
    path = tmp_path_factory.mktemp("metrics-warehouse") / "small.duckdb"
    build_warehouse(path, scale="small", seed=7)
    return path


@pytest.fixture(scope="session")
def tables(metric_warehouse: Path) -> Tables:
    return Tables(metric_warehouse)


@pytest.fixture(scope="session")
def conn(metric_warehouse: Path):
    with connect(metric_warehouse) as connection:
        yield connection
