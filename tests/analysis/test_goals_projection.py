"""The damped-trend projection against statsmodels' ETSModel(error="add", trend="add", damped_trend=True) on the
same series: the filter, forecast and intervals under fixed parameters, and the least-squares fit."""

import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from gnelib.analysis.errors import AnalysisError
from gnelib.analysis.projection import PARAMETERS, DampedTrend, filter_states, fit_damped_trend

STEPS = 12


def series(seed: int, n: int = 26) -> pd.Series:
    """A weekly rate that drifts down and flattens, with noise: the shape a goal's metric often has."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return pd.Series(0.05 - 0.01 * (1 - 0.9**t) + rng.normal(0, 0.002, n))


def statsmodels_fit(y: pd.Series):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter of the optimiser
        return ETSModel(y, error="add", trend="add", damped_trend=True).fit(disp=False)


@pytest.mark.parametrize("alpha, beta, phi", [(0.4, 0.1, 0.9), (0.8, 0.05, 0.98), (0.15, 0.15, 0.8)])
def test_fixed_parameters_give_statsmodels_forecast_and_intervals(alpha, beta, phi):
    y = series(1)
    level0, trend0 = 0.05, -0.001
    model = ETSModel(
        y,
        error="add",
        trend="add",
        damped_trend=True,
        initialization_method="known",
        initial_level=level0,
        initial_trend=trend0,
    )
    smoothed = model.smooth([alpha, beta, phi])
    errors, level, trend = filter_states(y.to_numpy(), alpha, beta, phi, level0, trend0)
    np.testing.assert_allclose(errors, smoothed.resid, atol=1e-12)
    ours = DampedTrend(alpha, beta, phi, level0, trend0, level, trend, float(errors @ errors / len(y)), len(y))
    forecast = ours.forecast(STEPS)
    for level_pct in (80, 95):
        theirs = smoothed.get_prediction(start=len(y), end=len(y) + STEPS - 1).summary_frame(alpha=1 - level_pct / 100)
        np.testing.assert_allclose(forecast["mean"], theirs["mean"], rtol=1e-10)
        np.testing.assert_allclose(forecast[f"lower_{level_pct}"], theirs["pi_lower"], rtol=1e-10)
        np.testing.assert_allclose(forecast[f"upper_{level_pct}"], theirs["pi_upper"], rtol=1e-10)


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_least_squares_fit_matches_statsmodels_maximum_likelihood(seed):
    y = series(seed)
    ours = fit_damped_trend(y)
    theirs = statsmodels_fit(y)
    n = len(y)
    # the additive-error likelihood is maximised where the squared errors are smallest: ours is at least as good
    assert ours.sigma2 * (n - PARAMETERS) <= theirs.mse * n * (1 + 1e-6)
    forecast = ours.forecast(STEPS)
    np.testing.assert_allclose(forecast["mean"], theirs.forecast(STEPS), atol=0.1 * np.sqrt(theirs.mse))
    summary = theirs.get_prediction(start=n, end=n + STEPS - 1).summary_frame(alpha=0.2)
    # statsmodels' σ² is SSE / n; ours SSE / (n − 5): the half-widths differ by that factor only
    half_width = (forecast["upper_80"] - forecast["mean"]) * np.sqrt((n - PARAMETERS) / n)
    np.testing.assert_allclose(half_width, summary["pi_upper"] - summary["mean"], rtol=0.1)


def test_the_trend_is_damped_towards_a_flat_line():
    y = pd.Series(np.arange(20, dtype=float) + np.random.default_rng(5).normal(0, 0.3, 20))
    model = fit_damped_trend(y)
    steps = np.diff(model.forecast(200)["mean"].to_numpy())
    assert steps[0] > 0.5  # the series rises by 1 a week
    assert steps[-1] < steps[0] * model.phi**150
    limit = model.level + model.trend * model.phi / (1 - model.phi)  # ℓ_T + b_T·φ/(1−φ): where the path levels off
    assert model.forecast(2000)["mean"].iloc[-1] == pytest.approx(limit, rel=1e-6)


def test_too_short_a_series_is_refused_with_the_minimum():
    with pytest.raises(AnalysisError, match="at least 8"):
        fit_damped_trend([0.1, 0.2, 0.3])
