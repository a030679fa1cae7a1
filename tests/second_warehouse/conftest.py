"""The second warehouse (tests/second_warehouse/generate.py): `shop` and `shop_weekly_run` come from
second_warehouse/fixtures.py through tests/conftest.py (shared with the browser tests)."""

from pathlib import Path

import pytest

from second_warehouse.fixtures import PROJECT_ENV


@pytest.fixture
def shop_env(shop: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in the shop project: its gne.yaml in force, no demo overrides."""
    for name in PROJECT_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(shop)
    return shop
