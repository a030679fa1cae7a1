"""Experiment readouts checked against scipy and simulations with a known truth (DOMAIN.md §5 items 7–8)."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from gnelib.analysis.experiments import Effect, GuardrailCheck, mean_effect, ratio_effect, sample_ratio_check


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
    t = stats.ttest_ind(
        frame.loc[frame.variant == "treatment", "y"], frame.loc[frame.variant == "control", "y"], equal_var=False
    )
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
    frame = pd.DataFrame(
        {
            "variant": arm,
            "orders": orders,
            "defects": rng.binomial(orders, rate),
            "pre_orders": pre_orders,
            "pre_defects": rng.binomial(pre_orders, base),
        }
    )
    effect = ratio_effect(
        frame,
        metric="defect_rate",
        numerator="defects",
        denominator="orders",
        pre_numerator="pre_defects",
        pre_denominator="pre_orders",
    )
    raw = frame.groupby("variant").apply(lambda g: g.defects.sum() / g.orders.sum(), include_groups=False)
    assert effect.relative_ci_low < -0.2 < effect.relative_ci_high
    assert effect.variance_reduction > 0.1  # the pre-period rate predicts the outcome
    assert effect.relative == pytest.approx(raw["treatment"] / raw["control"] - 1, abs=0.03)


def test_unadjusted_mean_effect_is_the_welch_difference():
    frame = _simulated_means(8, 0.2)
    effect = mean_effect(frame, metric="y", value="y", pre_value="x", adjust=False)
    treated, control = frame.loc[frame.variant == "treatment", "y"], frame.loc[frame.variant == "control", "y"]
    assert effect.absolute == pytest.approx(treated.mean() - control.mean(), rel=1e-12)
    t = stats.ttest_ind(treated, control, equal_var=False)
    assert effect.p_value == pytest.approx(t.pvalue, rel=0.01)
    assert effect.variance_reduction == 0


def _effect(low: float, high: float) -> Effect:
    middle = (low + high) / 2
    return Effect("m", 1.0, 1.0 + middle, middle, middle, low, high, low, high, 0.5, 0.0)


@pytest.mark.parametrize(
    ("direction", "low", "high", "margin", "status", "worst"),
    [
        ("lower_is_better", -0.01, 0.03, 0.02, "unclear", 0.03),  # an increase is the loss: up to 3% not ruled out
        ("lower_is_better", -0.01, 0.03, 0.05, "held", 0.03),
        ("lower_is_better", 0.01, 0.04, 0.05, "harmed", 0.04),
        ("lower_is_better", -0.06, -0.01, 0.02, "held", -0.01),  # a sure improvement
        ("higher_is_better", -0.03, 0.01, 0.02, "unclear", 0.03),  # a decrease is the loss
        ("higher_is_better", 0.01, 0.04, 0.02, "held", -0.01),
        ("higher_is_better", -0.04, -0.01, 0.02, "harmed", 0.04),
        ("neutral", -0.01, 0.03, 0.02, "unclear", 0.03),
    ],
)
def test_guardrail_judged_in_its_direction_against_the_margin(direction, low, high, margin, status, worst):
    check = GuardrailCheck(_effect(low, high), direction, margin)
    assert check.status == status
    assert check.worst_loss == pytest.approx(worst)
