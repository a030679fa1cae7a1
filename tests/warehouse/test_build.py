"""Building the warehouse: deterministic per seed, all-or-nothing on disk, clear errors, and the CLI."""

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from gnelib.errors import GneError
from gnelib.warehouse import build_warehouse
from gnelib.warehouse.cli import app
from gnelib.warehouse.schema import TABLES


def table_checksums(path) -> dict[str, int]:
    """Per table: a pandas hash over every row and column, rows in a canonical order."""
    checksums = {}
    with duckdb.connect(str(path), read_only=True) as con:
        for table in TABLES:
            frame = con.execute(f"SELECT * FROM {table} ORDER BY ALL").df()
            checksums[table] = int(pd.util.hash_pandas_object(frame, index=False).sum())
    return checksums


@pytest.fixture(scope="module")
def cli_built(tmp_path_factory: pytest.TempPathFactory):
    """`gne warehouse build` of a small warehouse with another seed (8): the CLI's result and the file."""
    path = tmp_path_factory.mktemp("cli") / "cli.duckdb"
    return CliRunner().invoke(app, ["build", "--scale", "small", "--seed", "8", "--path", str(path)]), path


def test_same_seed_gives_identical_tables_and_another_seed_differs(small_warehouse, cli_built, tmp_path):
    again = build_warehouse(tmp_path / "again.duckdb", scale="small", seed=7)
    reference = table_checksums(small_warehouse)
    assert table_checksums(again.path) == reference
    differing = {t for t, value in table_checksums(cli_built[1]).items() if value != reference[t]}
    assert differing >= {
        "sellers",
        "listings",
        "listing_moderation",
        "orders",
        "after_sales",
        "reviews",
        "enforcement",
        "experiments",
    }

    with duckdb.connect(str(again.path), read_only=True) as con:
        for table in TABLES:
            assert again.row_counts[table] == con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    assert 250_000 <= again.row_counts["orders"] <= 350_000
    assert (again.scale, again.seed) == ("small", 7)


def test_failed_build_leaves_the_previous_warehouse_untouched(tmp_path):
    target = tmp_path / "gne.duckdb"
    target.write_bytes(b"previous good warehouse")

    def fail_midway(step: str, done: int, total: int) -> None:
        if done == 10:
            raise RuntimeError("killed mid-build")

    with pytest.raises(RuntimeError, match="killed mid-build"):
        build_warehouse(target, scale="small", seed=7, progress=fail_midway)
    assert target.read_bytes() == b"previous good warehouse"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gne.duckdb"]


def test_failed_first_build_leaves_no_file(tmp_path):
    def fail(step: str, done: int, total: int) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        build_warehouse(tmp_path / "gne.duckdb", progress=fail)
    assert list(tmp_path.iterdir()) == []


def test_unknown_scale_lists_the_choices_closest_first(tmp_path):
    with pytest.raises(GneError) as error:
        build_warehouse(tmp_path / "w.duckdb", scale="smal")
    message = str(error.value)
    assert "'smal'" in message
    assert message.index("small") < message.index("medium")
    assert "large" in message
    assert not (tmp_path / "w.duckdb").exists()


def test_negative_seed_is_refused(tmp_path):
    with pytest.raises(GneError, match="non-negative"):
        build_warehouse(tmp_path / "w.duckdb", seed=-1)


def test_cli_build_then_info(cli_built):
    built, path = cli_built
    assert built.exit_code == 0, built.output
    assert "orders" in built.output and path.exists()
    info = CliRunner().invoke(app, ["info", "--path", str(path)])
    assert info.exit_code == 0, info.output
    for expected in ("2026-11-26", "listing_moderation", "counterfeit_wave", "mix_shift", "2026-W47"):
        assert expected in info.output


def test_cli_reports_user_errors_without_a_traceback(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(app, ["info", "--path", str(tmp_path / "missing.duckdb")])
    assert missing.exit_code == 1
    assert "gne warehouse build" in missing.output
    bad_scale = runner.invoke(app, ["build", "--scale", "huge", "--path", str(tmp_path / "x.duckdb")])
    assert bad_scale.exit_code == 1
    assert "small" in bad_scale.output and "Traceback" not in bad_scale.output
