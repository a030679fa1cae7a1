"""Write files so readers see the old content or the new, never a half-written file."""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def temporary_beside(target: Path) -> Path:
    """A new empty hidden file in `target`'s directory (`.<name>.<random>.tmp<suffix>`), for `commit`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=f".tmp{target.suffix}", dir=target.parent
    )
    os.close(handle)
    return Path(name)


def commit(temporary: Path, target: Path) -> None:
    """fsync `temporary`, rename it onto `target` (atomic on POSIX), and fsync the directory."""
    with open(temporary, "rb+") as written:
        os.fsync(written.fileno())
    os.chmod(temporary, 0o644)
    os.replace(temporary, target)
    descriptor = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; if the block succeeds, commit it onto `target`.

    If the block raises, `target` is untouched and the temporary file is removed. After a hard kill the
    hidden temporary file may remain; nothing reads it.
    """
    temporary = temporary_beside(target)
    try:
        yield temporary
        commit(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def atomic_write_text(target: Path, text: str) -> None:
    """Write `text` (UTF-8) to `target` atomically."""
    with atomic_path(target) as temporary:
        temporary.write_text(text, encoding="utf-8")
