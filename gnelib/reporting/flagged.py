"""Follow the flags: the weekly scan's findings, read once per week in the parent process (as the kernels read the
warehouse) and kept in `reports/<week>/findings.json` (a run of that week adds every metric × market's headline
number: next week's reports compare with them, `last_weeks_report`); the ranked, capped deep dives a
`deep_dive: flagged` plan runs; and the links from a scorecard row to its deep dive.

A flagged deep dive is published as `reports/<week>/<market>/metric_deep_dive-<metric>.html` (one slot per metric).
"""

import dataclasses
import html
import json
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from gnelib.analysis.headlines import HEADLINE_COLUMNS, Published, week_headlines
from gnelib.atomic import atomic_write_text, move_aside
from gnelib.periods import shift_week
from gnelib.reporting.environment import REPORTS_DIR_ENV_VAR, environment_set, kernel_environment
from gnelib.reporting.lifecycle import raise_if_stopped
from gnelib.reporting.paths import report_paths
from gnelib.reporting.spec import RunSpec

DEEP_DIVE_TEMPLATE = "metric_deep_dive"
MAX_PER_MARKET = 4
"""At most this many flagged deep dives per market and week (the most important first)."""
MAX_DEEP_DIVES = 24
"""At most this many flagged deep dives per week in all."""
FINDINGS_NAME = "findings.json"
PLANNED_NAME = "deep_dives.json"
VERDICT_ORDER = {"bad": 0, "good": 1, "neutral": 2}
FINDING_COLUMNS = [
    "metric", "market", "week", "read_week", "verdict", "direction", "baseline", "current", "abs_change",
    "rel_change", "p_adjusted", "pattern", "weeks_running", "comparison", "window_weeks", "level", "dimension",
    "segment", "segments", "volume", "carried_by", "mix_shift", "broad_based", "basis",
]


@dataclass(frozen=True)
class FlaggedSpec(RunSpec):
    """A deep dive the scan asked for: its report name is `metric_deep_dive-<metric>`, so each flagged metric of a
    market gets its own slot."""


def report_name(metric: str, template: str = DEEP_DIVE_TEMPLATE) -> str:
    """The report (slot) name of a flagged deep dive: `metric_deep_dive-refund_rate`."""
    return f"{template}-{metric}"


def rank(table: pd.DataFrame) -> pd.DataFrame:
    """Findings most important first: bad moves, then good, then neutral; inside each, the smallest adjusted
    p-value, then the largest relative move."""
    if table.empty:
        return table.reset_index(drop=True)
    keys = table.assign(
        _verdict=table["verdict"].map(VERDICT_ORDER).fillna(3),
        _size=-pd.to_numeric(table["rel_change"], errors="coerce").abs().fillna(0.0),
    )
    ordered = keys.sort_values(["_verdict", "p_adjusted", "_size", "metric", "market"], kind="mergesort")
    return ordered.drop(columns=["_verdict", "_size"]).reset_index(drop=True)


def capped(table: pd.DataFrame, per_market: int = MAX_PER_MARKET, limit: int = MAX_DEEP_DIVES) -> pd.DataFrame:
    """The ranked findings that get a deep dive: at most `per_market` per market and `limit` in all."""
    ranked = rank(table)
    kept = ranked[ranked.groupby("market").cumcount() < per_market]
    return kept.head(limit).reset_index(drop=True)


def fingerprint(facts) -> str:
    """What a week's findings depend on: the data version and gnelib's code."""
    from gnelib.code_version import code_hash

    return f"{facts.data_version}-{code_hash()}"


def week_findings(reports_dir: Path, facts, week: str, published: bool = True) -> pd.DataFrame:
    """`findings(scan(conn, week))` on the batch's warehouse (through its aggregate store when one is filled),
    cached in `reports/<week>/findings.json` for the same data and code. `published`: this is a run of `week`
    (its headline numbers are saved too, for next week's restatements); False: an earlier week scanned only for
    a comparison."""
    saved = load_week(reports_dir, week)
    if saved is not None and saved.fingerprint == fingerprint(facts) and (saved.published or not published):
        return saved.findings
    table, headlines = scan_findings(reports_dir, facts, week, published)
    save_week(reports_dir, week, table, headlines if published else None, fingerprint(facts))
    return table


