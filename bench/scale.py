"""Scale: the weekly plan on a big warehouse — wall time and the peak memory of the largest process.

    .venv/bin/python bench/scale.py --warehouse /tmp/gne-large.duckdb            # an existing warehouse
    .venv/bin/python bench/scale.py --scale large                                  # build one first (~2-3 min)
    .venv/bin/python bench/scale.py --warehouse W --plan parameters/smoke.yaml --workers 2

Runs `gne run PLAN --force` into a temporary reports folder (so the batch aggregate store is filled from
scratch), sampling every process of the run (the `gne` parent, pool workers, kernels) from /proc twice a second.
Then runs one deep dive on its own (the store already filled, as an analyst re-running one report would).
Prints wall times, the number of reports, and the peak resident memory of the largest single process and of the
whole process tree.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GNE = Path(sys.executable).parent / "gne"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, help="an existing DuckDB warehouse (default: build --scale)")
    parser.add_argument("--scale", choices=["small", "medium", "large"], default="large")
    parser.add_argument("--plan", type=Path, default=REPO / "parameters" / "weekly.yaml")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--market", default="ID", help="market of the single deep dive")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gne-scale-") as scratch:
        work = Path(scratch)
        warehouse = args.warehouse or _build(work / f"gne-{args.scale}.duckdb", args.scale)
        env = {**os.environ, "GNE_WAREHOUSE": str(Path(warehouse).resolve())}
        reports = work / "reports"
        batch = _measure([str(GNE), "run", str(args.plan), "--force", "--workers", str(args.workers),
                          "--reports-dir", str(reports)], env)
        runs = sum(1 for _ in reports.glob("*/*/*.html"))
        dive = _measure([str(GNE), "run", str(REPO / "notebooks" / "metric_deep_dive.ipynb"), "-p", "market",
                         args.market, "-p", "metric", "refund_rate", "--force", "--reports-dir", str(reports)], env)
    print(f"warehouse {warehouse}; plan {args.plan.name}; {args.workers} workers; {os.cpu_count()} CPUs")
    print(f"{'run':<34}{'wall s':>9}{'largest process':>18}{'whole tree':>13}{'exit':>6}")
    for name, result in ((f"weekly plan ({runs} reports)", batch), ("one deep dive (store warm)", dive)):
        wall, largest, tree, code = result
        print(f"{name:<34}{wall:>9.1f}{largest / 2**20:>15.0f} MB{tree / 2**20:>10.0f} MB{code:>6}")


def _build(path: Path, scale: str) -> Path:
    started = time.perf_counter()
    subprocess.run([str(GNE), "warehouse", "build", "--scale", scale, "--path", str(path)], check=True)
    print(f"built {scale} warehouse in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return path


def _measure(command: list[str], env: dict) -> tuple[float, int, int, int]:
    """(wall seconds, peak RSS of the largest process, peak RSS of the tree, exit code) of `command`."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    largest = tree = 0
    while process.poll() is None:
        sizes = [_rss(pid) for pid in _descendants(process.pid)]
        largest, tree = max(largest, max(sizes, default=0)), max(tree, sum(sizes))
        time.sleep(0.5)
    return time.perf_counter() - started, largest, tree, process.returncode


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    main()
