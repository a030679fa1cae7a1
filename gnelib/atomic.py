"""Write files so readers see the old content or the new, never a half-written file.

Every file a run leaves in the reports directory (executed notebook, log, HTML pages, runs.json, index.html, the
lock's holder note, the aggregate store's frames and manifest) is written the same way: to a new hidden temporary
file beside the target (created with O_EXCL, so a symbolic link planted there is never followed), checked (the size
written; complete JSON for `.json`/`.ipynb`, a non-empty page for `.html`), fsynced, and only then renamed onto the
target (a link at the target is replaced, not followed), then the directory is fsynced. A failed write leaves the
previous file and raises `DiskFull` when the filesystem is full, `IncompleteWrite` when the check fails. A hard kill
can leave a temporary file behind: `remove_temporaries` sweeps them (only names of this module's pattern). A state
file that cannot be read is moved aside by `move_aside`, never deleted.
"""

import datetime as dt
import errno
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gnelib.errors import GneError

NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
TEMPORARY_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp(\.[^.]+)?$")  # `temporary_beside`'s names (mkstemp: 8)


class AtomicWriteError(GneError):
    """A file was not replaced; the previous one is kept."""


class DiskFull(AtomicWriteError):
    """A report file could not be written for lack of space (or a file size limit); the previous file is kept."""


class IncompleteWrite(AtomicWriteError):
    """A temporary file failed its check (truncated JSON, empty page); it was not renamed into place."""


def is_no_space(error: BaseException) -> bool:
    """True for the OSErrors of a full disk, an exhausted quota or a file size limit."""
    return isinstance(error, DiskFull) or (isinstance(error, OSError) and error.errno in NO_SPACE_ERRNOS)


def disk_full(target: Path, error: OSError | None = None) -> DiskFull:
    """The one message a full disk produces: which file, which folder, what was kept, what to do."""
    reason = os.strerror(error.errno) if error is not None and error.errno else "no space left"
    return DiskFull(
        f"disk full: could not write {Path(target).name} in {Path(target).parent} ({reason}); the previous file is "
        "kept. Free space on that filesystem and run again."
    )


def temporary_beside(target: Path) -> Path:
    """A new empty hidden file in `target`'s directory (`.<name>.<random>.tmp<suffix>`), for `commit`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".tmp{target.suffix}", dir=target.parent)
    os.close(handle)
    return Path(name)


def check_complete(path: Path, target: Path) -> None:
    """Raise IncompleteWrite unless `path` holds a complete file of `target`'s kind."""
    if target.suffix in (".json", ".ipynb"):
        try:
            json.loads(path.read_bytes())
        except ValueError as error:
            raise IncompleteWrite(
                f"{target.name} was not written completely ({error}); the previous file is kept."
            ) from None
    elif target.suffix == ".html" and path.stat().st_size == 0:
        raise IncompleteWrite(f"{target.name} came out empty; the previous file is kept.")


def commit(temporary: Path, target: Path) -> None:
    """Check `temporary`, fsync it, rename it onto `target` (atomic on POSIX), and fsync the directory."""
    try:
        check_complete(temporary, target)
        with open(temporary, "rb+") as written:
            os.fsync(written.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
        _fsync_directory(target.parent)
    except OSError as error:
        raise (disk_full(target, error) if is_no_space(error) else error) from None


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; if the block succeeds, commit it onto `target`.

    If the block raises, `target` is untouched and the temporary file is removed (a full disk is raised as
    DiskFull). After a hard kill the hidden temporary file may remain; nothing reads it.
    """
    temporary = temporary_beside(target)
    try:
        try:
            yield temporary
        except OSError as error:
            raise (disk_full(target, error) if is_no_space(error) else error) from None
        commit(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def write_atomic(target: Path, data: bytes) -> None:
    """Write `data` to `target` atomically (see the module docstring); DiskFull if it does not fit."""
    try:
        with atomic_path(target) as temporary:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0))
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(descriptor, view):]
                if os.fstat(descriptor).st_size != len(data):
                    raise IncompleteWrite(f"{target.name}: short write; the previous file is kept.")
            finally:
                os.close(descriptor)
    except OSError as error:
        raise (disk_full(target, error) if is_no_space(error) else error) from None


def atomic_write_text(target: Path, text: str) -> None:
    """Write `text` (UTF-8) to `target` atomically."""
    write_atomic(target, text.encode("utf-8"))


def remove_temporaries(root: Path) -> list[Path]:
    """Delete the temporary files `temporary_beside` left under `root` (a killed writer's); returns them.

    Call it only while no writer can be at work there (`gne run` holds the reports directory's lock)."""
    removed = []
    for folder, _, files in os.walk(root):
        for name in files:
            if TEMPORARY_NAME.match(name):
                path = Path(folder, name)
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def move_aside(path: Path) -> Path:
    """Rename an unreadable state file to `<name>.corrupt-<UTC time>` beside it (kept for a post-mortem)."""
    aside = path.with_name(f"{path.name}.corrupt-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}")
    os.replace(path, aside)
    return aside


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
