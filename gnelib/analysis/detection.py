"""The weekly scan: which metric × market × segment cells moved in a week, with one false-discovery family per
metric, so a cell gets the same answer whichever report asks.

For every metric, every grain value (market) and every value of every dimension inside it, the newest week is
judged against the cell's own history (`gnelib.analysis.baseline`). False discoveries are controlled
hierarchically per metric and week (Benjamini & Bogomolov, 2014, "Selective inference on multiple families of
hypotheses"):

1. each market is one family: its total, its single-dimension cells and (at `DEPTH` 2) its pair cells — three
   looks with weights w (`LOOK_WEIGHTS`: 0.4, 0.4, 0.2); the family's p-value is the weighted Bonferroni
   min(1, min over looks of p_look / w_look), p_look being the total's p-value or the Simes combination of the
   look's cells (valid under the positive dependence of cells of one market);
2. markets are selected by Benjamini–Hochberg at `alpha` across the metric's markets (R of m selected);
3. inside a selected market, its cells are tested by BH at `alpha`·R/m, which keeps the expected share of false
   discoveries, averaged over the selected markets, at or below `alpha`.

At depth 1 the weights are 0.5 / 0.5, the family p-value 2·min(p_total, Simes). The pair look's smaller weight
keeps the hundreds of pair cells from drowning the few cells a typical incident lands in when markets are
selected. (Weighting the within-market BH as well lets a total pass whenever its market was selected through it;
tried in one power-bench run, it gave 4.0 % false alarms on quiet cells and one deterioration read as an
improvement, so it was dropped.)
"""

import hashlib
import itertools
import weakref
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from gnelib.analysis.baseline import WINDOWS, CellSeries, assess
from gnelib.analysis.insights import judge
from gnelib.analysis.maturity import reading
from gnelib.analysis.root_cause import PAIR_SEPARATOR
from gnelib.analysis.shares import SHARE_KINDS, assess_shares
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
DEPTH = 1
"""Cells scanned inside a market: 1 = the total and each dimension's values; 2 = also each pair of dimensions'
value pairs (`channel × category` = `live × beauty`), where an incident confined to a pair cell shows. Depth 2
scans ~10× the cells (~4× the time) and is opt-in (`scan(..., depth=2)`); the deep dive searches pairs anyway."""
LOOK_WEIGHTS = {"total": 0.4, "single": 0.4, "pair": 0.2}
"""Shares of each market family's error budget: its total, its single-dimension cells, its pair cells (many, so
each gets a smaller share; see the module docstring)."""

