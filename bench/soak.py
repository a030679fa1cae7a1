"""Soak: one small plan run N times back to back by the real `gne run --force`, the parent killed (SIGKILL or SIGTERM,
the parent alone, as a scheduler does) at a random moment in some of the runs. After each run it checks that:

- every page the index links opens (a complete HTML page; notebooks are complete JSON), and every link resolves;
- no process of the run remains (its workers and kernels, seen while it ran) 5 s after it ended;
- no file changed except those the run may rewrite (its report slots, runs.json, index, digests and findings,
  the lock note, the aggregate store), and no file that was there is gone (other than temporaries and the lock
  note) — "files lost" must be 0.

    .venv/bin/python bench/soak.py                 # 20 runs, 2 templates × 2 markets, about 40 % killed
    .venv/bin/python bench/soak.py --runs 6 --seed 3 --kill-share 0.5

The warehouse is $GNE_WAREHOUSE, else build/test/gne-small-seed7.duckdb, else a small one built in a temporary
directory. The first run is never killed; a kill comes at a random moment within the time the last whole run took.
Exit status 1 if any check failed.
"""

import argparse
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SMALL_WAREHOUSE = REPO / "build" / "test" / "gne-small-seed7.duckdb"
TEMPLATES = ("weekly_scorecard", "seller_risk")
MARKETS = ("US", "GB")
GRACE_SECONDS = 5.0
# a stopped run exits 128 + N (or -N if the signal came before `gne run` set its handlers); 0 if it ended first
EXPECTED_STATUS = {None: (0,), signal.SIGKILL: (-signal.SIGKILL, 0),
                   signal.SIGTERM: (128 + signal.SIGTERM, -signal.SIGTERM, 0)}
REWRITABLE_TOP = {"runs.json", "index.html", ".gne-run.lock", ".gne-run.lock.json"}


class Links(HTMLParser):
    """The hrefs of a page; `complete` once `</html>` is seen."""

    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.complete = False

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href and not href.startswith(("#", "http://", "https://", "mailto:")):
            self.hrefs.append(href)

    def handle_endtag(self, tag):
        self.complete |= tag == "html"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="runs back to back (default 20)")
    parser.add_argument("--kill-share", type=float, default=0.4, help="share of runs killed (default 0.4)")
    parser.add_argument("--workers", type=int, default=2, help="gne run --workers (default 2)")
    parser.add_argument("--seed", type=int, default=7, help="random seed for which runs are killed, when and how")
    args = parser.parse_args()
    chance = random.Random(args.seed)
    totals = {"runs": 0, "kills": 0, "SIGKILL": 0, "SIGTERM": 0, "reports verified": 0, "links checked": 0,
              "files lost": 0, "unexpected changes": 0, "broken": 0, "orphans": 0, "failed runs": 0}
    with tempfile.TemporaryDirectory(prefix="gne-soak-") as scratch:
        work = Path(scratch)
        env = {**os.environ, "GNE_WAREHOUSE": str(_warehouse(work))}
        plan = work / "plan.yaml"
        plan.write_text(f"templates_dir: {REPO / 'notebooks'}\nmarkets: [{', '.join(MARKETS)}]\nweeks: latest\n"
                        "templates:\n" + "".join(f"  {name}: {{}}\n" for name in TEMPLATES))
        reports = work / "reports"
        window = None
        print(f"{args.runs} runs of {' + '.join(TEMPLATES)} × {', '.join(MARKETS)}; {args.workers} workers; "
              f"warehouse {env['GNE_WAREHOUSE']}")
        for number in range(1, args.runs + 1):
            kill = None
            if window is not None and chance.random() < args.kill_share:
                kill = (chance.choice((signal.SIGKILL, signal.SIGTERM)), chance.uniform(0.5, window))
            before = _snapshot(reports)
            started = time.monotonic()
            status, seen, sent = _run(work, plan, reports, args.workers, env, kill)
            seconds = time.monotonic() - started
            if kill is None and status == 0:  # kills fall inside the last whole run's time
                window = 0.9 * seconds
            orphans = _survivors(seen)
            report = _verify(reports, before)
            totals["runs"] += 1
            if sent:
                totals["kills"] += 1
                totals[sent.name] += 1
            totals["failed runs"] += status not in EXPECTED_STATUS[sent]
            totals["orphans"] += len(orphans)
            for key in ("reports verified", "links checked", "files lost", "unexpected changes", "broken"):
                totals[key] += len(report[key]) if isinstance(report[key], list) else report[key]
            how = f"{sent.name} after {kill[1]:.1f} s" if sent else "not killed"
            print(f"run {number:>2}: {how:<22} exit {status:>4}  {seconds:6.1f} s  {len(seen)} processes  "
                  f"{report['reports verified']} reports, {report['links checked']} links, "
                  f"lost {len(report['files lost'])}, changed {len(report['unexpected changes'])}, "
                  f"broken {len(report['broken'])}, orphans {len(orphans)}", flush=True)
            for key in ("files lost", "unexpected changes", "broken"):
                for path in report[key][:5]:
                    print(f"         {key}: {path}")
    print("\n" + ", ".join(f"{key}: {value}" for key, value in totals.items()))
    bad = sum(totals[key] for key in ("files lost", "unexpected changes", "broken", "orphans", "failed runs"))
    return 1 if bad else 0


