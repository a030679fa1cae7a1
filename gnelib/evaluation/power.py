"""Scoring the scan against injected incidents: recall by effect size, segment naming, verdicts, false alarms.

Pure pandas on the scan's `findings` frame (`gnelib.analysis.detection.findings`, one row per metric × market ×
week with a flagged cell) and the injector's manifest (`gnelib.evaluation.inject.manifest`). Definitions:

- **found**: `findings` has a row with the incident's metric and market in one of its weeks whose verdict is the
  expected one ('bad' for a rise, 'good' for an improvement); for a volume sale (orders have no good or bad
  direction) whose direction is 'up'.
- **segment named first** (found incidents): the first entry of that row's `segments` is the carrying
  `dimension=value`, in the first week the incident was found. Pair and single-seller incidents are judged by the
  deep dive instead (the bench fills `pair_named` / `seller_named`).
- **wrong verdict**: a 'bad' incident with a 'good' findings row (same metric, market, incident week), or an
  improvement with a 'bad' one.
- **quiet cell**: a market × metric × week the scan covered whose metric numerator and denominator are identical
  in the copy and its source (no incident, no side effect), and that is not a generator event (`generator_events`:
  mega-sale weeks for volume metrics, experiment boundaries for their primary metric). A quiet cell is a false
  alarm when `findings` has a row for it.
- **ideal recall** (`ideal_recall`): the chance that an oracle finds the incident — one that knows its noise
  exactly and combines its weeks optimally (√Σ size²), but like the scan must keep false alarms within the budget
  (`QUIET_TARGET`) over the K cells it looks at in a market × metric × week (Bonferroni: |z| ≥ Φ⁻¹(1 − budget/2K)).
  It is the ceiling any detector with that false-alarm rate can reach, so recall is read against it.
"""

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from gnelib.periods import shift_week, week_of

SIZE_EDGES = (0.0, 2.0, 3.0, 5.0, np.inf)
SIZE_LABELS = ("<2", "2-3", "3-5", ">=5")
RECALL_TARGETS = {"3-5": 0.80, ">=5": 0.95}
SEGMENT_TARGET = 0.90
QUIET_TARGET = 0.02
KEYS = ["market", "metric", "week"]


def size_bin(sizes: pd.Series) -> pd.Series:
    """The `SIZE_LABELS` bin of each effect size (in cell SE units)."""
    return pd.cut(sizes, SIZE_EDGES, labels=SIZE_LABELS, right=False)


def score_incidents(manifest: pd.DataFrame, found: pd.DataFrame) -> pd.DataFrame:
    """The manifest with `found`, `found_week`, `level`, `segments` (of the first found row), `segment_first`,
    `wrong_verdict` and `size_bin` per incident (module docstring)."""
    rows = []
    for _, incident in manifest.iterrows():
        weeks = incident["weeks"].split(",")
        mine = found[(found["metric"] == incident["metric"]) & (found["market"] == incident["market"])
                     & found["week"].isin(weeks)].sort_values("week")
        if incident["verdict"] == "neutral":
            hits = mine[mine["direction"] == incident["direction"]]
        else:
            hits = mine[mine["verdict"] == incident["verdict"]]
        opposite = {"bad": "good", "good": "bad"}.get(incident["verdict"])
        first = hits.iloc[0] if len(hits) else None
        segments = list(first["segments"]) if first is not None else []
        rows.append({
            "found": first is not None,
            "found_week": first["week"] if first is not None else None,
            "level": first["level"] if first is not None else None,
            "pattern": first["pattern"] if first is not None else None,
            "segments": segments,
            "segment_first": bool(segments) and segments[0] == incident["segment"],
            "wrong_verdict": bool(opposite) and bool((mine["verdict"] == opposite).any()),
        })
    scored = pd.concat([manifest.reset_index(drop=True), pd.DataFrame(rows)], axis=1)
    scored["size_bin"] = size_bin(scored["size_se"])
    return scored


def ideal_recall(sizes_se: Iterable[Sequence[float]], cells: Iterable[int], budget: float = QUIET_TARGET) -> np.ndarray:
    """Per incident (its weekly sizes in SE units, the cells scanned in its market × metric × week): the oracle's
    detection probability (module docstring)."""
    size = np.array([np.sqrt(np.sum(np.square(weeks))) for weeks in sizes_se])
    threshold = stats.norm.isf(budget / (2 * np.maximum(np.asarray(list(cells), dtype=float), 1)))
    return stats.norm.sf(threshold - size) + stats.norm.cdf(-threshold - size)


