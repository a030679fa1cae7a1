"""Fixtures for the reporting tests: a project directory with fixture templates, and the real `gne` CLI."""

import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from gnelib.cli import app
from gnelib.reporting.params import ValidationContext

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def warehouse_truth(small_warehouse: Path) -> dict:
    """Facts read straight from the DuckDB file, independently of gnelib.reporting."""
    con = duckdb.connect(str(small_warehouse), read_only=True)
    try:
        meta = dict(con.execute("SELECT key, value FROM warehouse_meta").fetchall())
        markets = sorted(row[0] for row in con.execute("SELECT DISTINCT market FROM orders").fetchall())
        experiments = con.execute("SELECT experiment_id, name FROM experiment_designs").fetchall()
    finally:
        con.close()
    return {"meta": meta, "markets": markets, "experiments": experiments}


@pytest.fixture(scope="session")
def context(small_warehouse: Path) -> ValidationContext:
    """A validation context over the small warehouse (facts loaded once per session)."""
    return ValidationContext(small_warehouse)


@pytest.fixture
def project(tmp_path: Path, small_warehouse_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with notebooks/ (the fixture templates) and $GNE_WAREHOUSE set."""
    shutil.copytree(FIXTURES, tmp_path / "notebooks")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke_gne(*args: str):
    """Invoke the real `gne` CLI in-process; returns the click Result (exit_code, stdout, stderr)."""
    return CliRunner().invoke(app, [str(arg) for arg in args], catch_exceptions=False)


@pytest.fixture(scope="session")
def gne():
    """The real `gne` CLI, invoked in-process: `gne("run", "plan.yaml")` → click Result."""
    return invoke_gne
