"""Benchmark: 10 order metrics by ISO week × market × category over 26 weeks, in the engine vs naive pandas.

    .venv/bin/python bench/metrics_compute.py [--warehouse /tmp/gne-medium.duckdb]

Each approach runs in its own subprocess so its peak RSS is its own. "engine" is
`gnelib.metrics.compute_many` (DuckDB does the filtering and both aggregation stages, one pass for the metrics
that share a source); "pandas" loads the order, after-sales and review
tables into pandas and groups there (per seller, then per cell, for the same sufficient statistics).
"""

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd

from gnelib import metrics
from gnelib.warehouse import connect

METRICS = [
    "orders",
    "gmv_usd",
    "late_dispatch_rate",
    "late_delivery_rate",
    "valid_tracking_rate",
    "seller_fault_cancel_rate",
    "not_as_described_rate",
    "negative_review_rate",
    "refund_rate",
    "order_defect_rate",
]
WEEKS = ("2026-W22", "2026-W47")  # 26 ISO weeks
BY = ["market", "category"]
CANDIDATES = [Path("/tmp/gne-medium.duckdb"), Path("data/gne.duckdb")]


def run_engine(warehouse: Path) -> int:
    """All metrics through the metric layer in one pass per source (`compute_many`); returns the frame rows."""
    with connect(warehouse) as conn:
        return sum(len(frame) for frame in metrics.compute_many(conn, METRICS, weeks=WEEKS, by=BY).values())


def run_pandas(warehouse: Path) -> int:
    """The naive approach: load raw tables into pandas, derive flags, group there."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        orders = con.execute("SELECT * FROM orders").df()
        requests = con.execute("SELECT * FROM after_sales").df()
        reviews = con.execute("SELECT * FROM reviews").df()
    frame = orders.merge(requests[["order_id", "reason", "status"]], on="order_id", how="left")
    frame = frame.merge(reviews[["order_id", "rating"]], on="order_id", how="left")
    frame["week"] = frame["ordered_at"].dt.to_period("W-SUN").dt.start_time
    first, last = (pd.Timestamp.fromisocalendar(int(w[:4]), int(w[6:]), 1) for w in WEEKS)
    frame = frame[(frame["week"] >= first) & (frame["week"] <= last)]
    delivered, shipped = frame["delivered_at"].notna(), frame["shipped_at"].notna()
    nad = frame["reason"].isin(["not_as_described", "counterfeit"])
    negative = frame["rating"] <= 2
    seller_cancel = frame["cancel_fault"] == "seller"
    dispatchable = shipped | frame["cancelled_at"].isna()
    definitions = {
        "orders": (frame["order_id"].notna(), None),
        "gmv_usd": (frame["gmv_usd"].fillna(0), None),
        "late_dispatch_rate": (
            (frame["shipped_at"].isna() | (frame["shipped_at"] > frame["promised_ship_by"])) & dispatchable,
            dispatchable,
        ),
        "late_delivery_rate": (
            (frame["delivered_at"] > frame["promised_delivery_by"]) & delivered,
            delivered,
        ),
        "valid_tracking_rate": (frame["tracking_valid"].fillna(False).astype(bool) & shipped, shipped),
        "seller_fault_cancel_rate": (seller_cancel, frame["order_id"].notna()),
        "not_as_described_rate": (nad & delivered, delivered),
        "negative_review_rate": (negative & delivered, delivered),
        "refund_rate": (
            (frame["status"] == "approved") & frame["cancelled_at"].isna(),
            frame["cancelled_at"].isna(),
        ),
        "order_defect_rate": (nad | negative | seller_cancel, frame["order_id"].notna()),
    }
    rows = 0
    keys = ["week", *BY]
    for numerator, denominator in definitions.values():
        cells = frame[keys + ["seller_id"]].assign(x=numerator.astype(float))
        cells["y"] = denominator.astype(float) if denominator is not None else 1.0
        per_unit = cells.groupby([*keys, "seller_id"], observed=True)[["x", "y"]].sum()
        per_unit = per_unit.assign(
            xx=per_unit["x"] ** 2, yy=per_unit["y"] ** 2, xy=per_unit["x"] * per_unit["y"]
        )
        rows += len(per_unit.groupby(level=keys, observed=True).agg(["sum", "count"]))
    return rows


def child(approach: str, warehouse: Path) -> None:
    started = time.perf_counter()
    rows = {"engine": run_engine, "pandas": run_pandas}[approach](warehouse)
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"approach": approach, "seconds": elapsed, "peak_rss_mb": peak_mb, "rows": rows}))


def measure(approach: str, warehouse: Path) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", approach, "--warehouse", str(warehouse)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--warehouse",
        type=Path,
        help="DuckDB warehouse file (default: the medium one if built, else data/gne.duckdb).",
    )
    parser.add_argument("--engine-only", action="store_true",
                        help="Skip the naive pandas run (it needs ~0.7 GB per million orders: too much for large).")
    parser.add_argument("--child", choices=["engine", "pandas"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    warehouse = args.warehouse or next((p for p in CANDIDATES if p.is_file()), None)
    if warehouse is None or not warehouse.is_file():
        sys.exit(
            "No warehouse found: build one with `gne warehouse build --scale medium --path "
            "/tmp/gne-medium.duckdb` or pass --warehouse."
        )
    if args.child:
        child(args.child, warehouse)
        return
    print(
        f"warehouse: {warehouse}  ({len(METRICS)} metrics × week × market × category, "
        f"weeks {WEEKS[0]}..{WEEKS[1]})"
    )
    approaches = ("engine",) if args.engine_only else ("engine", "pandas")
    results = {approach: measure(approach, warehouse) for approach in approaches}
    for result in results.values():
        print(
            f"{result['approach']:>7}: {result['seconds']:7.2f} s wall, "
            f"peak RSS {result['peak_rss_mb']:8.0f} MB, {result['rows']:,} frame rows"
        )
    if "pandas" not in results:
        return
    engine, pandas_ = results["engine"], results["pandas"]
    print(
        f"  ratio: pandas/engine wall time {pandas_['seconds'] / engine['seconds']:.1f}x, "
        f"peak RSS {pandas_['peak_rss_mb'] / engine['peak_rss_mb']:.1f}x"
    )


if __name__ == "__main__":
    main()
