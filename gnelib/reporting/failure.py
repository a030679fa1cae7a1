"""The page that takes a report's place when its run fails: what failed, where, and where to look next."""

import html
import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from gnelib.atomic import atomic_write_text
from gnelib.reporting.execute import RunFailure
from gnelib.reporting.render import CSS, TEMPLATES_DIR, ReportHeader, show_invisible
from gnelib.reporting.rerun import redact_paths

_ENVIRONMENT = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(default=True))
_STATUS_META = re.compile(rb'<meta[^>]*name="gne-status"[^>]*>')
_GENERATED = re.compile(r"<dt>Generated</dt><dd>(.*?)</dd>")
_STALE = re.compile(r"<!-- gne:stale -->.*?<!-- /gne:stale -->", flags=re.DOTALL)


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
    return show_invisible(_ENVIRONMENT.get_template("failure.html.j2").render(
        **header.__dict__,
        grain_label=header.grain_label,
        css=CSS,
        template=template or _template_from(rerun, header.title),
        rerun=rerun,
        failure={**failure.__dict__, "evalue": redact_paths(failure.evalue)},
        notebook=notebook,
        log=log,
        previous_kept=previous_kept,
    ))


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


def mark_stale(page: Path, failed_at: str, failure_page: str) -> None:
    """Put (or replace) a visible "stale" banner at the top of a kept report whose rerun failed at `failed_at`,
    linking the failure page; the report stays a good report (`is_good_report`)."""
    text = _STALE.sub("", page.read_text(encoding="utf-8"), count=1)
    generated = _GENERATED.search(text)
    of = html.unescape(generated.group(1)) if generated else "an earlier run"
    banner = (
        '<!-- gne:stale --><div class="gne-page"><p class="gne-callout gne-callout-error gne-stale" role="alert">'
        f"<strong>stale:</strong> the latest run failed at {html.escape(failed_at)}, this is the report of "
        f'{html.escape(of)}. <a href="{html.escape(failure_page)}">What failed</a>.</p></div><!-- /gne:stale -->'
    )
    head, found, rest = text.partition("</header>")
    atomic_write_text(page, head + found + banner + rest if found else banner + text)
