"""Symbolic links planted in reports/ never let a run write outside it (issue 12, item 3): real links, the real
`gne run`, and the writers (lock, atomic files, run log) on their own for the link planted after the check."""

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gnelib.atomic import atomic_write_text
from gnelib.cli import app
from gnelib.reporting.errors import UnsafePath
from gnelib.reporting.lock import LOCK_NAME, run_lock
from gnelib.reporting.worker import RunLog

FIXTURES = Path(__file__).parents[1] / "reporting" / "fixtures"
SECRET = "outside the reports directory\n"


@pytest.fixture
def project(tmp_path, small_warehouse, monkeypatch) -> Path:
    """A project with the fixture templates, and a file and a folder outside reports/ that links point to."""
    shutil.copytree(FIXTURES, tmp_path / "notebooks")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "victim.txt").write_text(SECRET)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GNE_WAREHOUSE", str(small_warehouse))
    return tmp_path


def week_of(warehouse: Path) -> str:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("SELECT value FROM warehouse_meta WHERE key = 'last_complete_week'").fetchone()[0]


def gne_run(*extra: str):
    arguments = ["run", "notebooks/slow.ipynb", "-p", "market", "US", *extra]
    return CliRunner().invoke(app, arguments, catch_exceptions=False)


def outside_untouched(project: Path) -> bool:
    outside = project / "outside"
    names = sorted(path.name for path in outside.iterdir())
    return names == ["victim.txt"] and (outside / "victim.txt").read_text() == SECRET


@pytest.mark.parametrize("planted", ["slot log", "lock file", "slot folder", "aggregate store"])
def test_gne_run_refuses_a_reports_directory_with_a_planted_link(project, small_warehouse, planted):
    week = week_of(small_warehouse)
    slot = project / "reports" / week / "US"
    slot.parent.mkdir(parents=True)
    victim = project / "outside" / "victim.txt"
    link, target = {
        "slot log": (slot / "slow.log", victim),
        "lock file": (project / "reports" / LOCK_NAME, victim),
        "slot folder": (slot, project / "outside"),
        "aggregate store": (project / "reports" / ".aggregates", project / "outside"),
    }[planted]
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)
    result = gne_run("--reports-dir", "elsewhere/../reports")
    assert result.exit_code == 2, result.output
    message = " ".join(result.stderr.split())
    assert f"{project / 'reports'}" in message and ".." not in message  # resolved, as the user can find it
    assert "symbolic link" in message and str(link.relative_to(project)) in message and "Remove" in message
    assert outside_untouched(project)
    assert link.is_symlink() and not (project / "reports" / "runs.json").exists()  # nothing ran


def test_the_lock_never_opens_a_link_even_if_planted_after_the_check(project):
    reports = project / "reports"
    reports.mkdir()
    (reports / LOCK_NAME).symlink_to(project / "outside" / "victim.txt")
    with pytest.raises(UnsafePath, match="symbolic link"):
        with run_lock(reports, "test"):
            pass
    assert outside_untouched(project)


def test_atomic_files_replace_a_planted_link_instead_of_writing_through_it(project):
    reports = project / "reports"
    reports.mkdir()
    for name in ("runs.json", "index.html", "report.ipynb"):
        (reports / name).symlink_to(project / "outside" / "victim.txt")
        atomic_write_text(reports / name, json.dumps({"runs": []}))
        assert not (reports / name).is_symlink()
    assert outside_untouched(project)


def test_the_run_log_replaces_a_planted_link_instead_of_writing_through_it(project):
    slot = project / "reports" / "2026-W47" / "US"
    slot.mkdir(parents=True)
    (slot / "slow.log").symlink_to(project / "outside" / "victim.txt")
    log = RunLog(slot / "slow.log")
    log.emit(__import__("logging").makeLogRecord({"msg": "run started"}))
    log.publish()
    assert not (slot / "slow.log").is_symlink() and "run started" in (slot / "slow.log").read_text()
    assert outside_untouched(project)
    assert sorted(os.listdir(slot)) == ["slow.log"]


def test_every_planted_link_is_named_with_its_target(project):
    reports = project / "reports"
    (reports / "2026-W47" / "US").mkdir(parents=True)
    (reports / "runs.json").symlink_to(project / "outside" / "victim.txt")
    (reports / "2026-W47" / "US" / "slow.html").symlink_to(project / "outside")
    result = gne_run("--dry-run")
    assert result.exit_code == 2
    assert "runs.json -> " in result.stderr and "slow.html -> " in result.stderr
    assert "outside the reports directory" in result.stderr
    assert outside_untouched(project)
