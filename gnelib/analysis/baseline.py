"""Each cell against its own history: a robust baseline that skips weeks already flagged, a variance model
calibrated on the history, a one-week test and a windowed level-shift test for slow drifts.

The model, for the weekly value y_t of one cell (a metric in one market, or in one segment of a market):

    b_t           the level of the cell's previous `history` weeks, leaving out weeks that were themselves flagged
                  (|z| ≥ `EXCLUDE_Z`), so a sustained incident stays "elevated" in its second week: the pooled
                  ratio Σx/Σn for ratios, the median of weekly medians for durations
                  — for counts and sums, which grow with the business, the straight line through those weeks
    Var(y_t)    = φ·v_t + τ²·b_t²
    Var(y_t−b_t) = Var(y_t)·(1 + s)     s = 1/n_b for a mean or pooled ratio, π/(2·n_b) for a median, and the
                                        extrapolation's 1/n_b + (t−x̄)²/Sxx for a line

v_t is the sampling variance under "nothing changed": b(1−b)/n for a 0/1 order-level ratio, the cell's typical
delta-method variance per unit of volume for other ratios, b for counts (Poisson), b·k for sums (k = Σx²/Σx,
compound Poisson) and b²/n for medians of durations. φ (how far sampling noise is over- or under-dispersed) and τ²
(the relative week-to-week swing that no sample size removes: promotions, seasonality) are fitted on every cell of
one metric at one level by iteratively reweighted least squares on squared residuals — a quasi-likelihood moment
fit, with residuals beyond the 0.1 % χ² tail trimmed so past incidents do not inflate it. The sampling variance of
a line is taken at the larger of the line and the history's mean (`Baseline.noise_level`), and each deviation
becomes a normal score that allows for the sampling noise's own skew (`normal_score`: a small cell's events are
Poisson-like) before the level's tails are fitted.

The window test is a moving-sum (MOSUM) chart: the mean of the last m weeks (m in `WINDOWS`) against the baseline
before them, so a rate that creeps up a little each week is seen when its level has shifted. The best window's
p-value is corrected for the window lengths tried (`window_family_p`): the windows are nested, so the correction
is the exact chance that any of them goes as far, between 1.5× and the number of windows, not Bonferroni's
number of windows.
"""

import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
from scipy import optimize, signal, special, stats

from gnelib.analysis.significance import STAT_COLUMNS, binary_rows, ratio_variances

EXCLUDE_Z = 3.0
"""A week this many standard deviations from its baseline is left out of later weeks' baselines."""
WINDOWS = (2, 3, 4, 5)
"""Lengths of the level-shift windows (weeks)."""
MIN_BASELINE = 4
"""Fewest usable history weeks for a baseline."""
MIN_PHI = 0.25
TRIM_CHI2 = stats.chi2.isf(0.001, 1)


