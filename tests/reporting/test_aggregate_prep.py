"""The batch's aggregate preparation: neighbouring weeks share one frame per metric and level, and the digest's
previous week, scanned from those frames, equals the scan straight from the warehouse."""

import pandas as pd

from gnelib.analysis.detection import scan, scan_requests
from gnelib.metrics.store import STORE_ENV, AggregateStore
from gnelib.reporting.aggregates import merged, prepare_store
from gnelib.reporting.environment import environment_set
from gnelib.warehouse import connect
from gnelib.warehouse.connection import WAREHOUSE_ENV_VAR

WEEK, PREVIOUS = "2026-W47", "2026-W46"


def test_merged_requests_cover_every_week_once_per_metric_and_level(small_warehouse):
    with connect(small_warehouse) as conn:
        both = scan_requests(conn, WEEK) + scan_requests(conn, PREVIOUS)
    spans = merged(both)
    keys = [(r.metric, r.level, r.horizon_days, r.period) for r in spans]
    assert len(keys) == len(set(keys)) < len(both)
    by_key = dict(zip(keys, spans, strict=True))
    for request in both:
        span = by_key[request.metric, request.level, request.horizon_days, request.period]
        assert span.first <= request.first and request.last <= span.last


def test_previous_week_scanned_from_the_store_equals_the_warehouse(small_warehouse, tmp_path):
    environment = {WAREHOUSE_ENV_VAR: str(small_warehouse)}
    prepared = prepare_store(tmp_path, "test", [WEEK], environment, compared=[PREVIOUS])
    assert STORE_ENV in prepared
    store = AggregateStore(prepared[STORE_ENV])
    with environment_set(environment), connect() as conn:
        for request in scan_requests(conn, PREVIOUS):
            assert any(s.metric == request.metric and s.level == request.level
                       and s.horizon_days == request.horizon_days and s.first <= request.first
                       and request.last <= s.last for s in store.requests), request
        direct = scan(conn, PREVIOUS)
    with environment_set({**environment, **prepared}), connect() as conn:
        stored = scan(conn, PREVIOUS)
    assert stored["flag"].tolist() == direct["flag"].tolist()
    # the tail fit converges to within ~1e-7 of itself when a frame's sums are added in another order
    pd.testing.assert_frame_equal(stored, direct, check_exact=False, rtol=1e-6)
