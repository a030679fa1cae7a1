"""Shared fixtures: the small demo warehouse, built once per test session (or the one `make test` built)."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from second_warehouse.fixtures import shop, shop_weekly_run  # noqa: F401 — shared by second_warehouse/ and browser/

from gnelib.warehouse import build_warehouse
from gnelib.warehouse.connection import WAREHOUSE_ENV_VAR

SMALL_WAREHOUSE_SEED = 7
# `make test` builds build/test/gne-small-seed7.duckdb (anew when the generator changes) and names it here, so the
# session does not build the same warehouse again; every test opens it read-only or copies it first.
PREBUILT_ENV_VAR = "GNE_TEST_WAREHOUSE"


@pytest.fixture(scope="session")
def small_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path to a small demo warehouse (seed 7): $GNE_TEST_WAREHOUSE if it names a file, else built once per session
    into a temporary directory."""
    prebuilt = os.environ.get(PREBUILT_ENV_VAR)
    if prebuilt and Path(prebuilt).is_file():
        return Path(prebuilt)
    path = tmp_path_factory.mktemp("warehouse") / "gne-small.duckdb"
    build_warehouse(path, scale="small", seed=SMALL_WAREHOUSE_SEED)
    return path


@pytest.fixture
def small_warehouse_env(small_warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The small warehouse, with $GNE_WAREHOUSE pointing at it for this test only."""
    monkeypatch.setenv(WAREHOUSE_ENV_VAR, str(small_warehouse))
    yield small_warehouse