@dataclass
class CellSeries:
    """One metric's cells at one level as cells × weeks arrays (weeks oldest first)."""

    kind: str
    periods: list[str]
    keys: pd.DataFrame
    stats: dict[str, np.ndarray]
    volume: np.ndarray
    events: np.ndarray
    binary: np.ndarray
    unit_variance: np.ndarray
    event_size: np.ndarray
    typical_events: np.ndarray
    proportion: np.ndarray | None = None
    """Cells whose every week's numerator is at most its denominator (a share of the denominator's rows, even when
    the rows are clustered by seller): their sampling variance has the binomial floor b(1 − b)/n, not b/n."""
    trend: bool = False
    """Ratios only: the baseline is the line through the weekly values (as for counts), not the pooled ratio —
    for shares of a market, which drift as segments grow (a new-seller tier gains share week after week)."""

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, keys: list[str], periods: list[str], kind: str) -> "CellSeries":
        """Pivot a metric frame (one row per period × `keys`) into arrays; missing weeks are NaN."""
        wide = frame.set_index([*keys, "period"])[[*STAT_COLUMNS, "value"]].unstack("period")
        wide = wide.reindex(columns=pd.MultiIndex.from_product([[*STAT_COLUMNS, "value"], periods]))
        arrays = {column: wide[column].to_numpy(dtype=float) for column in (*STAT_COLUMNS, "value")}
        pooled = {column: np.nansum(values, axis=1) for column, values in arrays.items()}
        with _quiet():
            unit_variance = ratio_variances(pooled) * pooled["denominator"]
            event_size = pooled["sum_x2"] / np.abs(pooled["numerator"])
            effective = arrays["numerator"] ** 2 / arrays["sum_x2"]
            typical = pooled["numerator"] ** 2 / pooled["sum_x2"] / np.maximum((~np.isnan(arrays["numerator"])).sum(
                axis=1), 1)
        present = ~np.isnan(arrays["numerator"])
        binary = (binary_rows(arrays) | ~present).all(axis=1)
        if kind == "duration":
            volume, events = arrays["denominator"], arrays["denominator"]
        elif kind == "count" or (kind == "ratio" and binary.all()):
            volume, events = arrays["denominator"] if kind == "ratio" else np.ones_like(arrays["numerator"]), \
                arrays["numerator"]
        else:
            volume = arrays["denominator"] if kind == "ratio" else np.ones_like(arrays["numerator"])
            events = np.where(binary[:, None], arrays["numerator"], np.nan_to_num(effective))
        with _quiet():
            proportion = np.all(~present | (arrays["numerator"] <= arrays["denominator"]), axis=1)
        return cls(kind, list(periods), wide.index.to_frame(index=False), arrays, volume, events, binary,
                   np.nan_to_num(unit_variance), np.nan_to_num(event_size, nan=1.0), np.nan_to_num(typical),
                   proportion)

    @property
    def value(self) -> np.ndarray:
        return self.stats["value"]

    def sampling_variance(self, baseline: np.ndarray, week: int) -> np.ndarray:
        """v_t under "nothing changed" for every cell, at baseline value `baseline`."""
        n = self.volume[:, week]
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.kind == "ratio":
                rate = np.maximum(baseline, 1 / n)
                binomial = rate * np.maximum(1 - baseline, 1 / n)
                # the floor of a clustered ratio: binomial for a share of rows (a 98 % valid-tracking rate has
                # b(1 − b) = 0.02, not b = 0.98), Poisson for amounts and rates per unit
                proportion = self.binary if self.proportion is None else self.proportion
                floor = np.where(proportion, binomial, rate)
                return np.where(self.binary, binomial / n, np.maximum(self.unit_variance, floor) / n)
            if self.kind == "count":
                return np.maximum(baseline, 1.0)
            if self.kind == "sum":
                return np.maximum(np.abs(baseline) * self.event_size, 1.0)
            return baseline**2 / n

    def sampling_skew_factor(self, baseline: np.ndarray, week: int) -> np.ndarray:
        """κ3 / κ2² of the sampling noise at baseline `baseline`: 1/b for Poisson-like events (counts, compound
        Poisson sums — a lower bound there — and ratios of amounts), (1 − 2b)/(b(1 − b)) for shares of rows
        (binomial: a 98 % rate is skewed downwards), 0 for medians. With κ2 = φ·v this gives the skewness
        (φ·v)^½ · factor of a quasi-Poisson or quasi-binomial variable."""
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.kind == "duration":
                return np.zeros_like(baseline)
            if self.kind == "ratio":
                n = self.volume[:, week]
                rate = np.clip(baseline, 1 / n, 1 - 1 / n)
                proportion = self.binary if self.proportion is None else self.proportion
                return np.where(proportion, (1 - 2 * rate) / (rate * (1 - rate)), 1 / np.maximum(baseline, 1 / n))
            return 1 / np.maximum(np.abs(baseline), 1.0)


