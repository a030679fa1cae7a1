"""The second catalog's metrics (free-form groups, IDR currency, days, mean and p90 durations, region grain) against
an independent pandas computation on the generated tables."""

import duckdb
import numpy as np
import pandas as pd
import pytest

from gnelib import metrics
from gnelib.formats import format_change, format_value
from gnelib.metrics.catalog import load_catalog
from gnelib.warehouse import connect


@pytest.fixture(scope="module")
def tables(shop) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(shop / "shop.duckdb"), read_only=True)
    try:
        return {name: con.execute(f"SELECT * FROM {name}").df() for name in ("sales_orders", "stores", "ratings")}
    finally:
        con.close()


def reference(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Per ISO week × region, written straight from the tables (no SQL, no gnelib)."""
    orders = tables["sales_orders"].merge(tables["ratings"], on="order_no", how="left")
    orders["period"] = [f"{y}-W{w:02d}" for y, w, _ in (ts.isocalendar() for ts in orders["created_ts"])]
    kept = orders[~orders["is_cancelled"]]
    hours_to_ship = (kept["shipped_ts"] - kept["created_ts"]).dt.total_seconds() / 3600
    days = (orders["delivered_ts"] - orders["created_ts"]).dt.total_seconds() / 3600
    keys = ["period", "region"]
    return {
        "orders_placed": orders.groupby(keys).size(),
        "sales_idr": kept.groupby(keys)["price_idr"].sum(),
        "late_shipment_rate": (kept["shipped_ts"] > kept["promised_ts"]).groupby([kept[k] for k in keys]).mean(),
        "cancellation_rate": orders.groupby(keys)["is_cancelled"].mean(),
        "poor_rating_rate": (kept["stars"] <= 2).groupby([kept[k] for k in keys]).mean(),
        "mean_hours_to_ship": hours_to_ship.dropna().groupby([kept.loc[hours_to_ship.notna(), k] for k in keys]).mean(),
        "p90_days_to_deliver": days.dropna().groupby([orders.loc[days.notna(), k] for k in keys]).quantile(0.9),
    }


def test_every_metric_matches_pandas_by_week_and_region(shop_env, tables):
    expected = reference(tables)
    with connect() as conn:
        frames = {name: metrics.compute(conn, name, by=["region"]) for name in expected}
    for name, truth in expected.items():
        got = frames[name].set_index(["period", "region"])["value"].sort_index()
        truth = truth.astype(float).sort_index()
        assert list(got.index) == list(truth.index), name
        np.testing.assert_allclose(got.to_numpy(), truth.to_numpy(), rtol=1e-9, err_msg=name)


def test_groups_are_the_catalogs_own_and_formats_follow_the_metric(shop_env):
    catalog = load_catalog()
    assert catalog.groups() == ["volume", "fulfilment", "customer_experience"]
    sales, deliver = catalog.get("sales_idr"), catalog.get("p90_days_to_deliver")
    assert sales.format == "currency:IDR" and sales.currency == "IDR"
    assert format_value(1_234_500.0, sales.format) == "IDR 1,234,500"
    assert format_change(-2_000.0, sales.format) == "-IDR 2,000"
    assert format_value(1_234.0, "currency") == "$1,234"  # the packaged catalog's USD
    assert deliver.duration.quantile == 0.9 and format_value(60.0, deliver.format) == "2.5 d"
    assert catalog.get("mean_hours_to_ship").duration.quantile is None
