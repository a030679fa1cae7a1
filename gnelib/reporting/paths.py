"""Where a run's files go: `reports/<week>/<market>/<template>.{html,ipynb,log}`, always inside `reports/`."""

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
    directory = (root / week / market).resolve()
    if not directory.is_relative_to(root):
        raise ParameterError(f"Report directory {directory} would be outside {root}; check week and market.")
    return ReportPaths(
        directory=directory,
        html=directory / f"{template}.html",
        notebook=directory / f"{template}.ipynb",
        log=directory / f"{template}.log",
        failure=directory / f"{template}.failed.html",
    )
