"""Projection of a weekly series to a deadline: Holt's damped additive trend with normal prediction intervals.

The model is ETS(A,Ad,N) (Hyndman et al. 2008, *Forecasting with Exponential Smoothing*, ch. 2 and 6):

    forecast   ŷ_t = ℓ_{t-1} + φ·b_{t-1},         error e_t = y_t − ŷ_t
    level      ℓ_t = ℓ_{t-1} + φ·b_{t-1} + α·e_t
    trend      b_t = φ·b_{t-1} + β·e_t            (0 < β ≤ α < 1, 0.8 ≤ φ ≤ 0.98)

h steps ahead: ℓ_T + (φ + … + φ^h)·b_T, with variance σ²·(1 + Σ_{j=1}^{h−1} (α + β·φ_j)²), φ_j = φ + … + φ^j, and
σ² = SSE / (n − 5), corrected for the five fitted values as R's `forecast::ets` does (statsmodels divides by n).
The parameters and the initial states ℓ_0, b_0 are fitted by least squares (the maximum-likelihood estimate of the
additive-error model). The damping makes the trend flatten out instead of running on to the
deadline. `project` clips the projection and its intervals at zero for a series that has never been negative (a
rate, a count, a duration). `tests/analysis/test_goals_projection.py` checks it against statsmodels' `ETSModel`;
`bench/goal_projection.py` back-tests the intervals' coverage on the demo history.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.stats import norm

from gnelib.analysis.errors import AnalysisError

MIN_POINTS = 8
PHI_BOUNDS = (0.8, 0.98)  # statsmodels' and the forecast package's usual bounds on the damping
LEVELS = (0.80, 0.95)  # the prediction intervals reported
PARAMETERS = 5  # α, β, φ, ℓ_0, b_0: the degrees of freedom σ² is corrected for


@dataclass(frozen=True)
class DampedTrend:
    """A fitted damped-trend model: parameters, initial and final states, residual variance."""

    alpha: float
    beta: float
    phi: float
    level0: float
    trend0: float
    level: float  # ℓ_T after the last observation
    trend: float  # b_T
    sigma2: float
    n: int

    def forecast(self, steps: int) -> pd.DataFrame:
        """Steps 1…`steps` ahead: `step`, `mean`, and `lower_80`, `upper_80`, `lower_95`, `upper_95`."""
        h = np.arange(1, steps + 1)
        cumulative = np.cumsum(self.phi**h)  # φ_h = φ + … + φ^h
        mean = self.level + cumulative * self.trend
        weights = (self.alpha + self.beta * np.concatenate([[0.0], cumulative[:-1]])) ** 2
        weights[0] = 1.0  # the one-step error; then (α + β·φ_j)² for j = 1 … h−1
        sd = np.sqrt(self.sigma2 * np.cumsum(weights))
        out = pd.DataFrame({"step": h, "mean": mean})
        for level in LEVELS:
            z = norm.ppf(0.5 + level / 2)
            out[f"lower_{level * 100:.0f}"] = mean - z * sd
            out[f"upper_{level * 100:.0f}"] = mean + z * sd
        return out


def filter_states(
    values: np.ndarray, alpha: float, beta: float, phi: float, level0: float, trend0: float
) -> tuple[np.ndarray, float, float]:
    """One-step errors of the series under fixed parameters, and the final level and trend."""
    level, trend = level0, trend0
    errors = np.empty(len(values))
    for t, y in enumerate(values):
        errors[t] = y - (level + phi * trend)
        level, trend = level + phi * trend + alpha * errors[t], phi * trend + beta * errors[t]
    return errors, level, trend


def fit_damped_trend(values: np.ndarray | pd.Series) -> DampedTrend:
    """Least-squares fit of the damped-trend model to a series (oldest first, no gaps, at least 8 points)."""
    y = np.asarray(values, dtype=float)
    if len(y) < MIN_POINTS or not np.isfinite(y).all():
        raise AnalysisError(f"a projection needs at least {MIN_POINTS} finite weekly values; got {len(y)}.")
    scale = float(np.std(y)) or 1.0
    z = (y - y[0]) / scale  # fit on a standardised copy so the optimiser sees numbers near 1
    zeros = np.zeros_like(z)

    def initial_states(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The errors are linear in (ℓ_0, b_0): e = e_free − M·(ℓ_0, b_0); the best states by least squares."""
        alpha, beta, phi = p[0], p[0] * p[1], p[2]
        free = filter_states(z, alpha, beta, phi, 0.0, 0.0)[0]
        m = -np.column_stack([filter_states(zeros, alpha, beta, phi, *unit)[0] for unit in ((1.0, 0.0), (0.0, 1.0))])
        states = np.linalg.lstsq(m, free, rcond=None)[0]
        return states, free - m @ states

    def sse(p: np.ndarray) -> float:
        errors = initial_states(p)[1]
        return float(errors @ errors)

    bounds = [(1e-4, 0.9999), (1e-4, 0.9999), PHI_BOUNDS]  # α, β/α, φ
    starts = [np.array([alpha, 0.1, 0.9]) for alpha in (0.2, 0.6)]
    best = min((minimize(sse, start, method="L-BFGS-B", bounds=bounds) for start in starts), key=lambda r: r.fun)
    (level0, trend0), _ = initial_states(best.x)
    alpha, beta, phi = best.x[0], best.x[0] * best.x[1], best.x[2]
    level0, trend0 = y[0] + level0 * scale, trend0 * scale
    errors, level, trend = filter_states(y, alpha, beta, phi, level0, trend0)
    return DampedTrend(
        float(alpha),
        float(beta),
        float(phi),
        float(level0),
        float(trend0),
        float(level),
        float(trend),
        float(errors @ errors / (len(y) - PARAMETERS)),
        len(y),
    )


def project(values: np.ndarray | pd.Series, steps: int) -> pd.DataFrame:
    """`DampedTrend.forecast` of the fitted series, clipped at zero when the series has never been negative."""
    y = np.asarray(values, dtype=float)
    forecast = fit_damped_trend(y).forecast(steps)
    if (y >= 0).all():
        forecast = forecast.clip(lower=0.0).assign(step=forecast["step"])
    return forecast
