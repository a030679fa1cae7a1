"""Evaluation: does the scan flag the planted incidents, does the deep dive rank their carrying segment first,
and how often does the scan flag a quiet cell?

    .venv/bin/python bench/insight_quality.py [--warehouse PATH] [--scale small|medium] [--first-week W]
                                              [--last-week W]

Without `--warehouse` a warehouse of `--scale` (seed 7) is built into a temporary directory. Scans every
metric × market × week from `--first-week` to `--last-week` (default the last 8 complete weeks) and deep-dives
every planted incident cell; see `gnelib.analysis.evaluation`.
"""

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from gnelib.analysis.evaluation import evaluate
from gnelib.warehouse import build_warehouse, connect

TARGET_FALSE_ALARMS = 0.05


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--warehouse", type=Path, help="an existing warehouse file (default: build one)")
    parser.add_argument("--scale", choices=["small", "medium"], default="small", help="scale to build")
    parser.add_argument("--first-week", default="2026-W40")
    parser.add_argument("--last-week", default="2026-W47")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.warehouse
        if path is None:
            path = Path(folder) / f"gne-{args.scale}.duckdb"
            started = time.perf_counter()
            build_warehouse(path, scale=args.scale, seed=7)
            print(f"built {args.scale} warehouse in {time.perf_counter() - started:.1f} s")
        conn = connect(path)
        started = time.perf_counter()
        result = evaluate(conn, args.first_week, args.last_week)
        elapsed = time.perf_counter() - started
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    print(
        f"\nwarehouse {path} ({conn.meta().get('scale')}), weeks {args.first_week}..{args.last_week}, "
        f"evaluated in {elapsed:.0f} s\n"
    )
    print("Incident cells (scan flag, deep-dive rank of the carrying segment, its effect label):")
    print(result.cells.to_string(index=False, float_format=lambda x: f"{x:.3g}"))
    print("\nPer incident:")
    print(result.incidents.to_string(index=False))
    quiet = result.scan[result.scan["quiet"]]
    alarms = quiet[quiet["flag"]]
    print(
        f"\nQuiet cells: {len(quiet)}; flagged {len(alarms)} → false-alarm rate {result.false_alarm_rate:.2%} "
        f"(target ≤ {TARGET_FALSE_ALARMS:.0%})"
    )
    if len(alarms):
        columns = [
            "metric",
            "market",
            "week",
            "baseline",
            "current",
            "pattern",
            "p_adjusted",
            "level",
            "segments",
        ]
        print(
            alarms[columns]
            .sort_values(["week", "metric"])
            .to_string(index=False, float_format=lambda x: f"{x:.3g}")
        )
    found = int(result.incidents["found"].sum())
    print(
        f"\nIncidents found (flagged in ≥ 1 week with the carrying segment ranked first; mix shift as mix): "
        f"{found}/{len(result.incidents)}"
    )


if __name__ == "__main__":
    main()