SCAN_COLUMNS = [
    "metric", "market", "week", "read_week", "dimension", "segment", "baseline", "current", "abs_change",
    "rel_change", "z", "p_value", "p_adjusted", "flag", "verdict", "direction", "pattern", "weeks_running",
    "flagged_weeks", "comparison", "window_weeks", "baseline_weeks", "events", "expected_events", "volume", "excess",
    "is_mature", "horizon_days", "material", "comparable", "significant", "basis",
]
"""The scan table's columns; `flagged_weeks` lists the earlier weeks of the cell's history the scan found unusual
(`gnelib.analysis.baseline.assess`), the newest week's verdict being `flag`; `basis` says what a cell was judged
against: `history` (its own usual level) or `share` (a segment of a count or sum: its usual share of the market,
`gnelib.analysis.shares`)."""

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
    depth: int = DEPTH,
) -> pd.DataFrame:
    """One row per metric × market × cell for ISO `week`: the market total (`dimension` "") and every segment
    of every dimension (`dimensions`: default all the metric's; () for totals only), and at `depth` 2 every pair
    of them (`dimension` "channel × category", `segment` "live × beauty"). `markets` filters the rows
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
    _prefetch(conn, definitions, week, dimensions, grain, history, depth)
    tables = [
        scan_metric(conn, definition, week, dimensions=dimensions, grain=grain, history=history, alpha=alpha,
                    depth=depth)
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
                history: int = HISTORY, alpha: float = 0.05, depth: int = DEPTH) -> pd.DataFrame:
    """`scan` of one metric (all markets), cached per connection for the life of the connection and, in a batch,
    kept in its aggregate store, so the batch scans each metric and week once whichever kernel asks first."""
    grain = grain or grain_of(conn)
    chosen = _levels(definition, dimensions, grain, depth)
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
                  grain: str | None = None, history: int = HISTORY, depth: int = DEPTH) -> list[Request]:
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
        for level in _levels(definition, dimensions, grain, depth):
            requests.append(Request(name, (grain, *level), read.horizon_days, "week", first, read.read_week))
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
            ranks.append((PAIR_SEPARATOR in dimension, share_excess - share_volume, row["p_adjusted"],
                          f"{dimension}={row['segment']}"))
    ranks = [rank for rank in ranks if rank[1] > 0.1 or head["dimension"] != TOTAL]
    ranks.sort(key=lambda rank: (rank[0], -rank[1], rank[2]))
    return [label for *_, label in ranks[:limit]]


def finding_change(row: pd.Series, alpha: float = 0.05) -> Change:
    """A scan row as a `Change`: its comparison's baseline and current value, a normal CI from its z and the
    family-adjusted p-value; `significant` is the row's flag."""
    delta = float(row["current"] - row["baseline"])
    sd = abs(delta / row["z"]) if row["z"] else float("nan")
    half = stats.norm.isf(alpha / 2) * sd
    return Change(float(row["baseline"]), float(row["current"]), delta, float(row["rel_change"]), delta - half,
                  delta + half, float(row["p_adjusted"]), _method(row), bool(row["flag"]), alpha)


def finding_comparison(row: pd.Series) -> str:
    """How a scan row compared, in words for a sentence: "against its usual level", "over the last 4 weeks",
    "against its usual share of the market" (a segment of a count or sum)."""
    share = row.get("basis") == "share"
    if row["comparison"] == "window":
        before = "its share of the market in the weeks before" if share else "the weeks before"
        return f"on average over the last {int(row['window_weeks'])} weeks against {before}"
    usual = "its usual share of the market" if share else "its usual level"
    if row["pattern"] == "sustained":
        return f"against {usual} ({_ordinal(int(row['weeks_running']))} week running)"
    return f"against {usual}"


def _method(row: pd.Series) -> str:
    method = _METHODS[row["comparison"]]
    return f"its share of the market's total ({method})" if row.get("basis") == "share" else method


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
    looks = _looks(table["dimension"])
    p_values = table["p_value"].to_numpy()
    family_p = np.array([_family_p(p_values[rows], looks[rows]) for _, rows in groups])
    family_adjusted, selected = benjamini_hochberg(family_p, alpha)
    level = alpha * selected.sum() / len(groups)
    for (_, rows), chosen, family in zip(groups, selected, family_adjusted, strict=True):
        if chosen:
            inner, _ = benjamini_hochberg(p_values[rows], 1.0)
            adjusted[rows] = np.minimum(1.0, inner * alpha / level)
            rejected[rows] = inner <= level
        else:
            adjusted[rows] = np.fmax(family, p_values[rows])
    return adjusted, rejected


def _looks(dimensions: pd.Series) -> np.ndarray:
    """Each cell's look: `total`, `single` or `pair`."""
    text = dimensions.astype(str)
    return np.where(text == TOTAL, "total", np.where(text.str.contains(PAIR_SEPARATOR, regex=False), "pair",
                                                     "single"))


def _shares(looks: np.ndarray) -> dict[str, float]:
    """`LOOK_WEIGHTS` of the looks present, scaled to sum to 1."""
    present = {look: LOOK_WEIGHTS[look] for look in LOOK_WEIGHTS if (looks == look).any()}
    total = sum(present.values())
    return {look: weight / total for look, weight in present.items()}


