"""The batch's aggregate preparation: neighbouring weeks share one frame per metric and level; the flagged deep
dives' scan fills exactly what the batch then asks for; and the digest's previous week, scanned from those frames,
equals the scan straight from the warehouse."""

import re

import pandas as pd

from gnelib.analysis.detection import scan, scan_requests
from gnelib.metrics.store import STORE_ENV, AggregateStore
from gnelib.reporting.aggregates import merged, prepare_store
from gnelib.reporting.digest import weeks_to_compare
from gnelib.reporting.environment import environment_set, kernel_environment
from gnelib.reporting.flagged import prepare_weeks
from gnelib.reporting.params import ValidationContext
from gnelib.warehouse import connect

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


def test_the_batch_reuses_the_flagged_scans_store_and_its_previous_week_equals_the_warehouse(
        small_warehouse_env, tmp_path, capfd):
    facts = ValidationContext().facts
    environment = kernel_environment(facts, tmp_path)
    prepare_weeks(tmp_path, facts, [WEEK])  # what `deep_dive: flagged` does while the plan is expanded
    first = capfd.readouterr().err
    compared = weeks_to_compare(tmp_path, facts, [{"template": "weekly_scorecard", "week": WEEK}])
    assert compared == [PREVIOUS]
    prepared = prepare_store(tmp_path, facts.data_version, [WEEK], environment, compared)  # what the batch does
    second = capfd.readouterr().err
    assert computed(first) > 0 and computed(second) == 0, (first, second)
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


def computed(stderr: str) -> int:
    """The number of metric frames a `prepare_store` computed, from its stderr line."""
    return int(re.search(r"aggregates: (\d+) metric frames computed", stderr).group(1))
