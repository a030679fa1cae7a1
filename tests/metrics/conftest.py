"""Fixtures for the metric tests: the small demo warehouse, its raw tables in pandas, and a connection."""

from pathlib import Path

import pytest
from metric_reference import Tables

from gnelib.warehouse import connect


@pytest.fixture(scope="session")
def metric_warehouse(small_warehouse: Path) -> Path:
    """The warehouse the metric values are checked on: the shared small demo warehouse (seed 7)."""
    return small_warehouse


@pytest.fixture(scope="session")
def tables(metric_warehouse: Path) -> Tables:
    return Tables(metric_warehouse)


@pytest.fixture(scope="session")
def conn(metric_warehouse: Path):
    with connect(metric_warehouse) as connection:
        yield connection
