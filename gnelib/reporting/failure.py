"""The page that takes a report's place when its run fails: what failed, where, and where to look next."""

import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from gnelib.reporting.execute import RunFailure
from gnelib.reporting.render import CSS, TEMPLATES_DIR, ReportHeader

_ENVIRONMENT = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(default=True))
_STATUS_META = re.compile(rb'<meta[^>]*name="gne-status"[^>]*>')
SOURCE_LINES_SHOWN = 8


def render_failure_page(
    header: ReportHeader,
    template_path: str,
    failure: RunFailure,
    notebook: str | None,
    log: str,
    previous_kept: str | None,
) -> str:
    """HTML for a failed run; every value is escaped. Links (notebook, log, previous_kept) are relative."""
    source = "\n".join(failure.cell_source.splitlines()[:SOURCE_LINES_SHOWN])
    return _ENVIRONMENT.get_template("failure.html.j2").render(
        **header.__dict__,
        css=CSS,
        template=Path(template_path).stem,
        template_path=template_path,
        failure={**failure.__dict__, "cell_source": source},
        notebook=notebook,
        log=log,
        previous_kept=previous_kept,
    )


def is_good_report(path: Path) -> bool:
    """True if `path` is a report page from a successful run (not a failure page)."""
    if not path.is_file():
        return False
    with open(path, "rb") as page:
        match = _STATUS_META.search(page.read(16384))
    return match is not None and b'content="ok"' in match.group(0)
