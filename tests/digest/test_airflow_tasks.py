"""gnelib.airflow without Airflow: the module imports, `slots` lists the plan's runs as `gne run` would, and each
mapped task's command runs exactly one slot with alerts left to the final task."""

import importlib.util
import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from gnelib import airflow

REPO = Path(__file__).parents[2]


def test_the_builder_imports_without_airflow_and_says_how_to_get_it():
    assert importlib.util.find_spec("airflow") is None  # the project's environment has no Airflow
    with pytest.raises(ImportError, match="pip install"):
        airflow.build_dag(REPO / "parameters" / "smoke.yaml")


def test_slots_are_the_plans_runs_and_each_task_runs_one(small_warehouse, tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"templates_dir: {REPO / 'notebooks'}\nmarkets: [US, GB]\nweeks: [2026-W46, latest]\n"
                    "templates:\n  weekly_scorecard: {}\n  experiment_readout: {markets: [all]}\n")
    env = {"GNE_WAREHOUSE": str(small_warehouse), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "gnelib.airflow", "slots", str(plan), "--reports-dir",
                           str(tmp_path / "reports")], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    slots = json.loads(done.stdout)
    assert slots == [f"{week}/{market}/{template}" for template, markets in
                     (("weekly_scorecard", ["US", "GB"]), ("experiment_readout-dispatch_sla_nudge", ["all"]))
                     for week in ("2026-W46", "2026-W47") for market in markets]
    commands = airflow.task_commands(slots, "/venv/bin/python", str(plan), "reports")
    for slot, command in zip(slots, commands, strict=True):
        words = shlex.split(command)
        assert words[0] == "GNE_ALERTS=off" and words[1:5] == ["/venv/bin/python", "-m", "gnelib.airflow", "run-slot"]
        assert words[5:7] == [str(plan), slot]
    assert "GNE_ALERTS" not in airflow.finish_command("/venv/bin/python", str(plan), "reports")


def test_a_bad_plan_slot_or_warehouse_is_a_clear_error(small_warehouse, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    for name in ("GNE_CATALOG", "GNE_CONFIG", "GNE_UNAVAILABLE_METRICS"):
        monkeypatch.delenv(name, raising=False)
    smoke = REPO / "parameters" / "smoke.yaml"
    cases = [(small_warehouse, ["slots", tmp_path / "missing.yaml"], "does not exist"),
             (small_warehouse, ["run-slot", smoke, "2026-W47/XX/weekly_scorecard", "--reports-dir",
                                tmp_path / "reports"], "is not a report of"),
             (tmp_path / "none.duckdb", ["slots", smoke], "Nothing ran")]
    for warehouse, words, expected in cases:
        monkeypatch.setenv("GNE_WAREHOUSE", str(warehouse))
        assert airflow.main([str(word) for word in words]) == 2
        error = capsys.readouterr().err
        assert expected in error and "Traceback" not in error
