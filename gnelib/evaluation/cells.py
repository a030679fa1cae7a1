"""Cells of the warehouse (a market, optionally narrowed by one or two dimension values) and the effect-size unit
the injector measures incidents in: the cell's own robust weekly standard deviation.

The unit is computed here, independently of `gnelib.analysis`, with pandas/numpy from the cell's weekly metric
frames (`gnelib.metrics.compute_many`, the metric layer only) over the `HISTORY_WEEKS` = 12 weeks before the
incident's first week:

    spread   = 1.4826 · MAD(residuals of the 12 weekly values about their least-squares line)
    sampling = sqrt(p·(1−p) / n)  for a ratio (p: the 12 weeks' pooled rate, n: the incident week's denominator)
               sqrt(mean count)   for a count
    se       = max(spread, sampling)

The spread is the cell's own week-to-week swing: the line removes slow drift (order volume grows ~0.5 % a week,
which would otherwise inflate the spread of counts) and the MAD ignores outlying weeks (mega-sale days); 1.4826
makes it a consistent estimate of a normal standard deviation. A MAD of 12 values is itself noisy (relative
error ~35 %), so the binomial / Poisson sampling error is the floor: an incident of size 3 is at least three
sampling standard errors and at least three typical weekly swings. An incident of size 3 moves the cell's weekly
value by 3·se.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gnelib import metrics
from gnelib.periods import shift_week, weeks_between

HISTORY_WEEKS = 12
MAD_SCALE = 1.4826


@dataclass(frozen=True)
class Cell:
    """A market, optionally narrowed to one or two dimension values (`filters`: ((dimension, value), ...))."""

    market: str
    filters: tuple[tuple[str, str], ...] = ()

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(dimension for dimension, _ in self.filters)

    @property
    def dimension(self) -> str:
        """"" for the market total, "category", or "channel × category" for a pair (the deep dive's spelling)."""
        return " × ".join(self.dimensions)

    @property
    def value(self) -> str:
        return " × ".join(value for _, value in self.filters)

    @property
    def label(self) -> str:
        """`dimension=value` as the scan's `segments` spell it ("" for the market total)."""
        return f"{self.dimension}={self.value}" if self.filters else ""


def robust_sd(values: Iterable[float]) -> float:
    """1.4826 · MAD of the residuals of `values` (in time order) about their least-squares line; NaN when fewer
    than 6 finite values."""
    series = np.asarray(list(values), dtype=float)
    series = series[np.isfinite(series)]
    if len(series) < 6:
        return float("nan")
    x = np.arange(len(series), dtype=float)
    slope, intercept = np.polyfit(x, series, 1)
    residuals = series - (slope * x + intercept)
    return float(MAD_SCALE * np.median(np.abs(residuals - np.median(residuals))))


def history_weeks(first_week: str) -> list[str]:
    """The `HISTORY_WEEKS` weeks before `first_week`, oldest first."""
    return [shift_week(first_week, -offset) for offset in range(HISTORY_WEEKS, 0, -1)]


class CellFrames:
    """Weekly metric frames of one warehouse by market and by cell dimensions, computed once per dimension set."""

    def __init__(self, conn: object, metric_names: Sequence[str], first_week: str, last_week: str):
        self.conn = conn
        self.metric_names = list(metric_names)
        self.weeks = weeks_between(first_week, last_week)
        self._frames: dict[tuple[str, ...], dict[str, pd.DataFrame]] = {}

    def frame(self, metric: str, dimensions: Sequence[str] = ()) -> pd.DataFrame:
        """The metric frame by market, `dimensions` and week (columns market, *dimensions, period, numerator,
        denominator, value, is_mature)."""
        key = tuple(dimensions)
        if key not in self._frames:
            self._frames[key] = metrics.compute_many(
                self.conn, self.metric_names, weeks=(self.weeks[0], self.weeks[-1]), by=["market", *key]
            )
        return self._frames[key][metric]

    def series(self, metric: str, cell: Cell) -> pd.DataFrame:
        """The cell's weekly rows indexed by period (numerator, denominator, value, is_mature)."""
        frame = self.frame(metric, cell.dimensions)
        mask = frame["market"] == cell.market
        for dimension, value in cell.filters:
            mask &= frame[dimension].astype(str) == value
        columns = ["period", "numerator", "denominator", "value", "is_mature"]
        return frame.loc[mask, columns].set_index("period").sort_index()

    def cells(self, metric: str, market: str, dimensions: Sequence[str]) -> list[Cell]:
        """Every cell of `market` split by `dimensions` that has rows in the frame."""
        frame = self.frame(metric, dimensions)
        mine = frame[frame["market"] == market]
        keys = mine[list(dimensions)].astype(str).drop_duplicates().itertuples(index=False, name=None)
        return [Cell(market, tuple(zip(dimensions, key, strict=True))) for key in keys]

    def mature_weeks(self, metric_names: Sequence[str]) -> list[str]:
        """Weeks in which every one of `metric_names` is mature in every market."""
        mature = set(self.weeks)
        for name in metric_names:
            frame = self.frame(name)
            mature &= set(frame.groupby("period")["is_mature"].all().loc[lambda s: s].index)
        return [week for week in self.weeks if week in mature]


def cell_unit(series: pd.DataFrame, first_week: str, kind: str = "ratio", week: str | None = None) -> float:
    """The effect-size unit of a cell for an incident starting in `first_week` (module docstring), at the volume
    of `week` (default `first_week`); NaN when a history week or `week` is missing."""
    history = history_weeks(first_week)
    week = week or first_week
    if not set([*history, week]) <= set(series.index):
        return float("nan")
    past = series.loc[history]
    spread = robust_sd(past["value"])
    if kind == "ratio":
        total = float(past["denominator"].sum())
        rate = float(past["numerator"].sum()) / total if total else float("nan")
        sampling = float(np.sqrt(rate * (1 - rate) / series.loc[week, "denominator"]))
    else:
        sampling = float(np.sqrt(max(past["value"].mean(), 0.0)))
    return float(max(spread, sampling))
