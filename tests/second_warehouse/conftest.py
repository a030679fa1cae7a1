"""The second warehouse (tests/second_warehouse/generate.py) with its gne.yaml, built once per session."""

from pathlib import Path

import pytest

from second_warehouse.generate import build, write_config


@pytest.fixture(scope="session")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project directory holding gne.yaml and the second warehouse (shop.duckdb)."""
    root = tmp_path_factory.mktemp("shop")
    write_config(root, build(root / "shop.duckdb"))
    return root


@pytest.fixture
def shop_env(shop: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in the shop project: its gne.yaml in force, no demo overrides."""
    for name in ("GNE_WAREHOUSE", "GNE_CATALOG", "GNE_CONFIG", "GNE_UNAVAILABLE_METRICS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(shop)
    return shop