def recall_table(scored: pd.DataFrame) -> pd.DataFrame:
    """Found / total per kind (rows, plus 'all') and size bin (columns); cells hold (found, total)."""
    table = {}
    for kind, group in [*scored.groupby("kind", sort=True), ("all", scored)]:
        counts = group.groupby("size_bin", observed=False)["found"].agg(["sum", "count"])
        table[kind] = {label: (int(counts.loc[label, "sum"]), int(counts.loc[label, "count"]))
                       for label in SIZE_LABELS}
    return pd.DataFrame(table).T


def generator_events(conn: object, weeks: Sequence[str]) -> set[tuple[str, ...]]:
    """(metric, week) pairs where the generator itself moves a metric in every market: orders and GMV in the
    mega-sale weeks (9.9, 10.10, 11.11; docs/warehouse.md) and the week after, and each experiment's primary
    metric in its first week and the week after its last (a real effect switches on and off); and (metric, week,
    market) triples for a launched policy's metric in its market from the launch week until the step has become
    the cell's level (`POLICY_WEEKS` later: the scan rightly calls it sustained while its baseline holds weeks from
    before the launch). `is_event` reads both."""
    year = weeks[0][:4]
    events = set()
    for month in (9, 10, 11):
        sale = week_of(pd.Timestamp(f"{year}-{month:02d}-{month:02d}"))
        for week in (sale, shift_week(sale, 1)):
            events |= {("orders", week), ("gmv_usd", week)}
    designs = conn.sql("SELECT primary_metric, start_date, end_date, true_effect FROM experiment_designs")
    for design in designs.itertuples(index=False):
        if design.true_effect:
            events.add((design.primary_metric, week_of(design.start_date)))
            events.add((design.primary_metric, shift_week(week_of(design.end_date), 1)))
    try:
        launches = conn.sql("SELECT metric, market, launch_date FROM policy_launches")
    except Exception:  # a warehouse without policy launches (older generator, other projects)
        return events
    for launch in launches.itertuples(index=False):
        first = week_of(launch.launch_date)
        events |= {(launch.metric, shift_week(first, offset), launch.market) for offset in range(POLICY_WEEKS + 1)}
    return events


POLICY_WEEKS = 12
"""Weeks after a policy launch its metric counts as a generator event in the launched market (the scan's history)."""


def is_event(events: set[tuple[str, ...]], market: str, metric: str, week: str) -> bool:
    """Whether `generator_events` holds this market × metric × week (an all-market or a one-market event)."""
    return (metric, week) in events or (metric, week, market) in events


def touched_cells(before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame]) -> set[tuple[str, str, str]]:
    """(market, metric, week) cells whose numerator or denominator differ between two sets of metric frames by
    market (`gnelib.metrics.compute_many(..., by=["market"])` on the source and on the copy)."""
    touched = set()
    for metric, frame in before.items():
        columns = ["market", "period", "numerator", "denominator"]
        merged = frame[columns].merge(after[metric][columns], on=["market", "period"], how="outer",
                                      suffixes=("", "_after"), indicator=True)
        same = np.ones(len(merged), dtype=bool)
        for column in ("numerator", "denominator"):
            same &= np.isclose(merged[column], merged[f"{column}_after"], equal_nan=True)
        differs = (merged["_merge"] != "both") | ~same
        touched |= {(market, metric, week) for market, week in merged.loc[differs, ["market", "period"]]
                    .itertuples(index=False)}
    return touched


def quiet_cells(
    cells: pd.DataFrame,
    found: pd.DataFrame,
    touched: Iterable[tuple[str, str, str]],
    events: Iterable[tuple[str, str]],
    manifest: pd.DataFrame | None = None,
    recovery_weeks: int = 2,
) -> pd.DataFrame:
    """`cells` (market, metric, week: what the scan covered) with `quiet`, `alarm` (a findings row exists),
    `generator_event` and `after_incident` (quiet, within `recovery_weeks` after an incident on the same market
    and family)."""
    table = cells[KEYS].drop_duplicates().reset_index(drop=True)
    touched = set(touched)
    events = set(events)
    flagged = set(found[KEYS].itertuples(index=False, name=None)) if len(found) else set()
    keys = list(table.itertuples(index=False, name=None))
    table["generator_event"] = [is_event(events, market, metric, week) for market, metric, week in keys]
    table["touched"] = [key in touched for key in keys]
    table["quiet"] = ~table["touched"] & ~table["generator_event"]
    table["alarm"] = [key in flagged for key in keys]
    after = set()
    if manifest is not None:
        for incident in manifest.itertuples(index=False):
            for offset in range(1, recovery_weeks + 1):
                after.add((incident.market, incident.metric, shift_week(incident.last_week, offset)))
    table["after_incident"] = pd.Series([key in after for key in keys], dtype=bool) & table["quiet"]
    return table
