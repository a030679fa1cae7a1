"""Insert lines into a project file (a plan, a catalog file, a Python list) and keep the edit only if it loads."""

from collections.abc import Callable
from pathlib import Path

from gnelib.errors import GneError


class AuthoringError(GneError):
    """A scaffold cannot be written: the message names the file and what to do."""


def insert_lines(path: Path, index: int, lines: list[str], check: Callable[[], object]) -> None:
    """Insert `lines` before line `index` (0-based) of `path`, then call `check`; on any error put the file back
    as it was and raise AuthoringError naming it."""
    original = path.read_text()
    rows = original.splitlines(keepends=True)
    if rows and not rows[-1].endswith("\n"):
        rows[-1] += "\n"
    path.write_text("".join(rows[:index] + [line + "\n" for line in lines] + rows[index:]))
    try:
        check()
    except Exception as error:
        path.write_text(original)
        raise AuthoringError(
            f"{path}: adding {lines[-1].strip()!r} broke the file ({error}); left it unchanged: add the entry by hand."
        ) from None
