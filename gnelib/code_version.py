"""A hash of gnelib's own files (code, catalog, templates), so a code change is a new version without a bump."""

import hashlib
from functools import lru_cache
from pathlib import Path

SUFFIXES = (".py", ".yaml", ".j2", ".css", ".html", ".json")


@lru_cache(maxsize=1)
def code_hash() -> str:
    """The first 12 hex digits of a SHA-256 over gnelib's files (sorted paths and contents)."""
    root = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in SUFFIXES and "__pycache__" not in p.parts):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