@dataclass(frozen=True)
class Dispersion:
    """The fitted variance model of one metric at one level: Var(y) = φ·v + τ²·b²."""

    phi: float
    tau2: float
    points: int

    def variance(self, sampling: np.ndarray, baseline: np.ndarray) -> np.ndarray:
        return self.phi * sampling + self.tau2 * baseline**2

    def third_cumulant(self, sampling: np.ndarray, skew_factor: np.ndarray) -> np.ndarray:
        """κ3 of y: the sampling noise's (φ·v)²·factor (`CellSeries.sampling_skew_factor`); the week-to-week
        swing τ² is taken as symmetric."""
        return (self.phi * sampling) ** 2 * skew_factor


@dataclass(frozen=True)
class Baseline:
    """Each cell's expected value at one week, how many history weeks it rests on, and Var(level)/Var(one week)."""

    level: np.ndarray
    weeks: np.ndarray
    share: np.ndarray
    noise_level: np.ndarray
    """Where the sampling variance is evaluated: the level, or for a line the larger of the line and the history
    weeks' mean. An extrapolated line is noisy on a small cell (its error variance is a third of a week's
    there), and a line that came out low by chance made a small variance and a spurious rise: on simulated
    Poisson cells of mean 4 and 8, weeks left out of baselines as unusual fell from 5–7 to 1.2–1.3 times the
    nominal rate with it."""


def rolling_baseline(series: CellSeries, week: float, history: int, end: int | None = None,
                     skip: np.ndarray | None = None) -> Baseline:
    """Each cell's expected value at column `week` from the `history` weeks before column `end` (default
    `week`), without `skip`ped weeks: the pooled ratio Σnumerator/Σdenominator for ratios (so sparse cells with
    many zero weeks get their true rate, not 0), the median of weekly medians for durations, and for counts and
    sums — volumes that grow with the business — and for `trend` ratios the least-squares line through those
    weeks, extrapolated."""
    end = int(week) if end is None else end
    columns = slice(max(0, end - history), end)
    usable = ~np.isnan(series.value[:, columns])
    if skip is not None:
        usable &= ~skip[:, columns]
    count = usable.sum(axis=1)
    with _quiet():
        if series.kind == "ratio" and not series.trend:
            level, share = _mean_level(series, columns, usable), 1 / count
            noise_level = level
        elif series.kind == "duration":
            values = np.where(usable, series.value[:, columns], np.nan)
            level, share = np.nanmedian(values, axis=1), np.pi / (2 * count)
            noise_level = level
        else:
            level, share = _trend(series.value[:, columns], usable, week - columns.start)
            noise_level = np.maximum(level, _mean_level(series, columns, usable))
    valid = count >= MIN_BASELINE
    return Baseline(*(np.where(valid, values, np.nan) for values in (level, count, share, noise_level)))


def _mean_level(series: CellSeries, columns: slice, usable: np.ndarray) -> np.ndarray:
    """The history weeks' level without a trend: the pooled ratio for ratios, the mean for counts and sums."""
    if series.kind == "ratio":
        numerator = np.where(usable, series.stats["numerator"][:, columns], 0).sum(axis=1)
        return numerator / np.where(usable, series.stats["denominator"][:, columns], 0).sum(axis=1)
    return np.where(usable, series.value[:, columns], 0).sum(axis=1) / usable.sum(axis=1)


def _trend(values: np.ndarray, usable: np.ndarray, at: float) -> tuple[np.ndarray, np.ndarray]:
    """The OLS line through each row's usable values at position `at` (not below 0), and Var(fit)/σ² there."""
    x = np.broadcast_to(np.arange(values.shape[1], dtype=float), values.shape)
    weight = usable.astype(float)
    count = weight.sum(axis=1)
    x_mean = (weight * x).sum(axis=1) / count
    y = np.where(usable, values, 0.0)
    y_mean = y.sum(axis=1) / count
    sxx = (weight * (x - x_mean[:, None]) ** 2).sum(axis=1)
    slope = np.where(sxx > 0, (weight * (x - x_mean[:, None]) * (y - y_mean[:, None])).sum(axis=1) / sxx, 0.0)
    offset = at - x_mean
    share = 1 / count + np.where(sxx > 0, offset**2 / sxx, 0.0)
    return np.maximum(y_mean + slope * offset, 0.0), share


