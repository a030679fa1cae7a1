"""A report's "since last week's report" section: the weekly scan's findings for the market that are new this week,
still flagged, or gone since the previous week's report, and the numbers that report published which the data now
restates (late events, backfills).

Last week's findings and numbers are what its run saved (`gnelib.analysis.headlines.Published`, passed in by the
notebook); this week's findings come from the same scan rows as the rest of the page. A published number is
compared with the value of the same metric, market, read week and fixed horizon computed now, so the normal
maturing of a young week (read at a horizon) is not a restatement; a late-arriving or backfilled event is.
"""

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gnelib import metrics
from gnelib.analysis.detection import findings, grain_of, scan
from gnelib.analysis.headlines import READING_COLUMNS, Published, values_at
from gnelib.formats import format_p_value, format_relative, format_value
from gnelib.periods import shift_week
from gnelib.viz.tables import html_table

TOLERANCE = 0.01
"""A published number is restated when the value now differs from it by more than 1 % (relative) and reads
differently at the report's rounding."""
STATUS_ORDER = {"new": 0, "still flagged": 1, "gone": 2}


@dataclass(frozen=True)
class SinceLastWeek:
    """This week against the previous week's report, for one market.

    `changes`: one row per metric flagged in either week — `metric`, `title`, `status` (new / still flagged /
    gone), `this_week` and `last_week` (the finding's numbers in words, "–" when not flagged).
    `restated`: `metric`, `title`, `period` (read week and horizon in words), `published` and `now` (values),
    `rel_change`;
    `checked`: how many published numbers were compared."""

    market: str
    week: str
    previous_week: str
    changes: pd.DataFrame
    restated: pd.DataFrame
    checked: int


def since_last_week(conn, market: str, week: str, previous: Published,
                    names: Sequence[str] | None = None) -> SinceLastWeek:
    """Compare `market` in `week` with `previous` (the previous week's report) for the metrics `names` (default:
    every metric the scan reads)."""
    scanned = _scanned(conn, names)
    table = scan(conn, week, markets=[market], metrics=scanned)
    chosen = sorted(set(table["metric"])) if scanned is None else scanned
    now = findings(table)
    before = previous.findings[(previous.findings["market"] == market) & previous.findings["metric"].isin(chosen)]
    published = previous.headlines[(previous.headlines["market"] == market)
                                   & previous.headlines["metric"].isin(chosen)]
    return SinceLastWeek(market, week, previous.week, _changes(now, before), _restated(conn, market, published),
                         len(published))


def section(conn, market: str, week: str, previous: Published | None, names: Sequence[str] | None = None) -> str:
    """The section's HTML; one line when there is no previous week's report to compare with."""
    if previous is None:
        return (f"<p>No report of {html.escape(shift_week(week, -1))} was published to this reports folder, so "
                "there is nothing to compare with.</p>")
    return section_html(since_last_week(conn, market, week, previous, names))


def section_html(result: SinceLastWeek) -> str:
    """A summary line, the findings table (new, still flagged, gone) and the restated numbers (escaped)."""
    counts = result.changes["status"].value_counts()
    summary = (f"Against the report of {result.previous_week}: {counts.get('new', 0)} new, "
               f"{counts.get('still flagged', 0)} still flagged, {counts.get('gone', 0)} gone; "
               f"{len(result.restated)} of its {result.checked} published numbers restated by the data (changed by "
               f"more than {TOLERANCE:.0%}).")
    parts = [f"<p>{html.escape(summary)}</p>"]
    if len(result.changes):
        shown = result.changes.rename(columns={"title": "Metric", "status": "Since last week",
                                               "this_week": f"This week ({result.week})",
                                               "last_week": f"Last week's report ({result.previous_week})"})
        parts.append(html_table(shown.drop(columns="metric"), caption="Findings, new / still flagged / gone"))
    if len(result.restated):
        restated = result.restated
        formats = [metrics.get(name).format for name in restated["metric"]]
        shown = pd.DataFrame({
            "Metric": restated["title"], "Period": restated["period"],
            f"Published in {result.previous_week}": [format_value(v, f) for v, f in zip(restated["published"], formats,
                                                                                        strict=True)],
            "Now": [format_value(v, f) for v, f in zip(restated["now"], formats, strict=True)],
            "Change": [format_relative(v) for v in restated["rel_change"]]})
        parts.append(html_table(shown, caption=f"Restated: last week's numbers that the data now changes by more "
                                               f"than {TOLERANCE:.0%}"))
    return "\n".join(parts)


def _scanned(conn, names: Sequence[str] | None) -> list[str] | None:
    """The metrics of `names` the weekly scan reads: in the catalog, cut by the report grain (None: all)."""
    if names is None:
        return None
    catalog, grain = metrics.load_catalog(), grain_of(conn)
    return [name for name in names if name in catalog.names() and grain in catalog.get(name).dimensions]


def _changes(now: pd.DataFrame, before: pd.DataFrame) -> pd.DataFrame:
    current, previous = now.set_index("metric"), before.set_index("metric")
    rows = []
    for metric in sorted(set(current.index) | set(previous.index)):
        status = ("still flagged" if metric in previous.index else "new") if metric in current.index else "gone"
        definition = metrics.get(metric)
        rows.append({"metric": metric, "title": definition.title, "status": status,
                     "this_week": _words(current, metric, definition.format),
                     "last_week": _words(previous, metric, definition.format)})
    table = pd.DataFrame(rows, columns=["metric", "title", "status", "this_week", "last_week"])
    order = table["status"].map(STATUS_ORDER)
    return table.assign(_order=order).sort_values(["_order", "title"], ignore_index=True).drop(columns="_order")


def _words(rows: pd.DataFrame, metric: str, fmt: str) -> str:
    """"8.1% against a usual 5.0% (+62%, p < 0.001), category beauty" from a finding row; "–" without one."""
    if metric not in rows.index:
        return "–"
    row = rows.loc[metric]
    where = f", {row['dimension'].replace('_', ' ')} {row['segment']}" if row["level"] == "segment" else ""
    return (f"{format_value(row['current'], fmt)} against a usual {format_value(row['baseline'], fmt)} "
            f"({format_relative(row['rel_change'])}, {format_p_value(row['p_adjusted'])}){where}")


def _restated(conn, market: str, published: pd.DataFrame) -> pd.DataFrame:
    """The published numbers whose value now differs by more than `TOLERANCE` and beyond rounding."""
    columns = ["metric", "title", "period", "published", "now", "rel_change"]
    if published.empty:
        return pd.DataFrame(columns=columns)
    now = values_at(conn, published[READING_COLUMNS], market)[["metric", "value"]]
    both = published.merge(now, on="metric", how="inner", suffixes=("", "_now"))
    before, after = both["value"].to_numpy(float), both["value_now"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(before == 0, np.where(after == 0, 0.0, np.inf), (after - before) / np.abs(before))
    rows = []
    for row, change in zip(both.itertuples(), relative, strict=True):
        fmt = metrics.get(row.metric).format
        if abs(change) > TOLERANCE and format_value(row.value, fmt) != format_value(row.value_now, fmt):
            rows.append([row.metric, metrics.get(row.metric).title, _period(row.read_week, row.horizon_days),
                         row.value, row.value_now, change])
    return pd.DataFrame(rows, columns=columns)


def _period(read_week: str, horizon_days) -> str:
    if pd.isna(horizon_days):
        return read_week
    return f"{read_week}, events within {int(horizon_days)} days of the order"
