"""Hostile parameter values and output paths are rejected by `gne run` before anything runs.

Each rejected run must exit with status 2, name the problem, write no report file, and leave the warehouse's orders
in place. Most cases invoke the CLI in-process (the real typer app, fast); one goes through the installed command.
"""

import shutil
from pathlib import Path

import duckdb
import pytest
import yaml
from browser.report_build import FIXTURES, NOTEBOOKS, SELLER_TEXT_TEMPLATE, run_gne
from typer.testing import CliRunner

from gnelib.cli import app

EXIT_BAD_INPUT = 2
SCORECARD = NOTEBOOKS / "weekly_scorecard.ipynb"
DEEP_DIVE = NOTEBOOKS / "metric_deep_dive.ipynb"

# name → (template, parameters, what the error message must show)
ATTACKS = {
    "sql-in-market": (SCORECARD, {"market": "US'; DROP TABLE orders;--"}, ("'market'", "DROP TABLE orders")),
    "path-in-week": (SCORECARD, {"week": "../../etc"}, ("'week'", "../../etc")),
    "week-out-of-range": (SCORECARD, {"week": "2026-W99"}, ("'week'", "2026-W99")),
    "sql-in-metric": (DEEP_DIVE, {"metric": "refund_rate; DROP"}, ("'metric'", "refund_rate; DROP")),
    "path-in-market": (SCORECARD, {"market": "../../ID"}, ("'market'", "../../ID")),
    "unknown-parameter": (SCORECARD, {"buyer_id": "1000000001"}, ("no parameter 'buyer_id'",)),
    "code-as-parameter-name": (SCORECARD, {"__import__('os').system('id')": "1"}, ("no parameter",)),
}


def orders_in(warehouse: Path) -> int:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM orders").fetchone()[0]
    finally:
        con.close()


def files_under(directory: Path) -> list[str]:
    return sorted(str(path) for path in directory.rglob("*") if path.is_file()) if directory.exists() else []


@pytest.fixture(scope="module")
def orders_before(warehouse_copy: Path) -> int:
    return orders_in(warehouse_copy)


def gne_in_process(*args: object):
    return CliRunner().invoke(app, [str(arg) for arg in args], catch_exceptions=False)


def parameter_flags(values: dict[str, str]) -> list[str]:
    return [flag for name, value in values.items() for flag in ("-p", name, value)]


@pytest.mark.parametrize("attack", list(ATTACKS), ids=list(ATTACKS))
def test_hostile_parameter_is_rejected_before_running(attack, tmp_path, warehouse_copy, orders_before):
    template, values, shown = ATTACKS[attack]
    reports = tmp_path / "a" / "b" / "reports"
    result = gne_in_process("run", template, *parameter_flags(values), "--warehouse", warehouse_copy,
                            "--reports-dir", reports)
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    message = " ".join(result.output.split())  # rich wraps long lines
    assert all(text in message for text in shown), message
    assert files_under(tmp_path) == []
    assert orders_in(warehouse_copy) == orders_before


def test_rejection_through_the_installed_command(tmp_path, warehouse_copy, orders_before):
    reports = tmp_path / "reports"
    done = run_gne("run", SCORECARD, "-p", "market", "US'; DROP TABLE orders;--", "--warehouse", warehouse_copy,
                   "--reports-dir", reports)
    assert done.returncode == EXIT_BAD_INPUT, done.stdout + done.stderr
    assert "market" in done.stderr and "not a market in the warehouse" in done.stderr
    assert "Traceback" not in done.stderr
    assert files_under(tmp_path) == []
    assert orders_in(warehouse_copy) == orders_before


def test_plan_with_a_path_as_market_is_rejected(tmp_path, warehouse_copy):
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump({"templates_dir": str(NOTEBOOKS), "markets": ["../../../tmp"],
                                    "templates": {"weekly_scorecard": {}}}), encoding="utf-8")
    result = gne_in_process("run", plan, "--warehouse", warehouse_copy, "--reports-dir", tmp_path / "reports")
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert "../../../tmp" in result.output
    assert files_under(tmp_path) == [str(plan)]


def test_template_name_that_is_not_a_safe_file_name_is_rejected(tmp_path, warehouse_copy):
    template = tmp_path / "templates" / "..sneaky.ipynb"
    template.parent.mkdir()
    shutil.copy(FIXTURES / f"{SELLER_TEXT_TEMPLATE}.ipynb", template)
    reports = tmp_path / "reports"
    result = gne_in_process("run", template, "-p", "market", "ID", "--warehouse", warehouse_copy,
                            "--reports-dir", reports)
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert "..sneaky" in result.output
    assert files_under(reports) == []


def test_symlinked_slot_cannot_lead_outside_the_reports_dir(tmp_path, warehouse_copy):
    """reports/2026-W47 → a folder elsewhere: the run refuses instead of writing there."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "2026-W47").symlink_to(outside, target_is_directory=True)
    result = gne_in_process("run", FIXTURES / f"{SELLER_TEXT_TEMPLATE}.ipynb", "-p", "market", "ID",
                            "-p", "week", "2026-W47", "--warehouse", warehouse_copy, "--reports-dir", reports)
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert "outside" in result.output
    assert files_under(outside) == []
