"""`gne metrics` commands, run through typer's test runner."""

from pathlib import Path

import sqlglot
from typer.testing import CliRunner

from gnelib import metrics
from gnelib.metrics.cli import app

runner = CliRunner()


def test_list_shows_every_metric_by_pillar():
    result = runner.invoke(app, ["list"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    for name in metrics.load_catalog().names():
        assert name in result.output
    assert "malicious_sellers" in result.output and "make_it_right" in result.output


def test_show_and_unknown_name():
    result = runner.invoke(app, ["show", "order_defect_rate"])
    assert result.exit_code == 0 and "seller-fault cancellation" in result.output
    result = runner.invoke(app, ["show", "order_defect_rat"])
    assert result.exit_code == 2 and "closest first): order_defect_rate" in result.output


def test_sql_prints_parseable_sql_in_each_dialect_with_bound_values():
    for dialect in ["duckdb", "spark", "trino"]:
        result = runner.invoke(
            app,
            [
                "sql",
                "refund_rate",
                "--by",
                "category",
                "--where",
                "market=ID,TH",
                "--weeks",
                "2026-W40..2026-W47",
                "--dialect",
                dialect,
            ],
        )
        assert result.exit_code == 0, result.output
        text, _, params = result.output.partition("-- parameters:")
        assert sqlglot.parse_one(text, read=dialect) is not None
        assert "'ID'" not in text and "p2 = 'ID'" in params and "p3 = 'TH'" in params


def test_sql_rejects_bad_where_and_dimension():
    result = runner.invoke(app, ["sql", "refund_rate", "--where", "market"])
    assert result.exit_code != 0 and "DIMENSION=VALUE" in result.output
    result = runner.invoke(app, ["sql", "refund_rate", "--by", "carier"])
    assert result.exit_code == 2 and "closest first): carrier" in result.output


def test_catalog_option_and_docs_check(tmp_path: Path):
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "one.yaml").write_text(
        "metrics:\n  - {name: sales, title: Sales, description: Number of sales rows., pillar: make_it_right,"
        " owner: me, source: sales, time_column: sold_at, kind: count, numerator: COUNT(*),"
        " direction: neutral, format: count, unit: order}\n"
    )
    result = runner.invoke(app, ["list", "--catalog", str(catalog)], env={"COLUMNS": "250"})
    assert result.exit_code == 0 and "sales" in result.output and "refund_rate" not in result.output
    output = tmp_path / "metrics.md"
    assert (
        runner.invoke(app, ["docs", "--check", "--output", str(output), "--catalog", str(catalog)]).exit_code
        == 1
    )
    assert runner.invoke(app, ["docs", "--output", str(output), "--catalog", str(catalog)]).exit_code == 0
    assert "### sales" in output.read_text()
    assert (
        runner.invoke(app, ["docs", "--check", "--output", str(output), "--catalog", str(catalog)]).exit_code
        == 0
    )
