"""Loading validates every catalog file: errors name the file, the metric and the field."""

import textwrap
from pathlib import Path

import pytest

from gnelib import metrics
from gnelib.metrics.catalog import PACKAGED_CATALOG
from gnelib.metrics.docs import render_markdown

GOOD = """
dimensions:
  market: Market.
  category: Category.
metrics:
  - name: refund_rate
    title: Refund rate
    description: Orders with an approved refund over orders.
    pillar: make_it_right
    owner: team
    source: orders
    time_column: ordered_at
    kind: ratio
    numerator: COUNT_IF(refunded)
    denominator: COUNT(*)
    dimensions: [market]
    direction: lower_is_better
    format: percent
    unit: seller
"""


def write_catalog(directory: Path, text: str, name: str = "pillar.yaml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(textwrap.dedent(text))
    return directory


def load_error(directory: Path) -> str:
    with pytest.raises(metrics.CatalogError) as caught:
        metrics.load_catalog(directory)
    return str(caught.value)


def test_a_good_catalog_loads_and_defaults_the_unit_column(tmp_path):
    catalog = metrics.load_catalog(write_catalog(tmp_path, GOOD))
    assert catalog.names() == ["refund_rate"]
    assert catalog.get("refund_rate").unit_column == "seller_id"
    assert "refund_rate" in catalog and "orders" not in catalog


def test_duplicate_name_across_files(tmp_path):
    write_catalog(tmp_path, GOOD, "a.yaml")
    write_catalog(
        tmp_path, GOOD.replace("dimensions:\n  market: Market.\n  category: Category.\n", ""), "b.yaml"
    )
    message = load_error(tmp_path)
    assert (
        "b.yaml" in message and "'refund_rate'" in message and "duplicate" in message and "a.yaml" in message
    )


def test_unknown_dimension_lists_the_closest_first(tmp_path):
    message = load_error(
        write_catalog(tmp_path, GOOD.replace("dimensions: [market]", "dimensions: [markte]"))
    )
    assert "pillar.yaml" in message and "'refund_rate'" in message and "'dimensions'" in message
    assert "valid choices (closest first): market, category" in message


def test_bad_sql_fails_at_load_naming_the_metric_and_field(tmp_path):
    message = load_error(write_catalog(tmp_path, GOOD.replace("COUNT_IF(refunded)", "COUNT_IF(refunded")))
    assert "pillar.yaml" in message and "'refund_rate'" in message and "'numerator'" in message
    assert "does not parse" in message


def test_numerator_must_aggregate(tmp_path):
    message = load_error(write_catalog(tmp_path, GOOD.replace("COUNT_IF(refunded)", "refunded")))
    assert "'numerator' must be an aggregate" in message


def test_missing_field(tmp_path):
    message = load_error(write_catalog(tmp_path, GOOD.replace("    owner: team\n", "")))
    assert "pillar.yaml" in message and "'refund_rate'" in message and "field 'owner' is missing" in message


def test_misspelt_field_and_bad_choice(tmp_path):
    message = load_error(
        write_catalog(tmp_path, GOOD.replace("direction: lower_is_better", "directon: lower_is_better"))
    )
    assert "field 'directon'" in message and "field 'direction' is missing" in message
    message = load_error(write_catalog(tmp_path, GOOD.replace("kind: ratio", "kind: rate")))
    assert "field 'kind'" in message and "'ratio'" in message


def test_kind_specific_fields(tmp_path):
    message = load_error(write_catalog(tmp_path, GOOD.replace("kind: ratio", "kind: count")))
    assert "'denominator' is not used by kind 'count'" in message


def test_bad_view_sql_names_the_view(tmp_path):
    message = load_error(write_catalog(tmp_path, GOOD + "views:\n  facts: SELECT FROM WHERE\n"))
    assert "view 'facts'" in message and "'sql'" in message


def test_yaml_syntax_error_names_the_file(tmp_path):
    message = load_error(write_catalog(tmp_path, "metrics: [\n"))
    assert "pillar.yaml" in message and "not valid YAML" in message


def test_missing_catalog_path(tmp_path):
    with pytest.raises(metrics.CatalogError, match="does not exist"):
        metrics.load_catalog(tmp_path / "nowhere")


def test_env_var_selects_the_catalog(tmp_path, monkeypatch):
    monkeypatch.setenv("GNE_CATALOG", str(write_catalog(tmp_path, GOOD)))
    assert metrics.load_catalog().names() == ["refund_rate"]
    assert metrics.get("refund_rate").owner == "team"


def test_docs_metrics_md_is_current():
    current = (Path(__file__).parents[2] / "docs" / "metrics.md").read_text(encoding="utf-8")
    assert current == render_markdown(metrics.load_catalog(PACKAGED_CATALOG)), (
        "docs/metrics.md is stale: run `gne metrics docs`"
    )
