"""The page that takes a report's place when its run fails: what failed, where, and where to look next."""

import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from gnelib.reporting.execute import RunFailure
from gnelib.reporting.render import CSS, TEMPLATES_DIR, ReportHeader
from gnelib.reporting.rerun import redact_paths

_ENVIRONMENT = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(default=True))
_STATUS_META = re.compile(rb'<meta[^>]*name="gne-status"[^>]*>')


def render_failure_page(
    header: ReportHeader,
    rerun: str,
    failure: RunFailure,
    notebook: str | None,
    log: str,
    previous_kept: str | None,
    template: str | None = None,
) -> str:
    """HTML for a failed run; every value is escaped. Links (notebook, log, previous_kept) are relative. The page
    shows the error message with absolute paths shortened, never the cell source (the executed notebook and the
    log keep both for the analyst), and `rerun`, the command that re-runs just this report."""
    return _ENVIRONMENT.get_template("failure.html.j2").render(
        **header.__dict__,
        css=CSS,
        template=template or _template_from(rerun, header.title),
        rerun=rerun,
        failure={**failure.__dict__, "evalue": redact_paths(failure.evalue)},
        notebook=notebook,
        log=log,
        previous_kept=previous_kept,
    )


def _template_from(rerun: str, fallback: str) -> str:
    """The template name from the re-run command (`gne run notebooks/x.ipynb ...` → `x`)."""
    words = rerun.split()
    return Path(words[2]).stem if len(words) > 2 else fallback


def is_good_report(path: Path) -> bool:
    """True if `path` is a report page from a successful run (not a failure page)."""
    if not path.is_file():
        return False
    with open(path, "rb") as page:
        match = _STATUS_META.search(page.read(16384))
    return match is not None and b'content="ok"' in match.group(0)