def fit_dispersion(series: CellSeries, history: int) -> Dispersion:
    """Fit φ and τ² on every cell-week that has a baseline, the newest week left out."""
    squared, sampling, level = [], [], []
    for week in range(MIN_BASELINE, len(series.periods) - 1):
        baseline = rolling_baseline(series, week, history)
        residual = series.value[:, week] - baseline.level
        ok = np.isfinite(residual)
        squared.append((residual[ok] ** 2) / (1 + baseline.share[ok]))
        sampling.append(series.sampling_variance(baseline.noise_level, week)[ok])
        level.append(baseline.level[ok] ** 2)
    if not squared:
        return Dispersion(1.0, 0.0, 0)
    y, v, b2 = (np.concatenate(parts) for parts in (squared, sampling, level))
    ok = np.isfinite(y) & np.isfinite(v) & np.isfinite(b2)
    y, v, b2 = y[ok], v[ok], b2[ok]
    if y.size < 3:
        return Dispersion(1.0, 0.0, int(y.size))
    phi, tau2 = 1.0, 0.0
    keep = np.ones(y.size, dtype=bool)
    for _ in range(5):
        fitted = np.maximum(phi * v + tau2 * b2, 1e-300)
        weight = 1 / fitted
        design = np.column_stack([v, b2])[keep] * weight[keep, None]
        (phi, tau2), _ = optimize.nnls(design, y[keep] * weight[keep])
        phi = max(phi, MIN_PHI)
        keep = y / np.maximum(phi * v + tau2 * b2, 1e-300) < TRIM_CHI2
    return Dispersion(float(phi), float(tau2), int(keep.sum()))


def assess(series: CellSeries, history: int) -> pd.DataFrame:
    """Judge each cell's newest week against its history: one row per cell with both tests and the chosen one.

    Columns: `baseline`, `current`, `z`, `p_value` (the smaller of the two looks' p-values, Šidák-corrected
    1 − (1 − p)² when the window test applied, else the week's own), `comparison` (`week`: the newest week
    against the baseline; `window`: the mean of the last `weeks` weeks against the baseline before them),
    `weeks_running` (consecutive flagged weeks, same direction, ending now), `flagged_weeks` (the earlier weeks
    of the cell's history that stood ≥ `EXCLUDE_Z` from their baseline, so were left out of later baselines; a
    list of periods, oldest first), `pattern` (`spike`, `sustained`, `drift`), `baseline_weeks`, `events`,
    `expected_events`, `volume` (the ratio's denominator, else the events) and the fitted `phi`, `tau2`.
    """
    dispersion = fit_dispersion(series, history)
    cells, weeks = series.value.shape
    last = weeks - 1
    z = np.full((cells, weeks), np.nan)
    baselines = np.full((cells, weeks), np.nan)
    flagged = np.zeros((cells, weeks), dtype=bool)
    for week in range(weeks):
        baseline = rolling_baseline(series, week, history, skip=flagged)
        sampling = series.sampling_variance(baseline.noise_level, week)
        variance = dispersion.variance(sampling, baseline.level) * (1 + baseline.share)
        third = dispersion.third_cumulant(sampling, series.sampling_skew_factor(baseline.noise_level, week))
        with np.errstate(divide="ignore", invalid="ignore"):
            z[:, week] = normal_score((series.value[:, week] - baseline.level) / np.sqrt(variance),
                                      third / variance**1.5)
        baselines[:, week] = baseline.level
        flagged[:, week] = np.abs(np.nan_to_num(z[:, week])) >= EXCLUDE_Z
    current = rolling_baseline(series, last, history, skip=flagged)
    scale = cell_scale(z[:, :last])
    z_cell = z / scale[:, None]
    tails = fit_skewed_tails(z_cell[:, :last], reference=z_cell[:, :last - max(WINDOWS) + 1])
    week_p = tails.p_value(z_cell[:, last])
    running = _running(z, flagged, last)
    window = _window_tests(series, dispersion, tails, z_cell[:, last], flagged, history, scale)
    use_window = window["p_value"] < week_p
    two_looks = np.isfinite(window["z"])
    p_best = np.where(two_looks, 1 - (1 - np.fmin(week_p, window["p_value"])) ** 2, week_p)
    table = series.keys.copy()
    table["baseline"] = np.where(use_window, window["baseline"], current.level)
    table["current"] = np.where(use_window, window["current"], series.value[:, last])
    table["z"] = np.where(use_window, window["z"], z_cell[:, last])
    table["p_value"] = np.minimum(1.0, p_best)
    table["comparison"] = np.where(use_window, "window", "week")
    table["window_weeks"] = np.where(use_window, window["weeks"], 1).astype(int)
    table["weeks_running"] = np.where(use_window, np.maximum(running, window["weeks"]), running).astype(int)
    table["pattern"] = np.where(running >= 2, "sustained", np.where(use_window, "drift", "spike"))
    table["flagged_weeks"] = [[series.periods[week] for week in np.flatnonzero(row)] for row in flagged[:, :last]]
    table["baseline_weeks"] = current.weeks
    table["events"] = series.events[:, last]
    table["volume"] = series.volume[:, last] if series.kind == "ratio" else series.events[:, last]
    table["expected_events"] = _expected_events(series, table["baseline"].to_numpy(), last)
    table["phi"], table["tau2"] = dispersion.phi, dispersion.tau2
    return table


