"""Time the warehouse build and measure its peak memory, one child process per scale.

    .venv/bin/python bench/warehouse_build.py --scales small,medium,large

Each scale is built into a temporary directory (deleted afterwards) by a fresh Python process, so the peak
resident set size (from os.wait4's rusage of that child) is the build's own.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUILD_SNIPPET = (
    "import sys; from gnelib.warehouse import build_warehouse; "
    "s = build_warehouse(sys.argv[1], scale=sys.argv[2], seed=int(sys.argv[3])); "
    "print(s.row_counts['orders'])"
)


def bench_scale(scale: str, seed: int) -> dict[str, object]:
    """Build one scale in a child process; return wall seconds, peak RSS (MB), orders and file size (MB)."""
    with tempfile.TemporaryDirectory(prefix=f"gne-bench-{scale}-") as directory:
        path = Path(directory) / "gne.duckdb"
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-c", BUILD_SNIPPET, str(path), scale, str(seed)],
            stdout=subprocess.PIPE,
            text=True,
        )
        _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage, unlike RUSAGE_CHILDREN
        seconds = time.perf_counter() - started
        exit_code = os.waitstatus_to_exitcode(status)
        output = child.stdout.read().strip()
        child.stdout.close()
        if exit_code != 0:
            raise SystemExit(f"{scale} build failed with exit code {exit_code}")
        return {
            "scale": scale,
            "seconds": seconds,
            "peak_rss_mb": usage.ru_maxrss / 1024,
            "orders": int(output.splitlines()[-1]),
            "file_mb": path.stat().st_size / 2**20,
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scales", default="small,medium", help="comma list of scales (small, medium, large)"
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    header = f"{'scale':<8} {'orders':>12} {'seconds':>9} {'peak RSS MB':>12} {'file MB':>9}"
    print(f"{header}  (cpus: {os.cpu_count()})")
    for scale in args.scales.split(","):
        result = bench_scale(scale.strip(), args.seed)
        print(
            f"{result['scale']:<8} {result['orders']:>12,} {result['seconds']:>9.1f} "
            f"{result['peak_rss_mb']:>12,.0f} {result['file_mb']:>9,.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
