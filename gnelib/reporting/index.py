"""The landing page (`reports/index.html`), built from the run manifest (`gnelib.reporting.manifest`)."""

import datetime as dt
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

import gnelib
from gnelib.atomic import atomic_write_text
from gnelib.config import grain_label
from gnelib.reporting.render import CSS, TEMPLATES_DIR
from gnelib.reporting.triage import triage_rows

INDEX_NAME = "index.html"
DIGEST_NAME = "digest.html"  # reports/<week>/digest.html (gnelib.reporting.digest)
DEEP_DIVE = "metric_deep_dive"
STATUS_LABELS = {
    "ok": "ran ok",
    "failed": "failed",
    "stale-previous-kept": "failed · previous kept",
    "not-applicable": "skipped",
}
NOT_RUN = "not-applicable"
_ENVIRONMENT = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(default=True))


def write_index(reports_dir: Path, runs: dict[str, dict], grain: str = "market") -> Path:
    """Render the landing page: the triage table of the newest digested week (one row per value of the report
    `grain`: alerts, top headline, the page that explains it), then one table per week (newest first), templates ×
    values of the grain (markets), status and links."""
    weeks: dict[str, dict] = {}
    for run in runs.values():
        week = weeks.setdefault(run["week"], {"name": run["week"], "markets": set(), "templates": set(), "runs": {}})
        week["markets"].add(run["market"])
        week["templates"].add(run["template"])
        week["runs"][(run["template"], run["market"])] = _view(run)
    ordered = [
        {
            **week,
            "markets": sorted(week["markets"]),
            "templates": sorted(week["templates"], key=_template_order),
            "skipped": _skipped_templates(week["runs"]),
            "digest": f"{name}/{DIGEST_NAME}" if (reports_dir / name / DIGEST_NAME).is_file() else None,
        }
        for name, week in sorted(weeks.items(), key=lambda item: item[0], reverse=True)
    ]
    digest = next((week for week in ordered if week["digest"]), None)
    page = _ENVIRONMENT.get_template("index.html.j2").render(
        css=CSS,
        grain=grain_label(grain).capitalize(),
        grains=grain_label(grain, plural=True),
        weeks=ordered,
        digest=digest,
        triage=triage_rows(reports_dir, digest["name"], runs) if digest else None,
        generated=_now(),
        version=gnelib.__version__,
        counts={
            "total": len(runs),
            "failed": sum(run["status"] not in ("ok", NOT_RUN) for run in runs.values()),
            "skipped": sum(run["status"] == NOT_RUN for run in runs.values()),
        },
    )
    path = reports_dir / INDEX_NAME
    atomic_write_text(path, page)
    return path


def _skipped_templates(runs: dict[tuple[str, str], dict]) -> dict[str, str]:
    """{template: reason} for the templates none of whose runs this week apply to the warehouse."""
    by_template: dict[str, list[dict]] = {}
    for (template, _), run in runs.items():
        by_template.setdefault(template, []).append(run)
    return {
        template: found[0].get("reason", "")
        for template, found in by_template.items()
        if all(run["status"] == NOT_RUN for run in found)
    }


def _template_order(template: str) -> tuple[bool, str]:
    """The weekly scorecard first (the overview), then the other templates alphabetically."""
    return template != "weekly_scorecard", template


def _view(run: dict) -> dict:
    label = STATUS_LABELS.get(run["status"], run["status"])
    error = run.get("error") or {}
    metric = (run.get("parameters") or {}).get("metric") if run["template"] == DEEP_DIVE else None
    return {
        **run,
        "label": label,
        "link_text": f"{metric.replace('_', ' ')} deep dive" if metric else "report",
        "error_text": f"{error.get('ename', '')}: {error.get('evalue', '')}" if error else "",
    }


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
