"""Difference-in-differences with staggered adoption: Callaway & Sant'Anna (2021, J. Econometrics 225(2)).

Each launch cohort g (the units that adopt in period g) is compared with the units not yet treated at the
period compared (never-treated units included), one group-time effect ATT(g, t) per cohort × period, each from
a 2×2 comparison against the cohort's last untreated period (pre-periods: against the period before, the
"varying" base of the reference R package `did`). No two-way fixed-effects regression: its weights go negative
under heterogeneous timing (Goodman-Bacon 2021). The ATT(g, t) are aggregated, weighted by cohort size, into
an overall ATT (the `did` package's "simple" aggregation) and an event-study series by periods since launch.

Standard errors come from the units' influence functions (clustered by unit: here, the market), including the
estimated aggregation weights, as in `did::aggte` without the bootstrap; intervals use Student's t with
(units − 1) degrees of freedom, the usual correction with few clusters. The pre-trend test is a t test of the
mean of the last pre-launch event-study coefficients; placebo launches rerun the estimator on pre-launch data only,
with every launch moved earlier.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

NEVER = np.inf  # first treated period of never-treated units
PRE_TREND_LAGS = 4
PLACEBO_SHIFT = 2
MIN_CONTROLS = 2


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its standard error and (1 − alpha) interval."""

    value: float
    se: float
    low: float
    high: float

    @property
    def p_value(self) -> float:
        return float(2 * stats.norm.sf(abs(self.value / self.se))) if self.se > 0 else float("nan")


@dataclass(frozen=True)
class StaggeredDid:
    """The Callaway–Sant'Anna estimates for one outcome."""

    group_time: pd.DataFrame  # group, period, event_time, att, se, treated, controls
    overall: Estimate
    event_study: pd.DataFrame  # event_time, att, se, low, high
    pre_trend_t: float
    pre_trend_p: float
    units: int
    min_controls: int  # fewest control units behind a post-launch ATT(g, t)

    @property
    def too_few_controls(self) -> bool:
        return self.min_controls < MIN_CONTROLS


def _interval(value: float, influence: np.ndarray, units: int, alpha: float) -> Estimate:
    se = float(np.sqrt(np.sum(influence**2)) / units)
    half = stats.t.ppf(1 - alpha / 2, max(units - 1, 1)) * se
    return Estimate(float(value), se, float(value - half), float(value + half))


def group_time_effects(
    outcome: np.ndarray, first_treated: np.ndarray, periods: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray]:
    """ATT(g, t) for every cohort g and period t (but g's base period), with the units' influence functions.

    `outcome` is units × periods (NaN where a unit has no value), `first_treated` each unit's first treated period
    (`NEVER` for never-treated), `periods` the period labels (increasing numbers) of the columns.
    Returns the cells (group, period, event_time, att, se, treated, controls) and an influence matrix
    (units × cells) scaled so that Var(att) = Σ influence² / units².
    """
    n = len(first_treated)
    rows, influence = [], []
    for group in np.unique(first_treated[np.isfinite(first_treated)]):
        g_col = int(np.searchsorted(periods, group))
        for t_col in range(len(periods)):
            base = g_col - 1 if t_col >= g_col else t_col - 1
            if base < 0 or t_col == base:
                continue
            change = outcome[:, t_col] - outcome[:, base]
            usable = np.isfinite(change)
            treated = usable & (first_treated == group)
            controls = usable & (first_treated > periods[max(t_col, base)]) & (first_treated != group)
            if not treated.any() or not controls.any():
                continue
            mean_t, mean_c = change[treated].mean(), change[controls].mean()
            psi = np.zeros(n)
            psi[treated] = n / treated.sum() * (change[treated] - mean_t)
            psi[controls] = -n / controls.sum() * (change[controls] - mean_c)
            rows.append(
                (
                    group,
                    periods[t_col],
                    t_col - g_col,
                    mean_t - mean_c,
                    np.sqrt(np.sum(psi**2)) / n,
                    int(treated.sum()),
                    int(controls.sum()),
                )
            )
            influence.append(psi)
    cells = pd.DataFrame(rows, columns=["group", "period", "event_time", "att", "se", "treated", "controls"])
    return cells, np.column_stack(influence) if influence else np.zeros((n, 0))


