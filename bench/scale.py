"""Scale: the weekly plan on a big warehouse — wall time and the peak memory of the largest process.

    .venv/bin/python bench/scale.py --warehouse /tmp/gne-large.duckdb            # an existing warehouse
    .venv/bin/python bench/scale.py --scale large                                  # build one first (~2-3 min)
    .venv/bin/python bench/scale.py --warehouse W --plan parameters/smoke.yaml --workers 2

Runs `gne run PLAN --force` into a temporary reports folder (so the batch aggregate store is filled from
scratch), sampling every process of the run (the `gne` parent, pool workers, kernels) from /proc twice a second.
Then runs one deep dive on its own (the store already filled, as an analyst re-running one report would).
Prints wall times, the number of reports, and the peak resident memory of the largest single process and of the
whole process tree, and names the process that peaked (its command line, and how much of its peak was anonymous
memory rather than mapped files).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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
    parser.add_argument("--keep", type=Path,
                        help="keep the reports and each run's output (run-*.log) in this directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gne-scale-") as scratch:
        work = args.keep or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        warehouse = args.warehouse or _build(work / f"gne-{args.scale}.duckdb", args.scale)
        env = {**os.environ, "GNE_WAREHOUSE": str(Path(warehouse).resolve())}
        reports = work / "reports"
        batch = _measure([str(GNE), "run", str(args.plan), "--force", "--workers", str(args.workers),
                          "--reports-dir", str(reports)], env, work / "run-plan.log")
        runs = sum(1 for _ in reports.glob("*/*/*.html"))
        dive = _measure([str(GNE), "run", str(REPO / "notebooks" / "metric_deep_dive.ipynb"), "-p", "market",
                         args.market, "-p", "metric", "refund_rate", "--force", "--reports-dir", str(reports)],
                        env, work / "run-deep-dive.log")
    print(f"warehouse {warehouse}; plan {args.plan.name}; {args.workers} workers; {os.cpu_count()} CPUs")
    print(f"{'run':<34}{'wall s':>9}{'largest process':>18}{'whole tree':>13}{'exit':>6}")
    for name, result in ((f"weekly plan ({runs} reports)", batch), ("one deep dive (store warm)", dive)):
        print(f"{name:<34}{result.wall:>9.1f}{result.largest / 2**20:>15.0f} MB{result.tree / 2**20:>10.0f} MB"
              f"{result.code:>6}")
    for name, result in (("weekly plan", batch), ("one deep dive", dive)):
        print(f"{name}: largest process {result.largest / 2**20:.0f} MB ({result.largest_anon / 2**20:.0f} MB "
              f"anonymous) at {result.largest_at:.0f} s: {result.largest_command}")


def _build(path: Path, scale: str) -> Path:
    started = time.perf_counter()
    subprocess.run([str(GNE), "warehouse", "build", "--scale", scale, "--path", str(path)], check=True)
    print(f"built {scale} warehouse in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return path


@dataclass
class Measured:
    """Wall time, exit code and peak memory of one command and its process tree."""

    wall: float = 0.0
    code: int = 0
    largest: int = 0
    largest_anon: int = 0
    largest_at: float = 0.0
    largest_command: str = ""
    tree: int = 0


def _measure(command: list[str], env: dict, log: Path) -> Measured:
    """Run `command` (its output to `log`), sampling the RSS of every process of its tree twice a second."""
    started = time.perf_counter()
    with log.open("w") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
        return _sample(process, started)


def _sample(process: subprocess.Popen, started: float) -> Measured:
    result = Measured()
    while process.poll() is None:
        sizes = {pid: _memory(pid) for pid in _descendants(process.pid)}
        result.tree = max(result.tree, sum(rss for rss, _ in sizes.values()))
        for pid, (rss, anon) in sizes.items():
            if rss > result.largest:
                result.largest, result.largest_anon = rss, anon
                result.largest_at = time.perf_counter() - started
                result.largest_command = _command_line(pid)
        time.sleep(0.5)
    result.wall, result.code = time.perf_counter() - started, process.returncode
    return result


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


def _memory(pid: int) -> tuple[int, int]:
    """(resident bytes, anonymous resident bytes) of `pid`; zeros once it has gone."""
    fields = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon"):
                fields[key] = int(value.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return fields.get("VmRSS", 0), fields.get("RssAnon", 0)


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()[:300]
    except OSError:
        return "?"


if __name__ == "__main__":
    main()
