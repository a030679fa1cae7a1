"""The triage table of the landing page: one row per value of the report grain (market) for the newest digested
week, with its number of alerts (worse-than-usual findings) and significant changes, the top headline, a link to the
page that explains it, and whether the market's reports ran.

It reads what the batch already wrote: `reports/<week>/digest.json` (the digest's ranked entries, the same
sentences and links as digest.html, `gnelib.reporting.digest`) and the run manifest."""

import json
import posixpath
from dataclasses import dataclass
from pathlib import Path

from gnelib.reporting.params import ALL_MARKETS

DIGEST_DATA_NAME = "digest.json"
SCORECARD = "weekly_scorecard"
NOT_RUN = "not-applicable"


@dataclass(frozen=True)
class TriageRow:
    """One market's line: alerts (worse findings), changes (all significant findings), the top one's sentence and
    its explaining page (href relative to reports/), and how many of its runs went ok or failed (skipped ones
    aside)."""

    market: str
    alerts: int
    changes: int
    headline: str
    href: str | None
    link_label: str
    ran_ok: int
    failed: int


def triage_rows(reports_dir: Path, week: str, runs: dict[str, dict]) -> list[TriageRow] | None:
    """The week's rows, markets with alerts first (most alerts first), then by name; None when the week has no
    digest data (a run without a scorecard or a deep dive does not scan the week)."""
    path = reports_dir / week / DIGEST_DATA_NAME
    if not path.is_file():
        return None
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["entries"]
    except (ValueError, KeyError, TypeError):
        return None
    week_runs = [run for run in runs.values() if run["week"] == week]
    markets = sorted(({run["market"] for run in week_runs} | {entry["market"] for entry in entries}) - {ALL_MARKETS})
    rows = []
    for market in markets:
        found = [entry for entry in entries if entry["market"] == market]  # ranked: the worst first
        mine = [run for run in week_runs if run["market"] == market and run["status"] != NOT_RUN]
        top = found[0] if found else None
        if top and top.get("href"):
            where = "deep dive" if top["link_label"] == "deep dive" else f"in the {top['link_label']}"
            href, label = _from_week(week, top["href"]), f"{top['title']} {where}"
        else:
            href, label = _scorecard(runs, week, market)
        rows.append(
            TriageRow(
                market=market,
                alerts=sum(entry["verdict"] == "bad" for entry in found),
                changes=len(found),
                headline=top["sentence"] if top else "",
                href=href,
                link_label=label,
                ran_ok=sum(run["status"] == "ok" for run in mine),
                failed=sum(run["status"] != "ok" for run in mine),
            )
        )
    return sorted(rows, key=lambda row: (-row.alerts, -row.changes, row.market))


def _from_week(week: str, href: str) -> str:
    return posixpath.normpath(posixpath.join(week, href))


def _scorecard(runs: dict[str, dict], week: str, market: str) -> tuple[str | None, str]:
    run = runs.get(f"{week}/{market}/{SCORECARD}")
    if run and run.get("html") and run["status"] == "ok":
        return run["html"], "scorecard"
    return None, ""