def _warehouse(work: Path) -> Path:
    for candidate in (os.environ.get("GNE_WAREHOUSE"), SMALL_WAREHOUSE):
        if candidate and Path(candidate).is_file():
            return Path(candidate).resolve()
    from gnelib.warehouse import build_warehouse

    path = work / "gne-small.duckdb"
    build_warehouse(path, scale="small", seed=7)
    return path


def _run(work: Path, plan: Path, reports: Path, workers: int, env: dict, kill) -> tuple[int, set[int], object]:
    """One `gne run`; kill its parent after the drawn delay if it still runs. Returns (exit status, every process
    seen below it while it ran, the signal actually sent or None)."""
    from gnelib.reporting.lifecycle import descendants

    command = [sys.executable, "-m", "gnelib.cli", "run", str(plan), "--force", "--workers", str(workers),
               "--reports-dir", str(reports)]
    with open(work / "last-run.out", "w") as output:
        process = subprocess.Popen(command, cwd=work, env=env, stdout=output, stderr=output)
    seen: set[int] = set()
    sent = None
    deadline = time.monotonic() + kill[1] if kill else None
    while process.poll() is None:
        seen.update(descendants(process.pid))
        if deadline is not None and time.monotonic() >= deadline:
            process.send_signal(kill[0])
            sent, deadline = kill[0], None
        time.sleep(0.05)
    return process.returncode, seen, sent


def _survivors(pids: set[int]) -> list[int]:
    """The processes of `pids` still running GRACE_SECONDS after the run ended."""
    from gnelib.reporting.lifecycle import is_running, wait_until_gone

    wait_until_gone(list(pids), GRACE_SECONDS)
    alive = [pid for pid in pids if is_running(pid)]
    for pid in alive:  # leave the machine clean for the next run
        os.kill(pid, signal.SIGKILL)
    return alive


def _snapshot(reports: Path) -> dict[str, str]:
    if not reports.is_dir():
        return {}
    return {path.relative_to(reports).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in reports.rglob("*") if path.is_file()}


def _rewritable(name: str) -> bool:
    """Files a run of the plan may write, replace or remove."""
    from gnelib.atomic import TEMPORARY_NAME

    parts = name.split("/")
    if name in REWRITABLE_TOP or parts[0] == ".aggregates" or TEMPORARY_NAME.match(parts[-1]):
        return True
    if len(parts) == 2:  # <week>/digest.html, digest.md, findings.json
        return True
    return len(parts) == 3 and parts[1] in MARKETS and parts[2].split(".")[0] in TEMPLATES


def _verify(reports: Path, before: dict[str, str]) -> dict:
    """Open every page the index links, resolve every link, and compare the files with `before`."""
    after = _snapshot(reports)
    lost = [name for name in before if name not in after and not _removable(name)]
    changed = [name for name in before if name in after and after[name] != before[name] and not _rewritable(name)]
    broken, verified, checked = [], 0, 0
    pages, done = [reports / "index.html"], set()
    while pages:
        page = pages.pop()
        if page in done:
            continue
        done.add(page)
        parser = Links()
        try:
            text = page.read_text(encoding="utf-8")
            parser.feed(text)
        except (OSError, UnicodeDecodeError, AssertionError) as error:
            broken.append(f"{page.relative_to(reports)} ({error})")
            continue
        if not text.strip() or not parser.complete:
            broken.append(f"{page.relative_to(reports)} (empty or cut short)")
            continue
        verified += page.name != "index.html"
        for href in parser.hrefs:
            checked += 1
            target = (page.parent / href).resolve()
            if not target.is_file():
                broken.append(f"{page.relative_to(reports)} → {href} (missing)")
            elif target.suffix == ".html":
                pages.append(target)
            elif target.suffix in (".json", ".ipynb"):
                try:
                    json.loads(target.read_text(encoding="utf-8"))
                except ValueError:
                    broken.append(f"{target.relative_to(reports)} (incomplete JSON)")
    return {"reports verified": verified, "links checked": checked, "files lost": lost,
            "unexpected changes": changed, "broken": broken}


def _removable(name: str) -> bool:
    """Files a run may delete: the lock note, temporaries, a slot's `.failed.*` files once it succeeds, and the
    aggregate store's older folders and spill files."""
    from gnelib.atomic import TEMPORARY_NAME

    leaf = name.rsplit("/", 1)[-1]
    return (name == ".gne-run.lock.json" or bool(TEMPORARY_NAME.match(leaf)) or ".failed." in leaf
            or name.startswith(".aggregates/"))


if __name__ == "__main__":
    sys.exit(main())
