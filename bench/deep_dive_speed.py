"""Speed of the analysis layer on a warehouse (default: the medium one at /tmp/gne-medium.duckdb).

    .venv/bin/python bench/deep_dive_speed.py [--warehouse PATH] [--metric M] [--market K] [--week W]
                                              [--repeat N]

Prints wall times of (1) the full deep dive of one metric × market × week, data fetch included, and (2) the
scan of every metric × market for one week. Targets: a few seconds; under a minute.
"""

import argparse
import statistics
import time
from pathlib import Path

from gnelib.analysis import scan
from gnelib.analysis.deep_dive import deep_dive
from gnelib.warehouse import connect


def timed(function, repeat: int) -> list[float]:
    """Wall times of `repeat` calls."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, default=Path("/tmp/gne-medium.duckdb"))
    parser.add_argument("--metric", default="counterfeit_claim_rate")
    parser.add_argument("--market", default="ID")
    parser.add_argument("--week", default="2026-W46")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not args.warehouse.exists():
        parser.error(
            f"no warehouse at {args.warehouse}; build one with "
            f"`.venv/bin/gne warehouse build --scale medium --path {args.warehouse}` or pass --warehouse."
        )
    conn = connect(args.warehouse)
    print(f"warehouse {args.warehouse} ({conn.meta().get('scale')})")
    dives = timed(lambda: deep_dive(conn, args.metric, args.market, args.week), args.repeat)
    print(
        f"deep dive {args.metric} × {args.market} × {args.week}: "
        f"median {statistics.median(dives):.2f} s (runs: {', '.join(f'{t:.2f}' for t in dives)})"
    )
    scans = timed(lambda: scan(connect(args.warehouse), args.week), max(1, args.repeat - 1))  # no cache
    print(
        f"scan of every metric × market for {args.week}: "
        f"median {statistics.median(scans):.2f} s (runs: {', '.join(f'{t:.2f}' for t in scans)})"
    )


if __name__ == "__main__":
    main()
