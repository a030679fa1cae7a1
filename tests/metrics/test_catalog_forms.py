"""Catalog forms for other businesses: free-form groups, currency codes, days, mean and percentile durations."""

import pytest
from test_catalog_loading import GOOD, write_catalog

from gnelib import metrics
from gnelib.metrics.catalog import load_catalog
from gnelib.metrics.model import GNE_PILLARS

DURATION = """
dimensions: {market: Market.}
metrics:
  - name: hours_to_ship
    title: Hours to ship
    description: Hours from order to shipment.
    group: fulfilment
    owner: team
    source: orders
    time_column: ordered_at
    kind: duration
    duration: {start: ordered_at, end: shipped_at, statistic: STAT}
    direction: lower_is_better
    format: FORMAT
    unit: store
"""


def test_groups_are_free_and_the_gne_pillars_come_first(tmp_path):
    text = GOOD + GOOD.split("metrics:\n")[1].replace("refund_rate", "late_rate").replace(
        "pillar: make_it_right", "group: logistics")
    catalog = load_catalog(write_catalog(tmp_path, text))
    assert catalog.groups() == ["make_it_right", "logistics"]
    assert catalog.get("late_rate").group == "logistics"
    assert load_catalog().groups() == [*GNE_PILLARS, "creators", "experience"]  # the packaged default


@pytest.mark.parametrize("stat, fmt", [("median", "hours"), ("mean", "days"), ("p95", "days")])
def test_duration_statistics_and_formats_load(tmp_path, stat, fmt):
    catalog = load_catalog(write_catalog(tmp_path, DURATION.replace("STAT", stat).replace("FORMAT", fmt)))
    definition = catalog.get("hours_to_ship")
    assert definition.format == fmt and definition.duration.statistic == stat
    sql = metrics.sql(definition, catalog=catalog)
    assert {"median": "MEDIAN(", "mean": "AVG(", "p95": "QUANTILE_CONT("}[stat] in sql.upper()


@pytest.mark.parametrize("change, message", [
    (("STAT", "p100"), "field 'duration.statistic'"),
    (("FORMAT", "percent"), "formats 'hours' and 'days' go with kind 'duration'"),
    (("FORMAT", "hours\n    currency: IDR"), "field 'currency' is only used with format 'currency'"),
    (("group: fulfilment", "group: fulfilment\n    pillar: make_it_right"), "give the metric's group once"),
])
def test_bad_forms_name_the_field(tmp_path, change, message):
    text = DURATION.replace(*change).replace("STAT", "median").replace("FORMAT", "hours")
    with pytest.raises(metrics.CatalogError, match="hours_to_ship") as raised:
        load_catalog(write_catalog(tmp_path, text))
    assert message in str(raised.value)
