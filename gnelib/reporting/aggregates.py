"""Before the kernels start: compute once what the batch's scans and goal tables will ask for (the batch aggregate
store) and the weekly scans themselves (kept in the store, read by every kernel).

The store folder is `<reports>/.aggregates/<data version>-<code hash>`: a later batch on the same data, catalog
and code reuses it; anything else gets a new folder (older folders are removed, the newest few kept). The code
hash covers the modules the stored frames and scans come from (`STORE_CODE` and what they import), so editing a
view or a template keeps the store.
"""

import dataclasses
import shutil
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from gnelib.analysis.detection import scan, scan_requests
from gnelib.atomic import move_aside
from gnelib.code_version import code_hash
from gnelib.goals.progress import goal_requests
from gnelib.metrics.store import MANIFEST, STORE_ENV, AggregateStore, Request, fill
from gnelib.reporting.environment import environment_set
from gnelib.reporting.lifecycle import raise_if_stopped
from gnelib.warehouse import connect

STORE_FOLDER = ".aggregates"
KEEP_STORES = 3
STORE_CODE = ("gnelib.metrics", "gnelib.warehouse", "gnelib.analysis.detection", "gnelib.goals.progress")
"""The modules that compute what the store holds (frames, weekly scans, goal frames)."""


def prepare_store(reports_dir: Path, data_version: str, weeks: Iterable[str], environment: dict[str, str],
                  compared: Iterable[str] = ()) -> dict:
    """Fill (or reuse) the store for the scans and goals of `weeks` (and the frames of the `compared` weeks, scanned
    later for the digest's comparison), reading the warehouse as the kernels will (`environment`); run the scans of
    `weeks`; return the environment entries that point kernels at it. Prints one line on stderr. A failure is
    reported and skipped: the kernels then read the warehouse directly, with the same numbers, only slower."""
    scanned = set(weeks)
    weeks = scanned | set(compared)
    folder = store_folder(reports_dir, data_version)
    started = time.perf_counter()
    try:
        with environment_set({**environment, STORE_ENV: str(folder)}), connect() as conn:
            folder.mkdir(parents=True, exist_ok=True)
            requests = merged([*(request for week in sorted(weeks) for request in scan_requests(conn, week)),
                               *(request for week in sorted(scanned) for request in goal_requests(week))])
            computed = fill(conn, readable_store(folder), requests)
            for week in sorted(set(scanned)):
                scan(conn, week)
    except Exception as error:  # noqa: BLE001 — the store only saves time; the runs still read the warehouse
        raise_if_stopped()
        print(f"aggregates: not prepared ({type(error).__name__}: {error}); reports read the warehouse directly",
              file=sys.stderr, flush=True)
        return {}
    reused = len(set(requests)) - computed
    print(f"aggregates: {computed} metric frames computed, {reused} reused, weekly scans ready "
          f"({time.perf_counter() - started:.1f} s)", file=sys.stderr, flush=True)
    _prune(folder.parent, keep=folder)
    return {STORE_ENV: str(folder)}


def store_folder(reports_dir: Path, data_version: str) -> Path:
    """Where the store for this data version and the code of `STORE_CODE` lives."""
    return reports_dir / STORE_FOLDER / f"{data_version}-{code_hash(*STORE_CODE)}"


def merged(requests: Iterable[Request]) -> list[Request]:
    """One request per metric, level, horizon and period, spanning every week the given ones span (a frame over
    the union answers each of them, so neighbouring weeks' scans share one warehouse pass)."""
    spans: dict[tuple, Request] = {}
    for request in requests:
        key = (request.metric, request.level, request.horizon_days, request.period)
        known = spans.get(key, request)
        spans[key] = dataclasses.replace(known, first=min(known.first, request.first),
                                         last=max(known.last, request.last))
    return list(spans.values())


def readable_store(folder: Path) -> AggregateStore:
    """The store in `folder`; an unreadable manifest is moved aside (with a warning) and the store refilled."""
    store = AggregateStore(folder)
    try:
        _ = store.requests
    except (ValueError, KeyError, TypeError):
        aside = move_aside(folder / MANIFEST)
        print(f"warning: {STORE_FOLDER}/{folder.name}/{MANIFEST} was corrupt; moved to {aside.name}; the store is "
              "computed again", file=sys.stderr, flush=True)
        store = AggregateStore(folder)
    return store


def _prune(parent: Path, keep: Path) -> None:
    stores = sorted((p for p in parent.iterdir() if p.is_dir() and p != keep), key=lambda p: p.stat().st_mtime)
    for old in stores[: max(0, len(stores) - (KEEP_STORES - 1))]:
        shutil.rmtree(old, ignore_errors=True)
