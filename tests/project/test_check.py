"""`gne check` and the check at the start of `gne run`: problems named by metric, view, column and table, exit 2,
never an engine error or a traceback; a metric whose table is missing is left out, not fatal."""

import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from gnelib.check import check_project
from gnelib.cli import app
from gnelib.config import load_project

REPO = Path(__file__).parents[2]
ENGINE_WORDS = ("Traceback", "CatalogException", "BinderException", "Binder Error", "Catalog Error")


def altered_copy(small_warehouse: Path, target: Path, *statements: str) -> Path:
    shutil.copy(small_warehouse, target)
    con = duckdb.connect(str(target))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()
    return target


def gne(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_the_demo_warehouse_passes(small_warehouse_env):
    report = check_project(load_project())
    assert report.ok, report.lines()
    assert report.checked_metrics == 44 and report.tables >= 6
    done = gne("check")
    assert done.exit_code == 0 and "ok: 44 metrics" in done.stdout


def test_a_missing_column_is_named_with_metric_view_and_table(small_warehouse, tmp_path, monkeypatch):
    broken = altered_copy(small_warehouse, tmp_path / "w.duckdb", "ALTER TABLE orders DROP COLUMN delivered_at",
                          "ALTER TABLE sellers RENAME COLUMN joined_at TO joined_on")
    monkeypatch.setenv("GNE_WAREHOUSE", str(broken))
    done = gne("check")
    assert done.exit_code == 2
    lines = done.stderr.splitlines()
    expected = "problem: metric late_delivery_rate, view order_facts: column delivered_at not found in table orders"
    assert expected in lines
    assert "problem: metric repeat_offender_rate, view enforcement_facts: column joined_at not found in table sellers" \
        in lines
    assert not any(word in done.output for word in ENGINE_WORDS)
    # bad_actor_gmv_share reads neither column: it stays usable
    report = check_project(load_project())
    assert "bad_actor_gmv_share" not in report.unavailable and "late_delivery_rate" in report.unavailable


def test_a_column_of_the_wrong_type_is_caught_by_running_the_metric(small_warehouse, tmp_path, monkeypatch):
    broken = altered_copy(small_warehouse, tmp_path / "w.duckdb",
                          "ALTER TABLE orders ALTER COLUMN gmv_usd SET DATA TYPE VARCHAR")
    monkeypatch.setenv("GNE_WAREHOUSE", str(broken))
    report = check_project(load_project())
    assert report.unavailable == ["bad_actor_gmv_share", "gmv_usd", "refund_gmv_share", "struck_creator_gmv_share"]
    assert any(line.startswith("metric gmv_usd: its query fails on the warehouse") for line in report.lines())
    assert check_project(load_project(), execute=False).ok  # names alone look fine


def test_gne_run_stops_before_any_kernel_when_the_config_cannot_work(small_warehouse, tmp_path, monkeypatch):
    broken = altered_copy(small_warehouse, tmp_path / "w.duckdb", "ALTER TABLE orders DROP COLUMN delivered_at")
    monkeypatch.setenv("GNE_WAREHOUSE", str(broken))
    done = gne("run", str(REPO / "parameters" / "weekly.yaml"), "--reports-dir", str(tmp_path / "reports"))
    assert done.exit_code == 2
    assert "completeness.metric" in done.stderr and "Nothing ran" in done.stderr
    assert not (tmp_path / "reports").exists()
    assert not any(word in done.output for word in ENGINE_WORDS)


def test_a_missing_table_leaves_its_metrics_and_template_out(small_warehouse, tmp_path, monkeypatch):
    broken = altered_copy(small_warehouse, tmp_path / "w.duckdb", "DROP TABLE listing_moderation")
    monkeypatch.setenv("GNE_WAREHOUSE", str(broken))
    monkeypatch.chdir(REPO)
    done = gne("run", "parameters/weekly.yaml", "--dry-run", "--reports-dir", str(tmp_path / "reports"))
    assert done.exit_code == 0, done.output
    assert "warning: metric listings_removed: table listing_moderation not found in the warehouse" in done.stderr
    assert "skipped listing_compliance: metric listing_violation_rate" in done.stderr
    assert "skipped seller_risk" not in done.stderr and "skipped after_sales" not in done.stderr


@pytest.mark.parametrize("field, text, expected", [
    ("grain", "grain: carrier_zone", "grain in"),
    ("completeness", "completeness: {metric: refund_rate}", "is a ratio metric"),
    ("experiments", "experiments: {designs: trials, units: experiments}", "table trials not found"),
    ("policies", "policies: {launches: launch_log}", "policies.launches in"),
])
def test_config_fields_are_checked_against_catalog_and_data(small_warehouse_env, tmp_path, monkeypatch, field, text,
                                                            expected):
    config = (REPO / "gne.yaml").read_text()
    lines = [line for line in config.splitlines() if not line.startswith(f"{field}:")]
    if field != "grain":  # drop the block's indented lines too
        start = config.splitlines().index(next(line for line in config.splitlines() if line.startswith(f"{field}:")))
        block = config.splitlines()[start + 1:]
        indented = len([line for line in block[:next((i for i, line in enumerate(block)
                                                      if line and not line.startswith(" ")), len(block))]])
        lines = config.splitlines()[:start] + block[indented:]
    (tmp_path / "gne.yaml").write_text("\n".join(lines) + f"\n{text}\n")
    monkeypatch.setenv("GNE_CONFIG", str(tmp_path / "gne.yaml"))
    report = check_project(load_project(), execute=False)
    assert any(expected in line for line in report.fatal), report.fatal


def test_an_unreachable_postgresql_server_is_a_clear_source_problem(tmp_path, monkeypatch):
    monkeypatch.setenv("GNE_WAREHOUSE", "postgresql://gne:secret@127.0.0.1:1/shop?connect_timeout=2")
    done = gne("check")
    assert done.exit_code == 2
    assert "problem: source: Cannot connect to PostgreSQL at postgresql://gne:***@127.0.0.1:1/shop" in done.stderr
    assert "secret" not in done.stderr
