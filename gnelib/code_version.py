"""A hash of gnelib's own files (code, catalog, templates), so a code change is a new version without a bump.

Given module names, the hash covers only the gnelib modules they import — directly or through each other, by
any import statement (also one inside a function) — and the data files of their packages: what a cached result
computed by those modules depends on. The batch aggregate store is keyed so, and survives edits to the views.
"""

import ast
import hashlib
from functools import lru_cache
from pathlib import Path

SUFFIXES = (".py", ".yaml", ".j2", ".css", ".html", ".json")
PACKAGE = Path(__file__).parent


@lru_cache(maxsize=8)
def code_hash(*modules: str, root: Path = PACKAGE) -> str:
    """The first 12 hex digits of a SHA-256 over the sorted paths and contents of gnelib's files (`root`: the
    gnelib folder), or, given `modules` (e.g. "gnelib.metrics"), of the files those modules depend on."""
    files = _dependencies(modules, root) if modules else _files(root)
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _dependencies(modules: tuple[str, ...], root: Path) -> set[Path]:
    """The files of `modules` and of every gnelib module they import, transitively; the data files of each
    sub-package among them (a package's catalog YAML); gnelib's own __init__."""
    files, seen, todo = {root / "__init__.py"}, set(), list(modules)
    while todo:
        name = todo.pop()
        path = _module_file(name, root)
        if name in seen or path is None:
            continue
        seen.add(name)
        files.add(path)
        if path.name == "__init__.py" and path.parent != root:
            files |= {p for p in _files(path.parent) if p.suffix != ".py"}
        todo += _imported(path, root)
    return files


def _imported(path: Path, root: Path) -> set[str]:
    """The gnelib modules and packages one file imports (`from gnelib.a import b` names gnelib.a, gnelib.a.b when
    b is a module, and each package on the way)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    prefixes = {".".join(name.split(".")[:end]) for name in names if name.startswith("gnelib.")
                for end in range(2, name.count(".") + 2)}
    return {name for name in prefixes if _module_file(name, root) is not None}


def _module_file(name: str, root: Path) -> Path | None:
    base = root.joinpath(*name.split(".")[1:])
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.suffix in SUFFIXES and "__pycache__" not in p.parts}
