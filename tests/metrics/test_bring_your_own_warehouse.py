"""A team maps its own warehouse (other table and column names) by writing catalog YAML only."""

import textwrap

import duckdb
import pandas as pd
import pytest

from gnelib import metrics

CATALOG = """
dialect: duckdb
dimensions:
  country: Country of the sale.
  segment: Product segment.
views:
  sale_facts: |
    SELECT s.sale_no, s.sold_ts, s.country, s.segment, s.shop, s.amount, r.refund_ts,
           r.refund_ts IS NOT NULL AS refunded
    FROM shop_sales AS s LEFT JOIN shop_refunds AS r ON r.sale_no = s.sale_no
defaults:
  pillar: make_it_right
  owner: byo-team
  source: sale_facts
  time_column: sold_ts
  unit: seller
  unit_column: shop
  dimensions: [country, segment]
metrics:
  - name: refund_rate
    title: Refund rate
    description: Sales refunded (a row in shop_refunds) over all sales.
    kind: ratio
    numerator: COUNT_IF(refunded)
    denominator: COUNT(*)
    direction: lower_is_better
    format: percent
    maturity_days: 7
    event_time_column: refund_ts
  - name: revenue
    title: Revenue
    description: Sum of amount over all sales.
    kind: sum
    numerator: SUM(amount)
    direction: neutral
    format: currency
"""

SALES = pd.DataFrame(
    {
        "sale_no": [1, 2, 3, 4, 5, 6],
        "sold_ts": pd.to_datetime(
            [
                "2026-11-16 09:00",
                "2026-11-17 10:00",
                "2026-11-18 11:00",
                "2026-11-19 12:00",
                "2026-11-23 08:00",
                "2026-11-24 08:00",
            ]
        ),
        "country": ["FR", "FR", "FR", "DE", "FR", "DE"],
        "segment": ["kids' toys", "garden", "kids' toys", "garden", "garden", "garden"],
        "shop": ["a", "a", "b", "c", "a", "c"],
        "amount": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
    }
)
REFUNDS = pd.DataFrame(
    {"sale_no": [1, 3, 5], "refund_ts": pd.to_datetime(["2026-11-20", "2026-11-30", "2026-11-25"])}
)


@pytest.fixture
def byo(tmp_path):
    path = tmp_path / "theirs.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE shop_sales AS SELECT * FROM SALES")
        con.execute("CREATE TABLE shop_refunds AS SELECT * FROM REFUNDS")
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "theirs.yaml").write_text(textwrap.dedent(CATALOG))
    with duckdb.connect(str(path), read_only=True) as con:
        yield con, catalog


def test_metrics_through_a_catalog_path(byo):
    con, catalog = byo
    frame = metrics.compute(con, "refund_rate", weeks="2026-W47", by=["country"], catalog=catalog)
    fr = frame.set_index("country").loc["FR"]
    # Hand-worked: FR sales 1, 2, 3 in W47, refunded 1 and 3; shops a (sales 1, 2) and b (sale 3).
    assert (fr.numerator, fr.denominator, fr.value, fr.units) == (2.0, 3.0, 2 / 3, 2)
    assert (fr.sum_x2, fr.sum_y2, fr.sum_xy) == (1 + 1, 4 + 1, 2 + 1)
    # No warehouse_meta: the as-of is the newest sale (2026-11-24), so W47 + 7 days is not mature yet.
    assert not frame["is_mature"].any()


def test_metrics_through_the_env_var_and_quoted_values(byo, monkeypatch):
    con, catalog = byo
    monkeypatch.setenv("GNE_CATALOG", str(catalog))
    assert metrics.load_catalog().names() == ["refund_rate", "revenue"]
    frame = metrics.compute(con, "revenue", where={"segment": "kids' toys"})
    assert frame["value"].tolist() == [40.0]
    horizon = metrics.compute(con, "refund_rate", weeks="2026-W47", horizon_days=4)
    assert horizon["numerator"].tolist() == [1.0]  # sale 1 refunded after 3.6 days, sale 3 after 11.5
    with pytest.raises(metrics.UnknownChoiceError, match="closest first\\): FR, DE"):
        metrics.compute(con, "revenue", where={"country": "FRA"})
