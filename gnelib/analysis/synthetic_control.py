"""Synthetic control for a launch in a single unit (Abadie, Diamond & Hainmueller 2010, JASA 105(490)).

The treated unit's pre-launch outcome is matched by a convex combination of donor units (weights ≥ 0 summing
to one, least squares on the pre-launch periods); the gap after launch is the effect. Two inferences:
- placebo in space (Abadie et al. 2010): every donor in turn is treated as if it had launched, and the p-value is
  the rank of the treated unit's post/pre RMSPE ratio among all units — never below 1 / (donors + 1);
- conformal inference (Chernozhukov, Wüthrich & Zhu 2021, JASA 116(536)): under the null of a constant effect θ
  the weights are refitted on all periods and the residuals' post-minus-pre mean difference is compared with
  PERMUTATIONS random relabellings of the periods; the interval is every θ not rejected at level alpha. (Their
  moving-block permutations need many more pre-launch than post-launch periods; weekly panels rarely have that.)
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

MIN_DONORS = 4
CONSTRAINT_WEIGHT = 1e4
GRID_POINTS = 201
PERMUTATIONS = 999
WIDENINGS = 4


@dataclass(frozen=True)
class SyntheticControl:
    """The synthetic-control estimate for one treated unit."""

    weights: pd.Series  # donor → weight
    gaps: pd.DataFrame  # period, event_time, treated, synthetic, gap
    effect: float  # mean post-launch gap
    low: float
    high: float
    conformal_p: float  # p-value of "no effect" by the conformal permutation test
    placebo_p: float  # rank of the treated unit's post/pre RMSPE ratio among all units
    ratios: pd.Series  # unit → post/pre RMSPE ratio (treated first)
    pre_fit_p: float  # one-sample t test of the pre-launch gaps (a level the donors cannot reach fails it)

    @property
    def donors(self) -> int:
        return len(self.weights)

    @property
    def too_few_donors(self) -> bool:
        return self.donors < MIN_DONORS

    @property
    def smallest_placebo_p(self) -> float:
        return 1 / (self.donors + 1)


def convex_weights(target: np.ndarray, donors: np.ndarray) -> np.ndarray:
    """Non-negative weights summing to one that minimise ‖target − donors · w‖² (rows = periods).

    Non-negative least squares with the sum-to-one constraint appended as a heavily weighted row."""
    scale = CONSTRAINT_WEIGHT * max(float(np.abs(donors).max()), 1.0)
    a = np.vstack([donors, np.full(donors.shape[1], scale)])
    b = np.append(target, scale)
    weights, _ = optimize.nnls(a, b)
    return weights / weights.sum()


def _rmspe_ratio(target: np.ndarray, donors: np.ndarray, pre: np.ndarray) -> float:
    gap = target - donors @ convex_weights(target[pre], donors[pre])
    return float(np.sqrt(np.mean(gap[~pre] ** 2)) / max(np.sqrt(np.mean(gap[pre] ** 2)), 1e-12))


def _conformal_p(target: np.ndarray, donors: np.ndarray, pre: np.ndarray, effect: float, orders: np.ndarray) -> float:
    """Permutation p-value of "the effect is `effect` in every post-launch period" (orders: period relabellings)."""
    adjusted = np.where(pre, target, target - effect)
    residuals = adjusted - donors @ convex_weights(adjusted, donors)
    shuffled = residuals[orders]  # permutations × periods
    post = ~pre
    statistics = np.abs(shuffled[:, post].mean(axis=1) - shuffled[:, pre].mean(axis=1))
    observed = abs(residuals[post].mean() - residuals[pre].mean())
    return float((1 + np.sum(statistics >= observed - 1e-12)) / (1 + len(orders)))


def _conformal_interval(
    target: np.ndarray,
    donors: np.ndarray,
    pre: np.ndarray,
    effect: float,
    orders: np.ndarray,
    alpha: float,
    scale: float,
) -> tuple[float, float]:
    """The effects not rejected at `alpha`, on a grid around `effect` widened until both ends are rejected."""
    spread = 3 * scale
    for _ in range(WIDENINGS):
        grid = np.linspace(effect - spread, effect + spread, GRID_POINTS)
        accepted = grid[[_conformal_p(target, donors, pre, value, orders) > alpha for value in grid]]
        if not len(accepted):
            return effect, effect
        if accepted[0] > grid[0] and accepted[-1] < grid[-1]:
            break
        spread *= 4
    return float(accepted[0]), float(accepted[-1])


def synthetic_control(
    panel: pd.DataFrame,
    *,
    unit: str,
    period: str,
    outcome: str,
    treated: str,
    launch: float,
    alpha: float = 0.05,
    seed: int = 0,
) -> SyntheticControl:
    """Synthetic control of unit `treated` launched at period `launch`, from a long panel (unit, period, outcome);
    the other units are the donors. Units with a missing value in any period are left out of the donor pool."""
    wide = panel.pivot(index=period, columns=unit, values=outcome).sort_index()
    if treated not in wide.columns:
        raise ValueError(f"The treated unit {treated!r} is not in the panel.")
    wide = wide.dropna(axis=1)
    if treated not in wide.columns:
        raise ValueError(f"The treated unit {treated!r} has periods without a value.")
    pre = np.asarray(wide.index < launch)
    if pre.sum() < 2 or (~pre).sum() < 1:
        raise ValueError("Synthetic control needs at least two periods before the launch and one after.")
    target = wide[treated].to_numpy(float)
    donor_frame = wide.drop(columns=treated)
    donors = donor_frame.to_numpy(float)
    weights = convex_weights(target[pre], donors[pre])
    synthetic = donors @ weights
    gap = target - synthetic
    effect = float(gap[~pre].mean())

    ratios = {treated: _rmspe_ratio(target, donors, pre)}
    for index, name in enumerate(donor_frame.columns):
        others = np.delete(donors, index, axis=1)
        if others.shape[1]:
            ratios[name] = _rmspe_ratio(donors[:, index], others, pre)
    ratio_series = pd.Series(ratios)
    placebo_p = float((ratio_series >= ratio_series[treated] - 1e-12).mean())

    rng = np.random.default_rng(seed)
    orders = np.array([rng.permutation(len(target)) for _ in range(PERMUTATIONS)])
    low, high = _conformal_interval(target, donors, pre, effect, orders, alpha, max(float(np.abs(gap).max()), 1e-9))
    gaps = pd.DataFrame(
        {
            "period": wide.index,
            "event_time": np.arange(len(wide)) - int(pre.sum()),
            "treated": target,
            "synthetic": synthetic,
            "gap": gap,
        }
    )
    return SyntheticControl(
        weights=pd.Series(weights, index=donor_frame.columns),
        gaps=gaps,
        effect=effect,
        low=float(low),
        high=float(high),
        conformal_p=_conformal_p(target, donors, pre, 0.0, orders),
        placebo_p=placebo_p,
        ratios=ratio_series,
        pre_fit_p=float(stats.ttest_1samp(gap[pre], 0.0).pvalue),
    )
