"""Synthetic control: convex weights against scipy's SLSQP, recovery of a planted effect, placebos, poor fits."""

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from gnelib.analysis.synthetic_control import convex_weights, synthetic_control

OPTIONS = {"unit": "unit", "period": "period", "outcome": "y"}


def _panel(effect: float, treated_level: float = 0.0, seed: int = 11, weeks: int = 30, launch: int = 12):
    """Seven donors with their own trends and wiggles; the treated unit is a 0.5/0.3/0.2 mix of three of them."""
    rng = np.random.default_rng(seed)
    t = np.arange(weeks)
    donors = np.array([5 + 0.05 * j * t + np.sin(t / (2 + j)) + rng.normal(0, 0.1, weeks) for j in range(7)])
    treated = 0.5 * donors[0] + 0.3 * donors[3] + 0.2 * donors[5] + treated_level + rng.normal(0, 0.1, weeks)
    treated = treated + np.where(t >= launch, effect, 0.0)
    rows = [("T", week, value) for week, value in zip(t, treated, strict=True)]
    rows += [(f"D{j}", week, value) for j, series in enumerate(donors) for week, value in zip(t, series, strict=True)]
    return pd.DataFrame(rows, columns=["unit", "period", "y"])


def test_convex_weights_match_scipy_slsqp():
    rng = np.random.default_rng(5)
    donors = rng.normal(size=(15, 6))
    target = donors @ np.array([0.1, 0.0, 0.6, 0.0, 0.3, 0.0]) + rng.normal(0, 0.2, 15)
    ours = convex_weights(target, donors)
    reference = optimize.minimize(
        lambda w: np.sum((target - donors @ w) ** 2),
        np.full(6, 1 / 6),
        method="SLSQP",
        bounds=[(0, 1)] * 6,
        constraints={"type": "eq", "fun": lambda w: w.sum() - 1},
        options={"ftol": 1e-14},
    ).x
    assert ours.sum() == pytest.approx(1.0) and (ours >= 0).all()
    assert ours == pytest.approx(reference, abs=1e-4)


def test_recovers_a_planted_effect_with_placebo_and_conformal_inference():
    result = synthetic_control(_panel(effect=-1.0), treated="T", launch=12, **OPTIONS)
    assert result.low < -1.0 < result.high and result.high < 0
    assert result.effect == pytest.approx(-1.0, abs=0.15)
    assert result.conformal_p < 0.01
    # its post/pre RMSPE ratio ranks near the top of eight; the p-value is that rank over 8, never below 1/8
    assert result.placebo_p == pytest.approx((result.ratios >= result.ratios["T"]).sum() / 8)
    assert result.placebo_p <= 2 / 8
    assert result.pre_fit_p > 0.05 and not result.too_few_donors


def test_no_effect_is_not_significant():
    result = synthetic_control(_panel(effect=0.0), treated="T", launch=12, **OPTIONS)
    assert result.low < 0 < result.high
    assert result.conformal_p > 0.05


def test_a_market_the_donors_cannot_reach_fails_the_pre_fit_check():
    result = synthetic_control(_panel(effect=-1.0, treated_level=3.0), treated="T", launch=12, **OPTIONS)
    assert result.pre_fit_p < 0.01


def test_too_few_donors():
    panel = _panel(effect=-1.0)
    result = synthetic_control(panel[panel["unit"].isin(["T", "D0", "D3", "D5"])], treated="T", launch=12, **OPTIONS)
    assert result.too_few_donors and result.smallest_placebo_p == pytest.approx(0.25)