MAX_SKEW = 2.0
"""Largest skewness `normal_score` corrects for (an exponential's)."""


def normal_score(z: np.ndarray, skewness: np.ndarray) -> np.ndarray:
    """The normal deviate of a standardised value `z` of a variable with `skewness` γ (Wilson–Hilferty's cube
    root, as for a gamma variable: (6/γ)·(∛(1 + γz/2) − 1) + γ/6; z itself when γ is 0). A small cell's events
    are Poisson-like: 9 orders where 2 were expected is z = 4.9, a normal p of 1e-6, but a Poisson one of 2e-4;
    its normal score 3.5 says so. On a null warehouse quiet rises of cells with ≤ 3 expected events reached
    p < 1e-4 twenty to seventy times too often without it. The sign of z is kept (the correction's shift γ/6
    could flip a tiny move)."""
    z = np.asarray(z, dtype=float)
    gamma = np.clip(np.nan_to_num(np.asarray(skewness, dtype=float)), -MAX_SKEW, MAX_SKEW)
    small = np.abs(gamma) < 1e-6
    safe = np.where(small, 1.0, gamma)
    with np.errstate(invalid="ignore"):
        score = np.where(small, z, 6 / safe * (np.cbrt(1 + safe * z / 2) - 1) + safe / 6)
    return np.where(np.isnan(z), np.nan, np.where(score * z > 0, score, 0.0))


CELL_PRIOR_WEEKS = 10
"""How many weeks' worth of weight the level's model gets against a cell's own history in `cell_scale`."""


def cell_scale(z_history: np.ndarray) -> np.ndarray:
    """Each cell's own noise relative to its level's model: √ of a shrunken mean of its past z² (winsorised at
    `EXCLUDE_Z` so past incidents do not dominate), pulled towards 1 with `CELL_PRIOR_WEEKS` of prior weight — an
    empirical-Bayes variance ratio. A segment whose membership churns (new-seller tenure bands) is noisier than
    the model says; this keeps it from raising alarm after alarm. Floored at 0.7."""
    squared = np.minimum(z_history**2, EXCLUDE_Z**2)
    count = np.sum(np.isfinite(squared), axis=1)
    total = np.nansum(squared, axis=1)
    return np.sqrt(np.maximum((CELL_PRIOR_WEEKS + total) / (CELL_PRIOR_WEEKS + count), 0.7**2))


