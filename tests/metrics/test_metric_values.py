"""Every catalog metric, computed in the engine, equals an independent pandas computation from raw tables."""

import numpy as np
import pandas as pd
import pytest
from metric_reference import REFERENCE, reference_frame

from gnelib import metrics

CATALOG = metrics.load_catalog()
NUMBERS = ["numerator", "denominator", "value", "units", "sum_x2", "sum_y2", "sum_xy"]


def assert_frames_match(frame: pd.DataFrame, expected: pd.DataFrame, keys: list[str], kind: str) -> None:
    columns = [
        c for c in NUMBERS if c in expected.columns and (kind == "ratio" or c not in ("sum_y2", "sum_xy"))
    ]
    if kind in ("count", "sum"):
        columns = [c for c in columns if c != "denominator"]
        assert frame["denominator"].isna().all() and frame["sum_y2"].isna().all()
    got = frame.set_index(keys).sort_index()
    want = expected.set_index(keys).sort_index()
    assert list(got.index) == list(want.index), "the engine and pandas disagree on which cells exist"
    for column in columns:
        np.testing.assert_allclose(
            got[column].to_numpy(float), want[column].to_numpy(float), rtol=1e-9, atol=1e-9, err_msg=column
        )


def test_catalog_has_the_required_metrics():
    required = {
        "refund_rate",
        "not_as_described_rate",
        "counterfeit_claim_rate",
        "late_delivery_rate",
        "late_dispatch_rate",
        "seller_fault_cancel_rate",
        "seller_ban_rate",
        "appeal_overturn_rate",
        "order_defect_rate",
        "orders",
        "gmv_usd",
        "median_hours_to_refund",
    }
    assert required <= set(CATALOG.names())
    assert len(CATALOG) >= 22
    assert {m.pillar for m in CATALOG} == {
        "malicious_sellers",
        "listing_compliance",
        "authentic_products",
        "make_it_right",
        "creators",
        "experience",
    }
    assert set(REFERENCE) == set(CATALOG.names()), "every catalog metric needs a pandas reference"


@pytest.mark.parametrize("name", CATALOG.names())
def test_metric_by_market_over_weeks(name, conn, tables):
    metric = CATALOG.get(name)
    weeks = ["2026-W44", "2026-W45", "2026-W46", "2026-W47"]
    frame = metrics.compute(conn, name, weeks=("2026-W44", "2026-W47"), by=["market"])
    expected = reference_frame(REFERENCE[name](tables), metric.kind, by=["market"], weeks=weeks)
    assert len(frame) > 0
    assert_frames_match(frame, expected, ["period_start", "market"], metric.kind)
    assert set(frame["period"]) <= set(weeks)
    mature = frame["period_start"] + pd.Timedelta(days=7 + metric.maturity_days) <= tables.as_of
    assert frame["is_mature"].tolist() == mature.tolist()


@pytest.mark.parametrize("name", CATALOG.names())
def test_metric_by_second_dimension_in_two_markets(name, conn, tables):
    metric = CATALOG.get(name)
    by = [next((d for d in metric.dimensions if d != "market"), "market")]
    where = {"market": ["ID", "VN"]}
    frame = metrics.compute(conn, name, weeks=["2026-W46", "2026-W47"], by=by, where=where)
    expected = reference_frame(
        REFERENCE[name](tables), metric.kind, by=by, weeks=["2026-W46", "2026-W47"], where=where
    )
    assert_frames_match(frame, expected, ["period_start", *by], metric.kind)


@pytest.mark.parametrize("name", ["order_defect_rate", "median_hours_to_refund", "listings_removed"])
def test_daily_periods(name, conn, tables):
    metric = CATALOG.get(name)
    frame = metrics.compute(conn, name, weeks="2026-W46", period="day")
    expected = reference_frame(REFERENCE[name](tables), metric.kind, weeks=["2026-W46"], period="day")
    assert_frames_match(frame, expected, ["period_start"], metric.kind)
    assert frame["period"].tolist() == [d.strftime("%Y-%m-%d") for d in frame["period_start"]]
