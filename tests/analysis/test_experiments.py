"""Experiment readouts checked against scipy and simulations with a known truth (DOMAIN.md §5 items 7–8)."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from gnelib.analysis.experiments import mean_effect, ratio_effect, sample_ratio_check


@pytest.mark.parametrize(("control", "treatment"), [(50_000, 51_000), (50_000, 51_500), (1_000, 1_000)])
def test_srm_matches_scipy_chisquare(control, treatment):
    check = sample_ratio_check(control, treatment, 0.5)
    expected = stats.chisquare([control, treatment])
    assert check.chi2 == pytest.approx(expected.statistic)
    assert check.p_value == pytest.approx(expected.pvalue)
    assert check.mismatch == (expected.pvalue < 0.0005)


def test_srm_threshold_on_the_published_pair():
    assert not sample_ratio_check(50_000, 51_000).mismatch  # p ≈ 0.0017
    assert sample_ratio_check(50_000, 51_500).mismatch  # p ≈ 2.5e-6


def _simulated_means(seed, tau, n=20_000):
    rng = np.random.default_rng(seed)
    pre = rng.normal(10, 3, n)
    arm = np.where(rng.random(n) < 0.5, "treatment", "control")
    post = pre + tau * (arm == "treatment") + rng.normal(0, 1.5, n)
    return pd.DataFrame({"variant": arm, "y": post, "x": pre})


def test_cuped_mean_effect_is_unbiased_and_shrinks_variance_by_rho_squared():
    estimates = [mean_effect(_simulated_means(s, 0.3), metric="y", value="y", pre_value="x") for s in range(30)]
    assert np.mean([e.absolute for e in estimates]) == pytest.approx(0.3, abs=0.01)
    frame = _simulated_means(99, 0.3)
    rho = np.corrcoef(frame["x"], frame["y"])[0, 1]
    assert estimates[0].variance_reduction == pytest.approx(rho**2, abs=0.03)
    coverage = np.mean([e.ci_low <= 0.3 <= e.ci_high for e in estimates])
    assert coverage >= 0.85


def test_cuped_without_effect_matches_welch_t_when_covariate_is_noise():
    rng = np.random.default_rng(3)
    frame = _simulated_means(4, 0.0)
    frame["x"] = rng.normal(size=len(frame))  # uncorrelated covariate: CUPED must not change the answer much
    effect = mean_effect(frame, metric="y", value="y", pre_value="x")
    t = stats.ttest_ind(frame.loc[frame.variant == "treatment", "y"], frame.loc[frame.variant == "control", "y"],
                        equal_var=False)
    assert effect.p_value == pytest.approx(t.pvalue, rel=0.05, abs=0.01)
    assert abs(effect.variance_reduction) < 0.01


def test_ratio_effect_recovers_planted_relative_lift():
    rng = np.random.default_rng(11)
    n = 8_000
    base = rng.beta(2, 40, n)  # seller-level defect propensity (clustered)
    arm = np.where(rng.random(n) < 0.5, "treatment", "control")
    pre_orders = rng.poisson(30, n) + 1
    orders = rng.poisson(30, n) + 1
    rate = base * np.where(arm == "treatment", 0.8, 1.0)
    frame = pd.DataFrame({
        "variant": arm, "orders": orders, "defects": rng.binomial(orders, rate),
        "pre_orders": pre_orders, "pre_defects": rng.binomial(pre_orders, base),
    })
    effect = ratio_effect(frame, metric="defect_rate", numerator="defects", denominator="orders",
                          pre_numerator="pre_defects", pre_denominator="pre_orders")
    raw = frame.groupby("variant").apply(lambda g: g.defects.sum() / g.orders.sum(), include_groups=False)
    assert effect.relative_ci_low < -0.2 < effect.relative_ci_high
    assert effect.variance_reduction > 0.1  # the pre-period rate predicts the outcome
    assert effect.relative == pytest.approx(raw["treatment"] / raw["control"] - 1, abs=0.03)
