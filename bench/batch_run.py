"""Batch speed: the naive loop (papermill CLI, then `jupyter nbconvert --to html --no-input` CLI, per run)
against `gne run` with warm kernels and with fresh kernels, on the same N runs of a DuckDB-querying notebook.

    .venv/bin/python bench/batch_run.py              # 5 markets × 2 weeks of the warehouse fixture notebook
    .venv/bin/python bench/batch_run.py --markets 8 --weeks 1 --notebook notebooks/weekly_scorecard.ipynb \
        --notebook notebooks/metric_deep_dive.ipynb --notebook notebooks/seller_risk.ipynb   # the 24-run batch

Each notebook must declare `market` and `week`. Runs are the first M markets × the last W complete weeks of the
warehouse ($GNE_WAREHOUSE, else data/gne.duckdb, else a small one built in a temporary directory); `gne run`
gets them as one plan. Prints wall times and ratios.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DEFAULT_NOTEBOOK = REPO / "tests" / "reporting" / "fixtures" / "warehouse_summary.ipynb"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--markets", type=int, default=5, help="number of markets (default 5)")
    parser.add_argument("--weeks", type=int, default=2, help="number of weeks, newest first (default 2)")
    parser.add_argument(
        "--notebook", type=Path, action="append", help="template to run (repeat for several; default: a fixture)"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="gne run --workers")
    parser.add_argument("--skip-naive", action="store_true", help="only time gne run")
    args = parser.parse_args()
    notebooks = args.notebook or [DEFAULT_NOTEBOOK]

    with tempfile.TemporaryDirectory(prefix="gne-bench-") as scratch:
        work = Path(scratch)
        warehouse = _warehouse(work)
        env = {**os.environ, "GNE_WAREHOUSE": str(warehouse)}
        (work / "notebooks").mkdir()
        templates = [Path(shutil.copy(notebook, work / "notebooks" / notebook.name)) for notebook in notebooks]
        markets, weeks = _grid(warehouse, args.markets, args.weeks)
        runs = [(template, market, week) for template in templates for week in weeks for market in markets]
        plan = work / "plan.yaml"
        plan.write_text(
            f"markets: [{', '.join(markets)}]\nweeks: [{', '.join(weeks)}]\ntemplates:\n"
            + "".join(f"  {template.stem}: {{}}\n" for template in templates)
        )
        print(
            f"{len(runs)} runs of {', '.join(t.name for t in templates)}; {args.workers} workers; "
            f"{os.cpu_count()} CPUs; warehouse {warehouse}"
        )

        results: dict[str, float] = {}
        if not args.skip_naive:
            results["naive loop (papermill CLI + nbconvert CLI)"] = _naive(work, runs, env)
        for isolation in ("fresh", "warm"):
            results[f"gne run --isolation {isolation}"] = _gne(
                work, plan, isolation, args.workers, env, len(runs)
            )

        baseline = next(iter(results.values()))
        print(f"\n{'approach':<46}{'wall s':>9}{'s/run':>8}{'speed-up':>10}")
        for name, seconds in results.items():
            print(f"{name:<46}{seconds:>9.1f}{seconds / len(runs):>8.2f}{baseline / seconds:>9.1f}×")


def _warehouse(work: Path) -> Path:
    for candidate in (os.environ.get("GNE_WAREHOUSE"), REPO / "data" / "gne.duckdb"):
        if candidate and Path(candidate).is_file():
            return Path(candidate).resolve()
    from gnelib.warehouse import build_warehouse

    path = work / "gne.duckdb"
    build_warehouse(path, scale="small")
    return path


def _grid(warehouse: Path, markets: int, weeks: int) -> tuple[list[str], list[str]]:
    from gnelib.periods import shift_week
    from gnelib.reporting.facts import load_facts

    facts = load_facts(warehouse)
    return list(facts.markets[:markets]), [
        shift_week(facts.last_complete_week, -offset) for offset in range(weeks)
    ]


def _naive(work: Path, runs: list[tuple[Path, str, str]], env: dict) -> float:
    out = work / "naive"
    out.mkdir()
    started = time.perf_counter()
    for template, market, week in runs:
        executed = out / f"{template.stem}-{market}-{week}.ipynb"
        _check(
            [
                BIN / "papermill",
                template,
                executed,
                "-p",
                "market",
                market,
                "-p",
                "week",
                week,
                "-k",
                "python3",
                "--no-progress-bar",
            ],
            work,
            env,
        )
        _check([BIN / "jupyter", "nbconvert", "--to", "html", "--no-input", executed], work, env)
    seconds = time.perf_counter() - started
    assert len(list(out.glob("*.html"))) == len(runs)
    return seconds


def _gne(work: Path, plan: Path, isolation: str, workers: int, env: dict, expected: int) -> float:
    reports = work / f"reports-{isolation}"
    started = time.perf_counter()
    _check(
        [
            BIN / "gne",
            "run",
            plan,
            "--isolation",
            isolation,
            "--workers",
            str(workers),
            "--force",
            "--reports-dir",
            reports,
        ],
        work,
        env,
    )
    seconds = time.perf_counter() - started
    assert len(list(reports.glob("*/*/*.html"))) == expected, "a report is missing"
    return seconds


def _check(command: list, cwd: Path, env: dict) -> None:
    result = subprocess.run([str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(map(str, command))}\n{result.stdout}\n{result.stderr}")


if __name__ == "__main__":
    main()
