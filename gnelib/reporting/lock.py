"""One `gne run` at a time per reports directory (they share the manifest and the index)."""

import datetime as dt
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from gnelib.reporting.errors import LockBusy

LOCK_NAME = ".gne-run.lock"
HOLDER_NAME = ".gne-run.lock.json"


@contextmanager
def run_lock(reports_dir: Path, what: str, wait: bool = False) -> Iterator[None]:
    """Hold the reports directory's lock; without `wait`, raise LockBusy at once if another run holds it."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(reports_dir / LOCK_NAME)
    holder = reports_dir / HOLDER_NAME
    try:
        lock.acquire(timeout=-1 if wait else 0)
    except Timeout:
        raise LockBusy(
            f"Another `gne run` is writing to {reports_dir} ({_describe(holder)}). "
            "Wait for it to finish, pass "
            f"--wait to queue behind it, or use another --reports-dir."
        ) from None
    try:
        holder.write_text(
            json.dumps(
                {"pid": os.getpid(), "run": what, "since": dt.datetime.now().isoformat(timespec="seconds")}
            )
        )
        yield
    finally:
        holder.unlink(missing_ok=True)
        lock.release()


def _describe(holder: Path) -> str:
    try:
        info = json.loads(holder.read_text())
    except (OSError, ValueError):
        return "holder unknown"
    return f"pid {info.get('pid')}, running {info.get('run')} since {info.get('since')}"
