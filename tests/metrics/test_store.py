"""The batch aggregate store gives, for every catalog metric, the very frames the warehouse gives."""

import pandas as pd
import pytest

from gnelib import metrics
from gnelib.metrics.store import STORE_ENV, AggregateStore, Request, fill
from gnelib.warehouse import connect

FIRST, LAST = "2026-W38", "2026-W45"


def _requests(catalog) -> list[Request]:
    requests = []
    for name in catalog.names():
        metric = catalog.get(name)
        inner = next(d for d in metric.dimensions if d != "market")
        horizons = [None, 10] if metric.event_time_column else [None]
        for horizon in horizons:
            for level in (("market",), ("market", inner)):
                requests.append(Request(name, level, horizon, "week", FIRST, LAST))
    return requests


@pytest.fixture(scope="module")
def filled(small_warehouse, tmp_path_factory):
    conn = connect(small_warehouse)
    store = AggregateStore(tmp_path_factory.mktemp("aggregates"))
    count = fill(conn, store, _requests(metrics.load_catalog()))
    return conn, store, count


def _same(left: pd.DataFrame, right: pd.DataFrame, keys: list[str]) -> None:
    order = ["period", *keys]
    pd.testing.assert_frame_equal(left.sort_values(order, ignore_index=True),
                                  right.sort_values(order, ignore_index=True), check_dtype=False)


def test_every_metric_from_the_store_equals_the_warehouse(filled):
    conn, store, count = filled
    catalog = metrics.load_catalog()
    assert count == len(_requests(catalog)) and len(store.requests) == count
    for request in store.requests:
        inner = [d for d in request.level if d != "market"]
        asks = [({"by": ["market"]}, ["market"])] if not inner else [
            ({"by": inner, "where": {"market": "ID"}}, inner),
            ({"by": ["market", *inner], "where": {"market": ["ID", "TH"]}}, ["market", *inner]),
        ]
        if not inner:
            asks.append(({"by": [], "where": {"market": "VN"}}, []))
        for ask, keys in asks:
            weeks = ("2026-W40", "2026-W44")
            where = {k: v if isinstance(v, list) else [v] for k, v in ask.get("where", {}).items()}
            stored = store.get(request.metric, ask["by"], where, [f"2026-W{w}" for w in range(40, 45)],
                               request.horizon_days, "week")
            expected = metrics.compute(conn, request.metric, weeks=weeks, horizon_days=request.horizon_days, **ask)
            assert stored is not None, (request, ask)
            _same(stored, expected, keys)


def test_requests_the_store_cannot_answer_go_to_the_warehouse(filled, monkeypatch):
    conn, store, _ = filled
    assert store.get("refund_rate", ["carrier"], {}, ["2026-W40"], None, "week") is None  # level not stored
    assert store.get("refund_rate", [], {"market": ["ID", "TH"]}, ["2026-W40"], None, "week") is None  # pooled
    assert store.get("refund_rate", ["market"], {}, ["2026-W30"], None, "week") is None  # weeks not covered
    monkeypatch.setenv(STORE_ENV, str(store.folder))
    through = metrics.compute(conn, "refund_rate", weeks=("2026-W40", "2026-W41"), by=["market"])
    monkeypatch.delenv(STORE_ENV)
    direct = metrics.compute(conn, "refund_rate", weeks=("2026-W40", "2026-W41"), by=["market"])
    _same(through, direct, ["market"])
    many = metrics.compute_many(conn, ["refund_rate", "orders"], weeks=("2026-W40", "2026-W41"), by=["market"])
    monkeypatch.setenv(STORE_ENV, str(store.folder))
    assert AggregateStore.active() is not None
    stored_many = metrics.compute_many(conn, ["refund_rate", "orders"], weeks=("2026-W40", "2026-W41"),
                                       by=["market"])
    for name in many:
        _same(stored_many[name], many[name], ["market"])


def test_a_metric_scan_is_kept_in_the_store_and_read_back_by_the_next_process(filled, small_warehouse,
                                                                             monkeypatch):
    from gnelib.analysis.detection import scan

    _, store, _ = filled
    names = ["refund_rate", "orders"]
    expected = scan(connect(small_warehouse), "2026-W45", metrics=names)  # no store in this process
    monkeypatch.setenv(STORE_ENV, str(store.folder))
    first = scan(connect(small_warehouse), "2026-W45", metrics=names)
    pd.testing.assert_frame_equal(first, expected)
    kept = sorted((store.folder / "tables").glob("scan-*-2026-W45-*.parquet"))
    assert [path.name.split("-2026")[0] for path in kept] == ["scan-orders", "scan-refund_rate"]
    read_back = scan(connect(small_warehouse), "2026-W45", metrics=names)  # another kernel: from the tables
    pd.testing.assert_frame_equal(read_back, expected)
    # ... and it does read them instead of scanning again: mark one to see.
    marked = pd.read_parquet(kept[1])
    marked["baseline"] = -1.0
    marked.to_parquet(kept[1], index=False)
    again = scan(connect(small_warehouse), "2026-W45", metrics=["refund_rate"])
    assert (again["baseline"] == -1.0).all() and len(again) == int((expected["metric"] == "refund_rate").sum())