@dataclass(frozen=True)
class Tails:
    """The shape of a level's standardised residuals on its own history: Student t with `df` degrees of freedom
    and `scale` (a normal when df is large). Heavy-tailed metrics (GMV, cohort volumes) get honest p-values."""

    df: float
    scale: float

    def p_value(self, z: np.ndarray, weeks: int = 1) -> np.ndarray:
        """Two-sided p of z; for the mean of `weeks` weeks the tails thin as for a sum of t variables
        (excess kurtosis 6/(df−4) shrinks by 1/weeks, so df−4 grows by weeks)."""
        df = self.df if weeks == 1 else 4 + (self.df - 4) * weeks if self.df > 4 else self.df * weeks
        return 2 * stats.t.sf(np.abs(z) / self.scale, df)


@dataclass(frozen=True)
class SkewedTails:
    """A level's residuals with each side of zero its own `Tails` (`up` for rises, `down` for falls) and the
    share of past weeks that rose (`up_share`). Weekly values of positive quantities swing further up than down
    (a few events more in a small cell, a promotion in a large one): on null warehouses a symmetric fit put
    quiet rises below p = 1e-4 twelve to twenty-five times too often, falls about as often as it should."""

    up: Tails
    down: Tails
    up_share: float = 0.5

    def p_value(self, z: np.ndarray, weeks: int = 1) -> np.ndarray:
        """Two-sided p of z: twice the chance of a residual at least this far out on its own side."""
        z = np.asarray(z, dtype=float)
        one_side = np.where(z >= 0, self.up_share * self.up.p_value(z, weeks),
                            (1 - self.up_share) * self.down.p_value(z, weeks))
        return np.minimum(1.0, 2 * one_side)

    def log_likelihood(self, z: np.ndarray) -> float:
        """Log-likelihood of nonzero residuals `z` under this law (each side: its share × twice its t density)."""
        sides = ((z[z > 0], self.up_share, self.up), (-z[z < 0], 1 - self.up_share, self.down))
        return float(sum(side.size * np.log(2 * share) + stats.t.logpdf(side, tails.df, scale=tails.scale).sum()
                         for side, share, tails in sides))


SKEW_ALPHA = 0.01
"""Level of the likelihood-ratio test below which a level's residuals get a t of their own on each side."""


def fit_skewed_tails(z: np.ndarray, reference: np.ndarray | None = None) -> SkewedTails:
    """`SkewedTails` fitted to past weeks' standardised residuals `z`: each side's `fit_tails` on the residuals of
    that sign (the half-t likelihood) when the two sides differ, else one symmetric t for both (its noise is half
    as large). The sides differ when, on the `reference` residuals (default `z`), the likelihood-ratio test of
    the two-piece law (two t shapes and the share of rises) against one symmetric t rejects at `SKEW_ALPHA` (χ²,
    3 df) — `assess` passes the weeks before its longest window, so an ongoing drift cannot make its own level
    look skewed and widen the tail it is judged by. A side with fewer than 50 residuals: symmetric."""
    values = z[np.isfinite(z)]
    judged = values if reference is None else reference[np.isfinite(reference)]
    if not _skewed(judged):
        pooled = fit_tails(values)
        return SkewedTails(pooled, pooled)
    rises, falls = values[values > 0], values[values < 0]
    return SkewedTails(fit_tails(rises), fit_tails(falls), rises.size / (rises.size + falls.size))


