"""Where a run's files go: `reports/<week>/<market>/<template>.{html,ipynb,log}`, always inside `reports/`.

When a run fails beside a kept good report, the failed run's files are `<template>.failed.{html,ipynb,log}` and
the good run's `<template>.{html,ipynb,log}` stay."""

import os
import re
from dataclasses import dataclass
from pathlib import Path

from gnelib.reporting.errors import ParameterError

_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class ReportPaths:
    """The files of one report slot (week × market × template)."""

    directory: Path
    html: Path
    notebook: Path
    log: Path
    failure: Path  # failure page when a previous good report is kept in `html`
    failed_notebook: Path  # the failed run's notebook and log, when the previous good run's are kept
    failed_log: Path


def report_paths(reports_dir: Path, week: str, market: str, template: str) -> ReportPaths:
    """Build the slot's paths from validated values; refuse anything that could leave `reports_dir`."""
    for label, segment in (("week", week), ("market", market), ("template", template)):
        if not _SAFE_SEGMENT.match(segment):
            raise ParameterError(
                f"Report path segment {label} = {segment!r} is not allowed: "
                "use letters, digits, '_' and '-' only "
                "(weeks as YYYY-Www, markets as codes, templates as file names without .ipynb)."
            )
    root = reports_dir.resolve()
    directory = root / week / market  # safe segments: no `..`; links in it are refused by `planted_links`
    return ReportPaths(
        directory=directory,
        html=directory / f"{template}.html",
        notebook=directory / f"{template}.ipynb",
        log=directory / f"{template}.log",
        failure=directory / f"{template}.failed.html",
        failed_notebook=directory / f"{template}.failed.ipynb",
        failed_log=directory / f"{template}.failed.log",
    )


def planted_links(reports_dir: Path, limit: int = 20) -> list[Path]:
    """Symbolic links inside `reports_dir` (the directory itself may be one), at most `limit`. A run writes only
    into a reports directory without them: a planted link could send a slot's file, the lock or the aggregate
    store outside it."""
    found: list[Path] = []
    for folder, directories, files in os.walk(reports_dir.resolve()):
        found += [Path(folder, name) for name in (*directories, *files) if os.path.islink(os.path.join(folder, name))]
        if len(found) >= limit:
            break
    return found[:limit]
