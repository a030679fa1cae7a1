"""The weekly digest: `reports/<week>/digest.html` and `digest.md`, the week's significant changes across all
markets, most important first, one sentence each (size, confidence, carrying segment), a link to the report that
explains it, and whether it is new, ongoing or resolved against the previous week's findings.

Every verdict, number and p-value comes from the weekly scan's finding row (`gnelib.analysis.detection.findings`),
the same row the scorecard and the deep dive's headline show.
"""

import dataclasses
import datetime as dt
import json
import posixpath
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from gnelib import metrics
from gnelib.analysis.headlines import comparison_words, finding_size, in_page_unit
from gnelib.atomic import atomic_write_text
from gnelib.formats import format_change, format_p_value, format_relative, format_value
from gnelib.periods import shift_week
from gnelib.reporting.flagged import (
    DEEP_DIVE_TEMPLATE,
    load_week,
    rank,
    report_name,
    unscanned_previous_weeks,
    week_findings,
)
from gnelib.reporting.index import DIGEST_NAME
from gnelib.reporting.lifecycle import raise_if_stopped
from gnelib.reporting.render import CSS, TEMPLATES_DIR
from gnelib.reporting.triage import DIGEST_DATA_NAME

DIGEST_HTML = DIGEST_NAME
DIGEST_TEXT = "digest.md"
SCORECARD = "weekly_scorecard"
LINKABLE = ("ok", "stale-previous-kept")
VERDICT_WORDS = {"bad": "worse", "good": "better", "neutral": "moved"}
_ENVIRONMENT = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(default=True))


@dataclass(frozen=True)
class Entry:
    """One line of the digest: a finding of this week (new or ongoing) or of last week that is gone (resolved)."""

    metric: str
    market: str
    title: str
    pillar: str
    owner: str
    verdict: str  # bad / good / neutral, from the scan row
    status: str  # new / ongoing / resolved
    sentence: str
    p_adjusted: float
    href: str | None = None  # relative to reports/<week>/
    link_label: str = ""


@dataclass(frozen=True)
class Digest:
    """A week's digest: ranked entries of this week, and last week's findings that are gone."""

    week: str
    previous_week: str
    basis: str  # what "previous" means here, in words
    entries: list[Entry]
    resolved: list[Entry]
    as_of: str = ""
    generated: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))

    def counts(self) -> dict[str, int]:
        """How many entries are new, ongoing and resolved, and how many are bad."""
        return {
            "new": sum(entry.status == "new" for entry in self.entries),
            "ongoing": sum(entry.status == "ongoing" for entry in self.entries),
            "resolved": len(self.resolved),
            "bad": sum(entry.verdict == "bad" for entry in self.entries),
        }

    def only(self, keep) -> "Digest":
        """The digest restricted to the entries `keep(entry)` accepts (e.g. one pillar, for alert routing)."""
        return dataclasses.replace(self, entries=[e for e in self.entries if keep(e)],
                                   resolved=[e for e in self.resolved if keep(e)])

    def summary(self) -> str:
        """One line: "GNE digest 2026-W47: 14 significant changes (5 worse; 3 new, 11 ongoing), 2 resolved"."""
        counts = self.counts()
        return (f"GNE digest {self.week}: {len(self.entries)} significant change"
                f"{'' if len(self.entries) == 1 else 's'} ({counts['bad']} worse; {counts['new']} new, "
                f"{counts['ongoing']} ongoing), {counts['resolved']} resolved")


def finding_sentence(row: pd.Series, definition) -> str:
    """One sentence from a finding row: where, which way, from what to what, compared how, size, p-value, the
    verdict in words (never "improvement" unless the scan said good) and the segments that carry it; rates in the
    digest's one unit (`in_page_unit`)."""
    definition = in_page_unit(definition)
    fmt = definition.format
    verb = "rose" if row["abs_change"] > 0 else "fell"
    where = row["market"]
    if row["level"] == "segment":
        where += f", {_segment_words(row['dimension'], row['segment'])}"
    size = format_change(row["abs_change"], fmt)
    relative = format_relative(row["rel_change"])
    if relative != "–":
        size += f", {relative}"
    verdict = {"bad": " — worse than usual", "good": " — an improvement"}.get(row["verdict"], "")
    carried = carried_words(row, definition)
    touched = finding_size(row, definition)
    return (f"{definition.title} in {where} {verb} from {format_value(row['baseline'], fmt)} to "
            f"{format_value(row['current'], fmt)} {comparison_words(row)} ({size}, "
            f"{format_p_value(row['p_adjusted'])}){'; ' + touched if touched else ''}{verdict}{carried}.")


