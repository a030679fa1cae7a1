"""The one command that re-runs a single report slot, as an analyst would type it in the project directory."""

import os
import re
import shlex
from pathlib import Path

from gnelib.config import mask_url
from gnelib.metrics.catalog import PACKAGED_CATALOG
from gnelib.reporting.facts import WarehouseFacts
from gnelib.reporting.flagged import FlaggedSpec
from gnelib.reporting.spec import RunSpec

_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])/(?:[\w.@+-]+/)+([\w.@+-]+)")


def rerun_command(spec: RunSpec, reports_dir: Path, facts: WarehouseFacts, cwd: Path) -> str:
    """`gne run <template> -p NAME VALUE ... [--flagged] --reports-dir D --warehouse W [--catalog C] --force`
    (`--flagged`: a flagged deep dive, back into its `<template>-<metric>` slot).

    The warehouse and catalog are written as they were named: `"$GNE_WAREHOUSE"` when the environment chose them,
    the option's own text, or the config's value; paths under `cwd` relative to it; a URL's password as `***`."""
    words = [shlex.quote(word) for word in ("gne", "run", _relative(spec.template, cwd))]
    for name, value in spec.parameters.items():
        words += ["-p", shlex.quote(name), shlex.quote(str(value))]
    if isinstance(spec, FlaggedSpec):
        words.append("--flagged")
    words += ["--reports-dir", shlex.quote(_relative(reports_dir, cwd))]
    words += ["--warehouse", _given(mask_url(facts.source_given))
              or shlex.quote(mask_url(_relative_source(facts.source, cwd)))]
    if facts.catalog_given or facts.catalog != PACKAGED_CATALOG:
        words += ["--catalog", _given(facts.catalog_given) or shlex.quote(_relative(facts.catalog, cwd))]
    return " ".join([*words, "--force"])


def _given(text: str) -> str:
    """An environment variable stays a variable (`"$GNE_WAREHOUSE"`); an option's text is quoted as typed."""
    if text.startswith("$"):
        return f'"{text}"'
    return shlex.quote(text) if text else ""


def redact_paths(text: str) -> str:
    """Absolute file paths in a message replaced by their last part (`/srv/data/x.duckdb` → `…/x.duckdb`)."""
    return _ABSOLUTE_PATH.sub(lambda match: f"…/{match.group(1)}", text)


def _relative(path: Path, cwd: Path) -> str:
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(cwd.resolve()).as_posix()
    except ValueError:
        return os.fspath(resolved)


def _relative_source(source: str, cwd: Path) -> str:
    return source if "://" in source else _relative(Path(source), cwd)
