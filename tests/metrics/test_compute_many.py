"""compute_many: one pass per source gives exactly the frames that compute gives metric by metric."""

import pandas as pd
import pytest

from gnelib import metrics
from gnelib.warehouse import connect


@pytest.fixture(scope="module")
def conn(small_warehouse):
    with connect(small_warehouse) as connection:
        yield connection


@pytest.mark.parametrize(("by", "where"), [(["market"], None), (["channel"], {"market": ["ID", "VN"]})])
def test_every_metric_matches_compute(conn, by, where):
    catalog = metrics.load_catalog()
    names = [name for name in catalog.names() if set(by) | set(where or {}) <= set(catalog.get(name).dimensions)]
    assert len(names) >= 10
    weeks = ("2026-W44", "2026-W47")
    many = metrics.compute_many(conn, names, weeks=weeks, by=by, where=where)
    assert list(many) == names
    for name in names:
        expected = metrics.compute(conn, name, weeks=weeks, by=by, where=where)
        pd.testing.assert_frame_equal(many[name], expected, check_exact=False, rtol=1e-12, obj=name)


def test_metrics_sharing_a_source_are_compiled_into_one_query():
    catalog = metrics.load_catalog()
    shared = [catalog.get(name) for name in ("late_dispatch_rate", "refund_rate", "orders")]
    compiled = metrics.compile_frames(shared, catalog.views, by=["market"])
    assert compiled.sql.count("FROM orders") == 1
    assert "FILTER" in compiled.sql  # each metric's own filters restrict only its aggregates


def test_metrics_at_a_fixed_horizon_match_compute(conn):
    catalog = metrics.load_catalog()
    names = [name for name in catalog.names() if getattr(catalog.get(name), "event_time_column", None)
             and "category" in catalog.get(name).dimensions]
    assert len(names) >= 3
    weeks = ("2026-W44", "2026-W46")
    many = metrics.compute_many(conn, names, weeks=weeks, by=["market", "category"], horizon_days=10)
    for name in names:
        expected = metrics.compute(conn, name, weeks=weeks, by=["market", "category"], horizon_days=10)
        pd.testing.assert_frame_equal(many[name], expected, check_exact=False, rtol=1e-12, obj=name)
    full = metrics.compute(conn, names[0], weeks=weeks, by=["market", "category"])
    assert (many[names[0]]["numerator"] <= full["numerator"]).all()
