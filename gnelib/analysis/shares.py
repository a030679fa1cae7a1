"""Segments of a count or a sum judged by their share of the market, so shocks the whole market shares cancel.

Order counts and GMV swing together across a market's segments: a mega-sale lifts every category by a fifth in
the same week. Judged on its own history, each segment then has heavy tails (those weeks), and a rise confined to
one category (a category sale, a burst of new sellers) is lost among them. Judged as its share of the market's
total at the same level, the common swing cancels and the segment's own move stays. The test is the ratio test of
`baseline.assess` on shares (numerator: the segment's count or sum; denominator: the market's, summed over the
level's cells), whose baseline is the line through the weekly shares (segments gain and lose share steadily: a
new-seller tier, an ageing tenure band). The result is stated in the metric's own units: the segment's value
against its usual share of this week's market total (`baseline`), so the number, the direction and the p-value
are of one comparison. Moves of the whole market are the market total's to find.
"""

import dataclasses

import numpy as np
import pandas as pd

from gnelib.analysis.baseline import CellSeries, assess

SHARE_KINDS = ("count", "sum")
"""Metric kinds whose segments are judged by their share of the market."""


def assess_shares(frame: pd.DataFrame, keys: list[str], market: str, periods: list[str], kind: str,
                  history: int) -> pd.DataFrame:
    """`assess` for the segments of a count or sum metric (`frame`: one row per period × `keys`, `market` the
    first key), each judged as its share of its market's total over the same cells; `baseline` and `current` in
    the metric's units (for a window comparison: the window's mean value and the share's baseline times the
    window's mean market total)."""
    shares = _share_frame(frame, market)
    share_series = dataclasses.replace(CellSeries.from_frame(shares, keys, periods, "ratio"), trend=True)
    own = CellSeries.from_frame(frame, keys, periods, kind)
    table = assess(share_series, history)
    last = len(periods) - 1
    window = table["window_weeks"].to_numpy(dtype=int)
    totals = share_series.stats["denominator"]
    values = own.value
    span = np.arange(len(periods))[None, :] > last - window[:, None]
    total_now, value_now = _window_mean(totals, span), _window_mean(values, span)
    table["baseline"] = table["baseline"].to_numpy() * total_now
    table["current"] = value_now
    table["events"] = own.events[:, last]
    table["volume"] = own.events[:, last]
    table["expected_events"] = own.typical_events if kind == "sum" else table["baseline"]
    return table


def _share_frame(frame: pd.DataFrame, market: str) -> pd.DataFrame:
    """The frame's cells as ratios: the cell's numerator over its market's (summed over the cells of the period);
    the delta-method sums follow (a unit counted in one cell: Σxy = the cell's Σx²; units in several cells make
    this conservative)."""
    totals = frame.groupby(["period", market])[["numerator", "units", "sum_x2"]].transform("sum")
    shares = frame.copy()
    shares["denominator"] = totals["numerator"]
    shares["units"] = totals["units"]
    shares["sum_y2"] = totals["sum_x2"]
    shares["sum_xy"] = frame["sum_x2"]
    with np.errstate(divide="ignore", invalid="ignore"):
        shares["value"] = shares["numerator"] / shares["denominator"]
    return shares


def _window_mean(values: np.ndarray, span: np.ndarray) -> np.ndarray:
    """Each row's mean over its `span` columns, missing weeks left out (NaN when none is left)."""
    used = span & np.isfinite(values)
    count = used.sum(axis=1)
    total = np.where(used, values, 0.0).sum(axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)