def scan_findings(reports_dir: Path, facts, week: str, headlines: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the weekly scan of `week` in this process, under the kernels' environment and the store if ready:
    (findings, the headline number of every scanned metric × market — empty unless `headlines`)."""
    from gnelib.analysis.deep_dive import explain_findings
    from gnelib.analysis.detection import findings, scan
    from gnelib.metrics.store import MANIFEST, STORE_ENV
    from gnelib.reporting.aggregates import store_folder
    from gnelib.warehouse import connect

    environment = kernel_environment(facts, reports_dir)
    store = store_folder(reports_dir, facts.data_version)
    if (store / MANIFEST).is_file():
        environment[STORE_ENV] = str(store)
    with environment_set(environment), connect() as conn:
        table = scan(conn, week)
        numbers = (week_headlines(conn, week, sorted(set(table["metric"]))) if headlines
                   else pd.DataFrame(columns=HEADLINE_COLUMNS))
        found = findings(table)
        if headlines:  # what carried each finding, for the digest's sentences (a week scanned only to compare
            found = explain_findings(conn, found)  # with needs none: its findings only say new / ongoing / resolved)
        return found.reindex(columns=FINDING_COLUMNS), numbers


def prepare_weeks(reports_dir: Path, facts, weeks: Sequence[str]) -> None:
    """Fill the batch aggregate store for the scans of `weeks` and of the weeks their digests compare with
    (`unscanned_previous_weeks`), exactly as the batch will ask (`batch._execute`), so the batch then reuses it."""
    from gnelib.reporting.aggregates import prepare_store

    prepare_store(reports_dir, facts.data_version, weeks, kernel_environment(facts, reports_dir),
                  unscanned_previous_weeks(reports_dir, facts, weeks))


def unscanned_previous_weeks(reports_dir: Path, facts, weeks: Sequence[str]) -> list[str]:
    """The week before each of `weeks` (not itself one of them, not before the warehouse's first week) that no run
    has scanned yet: the digests of `weeks` scan it for their comparison."""
    previous = {shift_week(week, -1) for week in weeks} - set(weeks)
    return sorted(week for week in previous if week >= facts.first_week and load_week(reports_dir, week) is None)


def save_week(reports_dir: Path, week: str, table: pd.DataFrame, headlines: pd.DataFrame | None, stamp: str) -> Path:
    """Write a week's findings as JSON (non-finite numbers as null), atomically; with `headlines` (a run of
    that week publishing its numbers) the file is marked `published`."""
    document = {"week": week, "fingerprint": stamp, "published": headlines is not None,
                "findings": _records(table, FINDING_COLUMNS),
                "headlines": _records(headlines, HEADLINE_COLUMNS) if headlines is not None else []}
    path = reports_dir / week / FINDINGS_NAME
    atomic_write_text(path, json.dumps(document, indent=1) + "\n")
    return path


@dataclass(frozen=True)
class SavedWeek:
    """A week's `findings.json`: `published` when a run of that week wrote it (with its headline numbers), else
    scanned by a later run only to compare with."""

    fingerprint: str
    published: bool
    findings: pd.DataFrame
    headlines: pd.DataFrame


def load_week(reports_dir: str | os.PathLike, week: str) -> SavedWeek | None:
    """What an earlier run saved for `week`, or None. An unreadable file is moved aside with a warning (the next
    scan of the week writes it again)."""
    path = Path(reports_dir) / week / FINDINGS_NAME
    if not path.is_file():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        table = pd.DataFrame(document["findings"], columns=FINDING_COLUMNS)
    except (ValueError, KeyError, TypeError):
        _set_aside(path)
        return None
    numeric = ["baseline", "current", "abs_change", "rel_change", "p_adjusted", "weeks_running", "window_weeks"]
    table[numeric] = table[numeric].apply(pd.to_numeric, errors="coerce")
    for column in ("segments", "carried_by"):
        table[column] = [list(s) if isinstance(s, list) else [] for s in table[column]]
    for column in ("mix_shift", "broad_based"):
        table[column] = table[column].fillna(False).astype(bool)
    headlines = pd.DataFrame(document.get("headlines", []), columns=HEADLINE_COLUMNS)
    headlines["value"] = pd.to_numeric(headlines["value"], errors="coerce")
    return SavedWeek(document.get("fingerprint", ""), document.get("published", True), table, headlines)


def _set_aside(path: Path) -> None:
    try:
        aside = move_aside(path)
    except FileNotFoundError:  # another process of the batch moved it first
        return
    print(f"warning: {path.parent.name}/{path.name} was corrupt; moved to {aside.name}; it is written again by the "
          "next scan of the week", file=sys.stderr, flush=True)


def flagged_specs(template: Path, weeks: Sequence[str], markets: Sequence[str], reports_dir: Path, context,
                  build) -> tuple[list[FlaggedSpec], list[str]]:
    """The deep dives of the ranked, capped findings of each week in `markets`, and the parameter problems.
    `build(template, values, reports_dir, context, week=, market=)` validates one run (plan.build_spec). Writes the
    planned list to `reports/<week>/deep_dives.json` for the scorecards' links."""
    from gnelib.reporting.errors import ParameterError, PlanError

    specs, problems = [], []
    prepare_weeks(reports_dir, context.facts, weeks)
    for week in weeks:
        try:
            table = week_findings(reports_dir, context.facts, week)
        except Exception as error:  # noqa: BLE001 — any engine error: name it, nothing has run yet
            raise_if_stopped()
            raise PlanError(f"deep_dive: flagged: the weekly scan of {week} failed ({type(error).__name__}: "
                            f"{error}); run `gne check`, or remove `deep_dive: flagged` from the plan.") from None
        chosen = capped(table[table["market"].isin(list(markets))])
        planned: dict[str, list[str]] = {}
        for row in chosen.itertuples():
            values = {"market": row.market, "week": week, "metric": row.metric}
            try:
                spec = build(template, values, reports_dir, context, week=week, market=row.market)
            except ParameterError as error:
                problems.append(f"{template.stem} ({row.market}, {week}, {row.metric}): {error}")
                continue
            specs.append(as_flagged(spec, reports_dir))
            planned.setdefault(row.market, []).append(row.metric)
        atomic_write_text(reports_dir / week / PLANNED_NAME, json.dumps(planned, indent=1, sort_keys=True) + "\n")
    return specs, problems


def as_flagged(spec: RunSpec, reports_dir: Path) -> FlaggedSpec:
    """A deep dive placed in its metric's flagged slot, `<template>-<metric>` (also `gne run <template> --flagged`)."""
    name = report_name(str(spec.parameters["metric"]), spec.template.stem)
    values = {field.name: getattr(spec, field.name) for field in dataclasses.fields(spec)}
    return FlaggedSpec(**{**values, "paths": report_paths(reports_dir, spec.week, spec.market, name), "report": name})


def deep_dive_links(market: str, week: str, reports_dir: str | os.PathLike | None = None) -> dict[str, str]:
    """{metric: href} from a report in `reports/<week>/<market>/` to the flagged deep dives planned for that market
    and week (empty when the plan does not follow the flags). `reports_dir` defaults to `$GNE_REPORTS_DIR`."""
    folder = _reports_folder(reports_dir)
    path = folder / week / PLANNED_NAME if folder else None
    if path is None or not path.is_file():
        return {}
    planned = json.loads(path.read_text(encoding="utf-8"))
    return {metric: f"{report_name(metric)}.html" for metric in planned.get(market, [])}


def deep_dive_anchors(market: str, week: str, reports_dir: str | os.PathLike | None = None) -> dict[str, str]:
    """{metric: '<a href="metric_deep_dive-<metric>.html">deep dive</a>'} for a scorecard's "Deep dive" column
    (trusted HTML: the href is built from a catalog metric name and escaped)."""
    return {metric: f'<a href="{html.escape(href)}">deep dive</a>'
            for metric, href in deep_dive_links(market, week, reports_dir).items()}


def last_weeks_report(week: str, reports_dir: str | os.PathLike | None = None) -> Published | None:
    """What the run of the week before `week` published in `reports_dir` (default `$GNE_REPORTS_DIR`): its
    findings and headline numbers, for a report's "since last week's report" section; None without one."""
    folder = _reports_folder(reports_dir)
    previous = shift_week(week, -1)
    saved = load_week(folder, previous) if folder else None
    if saved is None or not saved.published:
        return None
    return Published(previous, saved.findings, saved.headlines)


def _reports_folder(reports_dir: str | os.PathLike | None) -> Path | None:
    folder = reports_dir if reports_dir is not None else os.environ.get(REPORTS_DIR_ENV_VAR)
    return Path(folder) if folder else None


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
    return [{key: _plain(value) for key, value in row.items()}
            for row in frame.reindex(columns=columns).to_dict("records")]


def _plain(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and not isinstance(value, list):
        value = value.item()
        return None if isinstance(value, float) and not math.isfinite(value) else value
    if isinstance(value, (list, tuple)):
        return [str(item) for item in value]
    return value


