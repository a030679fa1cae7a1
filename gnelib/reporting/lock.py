"""One `gne run` at a time per reports directory (they share the manifest and the index).

The lock is an exclusive `flock` on `reports/.gne-run.lock`, opened without following links. The pool's workers
are forked from the holder and inherit its descriptor, so the lock is held until the holder *and every worker*
have exited: a new run cannot start while a worker of a killed run is still writing. The kernels are started
with exec and do not inherit it (they die with their worker, see `lifecycle`). POSIX only (fcntl).
"""

import datetime as dt
import fcntl
import json
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gnelib.atomic import AtomicWriteError, atomic_write_text
from gnelib.reporting.errors import LockBusy, UnsafePath

LOCK_NAME = ".gne-run.lock"
HOLDER_NAME = ".gne-run.lock.json"
NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)


@contextmanager
def run_lock(reports_dir: Path, what: str, wait: bool = False) -> Iterator[None]:
    """Hold the reports directory's lock; without `wait`, raise LockBusy at once if another run holds it."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    holder = reports_dir / HOLDER_NAME
    descriptor = open_lock_file(reports_dir / LOCK_NAME)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockBusy(
                f"Another `gne run` is writing to {reports_dir} ({_describe(holder)}). "
                "Wait for it to finish, pass "
                f"--wait to queue behind it, or use another --reports-dir."
            ) from None
        _write_holder(holder, what)
        try:
            yield
        finally:
            holder.unlink(missing_ok=True)
    finally:
        os.close(descriptor)  # releases the lock once no forked worker holds a copy


def open_lock_file(path: Path) -> int:
    """Open (create) the lock file for flock, refusing a symbolic link or anything but a regular file."""
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | NO_FOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as error:
        if path.is_symlink():
            raise unsafe_link(path) from None
        raise UnsafePath(f"Cannot open the lock file {path}: {error.strerror}. Check the reports directory.") from None
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise UnsafePath(f"{path} is not a regular file: remove it and run again.")
    return descriptor


def unsafe_link(path: Path) -> UnsafePath:
    """The refusal for a symbolic link where gne run writes: what it points to and what to do."""
    return UnsafePath(
        f"{path} is a symbolic link (to {os.readlink(path)}): a write through it could land outside the reports "
        f"directory, so gne run refuses. Remove it (rm {path}) and run again."
    )


def _write_holder(holder: Path, what: str) -> None:
    """Note who holds the lock (for the busy message); best effort: a full disk does not stop the run."""
    note = {"pid": os.getpid(), "run": what, "since": dt.datetime.now().isoformat(timespec="seconds")}
    try:
        atomic_write_text(holder, json.dumps(note))
    except (OSError, AtomicWriteError):
        pass


def _describe(holder: Path) -> str:
    try:
        descriptor = os.open(holder, os.O_RDONLY | NO_FOLLOW)
        with os.fdopen(descriptor, "rb") as note:
            info = json.loads(note.read(4096))
    except (OSError, ValueError):
        return "holder unknown"
    return f"pid {info.get('pid')}, running {info.get('run')} since {info.get('since')}"