def _family_p(p_values: np.ndarray, looks: np.ndarray) -> float:
    """A market family's p-value: weighted Bonferroni over its looks, Simes inside each."""
    finite = np.isfinite(p_values)
    shares = _shares(looks[finite])
    combined = []
    for look, share in shares.items():
        values = np.sort(p_values[finite & (looks == look)])
        simes = float(np.min(values * len(values) / np.arange(1, len(values) + 1)))
        combined.append(simes / share)
    return float(min(1.0, min(combined))) if combined else np.nan


def _levels(definition, dimensions: Sequence[str] | None, grain: str, depth: int) -> tuple[tuple[str, ...], ...]:
    """The levels scanned inside each market: the total (), each dimension, and at `depth` 2 each pair of them."""
    wanted = definition.dimensions if dimensions is None else dimensions
    singles = [d for d in wanted if d != grain and d in definition.dimensions]
    pairs = list(itertools.combinations(singles, 2)) if depth >= 2 else []
    return ((), *((dimension,) for dimension in singles), *pairs)


def _cache(conn) -> dict:
    try:
        return _CACHE.setdefault(conn, {})
    except TypeError:
        return {}


def _window(conn, definition, week: str, history: int):
    read = reading(conn, definition, week)
    return read, shift_week(read.read_week, -(history + FIT_WEEKS + max(WINDOWS)))


def _prefetch(conn, definitions, week: str, dimensions, grain: str, history: int, depth: int) -> None:
    """Compute the frames of many metrics in one pass per source, level and horizon (`compute_many`), into the
    cache `_frame` reads."""
    from gnelib import metrics as metric_layer

    cache, groups = _cache(conn), {}
    for definition in definitions:
        read, first = _window(conn, definition, week, history)
        for level in _levels(definition, dimensions, grain, depth):
            if ("frame", definition.name, first, read.read_week, read.horizon_days, level, grain) not in cache:
                groups.setdefault((first, read.read_week, read.horizon_days, level), []).append(definition.name)
    for (first, last, horizon_days, level), names in groups.items():
        frames = metric_layer.compute_many(conn, names, weeks=(first, last), by=[grain, *level],
                                           horizon_days=horizon_days)
        for name, frame in frames.items():
            cache[("frame", name, first, last, horizon_days, level, grain)] = frame


def _frame(conn, definition, first: str, read, level: tuple[str, ...], grain: str) -> pd.DataFrame:
    from gnelib import metrics as metric_layer

    key = ("frame", definition.name, first, read.read_week, read.horizon_days, level, grain)
    cache = _cache(conn)
    if key not in cache:
        cache[key] = metric_layer.compute(conn, definition, weeks=(first, read.read_week), by=[grain, *level],
                                          horizon_days=read.horizon_days)
    return cache[key]


def _scan_metric(conn, definition, week: str, levels: tuple[tuple[str, ...], ...], grain: str, history: int,
                 alpha: float) -> pd.DataFrame:
    read, first = _window(conn, definition, week, history)
    periods = weeks_between(first, read.read_week)
    tables = []
    for level in levels:
        by = [grain, *level]
        frame = _frame(conn, definition, first, read, level, grain)
        frame = frame[frame[by].notna().all(axis=1)]
        if frame.empty or read.read_week not in set(frame["period"]):
            continue
        series = CellSeries.from_frame(frame, by, periods, definition.kind)
        by_share = bool(level) and definition.kind in SHARE_KINDS
        cells = assess_shares(frame, by, grain, periods, definition.kind, history) if by_share else assess(
            series, history)
        cells = cells.rename(columns={grain: "market"})
        cells["basis"] = "share" if by_share else "history"
        cells["dimension"] = PAIR_SEPARATOR.join(level)
        cells["segment"] = cells[list(level)].astype(str).agg(PAIR_SEPARATOR.join, axis=1) if level else TOTAL
        cells = cells.drop(columns=list(level))
        mature = frame[frame["period"] == read.read_week].set_index(by)["is_mature"]
        cells["is_mature"] = mature.reindex(pd.MultiIndex.from_frame(series.keys) if level else
                                            series.keys[grain]).fillna(False).to_numpy(dtype=bool)
        tables.append(cells)
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
