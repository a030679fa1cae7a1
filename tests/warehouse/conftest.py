"""Fixtures for the warehouse tests: the raw tables of the small warehouse as pandas frames."""

from pathlib import Path

import pytest
from warehouse_reference import Tables


@pytest.fixture(scope="session")
def tables(small_warehouse: Path) -> Tables:
    return Tables(small_warehouse)