def _aggregate(
    cells: pd.DataFrame, influence: np.ndarray, first_treated: np.ndarray, keep: np.ndarray
) -> tuple[float, np.ndarray]:
    """Cohort-size-weighted mean of the kept ATT(g, t) and its influence function (with the weights' own)."""
    share = np.array([(first_treated == g).mean() for g in cells["group"]])[keep]
    weights = share / share.sum()
    att = cells["att"].to_numpy()[keep]
    member = np.column_stack([(first_treated == g).astype(float) for g in cells["group"].to_numpy()[keep]])
    weight_numerator = (member - share) / share.sum()
    weight_denominator = np.outer((member - share).sum(axis=1), share / share.sum() ** 2)
    weight_influence = (weight_numerator - weight_denominator) @ att
    return float(weights @ att), influence[:, keep] @ weights + weight_influence


def callaway_santanna(
    panel: pd.DataFrame, *, unit: str, period: str, outcome: str, first_treated: str, alpha: float = 0.05
) -> StaggeredDid:
    """Staggered DiD on a long panel: one row per unit × period, `first_treated` the unit's launch period
    (NaN or inf for never-treated). Periods must be consecutive integers (e.g. week numbers)."""
    wide = panel.pivot(index=unit, columns=period, values=outcome).sort_index(axis=1)
    launch = panel.groupby(unit)[first_treated].first().reindex(wide.index).fillna(NEVER).to_numpy(float)
    periods = wide.columns.to_numpy(float)
    cells, influence = group_time_effects(wide.to_numpy(float), launch, periods)
    n = len(launch)
    post = (cells["event_time"] >= 0).to_numpy()
    if not post.any():
        raise ValueError("No launch cohort has a post-launch period with control units to compare with.")
    overall_value, overall_influence = _aggregate(cells, influence, launch, post)
    overall = _interval(overall_value, overall_influence, n, alpha)

    events, event_influence = [], {}
    for event_time in sorted(cells["event_time"].unique()):
        keep = (cells["event_time"] == event_time).to_numpy()
        value, psi = _aggregate(cells, influence, launch, keep)
        estimate = _interval(value, psi, n, alpha)
        events.append((int(event_time), estimate.value, estimate.se, estimate.low, estimate.high))
        event_influence[int(event_time)] = psi
    event_study = pd.DataFrame(events, columns=["event_time", "att", "se", "low", "high"])
    t_stat, t_p = _pre_trend_test(event_influence, event_study, n)
    return StaggeredDid(cells, overall, event_study, t_stat, t_p, n, int(cells.loc[post, "controls"].min()))


def _pre_trend_test(influence: dict[int, np.ndarray], event_study: pd.DataFrame, units: int) -> tuple[float, float]:
    """t test (units − 1 degrees of freedom) that the mean of the last PRE_TREND_LAGS pre-launch event-study
    coefficients is zero: with the varying base each is a one-period change, so their mean is the treated units'
    extra trend per period before the launch."""
    lags = [e for e in sorted(influence) if e < 0][-PRE_TREND_LAGS:]
    if not lags or units < 3:
        return float("nan"), float("nan")
    values = event_study.set_index("event_time").loc[lags, "att"].to_numpy()
    psi = np.column_stack([influence[e] for e in lags]).mean(axis=1)
    se = float(np.sqrt(np.sum(psi**2)) / units)
    t_stat = float(values.mean() / se) if se > 0 else float("inf")
    return t_stat, float(2 * stats.t.sf(abs(t_stat), units - 1))


def placebo_launches(
    panel: pd.DataFrame, *, unit: str, period: str, outcome: str, first_treated: str, shift: int = PLACEBO_SHIFT
) -> Estimate:
    """The overall ATT of fake launches `shift` periods before the real ones, on each unit's pre-launch data
    only: near zero with an interval covering zero when nothing but the launch moved the outcome."""
    launch = panel[first_treated].fillna(NEVER)
    before = panel[panel[period] < launch].copy()
    before[first_treated] = launch[before.index] - shift
    return callaway_santanna(before, unit=unit, period=period, outcome=outcome, first_treated=first_treated).overall
