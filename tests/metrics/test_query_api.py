"""The query API: argument validation, bound filter values, horizons, samples and sufficient statistics."""

import numpy as np
import pandas as pd
import pytest

from gnelib import metrics

INJECTION = "US' OR 1=1 --"


def test_unknown_metric_lists_the_closest_first():
    with pytest.raises(metrics.UnknownChoiceError) as caught:
        metrics.get("refund_rat")
    assert caught.value.choices[0] == "refund_rate"
    assert "gne metrics list" in str(caught.value)


def test_unknown_dimension_and_filter_column(conn):
    with pytest.raises(metrics.UnknownChoiceError, match="closest first\\): category") as caught:
        metrics.compute(conn, "refund_rate", by=["categry"])
    assert "seller_tier" in caught.value.choices
    with pytest.raises(metrics.UnknownChoiceError, match="filter column") as caught:
        metrics.compute(conn, "refund_rate", where={"markt": "ID"})
    assert caught.value.choices[0] == "market"


def test_unknown_filter_value_lists_the_values_in_the_data(conn):
    with pytest.raises(metrics.UnknownChoiceError) as caught:
        metrics.compute(conn, "refund_rate", where={"market": "XX"})
    markets = set(conn.sql("SELECT DISTINCT market FROM orders")["market"])
    assert set(caught.value.choices) == markets


def test_injection_in_a_filter_value_is_a_plain_unknown_value(conn):
    with pytest.raises(metrics.UnknownChoiceError) as caught:
        metrics.compute(conn, "refund_rate", where={"market": INJECTION})
    assert caught.value.given == INJECTION
    compiled = metrics.compile_query("refund_rate", where={"market": [INJECTION]}, dialect="duckdb")
    assert INJECTION not in compiled.sql and "1=1" not in compiled.sql
    assert INJECTION in compiled.params.values()
    # Run the compiled query as-is: the engine sees the value as a bound string, so no rows match.
    assert conn.sql(compiled.sql, compiled.params).empty


@pytest.mark.parametrize(
    "weeks, message",
    [
        ("2026-47", "not an ISO week"),
        ("2026-W54", "does not exist"),
        (("2026-W47", "2026-W40"), "ends before"),
        ([], "empty list"),
    ],
)
def test_bad_weeks(conn, weeks, message):
    with pytest.raises(metrics.MetricError, match=message):
        metrics.compute(conn, "orders", weeks=weeks)


def test_bad_period_horizon_and_dialect(conn):
    with pytest.raises(metrics.MetricError, match="period 'month'"):
        metrics.compute(conn, "orders", period="month")
    with pytest.raises(metrics.MetricError, match="positive whole number"):
        metrics.compute(conn, "refund_rate", horizon_days=0)
    with pytest.raises(metrics.MetricError, match="no event_time_column"):
        metrics.compute(conn, "orders", horizon_days=7)
    with pytest.raises(metrics.UnknownChoiceError, match="closest first\\): spark"):
        metrics.sql("orders", dialect="sparkk")


def test_frame_columns_follow_the_contract(conn):
    frame = metrics.compute(conn, "refund_rate", weeks="2026-W47", by=["market", "channel"])
    assert list(frame.columns) == [
        "metric",
        "period",
        "period_start",
        "market",
        "channel",
        "numerator",
        "denominator",
        "value",
        "units",
        "sum_x2",
        "sum_y2",
        "sum_xy",
        "is_mature",
    ]
    assert (frame["period"] == "2026-W47").all()
    assert (frame["period_start"] == pd.Timestamp("2026-11-16")).all()
    assert frame["is_mature"].dtype == bool and frame["units"].dtype == "int64"


def test_list_filter_and_weeks_list(conn, tables):
    frame = metrics.compute(conn, "orders", weeks=["2026-W45", "2026-W47"], where={"market": ["ID", "TH"]})
    orders = tables.orders
    week = orders["ordered_at"].dt.strftime("%G-W%V")
    expected = orders[week.isin(["2026-W45", "2026-W47"]) & orders["market"].isin(["ID", "TH"])]
    assert frame["period"].tolist() == ["2026-W45", "2026-W47"]
    assert frame["value"].tolist() == expected.groupby(week)["order_id"].count().tolist()


def test_fixed_horizon_counts_only_events_within_the_horizon(conn, tables):
    frame = metrics.compute(conn, "refund_rate", weeks=("2026-W44", "2026-W47"), horizon_days=10)
    rows = tables.order_rows[tables.order_rows["cancelled_at"].isna()]
    week = rows["ordered_at"].dt.strftime("%G-W%V")
    rows = rows[week.between("2026-W44", "2026-W47")]
    within = (rows["request_status"] == "approved") & (
        rows["resolved_at"] - rows["ordered_at"] <= pd.Timedelta(days=10)
    )
    expected = within.groupby(week).sum()
    assert frame["numerator"].tolist() == expected.astype(float).tolist()
    assert frame["denominator"].tolist() == rows.groupby(week).size().astype(float).tolist()
    full = metrics.compute(conn, "refund_rate", weeks=("2026-W44", "2026-W47"))
    assert (frame["numerator"] <= full["numerator"]).all() and (frame["numerator"] < full["numerator"]).any()
    ends = frame["period_start"] + pd.Timedelta(days=7 + 10)
    assert frame["is_mature"].tolist() == (ends <= tables.as_of).tolist()


