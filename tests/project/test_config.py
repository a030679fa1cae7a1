"""gne.yaml: validation with file, line and field; discovery; env overrides; `gne init`; facts read through it."""

import textwrap
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from gnelib.cli import app
from gnelib.config import PACKAGED_CONFIG, ConfigError, load_project, read_config
from gnelib.metrics.catalog import PACKAGED_CATALOG
from gnelib.reporting.facts import load_facts

REPO = Path(__file__).parents[2]
MINIMAL = """\
source: duckdb:///data/shop.duckdb
catalog: metrics
grain: region
calendar:
  as_of: {table: shipments, column: shipped_at}
completeness:
  metric: shipments
"""


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ("GNE_CONFIG", "GNE_WAREHOUSE", "GNE_CATALOG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_project_root_config_is_the_packaged_demo_config():
    assert read_config(REPO / "gne.yaml") == read_config(PACKAGED_CONFIG)


def test_errors_name_file_line_and_field(tmp_path):
    path = tmp_path / "gne.yaml"
    path.write_text(MINIMAL.replace("grain: region", "grain: 2region").replace(
        "completeness:\n  metric: shipments", "completeness:\n  metric: shipments\n  min_ratio: 3\n  trailing: 2"))
    with pytest.raises(ConfigError) as raised:
        read_config(path)
    message = str(raised.value)
    assert f"{path}:3: field 'grain'" in message
    assert f"{path}:8: field 'completeness.min_ratio'" in message
    assert f"{path}:9: field 'completeness.trailing': unknown field" in message


def test_as_of_needs_sql_or_table_and_column_and_zone_must_exist(tmp_path):
    path = tmp_path / "gne.yaml"
    path.write_text(MINIMAL.replace("{table: shipments, column: shipped_at}", "{table: shipments}"))
    with pytest.raises(ConfigError, match=r"gne.yaml:5: field 'calendar.as_of': give either `sql:`"):
        read_config(path)
    path.write_text(MINIMAL.replace("calendar:\n", "calendar:\n  time_zone: Mars/Olympus\n"))
    with pytest.raises(ConfigError, match=r"gne.yaml:5: field 'calendar.time_zone': unknown time zone"):
        read_config(path)


def test_missing_fields_and_unknown_engines_are_named(tmp_path):
    path = tmp_path / "gne.yaml"
    path.write_text("source: mysql://db/shop\n")
    with pytest.raises(ConfigError) as raised:
        read_config(path)
    message = str(raised.value)
    assert "field 'source': unknown engine 'mysql'" in message
    assert "field 'calendar': required field is missing" in message
    assert "field 'completeness': required field is missing" in message


def test_discovery_relative_paths_and_env_overrides(clean_env, monkeypatch):
    project = load_project()
    assert project.file is None and project.settings == read_config(PACKAGED_CONFIG)  # no gne.yaml: the demo's
    assert project.source == str(clean_env / "data" / "gne.duckdb") and project.catalog == PACKAGED_CATALOG
    (clean_env / "gne.yaml").write_text(MINIMAL)
    nested = clean_env / "notebooks" / "deep"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)  # found in a parent directory; relative paths are relative to the file
    project = load_project()
    assert project.file == clean_env / "gne.yaml" and project.grain == "region"
    assert project.source == str(clean_env / "data" / "shop.duckdb") and project.catalog == clean_env / "metrics"
    monkeypatch.setenv("GNE_WAREHOUSE", "/srv/other.duckdb")
    monkeypatch.setenv("GNE_CATALOG", "/srv/catalog")
    project = load_project()
    assert project.source == "/srv/other.duckdb" and project.catalog == Path("/srv/catalog")
    monkeypatch.setenv("GNE_CONFIG", str(clean_env / "missing.yaml"))
    with pytest.raises(ConfigError, match="missing.yaml.*does not exist.*gne init"):
        load_project()


def test_gne_init_writes_a_commented_config_that_validates(clean_env):
    runner = CliRunner()
    done = runner.invoke(app, ["init", "--source", "duckdb:///shop.duckdb", "--table", "shipments",
                               "--time-column", "shipped_at", "--grain", "region", "--completeness", "shipments"])
    assert done.exit_code == 0, done.output
    text = (clean_env / "gne.yaml").read_text()
    assert text.count("\n#") > 10  # every field is explained
    settings = read_config(clean_env / "gne.yaml")
    assert settings.grain == "region" and settings.calendar.as_of.table == "shipments"
    assert settings.completeness.metric == "shipments" and settings.experiments is None
    again = runner.invoke(app, ["init", "--source", "x.duckdb", "--table", "t", "--time-column", "c"])
    assert again.exit_code == 2 and "--force" in again.output


def test_facts_come_from_the_data_through_config_and_catalog(small_warehouse_env):
    facts = load_facts()
    con = duckdb.connect(str(small_warehouse_env), read_only=True)
    try:
        meta = dict(con.execute("SELECT key, value FROM warehouse_meta").fetchall())
        markets = [row[0] for row in con.execute("SELECT DISTINCT market FROM orders ORDER BY 1").fetchall()]
        names = [row[0] for row in con.execute("SELECT name FROM experiment_designs ORDER BY 1").fetchall()]
    finally:
        con.close()
    # the generator wrote first_week / last_complete_week itself; gnelib derives them from orders and as_of
    assert (facts.first_week, facts.last_complete_week) == (meta["first_week"], meta["last_complete_week"])
    assert facts.markets == tuple(markets) and facts.grain == "market"
    assert sorted(facts.experiments) == names


def test_a_week_is_complete_only_once_it_ended_before_as_of(small_warehouse, tmp_path, monkeypatch):
    config = tmp_path / "gne.yaml"
    config.write_text(textwrap.dedent(f"""\
        source: {small_warehouse}
        calendar:
          as_of: {{sql: "SELECT TIMESTAMP '2026-11-22 23:00:00' AS as_of"}}
        completeness: {{metric: orders}}
        """))
    monkeypatch.setenv("GNE_CONFIG", str(config))
    monkeypatch.delenv("GNE_WAREHOUSE", raising=False)
    facts = load_facts()
    assert facts.last_complete_week == "2026-W46"  # W47 ends on 2026-11-23 00:00, after this as-of
    assert facts.experiments == () and facts.as_of == "2026-11-22 23:00:00"