def carried_words(row: pd.Series, definition) -> str:
    """`; carried by carrier carrier_b`, `; broad-based (…)`, `; carried by a shift of orders to channel live` or
    nothing: what carried a market-level finding as its deep dive says it (`analysis.deep_dive.explain_findings`:
    the deep dive's root cause owns the statement). A segment-level finding is its own segment: nothing more."""
    from gnelib.analysis.insights import segment_label, volume_noun

    if row["level"] != "market":
        return ""
    if _flag(row.get("broad_based")):
        return "; broad-based (no single segment carries it)"
    segments = [segment_label(*segment.split("=", 1)) for segment in _listed(row.get("carried_by"))]
    if not segments:
        return ""
    if _flag(row.get("mix_shift")):
        return f"; carried by a shift of {volume_noun(definition)} to {segments[0]}"
    return "; carried by " + ", ".join(segments)


def _listed(value) -> list[str]:
    return list(value) if isinstance(value, list | tuple) else []


def _flag(value) -> bool:
    return bool(value) and value == value


def resolved_sentence(row: pd.Series, definition) -> str:
    """A finding of last week that the scan no longer flags, with last week's numbers."""
    fmt = in_page_unit(definition).format
    where = row["market"]
    if row["level"] == "segment":
        where += f", {_segment_words(row['dimension'], row['segment'])}"
    return (f"{definition.title} in {where} is no longer flagged (in {row['week']} it was "
            f"{format_value(row['current'], fmt)} against a usual {format_value(row['baseline'], fmt)}, "
            f"{format_p_value(row['p_adjusted'])}).")


def build_digest(current: pd.DataFrame, previous: pd.DataFrame, week: str, runs: dict[str, dict] | None = None,
                 catalog=None, basis: str = "as its own run found it", as_of: str = "") -> Digest:
    """The digest of `week` from its findings and the previous week's; `runs` (the manifest) gives the links."""
    runs = runs or {}
    before = {(row.metric, row.market) for row in previous.itertuples()}
    now = {(row.metric, row.market) for row in current.itertuples()}
    entries = []
    for _, row in rank(current).iterrows():
        definition = metrics.get(row["metric"], catalog)
        href, label = explaining_report(runs, week, row["market"], row["metric"])
        entries.append(_entry(row, definition, "ongoing" if (row["metric"], row["market"]) in before else "new",
                              finding_sentence(row, definition), href, label))
    resolved = []
    for _, row in rank(previous).iterrows():
        if (row["metric"], row["market"]) in now:
            continue
        try:
            definition = metrics.get(row["metric"], catalog)
        except Exception:  # noqa: BLE001 — a metric since removed from the catalog: nothing to say about it
            continue
        href, label = explaining_report(runs, week, row["market"], row["metric"])
        resolved.append(_entry(row, definition, "resolved", resolved_sentence(row, definition), href, label))
    return Digest(week, shift_week(week, -1), basis, entries, resolved, as_of)


def explaining_report(runs: dict[str, dict], week: str, market: str, metric: str) -> tuple[str | None, str]:
    """(href relative to reports/<week>/, label) of the report that explains a metric × market: its flagged deep
    dive, else a plan's fixed deep dive of that metric, else the market's scorecard; (None, "") if none is good."""
    candidates = [runs.get(f"{week}/{market}/{report_name(metric)}")]
    candidates += [run for run in runs.values() if run["week"] == week and run["market"] == market
                   and run["template"] == DEEP_DIVE_TEMPLATE and (run.get("parameters") or {}).get("metric") == metric]
    for run in candidates:
        if run and run["status"] in LINKABLE and run.get("html"):
            return posixpath.relpath(run["html"], week), "deep dive"
    scorecard = runs.get(f"{week}/{market}/{SCORECARD}")
    if scorecard and scorecard["status"] in LINKABLE and scorecard.get("html"):
        return posixpath.relpath(scorecard["html"], week), "scorecard"
    return None, ""


def render_html(digest: Digest, base_url: str = "", page: bool = True) -> str:
    """The digest page (self-contained, the reports' CSS). `base_url` makes links absolute; `page=False` (e-mail)
    drops the links to the page's neighbours, keeping an absolute link to the page when `base_url` is given."""
    return _ENVIRONMENT.get_template("digest.html.j2").render(
        css=CSS, digest=digest, counts=digest.counts(), words=VERDICT_WORDS, link=_linker(digest, base_url),
        page=page, home=_linker(digest, base_url)(DIGEST_HTML) if base_url else "")