def test_fixed_horizon_of_the_composite_uses_its_first_defect(conn, tables):
    frame = metrics.compute(conn, "order_defect_rate", weeks="2026-W45", horizon_days=3)
    rows = tables.order_rows[tables.order_rows["ordered_at"].dt.strftime("%G-W%V") == "2026-W45"]
    reviews = tables.reviews.set_index("order_id")["created_at"]
    nad = rows["requested_at"].where(rows["after_sales_reason"].isin(["not_as_described", "counterfeit"]))
    negative = rows["order_id"].map(reviews).where(rows["rating"] <= 2)
    cancel = rows["cancelled_at"].where(rows["cancel_fault"] == "seller")
    first = pd.concat([nad, negative, cancel], axis=1).min(axis=1)
    expected = (first - rows["ordered_at"] <= pd.Timedelta(days=3)).sum()
    assert frame["numerator"].tolist() == [float(expected)]


def test_duration_samples_match_the_frame(conn, tables):
    frame = metrics.compute(conn, "median_hours_to_refund", weeks=("2026-W45", "2026-W46"), by=["market"])
    values = metrics.samples(conn, "median_hours_to_refund", weeks=("2026-W45", "2026-W46"), by=["market"])
    assert list(values.columns) == ["period", "market", "unit_id", "value"]
    grouped = values.groupby(["period", "market"])["value"]
    merged = frame.set_index(["period", "market"])
    np.testing.assert_allclose(grouped.median().loc[merged.index], merged["value"])
    np.testing.assert_allclose(grouped.sum().loc[merged.index], merged["numerator"])
    np.testing.assert_allclose(
        (values["value"] ** 2).groupby([values["period"], values["market"]]).sum().loc[merged.index],
        merged["sum_x2"],
    )
    approved = tables.after_sales[(tables.after_sales["status"] == "approved")]
    approved = approved[approved["requested_at"].dt.strftime("%G-W%V").isin(["2026-W45", "2026-W46"])]
    hours = (approved["resolved_at"] - approved["requested_at"]).dt.total_seconds() / 3600
    np.testing.assert_allclose(np.sort(values["value"]), np.sort(hours.dropna()))


def test_ratio_samples_are_per_unit(conn):
    frame = metrics.compute(conn, "late_dispatch_rate", weeks="2026-W46")
    units = metrics.samples(conn, "late_dispatch_rate", weeks="2026-W46")
    assert list(units.columns) == ["period", "unit_id", "numerator", "denominator", "value"]
    assert len(units) == frame["units"].iloc[0] and units["unit_id"].is_unique
    assert units["numerator"].sum() == frame["numerator"].iloc[0]


def test_delta_method_pieces_match_a_per_seller_groupby(conn, tables):
    """Var(R) from the frame's sums equals the delta method on per-seller totals computed in pandas."""
    frame = metrics.compute(conn, "late_dispatch_rate", weeks="2026-W46", by=["market"])
    orders = tables.orders[tables.orders["shipped_at"].notna()]
    orders = orders[orders["ordered_at"].dt.strftime("%G-W%V") == "2026-W46"]
    for row in frame.itertuples():
        subset = orders[orders["market"] == row.market]
        per_seller = subset.assign(late=subset["shipped_at"] > subset["promised_ship_by"]).groupby(
            "seller_id"
        )
        x, y = per_seller["late"].sum().to_numpy(float), per_seller.size().to_numpy(float)
        k, ratio = len(x), x.sum() / y.sum()
        cov = np.cov(x, y, ddof=1)
        expected = (cov[0, 0] - 2 * ratio * cov[0, 1] + ratio**2 * cov[1, 1]) / (k * y.mean() ** 2)
        s_x2 = (row.sum_x2 - row.numerator**2 / row.units) / (row.units - 1)
        s_y2 = (row.sum_y2 - row.denominator**2 / row.units) / (row.units - 1)
        s_xy = (row.sum_xy - row.numerator * row.denominator / row.units) / (row.units - 1)
        ybar = row.denominator / row.units
        from_frame = (s_x2 - 2 * row.value * s_xy + row.value**2 * s_y2) / (row.units * ybar**2)
        assert row.units == k
        assert from_frame == pytest.approx(expected, rel=1e-9)
