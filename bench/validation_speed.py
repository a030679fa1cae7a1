"""How fast `gne run` rejects a bad parameter (nothing runs: exit 2), and which imports it pays for.

Runs `gne run notebooks/metric_deep_dive.ipynb -p market ZZ` several times in a new process each time and prints
the median wall time and CPU time (user + system: steadier than wall time on a busy machine), then the slowest
imports of one run (`python -X importtime`, cumulative). Target: under 1.5 s.

    python bench/validation_speed.py [--runs 5] [--warehouse build/test/gne-small-seed7.duckdb] [--top 12]
"""

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMAND = ["run", "notebooks/metric_deep_dive.ipynb", "-p", "market", "ZZ"]
GNE = "from gnelib.cli import app; app(prog_name='gne')"
IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)$")


def timed_run(environment: dict[str, str], extra: list[str] | None = None) -> tuple[float, float, str]:
    """(wall s, CPU s, stderr) of one `gne run` with the bad parameter; fails unless it exits 2."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *(extra or []), "-c", GNE, *COMMAND], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 2 or "'ZZ'" not in done.stderr:
        raise SystemExit(f"expected exit 2 naming 'ZZ', got {done.returncode}:\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stderr


def slowest_imports(stderr: str, top: int) -> list[tuple[float, str]]:
    """The `top` imports with the largest cumulative time (s), outermost first among equals."""
    rows = []
    for line in stderr.splitlines():
        match = IMPORT_LINE.match(line)
        if match:
            rows.append((int(match.group(1)) / 1e6, f"{match.group(2)}{match.group(3)}"))
    return sorted(rows, key=lambda row: -row[0])[:top]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--warehouse", default=str(ROOT / "build/test/gne-small-seed7.duckdb"))
    options = parser.parse_args()
    if not Path(options.warehouse).is_file():
        print(f"No warehouse at {options.warehouse}: `make warehouse` or pass --warehouse.", file=sys.stderr)
        return 2
    environment = {**os.environ, "GNE_WAREHOUSE": options.warehouse}
    timed_run(environment)  # warm the file cache
    walls, cpus = zip(*(timed_run(environment)[:2] for _ in range(options.runs)), strict=True)
    print(f"gne {' '.join(COMMAND)}  ->  exit 2 ({options.runs} runs)")
    print(
        f"median wall {statistics.median(walls):.2f} s (min {min(walls):.2f}), "
        f"median CPU {statistics.median(cpus):.2f} s (min {min(cpus):.2f}); target < 1.5 s"
    )
    _, _, stderr = timed_run(environment, ["-X", "importtime"])
    total = sum(seconds for seconds, name in slowest_imports(stderr, 10**6) if not name.startswith(" "))
    print(f"imports: {total:.2f} s in all (one run, -X importtime); slowest (cumulative s):")
    for seconds, name in slowest_imports(stderr, options.top):
        print(f"  {seconds:6.2f}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