def _skewed(values: np.ndarray) -> bool:
    """The likelihood-ratio test of `fit_skewed_tails` on finite residuals `values`."""
    rises, falls = values[values > 0], values[values < 0]
    if min(rises.size, falls.size) < 50:
        return False
    pooled = fit_tails(values)
    symmetric = SkewedTails(pooled, pooled)
    two_piece = SkewedTails(fit_tails(rises), fit_tails(falls), rises.size / (rises.size + falls.size))
    moved = values[values != 0]
    ratio = 2 * (two_piece.log_likelihood(moved) - symmetric.log_likelihood(moved))
    return bool(stats.chi2.sf(ratio, 3) < SKEW_ALPHA)


LOG_T_BOUNDS = (np.log([1e-3, 1e-12]), np.log([1e6, 1e12]))
"""Bounds of (log df, log scale) in `fit_tails`."""


def fit_tails(z: np.ndarray, max_points: int = 20_000) -> Tails:
    """Fit `Tails` to the finite standardised residuals of past weeks (maximum likelihood, centre fixed at 0, over
    log df and log scale — the optimum `scipy.stats.t.fit(values, floc=0)` finds, an order of magnitude faster);
    a normal when there are fewer than 50 of them."""
    values = z[np.isfinite(z)]
    if values.size < 50:
        return Tails(1e6, 1.0)
    if values.size > max_points:
        values = np.random.default_rng(0).choice(values, max_points, replace=False)
    squared = values**2

    def negative_log_likelihood(theta: np.ndarray) -> float:
        df, scale = np.exp(np.clip(theta, LOG_T_BOUNDS[0], LOG_T_BOUNDS[1]))
        value = -(values.size * (special.gammaln((df + 1) / 2) - special.gammaln(df / 2) - 0.5 * np.log(np.pi * df)
                                 - np.log(scale)) - (df + 1) / 2 * np.log1p(squared / (scale**2 * df)).sum())
        return float(value) if np.isfinite(value) else np.inf

    start = np.log([10.0, max(float(np.sqrt(squared.mean())), 1e-6)])
    fitted = optimize.minimize(negative_log_likelihood, start, method="Nelder-Mead",
                               options={"xatol": 1e-6, "fatol": 1e-9})
    df, scale = np.exp(np.clip(fitted.x, LOG_T_BOUNDS[0], LOG_T_BOUNDS[1]))
    return Tails(float(df), float(scale))


def _running(z: np.ndarray, flagged: np.ndarray, last: int) -> np.ndarray:
    """1 + the number of consecutive flagged weeks before the newest one that moved the same way."""
    sign = np.sign(z[:, last])
    running = np.ones(len(z), dtype=int)
    alive = np.ones(len(z), dtype=bool)
    for week in range(last - 1, -1, -1):
        alive &= flagged[:, week] & (np.sign(z[:, week]) == sign)
        running += alive
        if not alive.any():
            break
    return running


def _window_tests(series: CellSeries, dispersion: Dispersion, tails: SkewedTails, newest_z: np.ndarray,
                  flagged: np.ndarray, history: int, scale: np.ndarray) -> dict[str, np.ndarray]:
    """The best level-shift window per cell (same direction as the newest week, which must be ≥ 1 SD out; no
    week of the window before the newest one flagged)."""
    cells, weeks = series.value.shape
    best = {name: np.full(cells, np.nan) for name in ("baseline", "current", "z", "p_value", "weeks")}
    best["p_value"][:] = 1.0
    tested = [m for m in WINDOWS if weeks - m >= MIN_BASELINE]
    for m in tested:
        start = weeks - m
        centre = rolling_baseline(series, (start + weeks - 1) / 2, history, end=start, skip=flagged)
        baseline = centre.level
        sampling = [series.sampling_variance(centre.noise_level, week) for week in range(start, weeks)]
        variances = np.column_stack([dispersion.variance(v, baseline) for v in sampling])
        third = sum(dispersion.third_cumulant(v, series.sampling_skew_factor(centre.noise_level, week))
                    for v, week in zip(sampling, range(start, weeks), strict=True)) / m**3
        with _quiet():
            mean = series.value[:, start:].mean(axis=1)
            spread = variances.sum(axis=1) / m**2 + centre.share * variances.mean(axis=1)
            z = normal_score((mean - baseline) / np.sqrt(spread), third / spread**1.5) / scale
        p = window_family_p(tails.p_value(z, weeks=m), tuple(tested))
        # a window holding a week already found unusual (a mega-sale, an incident's first week) would report
        # that week again as a "drift": only windows of usual weeks look for a shift no single week showed
        earlier_flagged = flagged[:, start:weeks - 1].any(axis=1)
        usable = (np.isfinite(z) & (np.sign(z) == np.sign(newest_z)) & (np.abs(newest_z) >= 1)
                  & ~earlier_flagged)
        better = usable & (p < best["p_value"])
        for name, values in (("baseline", baseline), ("current", mean), ("z", z), ("p_value", p)):
            best[name] = np.where(better, values, best[name])
        best["weeks"] = np.where(better, m, best["weeks"])
    best["weeks"] = np.nan_to_num(best["weeks"], nan=1)
    return best


