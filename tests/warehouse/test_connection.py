"""connect(): default location, clear errors, read-only access and parameters bound by DuckDB."""

import duckdb
import pytest

from gnelib.errors import GneError
from gnelib.warehouse import connect, default_warehouse_path
from gnelib.warehouse.connection import DEFAULT_WAREHOUSE_PATH


def test_missing_file_names_the_path_and_the_build_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GNE_WAREHOUSE", raising=False)
    with pytest.raises(GneError) as error:
        connect()
    message = str(error.value)
    assert str(tmp_path / "data" / "gne.duckdb") in message
    assert "gne warehouse build" in message and "make report" in message


def test_default_path_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("GNE_WAREHOUSE", raising=False)
    assert default_warehouse_path() == DEFAULT_WAREHOUSE_PATH
    monkeypatch.setenv("GNE_WAREHOUSE", str(tmp_path / "elsewhere.duckdb"))
    assert default_warehouse_path() == tmp_path / "elsewhere.duckdb"


def test_connect_without_url_uses_gne_warehouse(small_warehouse_env):
    with connect() as conn:
        assert conn.dialect == "duckdb"
        meta = conn.meta()
    assert meta["seed"] == "7" and meta["scale"] == "small"
    assert meta["as_of"] == "2026-11-26 00:00:00" and meta["last_complete_week"] == "2026-W47"


def test_parameters_are_bound_not_pasted(small_warehouse):
    with connect(small_warehouse) as conn:
        by_position = conn.sql(
            "SELECT count(*) AS n FROM orders WHERE market = ? AND channel = ?", ["PH", "live"]
        )
        by_name = conn.sql("SELECT count(*) AS n FROM orders WHERE market = $market", {"market": "PH"})
        injection = conn.sql("SELECT * FROM orders WHERE market = ?", ["PH' OR '1'='1"])
        quoted = conn.sql(
            "SELECT count(*) AS n FROM sellers WHERE display_name = ?", ["\"double\" and 'single' quotes"]
        )
    independent = duckdb.connect(str(small_warehouse), read_only=True)
    expected = independent.execute(
        "SELECT count(*) FROM orders WHERE market = 'PH' AND channel = 'live'"
    ).fetchone()[0]
    expected_ph = independent.execute("SELECT count(*) FROM orders WHERE market = 'PH'").fetchone()[0]
    independent.close()
    assert by_position["n"].iloc[0] == expected > 0
    assert by_name["n"].iloc[0] == expected_ph
    assert injection.empty
    assert quoted["n"].iloc[0] > 0


def test_connection_is_read_only(small_warehouse):
    with connect(small_warehouse) as conn:
        with pytest.raises(duckdb.Error):
            conn.sql("DELETE FROM orders")
        assert conn.sql("SELECT count(*) AS n FROM orders")["n"].iloc[0] > 0


def test_duckdb_urls_and_unknown_engines(small_warehouse, monkeypatch):
    monkeypatch.chdir(small_warehouse.parent)
    with connect(f"duckdb:///{small_warehouse.name}") as relative:
        assert relative.sql("SELECT count(*) AS n FROM incidents")["n"].iloc[0] == 6
    with connect(f"duckdb:///{small_warehouse}") as absolute:  # duckdb://// + absolute path
        assert absolute.dialect == "duckdb"
    with pytest.raises(GneError) as error:
        connect("duckbd:///x.duckdb")
    assert "duckdb" in str(error.value) and "duckbd" in str(error.value)


def test_not_a_warehouse_file_says_how_to_rebuild(tmp_path):
    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(b"not a database")
    with pytest.raises(GneError, match="gne warehouse build"):
        connect(broken)
