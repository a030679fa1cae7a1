"""$GNE_DUCKDB_MEMORY_LIMIT bounds DuckDB's memory; a malformed value is refused with the fix."""

import pytest

from gnelib.errors import GneError
from gnelib.warehouse import connect
from gnelib.warehouse.connection import MEMORY_LIMIT_ENV_VAR


def test_memory_limit_is_applied(small_warehouse, monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_ENV_VAR, "512MB")
    with connect(small_warehouse) as conn:
        setting = conn.sql("SELECT current_setting('memory_limit') AS setting")["setting"].iloc[0]
    assert setting.replace(" ", "") in {"488.2MiB", "512.0MB", "488.2MB"}


@pytest.mark.parametrize("value", ["lots", "2GB'; DROP TABLE orders; --", "-1GB"])
def test_malformed_memory_limit_names_the_fix(small_warehouse, monkeypatch, value):
    monkeypatch.setenv(MEMORY_LIMIT_ENV_VAR, value)
    with pytest.raises(GneError, match="like 2GB"):
        connect(small_warehouse)