def window_family_p(p: np.ndarray, windows: tuple[int, ...]) -> np.ndarray:
    """`p`, one window's two-sided p-value, corrected for having tried every length in `windows`: p × the ratio
    P(some window's |z| ≥ z) / P(|z| ≥ z) at the normal z of p. The windows are nested (each is the mean of the
    newest m weeks), so the ratio runs from 1.5 (two windows, z = 2) towards len(windows) far out, below
    Bonferroni's len(windows); beyond the computed grid Bonferroni is used."""
    grid, ratio = _nested_window_ratio(windows)
    z = stats.norm.isf(np.asarray(p, dtype=float) / 2)
    factor = np.where(z <= grid[-1], np.interp(z, grid, ratio), len(windows))
    return np.minimum(1.0, factor * p)


@cache
def _nested_window_ratio(windows: tuple[int, ...], step: float = 0.005) -> tuple[np.ndarray, np.ndarray]:
    """On a grid of z (0 to 8): P(|S_m| ≥ z√m for some m in `windows`) / P(|Z| ≥ z), S_m the sum of the newest m
    independent N(0, 1) weeks. The density of the running sum is carried back one week at a time on a grid of
    `step` (a convolution with N(0, 1)), and the mass beyond each window's bound is summed and removed."""
    grid = np.arange(0.0, 8.01, 0.25)
    if len(windows) < 2:
        return grid, np.ones_like(grid)
    longest = max(windows)
    limit = np.sqrt(longest) * (grid[-1] + 1) + 8
    s = np.arange(-limit, limit + step / 2, step)
    kernel = stats.norm.pdf(np.arange(-8, 8 + step / 2, step)) * step
    crossed = np.zeros_like(grid)
    for i, z in enumerate(grid):
        density = stats.norm.pdf(s)
        for m in range(2, longest + 1):
            density = signal.fftconvolve(density, kernel, mode="same")
            if m in windows:
                beyond = np.abs(s) >= z * np.sqrt(m)
                crossed[i] += density[beyond].sum() * step
                density = np.where(beyond, 0.0, density)
    return grid, np.clip(crossed / (2 * stats.norm.sf(grid)), 1.0, len(windows))


def _expected_events(series: CellSeries, baseline: np.ndarray, week: int) -> np.ndarray:
    """Events the cell would have at its baseline: rate × volume for 0/1 ratios, the baseline for counts, the
    week's events for durations, and the typical effective number of contributing units ((Σx)²/Σx² per week)
    for sums and other ratios, whose numerators are amounts, not counts."""
    if series.kind == "ratio":
        return np.where(series.binary, baseline * series.volume[:, week], series.typical_events)
    if series.kind == "duration":
        return series.events[:, week]
    if series.kind == "sum":
        return series.typical_events
    return baseline


@contextmanager
def _quiet():
    """Silence numpy's all-NaN-slice warnings (empty baselines are expected and become NaN)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
