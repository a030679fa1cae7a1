"""Shared fixtures: the small demo warehouse, built once per test session."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from second_warehouse.fixtures import shop, shop_weekly_run  # noqa: F401 — shared by second_warehouse/ and browser/

from gnelib.warehouse import build_warehouse
from gnelib.warehouse.connection import WAREHOUSE_ENV_VAR

SMALL_WAREHOUSE_SEED = 7


@pytest.fixture(scope="session")
def small_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path to a small demo warehouse (seed 7), built once per session into a temporary directory."""
    path = tmp_path_factory.mktemp("warehouse") / "gne-small.duckdb"
    build_warehouse(path, scale="small", seed=SMALL_WAREHOUSE_SEED)
    return path


@pytest.fixture
def small_warehouse_env(small_warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The small warehouse, with $GNE_WAREHOUSE pointing at it for this test only."""
    monkeypatch.setenv(WAREHOUSE_ENV_VAR, str(small_warehouse))
    yield small_warehouse