def render_text(digest: Digest, base_url: str = "") -> str:
    """The Markdown twin of the page (also the plain-text part of an alert e-mail)."""
    link = _linker(digest, base_url)
    lines = [f"# GNE digest — {digest.week}", "", digest.summary() + ".",
             f"New / ongoing / resolved: against {digest.previous_week}, {digest.basis}."
             + (f" Data as of {digest.as_of}." if digest.as_of else ""), ""]
    if digest.entries:
        lines += ["## Significant changes, most important first", ""]
        for number, entry in enumerate(digest.entries, start=1):
            target = f" — {entry.link_label}: {link(entry.href)}" if entry.href else ""
            lines.append(f"{number}. **{VERDICT_WORDS.get(entry.verdict, entry.verdict)} · {entry.status}** "
                         f"{entry.sentence}{target}")
        lines.append("")
    else:
        lines += ["No significant changes this week.", ""]
    if digest.resolved:
        lines += ["## Resolved since last week", ""]
        lines += [f"- {entry.sentence}" for entry in digest.resolved]
        lines.append("")
    return "\n".join(lines)


def write_digest(reports_dir: Path, digest: Digest) -> Path:
    """Write `reports/<week>/digest.html`, `digest.md` and `digest.json` (its entries, for the index's triage
    table) atomically; returns the page's path."""
    folder = reports_dir / digest.week
    atomic_write_text(folder / DIGEST_TEXT, render_text(digest))
    data = {"week": digest.week, "entries": [dataclasses.asdict(entry) for entry in digest.entries]}
    atomic_write_text(folder / DIGEST_DATA_NAME, json.dumps(data, indent=1) + "\n")
    page = folder / DIGEST_HTML
    atomic_write_text(page, render_html(digest))
    return page


def digest_for_week(reports_dir: Path, facts, week: str, runs: dict[str, dict]) -> Digest:
    """Build a week's digest in the parent process: this week's findings (cached per data and code), the previous
    week's as its run saved them (else scanned now on this data)."""
    current = week_findings(reports_dir, facts, week)
    previous_week = shift_week(week, -1)
    saved = load_week(reports_dir, previous_week)
    if saved is not None:
        previous = saved.findings
        basis = "as its own run found it" if saved.published else "scanned by a later run (no run of it)"
    elif previous_week >= facts.first_week:
        previous = week_findings(reports_dir, facts, previous_week, published=False)
        basis = "scanned now (no earlier run of it)"
    else:
        previous, basis = current.iloc[0:0], "no data (the first week)"
    return build_digest(current, previous, week, runs, facts.catalog, basis, facts.as_of)


def _entry(row: pd.Series, definition, status: str, sentence: str, href: str | None, label: str) -> Entry:
    return Entry(row["metric"], row["market"], definition.title, definition.pillar, definition.owner or "",
                 row["verdict"], status, sentence, float(row["p_adjusted"]), href, label)


def _segment_words(dimension: str, value: str) -> str:
    return f"{dimension.replace('_', ' ')} {value}"


def _linker(digest: Digest, base_url: str):
    def link(href: str | None) -> str:
        if not href:
            return ""
        return f"{base_url.rstrip('/')}/{digest.week}/{href}" if base_url else href
    return link


def digest_weeks(records: list[dict]) -> list[str]:
    """The weeks of a batch that get a digest: those with a weekly scorecard or a deep dive in the batch (an
    ad-hoc run of another template does not scan the week)."""
    return sorted({record["week"] for record in records
                   if record["template"] == SCORECARD or record["template"].startswith(DEEP_DIVE_TEMPLATE)})


def weeks_to_compare(reports_dir: Path, facts, records: list[dict]) -> list[str]:
    """The previous weeks that the digests of `records` will scan for their comparison (no run saved their
    findings): the batch fills their frames together with its own weeks', in one pass."""
    return unscanned_previous_weeks(reports_dir, facts, digest_weeks(records))


def publish_digests(reports_dir: Path, facts, records: list[dict], runs: dict[str, dict]) -> list[Digest]:
    """Build and write the digest of every week of the batch (`digest_weeks`), oldest first. A failure is printed
    on stderr and skipped: the digest never fails the batch."""
    import sys

    digests = []
    for week in digest_weeks(records):
        try:
            digest = digest_for_week(reports_dir, facts, week, runs)
            page = write_digest(reports_dir, digest)
        except Exception as error:  # noqa: BLE001 — the reports are written; say why the digest is missing
            raise_if_stopped()
            print(f"digest {week}: not built ({type(error).__name__}: {error}); the reports are unaffected",
                  file=sys.stderr, flush=True)
            continue
        print(f"digest {week}: {len(digest.entries)} significant changes, {len(digest.resolved)} resolved → {page}",
              file=sys.stderr, flush=True)
        digests.append(digest)
    return digests
