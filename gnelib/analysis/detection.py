"""The weekly scan: which metric × market × segment cells moved in a week, with one false-discovery family per
metric, so a cell gets the same answer whichever report asks.

For every metric, every grain value (market) and every value of every dimension inside it, the newest week is
judged against the cell's own history (`gnelib.analysis.baseline`). False discoveries are controlled
hierarchically per metric and week (Benjamini & Bogomolov, 2014, "Selective inference on multiple families of
hypotheses"):

1. each market is one family: its total and all its segment cells; the family's p-value is
   min(1, 2·min(p_total, Simes(p_segments))) — the total weighted as half the family, Simes valid under the
   positive dependence of segments of one market;
2. markets are selected by Benjamini–Hochberg at `alpha` across the metric's markets (R of m selected);
3. inside a selected market, its cells are tested by BH at `alpha`·R/m, which keeps the expected share of false
   discoveries, averaged over the selected markets, at or below `alpha`.

The family is the metric (all markets), never the report: a one-market scorecard runs the same scan and keeps its
market's rows. A flagged cell must also be material (`MIN_EVENTS`, `MIN_RELATIVE`) and comparable (no falls in a
still-maturing ratio read without a fixed horizon: its late events have not arrived).
"""

import hashlib
import weakref
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from gnelib.analysis.baseline import WINDOWS, CellSeries, assess
from gnelib.analysis.insights import judge
from gnelib.analysis.maturity import reading
from gnelib.analysis.significance import Change, benjamini_hochberg
from gnelib.metrics.store import AggregateStore, Request
from gnelib.periods import shift_week, validate_week, weeks_between

HISTORY = 12
"""Weeks of history a baseline is taken from."""
FIT_WEEKS = 8
"""Extra weeks before the history, used to calibrate the variance model and the window tests."""
MIN_EVENTS = 10
"""A cell needs this many events (observed, or expected at its baseline) to be flagged: below ~10 events the
normal approximation of a count is poor."""
MIN_RELATIVE = 0.03
"""A flagged move is at least 3 % of the baseline (smaller moves on huge volumes are real but not news)."""
TOTAL = ""
"""`dimension` and `segment` of a market's total cell."""

SCAN_COLUMNS = [
    "metric", "market", "week", "read_week", "dimension", "segment", "baseline", "current", "abs_change",
    "rel_change", "z", "p_value", "p_adjusted", "flag", "verdict", "direction", "pattern", "weeks_running",
    "comparison", "window_weeks", "baseline_weeks", "events", "expected_events", "volume", "excess", "is_mature",
    "horizon_days", "material", "comparable", "significant",
]

_CACHE: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()


def grain_of(conn) -> str:
    """The report grain of a connection: its project config's (`gnelib.warehouse.connect`), else `market`."""
    project = getattr(conn, "project", None)
    return getattr(project, "grain", None) or "market"


