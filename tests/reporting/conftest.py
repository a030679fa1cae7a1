"""Fixtures for the reporting tests: a project directory with fixture templates, and the real `gne` CLI."""

import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from gnelib.cli import app
from gnelib.reporting.params import ValidationContext

FIXTURES = Path(__file__).parent / "fixtures"

PLAN_GOOD = """
markets: [US, GB]
weeks: latest
templates:
  chart_and_table: {}
  failing:
    parameters: {fail: false}
    markets: [US]
"""
PLAN_FAILING = """
markets: [US, GB]
weeks: latest
templates:
  chart_and_table: {}
  failing:
    parameters: {fail: true}
"""


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


@pytest.fixture(scope="session")
def batch(tmp_path_factory, small_warehouse, gne):
    """Three runs in one project: all good; then a failing plan; then the failing plan with --force (shared by the
    batch and state-file tests; a test that changes files works on a copy)."""
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(FIXTURES, root / "notebooks")
    (root / "good.yaml").write_text(PLAN_GOOD)
    (root / "failing.yaml").write_text(PLAN_FAILING)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setenv("GNE_WAREHOUSE", str(small_warehouse))
        reports = root / "reports"
        first = gne("run", "good.yaml", "--workers", "2")
        after_first = {path: path.read_bytes() for path in reports.rglob("*.html")}
        inodes_first = {path: path.stat().st_ino for path in reports.rglob("*.html")}
        dry = gne("run", "failing.yaml", "--dry-run")
        manifest_before_second = (reports / "runs.json").read_bytes()
        second = gne("run", "failing.yaml", "--workers", "2")
        after_second = {path: path.read_bytes() for path in reports.rglob("*.html")}
        inodes_second = {path: path.stat().st_ino for path in reports.rglob("*.html")}
        third = gne("run", "failing.yaml", "--workers", "2", "--force")
        inodes_third = {path: path.stat().st_ino for path in reports.rglob("*.html")}
    return {
        "root": root,
        "reports": reports,
        "first": first,
        "dry": dry,
        "second": second,
        "third": third,
        "after_first": after_first,
        "after_second": after_second,
        "manifest_before_second": manifest_before_second,
        "inodes": (inodes_first, inodes_second, inodes_third),
        "week": _week(small_warehouse),
    }


def _week(warehouse: Path) -> str:
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("SELECT value FROM warehouse_meta WHERE key = 'last_complete_week'").fetchone()[0]
    finally:
        con.close()
