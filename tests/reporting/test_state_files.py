"""State files `gne run` reads, damaged for real (issue 12, items 5 and 6): a corrupt runs.json is moved aside and
rebuilt from the reports on disk, on a dry run as on a real one; a garbled lock note and a corrupt aggregate-store
manifest cost no traceback; temporary files a killed writer left are swept at the next run's start; a warehouse
without its meta table is bad input (exit 2)."""

import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from filelock import FileLock

from gnelib.reporting.aggregates import readable_store
from gnelib.reporting.lock import HOLDER_NAME, LOCK_NAME
from gnelib.reporting.manifest import rebuild_manifest

WARNING = re.compile(r"^warning: runs\.json was corrupt; moved to (runs\.json\.corrupt-\d{8}T\d{6}Z); rebuilt from the "
                     r"reports on disk$", flags=re.MULTILINE)
FIXTURES = Path(__file__).parent / "fixtures"
CHARTS_PLAN = "markets: [US, GB]\nweeks: latest\ntemplates:\n  chart_and_table: {}\n"  # unchanged: skipped
RECOVERED = ("slot", "template", "market", "week", "parameters", "status", "html", "failure_page", "notebook", "log",
             "kept_notebook", "kept_log")


@pytest.fixture
def copied(batch, tmp_path, small_warehouse, monkeypatch) -> Path:
    """A copy of the batch project (good, failed and kept-beside-failed slots), as the working directory."""
    root = tmp_path / "project"
    shutil.copytree(batch["root"], root, symlinks=True)
    (root / "charts.yaml").write_text(CHARTS_PLAN)
    monkeypatch.chdir(root)
    monkeypatch.setenv("GNE_WAREHOUSE", str(small_warehouse))
    return root


def recorded(reports: Path) -> dict[str, dict]:
    return {run["slot"]: run for run in json.loads((reports / "runs.json").read_text())["runs"]}


def test_the_manifest_rebuilt_from_disk_matches_the_one_the_runs_wrote(batch):
    written = recorded(batch["reports"])
    rebuilt = rebuild_manifest(batch["reports"])
    assert set(rebuilt) == set(written)
    assert {run["status"] for run in written.values()} == {"ok", "failed", "stale-previous-kept"}
    for name, run in written.items():
        assert {key: rebuilt[name][key] for key in RECOVERED} == {key: run.get(key) for key in RECOVERED}, name
        if run["status"] == "ok":  # what lets an unchanged report be skipped after a rebuild
            assert rebuilt[name]["input_hash"] == run["input_hash"]


def test_a_corrupt_manifest_is_moved_aside_and_rebuilt_on_a_dry_run(copied, gne):
    reports = copied / "reports"
    damaged = (reports / "runs.json").read_bytes()[:500]  # cut short, as by a crash of another writer
    (reports / "runs.json").write_bytes(damaged)
    result = gne("run", "failing.yaml", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    moved = WARNING.findall(result.stderr)
    assert len(moved) == 1, result.stderr
    assert (reports / moved[0]).read_bytes() == damaged
    assert "2 to run, 2 to skip" in result.stdout  # as with the intact manifest: the charts are unchanged


def test_a_corrupt_manifest_on_a_real_run_warns_once_and_is_written_again(copied, gne, batch):
    reports = copied / "reports"
    before = recorded(reports)
    (reports / "runs.json").write_text('{"runs": [{"slot": 1}]}')  # valid JSON, not a manifest
    result = gne("run", "charts.yaml")
    assert result.exit_code == 0, result.output
    assert len(WARNING.findall(result.stderr)) == 1 and "Traceback" not in result.output
    assert "2 skipped" in result.stdout
    after = recorded(reports)
    assert set(after) == set(before)
    assert after[f"{batch['week']}/US/failing"]["status"] == "stale-previous-kept"


def test_temporaries_of_a_killed_writer_are_swept_at_the_next_start(copied, gne, batch):
    reports, week = copied / "reports", batch["week"]
    planted = [reports / week / "US" / ".chart_and_table.html.a1b2c3d4.tmp.html",
               reports / ".runs.json.zz_9y8x7.tmp.json", reports / week / "GB" / ".failing.log.q1w2e3r4.tmp.log"]
    for path in planted:
        path.write_text("half a file")
    kept = [reports / ".keep-me", reports / week / "US" / "notes.tmp.txt"]  # not the runner's temporary names
    for path in kept:
        path.write_text("someone else's")
    result = gne("run", "charts.yaml")
    assert result.exit_code == 0, result.output
    assert "cleaned up after an interrupted run: 3 temporary file(s)" in result.stderr
    assert [path for path in planted if path.exists()] == []
    assert all(path.read_text() == "someone else's" for path in kept)


def test_a_garbled_lock_note_is_reported_as_unknown_holder(copied, gne):
    reports = copied / "reports"
    (reports / HOLDER_NAME).write_bytes(b"\x00\xff{not json")
    with FileLock(reports / LOCK_NAME):
        result = gne("run", "charts.yaml")
    assert result.exit_code == 3
    assert "holder unknown" in result.stderr and "Traceback" not in result.output


def test_a_corrupt_aggregate_store_manifest_is_moved_aside_and_the_store_refilled(tmp_path, capsys):
    folder = tmp_path / "store"
    folder.mkdir()
    (folder / "manifest.json").write_text('[{"metric": "refund_rate"')
    store = readable_store(folder)
    assert store.requests == []
    aside = [path.name for path in folder.iterdir()]
    assert len(aside) == 1 and aside[0].startswith("manifest.json.corrupt-")
    assert capsys.readouterr().err.count("was corrupt; moved to manifest.json.corrupt-") == 1


def test_a_warehouse_without_its_meta_table_is_bad_input_not_a_traceback(tmp_path, small_warehouse, gne,
                                                                         monkeypatch):
    damaged = tmp_path / "no-meta.duckdb"
    shutil.copy(small_warehouse, damaged)
    con = duckdb.connect(str(damaged))
    con.execute("DROP TABLE warehouse_meta")
    con.close()
    monkeypatch.chdir(tmp_path)
    result = gne("run", FIXTURES / "chart_and_table.ipynb", "-p", "market", "US", "--warehouse", damaged)
    assert result.exit_code == 2, result.output
    assert "warehouse_meta" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "reports" / "runs.json").exists()