def scan(
    conn,
    week: str,
    markets: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    dimensions: Sequence[str] | None = None,
    grain: str | None = None,
    history: int = HISTORY,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """One row per metric × market × cell for ISO `week`: the market total (`dimension` "") and every segment
    of every dimension (`dimensions`: default all the metric's; () for totals only). `markets` filters the rows
    shown, never the family. `grain`: the dimension reports are cut by (default: the project config's, `market` in
    the demo); its values are in the `market` column. Flagged rows first. Columns: `SCAN_COLUMNS`."""
    from gnelib import metrics as metric_layer

    week = validate_week(week)
    grain = grain or grain_of(conn)
    catalog = metric_layer.load_catalog()
    names = list(metrics) if metrics is not None else [
        name for name in catalog.names() if grain in catalog.get(name).dimensions
    ]
    definitions = [catalog.get(name) for name in names]
    _prefetch(conn, definitions, week, dimensions, grain, history)
    tables = [
        scan_metric(conn, definition, week, dimensions=dimensions, grain=grain, history=history, alpha=alpha)
        for definition in definitions
    ]
    tables = [table for table in tables if len(table)]
    if not tables:
        return pd.DataFrame(columns=SCAN_COLUMNS)
    table = pd.concat(tables, ignore_index=True)
    if markets is not None:
        table = table[table["market"].isin(list(markets))]
    return table.sort_values(["flag", "p_adjusted", "metric"], ascending=[False, True, True], ignore_index=True)


def scan_metric(conn, definition, week: str, dimensions: Sequence[str] | None = None, grain: str | None = None,
                history: int = HISTORY, alpha: float = 0.05) -> pd.DataFrame:
    """`scan` of one metric (all markets), cached per connection for the life of the connection and, in a batch,
    kept in its aggregate store, so the batch scans each metric and week once whichever kernel asks first."""
    grain = grain or grain_of(conn)
    chosen = _levels(definition, dimensions, grain)
    key = ("scan", definition.name, week, chosen, grain, history, alpha)
    cache = _cache(conn)
    if key not in cache:
        store = AggregateStore.active()
        name = f"scan-{definition.name}-{week}-{hashlib.sha1(repr((definition, key)).encode()).hexdigest()[:16]}"
        table = store.get_table(name) if store is not None else None
        if table is None:
            table = _scan_metric(conn, definition, week, chosen, grain, history, alpha)
            if store is not None:
                store.put_table(name, table)
        cache[key] = table
    return cache[key].copy()


def scan_requests(conn, week: str, metrics: Sequence[str] | None = None, dimensions: Sequence[str] | None = None,
                  grain: str | None = None, history: int = HISTORY) -> list[Request]:
    """The metric frames `scan` (and the deep dive's headline series and splits) will ask for in `week`, for the
    batch aggregate store (`gnelib.metrics.store`) to compute once before the kernels start."""
    from gnelib import metrics as metric_layer

    catalog = metric_layer.load_catalog()
    grain = grain or grain_of(conn)
    names = list(metrics) if metrics is not None else [n for n in catalog.names() if grain in catalog.get(n).dimensions]
    requests = []
    for name in names:
        definition = catalog.get(name)
        read, first = _window(conn, definition, validate_week(week), history)
        for dimension in _levels(definition, dimensions, grain):
            level = (grain, dimension) if dimension else (grain,)
            requests.append(Request(name, level, read.horizon_days, "week", first, read.read_week))
    return requests


def findings(table: pd.DataFrame) -> pd.DataFrame:
    """One row per metric × market × week with a flagged cell: the headline (the market total when flagged,
    else its strongest segment) and `segments`, the flagged segments that carry the move, ranked by how far
    their share of the excess exceeds their share of volume ([] when the move is broad-based)."""
    flagged = table[table["flag"]]
    rows = []
    for (metric, market, week), cells in flagged.groupby(["metric", "market", "week"], sort=False):
        totals = cells[cells["dimension"] == TOTAL]
        head = (totals if len(totals) else cells.sort_values("p_adjusted")).iloc[0]
        everything = table[(table["metric"] == metric) & (table["market"] == market) & (table["week"] == week)]
        row = head.to_dict()
        row["level"] = "market" if head["dimension"] == TOTAL else "segment"
        row["segments"] = carrying_segments(everything, head)
        rows.append(row)
    columns = [*SCAN_COLUMNS, "level", "segments"]
    result = pd.DataFrame(rows, columns=columns)
    return result.sort_values("p_adjusted", ignore_index=True)


def carrying_segments(cells: pd.DataFrame, head: pd.Series, limit: int = 5) -> list[str]:
    """`dimension=value` of the flagged segments that moved with `head` and carry more of its excess (events
    above baseline) than of its volume, best first; a segment of a market-level move must carry 10 points more."""
    segments = cells[(cells["dimension"] != TOTAL) & cells["flag"] & (cells["direction"] == head["direction"])]
    if segments.empty:
        return []
    ranks = []
    for dimension, rows in segments.groupby("dimension"):
        everything = cells[cells["dimension"] == dimension]
        excess = everything["excess"]
        total_excess, total_volume = excess.abs().sum(), everything["volume"].abs().sum()
        for label, row in rows.iterrows():
            share_excess = abs(excess[label]) / total_excess if total_excess else 0.0
            share_volume = abs(row["volume"]) / total_volume if total_volume else 0.0
            ranks.append((share_excess - share_volume, row["p_adjusted"], f"{dimension}={row['segment']}"))
    ranks = [rank for rank in ranks if rank[0] > 0.1 or head["dimension"] != TOTAL]
    ranks.sort(key=lambda rank: (-rank[0], rank[1]))
    return [label for *_, label in ranks[:limit]]


def finding_change(row: pd.Series, alpha: float = 0.05) -> Change:
    """A scan row as a `Change`: its comparison's baseline and current value, a normal CI from its z and the
    family-adjusted p-value; `significant` is the row's flag."""
    delta = float(row["current"] - row["baseline"])
    sd = abs(delta / row["z"]) if row["z"] else float("nan")
    half = stats.norm.isf(alpha / 2) * sd
    return Change(float(row["baseline"]), float(row["current"]), delta, float(row["rel_change"]), delta - half,
                  delta + half, float(row["p_adjusted"]), _METHODS[row["comparison"]], bool(row["flag"]), alpha)


def finding_comparison(row: pd.Series) -> str:
    """How a scan row compared, in words for a sentence: "against its usual level", "over the last 4 weeks"."""
    if row["comparison"] == "window":
        return f"on average over the last {int(row['window_weeks'])} weeks against the weeks before"
    if row["pattern"] == "sustained":
        return f"against its usual level ({_ordinal(int(row['weeks_running']))} week running)"
    return "against its usual level"


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


_METHODS = {
    "week": "the week against its baseline (flagged weeks left out), calibrated variance, family FDR",
    "window": "mean of the last weeks against the baseline before them (MOSUM), calibrated variance, family FDR",
}


def family_adjust(table: pd.DataFrame, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """(adjusted p-values, rejected) of one metric-week's cells under the two-level procedure above.

    A cell of a selected market gets its within-market BH p-value scaled so that ≤ `alpha` means rejected; a cell
    of a market not selected gets the larger of its market's adjusted family p-value and its own p-value."""
    adjusted = np.full(len(table), np.nan)
    rejected = np.zeros(len(table), dtype=bool)
    groups = list(table.groupby("market", sort=False).indices.items())
    family_adjusted, selected = benjamini_hochberg(np.array([_family_p(table, rows) for _, rows in groups]), alpha)
    level = alpha * selected.sum() / len(groups)
    p_values = table["p_value"].to_numpy()
    for (_, rows), chosen, family in zip(groups, selected, family_adjusted, strict=True):
        if chosen:
            inner, _ = benjamini_hochberg(p_values[rows], 1.0)
            adjusted[rows] = np.minimum(1.0, inner * alpha / level)
            rejected[rows] = inner <= level
        else:
            adjusted[rows] = np.fmax(family, p_values[rows])
    return adjusted, rejected


def _family_p(table: pd.DataFrame, rows: np.ndarray) -> float:
    cells = table.iloc[rows]
    total = cells.loc[cells["dimension"] == TOTAL, "p_value"].dropna()
    segments = np.sort(cells.loc[cells["dimension"] != TOTAL, "p_value"].dropna().to_numpy())
    simes = float(np.min(segments * len(segments) / np.arange(1, len(segments) + 1))) if len(segments) else np.nan
    looks = [value for value in (total.min() if len(total) else np.nan, simes) if np.isfinite(value)]
    return float(min(1.0, len(looks) * min(looks))) if looks else np.nan


def _levels(definition, dimensions: Sequence[str] | None, grain: str) -> tuple[str, ...]:
    """The total ("") and the dimensions scanned inside each market."""
    wanted = definition.dimensions if dimensions is None else dimensions
    return (TOTAL, *(d for d in wanted if d != grain and d in definition.dimensions))


def _cache(conn) -> dict:
    try:
        return _CACHE.setdefault(conn, {})
    except TypeError:
        return {}


def _window(conn, definition, week: str, history: int):
    read = reading(conn, definition, week)
    return read, shift_week(read.read_week, -(history + FIT_WEEKS + max(WINDOWS)))


def _prefetch(conn, definitions, week: str, dimensions, grain: str, history: int) -> None:
    """Compute the frames of many metrics in one pass per source and level (`compute_many`), into the cache
    `_frame` reads; metrics read at a fixed horizon are left to `_frame`."""
    from gnelib import metrics as metric_layer

    cache, groups = _cache(conn), {}
    for definition in definitions:
        read, first = _window(conn, definition, week, history)
        if read.horizon_days is not None or definition.kind == "duration":
            continue
        for dimension in _levels(definition, dimensions, grain):
            if ("frame", definition.name, first, read.read_week, None, dimension, grain) not in cache:
                groups.setdefault((first, read.read_week, dimension), []).append(definition.name)
    for (first, last, dimension), names in groups.items():
        by = [grain, dimension] if dimension else [grain]
        for name, frame in metric_layer.compute_many(conn, names, weeks=(first, last), by=by).items():
            cache[("frame", name, first, last, None, dimension, grain)] = frame


def _frame(conn, definition, first: str, read, dimension: str, grain: str) -> pd.DataFrame:
    from gnelib import metrics as metric_layer

    key = ("frame", definition.name, first, read.read_week, read.horizon_days, dimension, grain)
    cache = _cache(conn)
    if key not in cache:
        by = [grain, dimension] if dimension else [grain]
        cache[key] = metric_layer.compute(conn, definition, weeks=(first, read.read_week), by=by,
                                          horizon_days=read.horizon_days)
    return cache[key]


def _scan_metric(conn, definition, week: str, levels: tuple[str, ...], grain: str, history: int,
                 alpha: float) -> pd.DataFrame:
    read, first = _window(conn, definition, week, history)
    periods = weeks_between(first, read.read_week)
    tables = []
    for dimension in levels:
        by = [grain, dimension] if dimension else [grain]
        frame = _frame(conn, definition, first, read, dimension, grain)
        frame = frame[frame[by].notna().all(axis=1)]
        if frame.empty or read.read_week not in set(frame["period"]):
            continue
        series = CellSeries.from_frame(frame, by, periods, definition.kind)
        level = assess(series, history)
        level = level.rename(columns={grain: "market"})
        level["dimension"] = dimension
        level["segment"] = level.pop(dimension).astype(str) if dimension else TOTAL
        mature = frame[frame["period"] == read.read_week].set_index(by)["is_mature"]
        level["is_mature"] = mature.reindex(pd.MultiIndex.from_frame(series.keys) if dimension else
                                            series.keys[grain]).fillna(False).to_numpy(dtype=bool)
        tables.append(level)
    if not tables:
        return pd.DataFrame(columns=SCAN_COLUMNS)
    table = pd.concat(tables, ignore_index=True)
    table = table[np.isfinite(table["p_value"]) & np.isfinite(table["baseline"])].reset_index(drop=True)
    table.insert(0, "metric", definition.name)
    table["week"], table["read_week"], table["horizon_days"] = week, read.read_week, read.horizon_days
    return _judge(table, definition, alpha)


def _judge(table: pd.DataFrame, definition, alpha: float) -> pd.DataFrame:
    table["abs_change"] = table["current"] - table["baseline"]
    table["excess"] = table["abs_change"] * (table["volume"] if definition.kind == "ratio" else 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["rel_change"] = table["abs_change"] / table["baseline"].abs()
    table["direction"] = np.where(table["abs_change"] > 0, "up", np.where(table["abs_change"] < 0, "down", "flat"))
    table["verdict"] = [judge(definition.direction, movement) for movement in table["direction"]]
    table["p_adjusted"], table["significant"] = family_adjust(table, alpha) if len(table) else ([], [])
    events = table[["events", "expected_events"]].abs().max(axis=1)
    big_enough = table["rel_change"].abs().ge(MIN_RELATIVE) | (table["baseline"] == 0)
    table["material"] = events.ge(MIN_EVENTS) & big_enough
    maturing_fall = ((definition.kind == "ratio") & ~table["is_mature"] & table["horizon_days"].isna()
                     & (table["direction"] == "down"))
    table["comparable"] = ~maturing_fall
    table["flag"] = table["significant"] & table["material"] & table["comparable"]
    return table[SCAN_COLUMNS]
