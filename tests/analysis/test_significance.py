"""Significance tests checked against statsmodels, scipy, the BH 1995 example and a cluster bootstrap."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats import rates as sm_rates
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from gnelib.analysis.errors import AnalysisError
from gnelib.analysis.significance import (
    benjamini_hochberg,
    change_p_values,
    change_test,
    count_change_test,
    median_change_test,
    pool_periods,
    ratio_change_test,
    ratio_variance,
    two_proportion_p_values,
    two_proportion_test,
)

BH_1995 = [
    0.0001,
    0.0004,
    0.0019,
    0.0095,
    0.0201,
    0.0278,
    0.0298,
    0.0344,
    0.0459,
    0.3240,
    0.4262,
    0.5719,
    0.6528,
    0.7590,
    1.000,
]


def unit_frame(x: np.ndarray, y: np.ndarray) -> pd.Series:
    """A metric-frame row from per-unit numerators and denominators (what the SQL layer computes)."""
    return pd.Series(
        {
            "numerator": x.sum(),
            "denominator": y.sum(),
            "units": len(x),
            "sum_x2": (x**2).sum(),
            "sum_y2": (y**2).sum(),
            "sum_xy": (x * y).sum(),
            "value": x.sum() / y.sum(),
        }
    )


def clustered_week(rng: np.random.Generator, sellers: int, base_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Sellers with heterogeneous defect rates (Beta), skewed order counts: strong within-seller ICC."""
    orders = rng.geometric(1 / 40, size=sellers).astype(float)
    rates = rng.beta(0.5, 0.5 * (1 - base_rate) / base_rate, size=sellers)
    return rng.binomial(orders.astype(int), rates).astype(float), orders


@pytest.mark.parametrize(
    ("x0", "n0", "x1", "n1"), [(210, 10_000, 340, 10_000), (5, 80, 9, 95), (130, 4000, 118, 3900)]
)
def test_two_proportion_test_matches_statsmodels(x0, n0, x1, n1):
    change = two_proportion_test(x0, n0, x1, n1)
    z, p = proportions_ztest([x1, x0], [n1, n0])
    low, high = confint_proportions_2indep(x1, n1, x0, n0, method="wald", compare="diff")
    assert change.p_value == pytest.approx(p, rel=1e-10)
    assert (change.ci_low, change.ci_high) == pytest.approx((low, high), rel=1e-10)
    assert change.abs_change == pytest.approx(x1 / n1 - x0 / n0)
    assert change.rel_change == pytest.approx((x1 / n1) / (x0 / n0) - 1)
    assert change.significant == (p < 0.05)


def test_two_proportion_test_rejects_empty_denominator():
    with pytest.raises(AnalysisError, match="positive denominator"):
        two_proportion_test(0, 0, 3, 10)


def test_ratio_variance_equals_sample_covariance_formula():
    rng = np.random.default_rng(1)
    x, y = clustered_week(rng, 300, 0.03)
    row = unit_frame(x, y)
    ratio = x.sum() / y.sum()
    cov = np.cov(x, y, ddof=1)
    expected = (cov[0, 0] - 2 * ratio * cov[0, 1] + ratio**2 * cov[1, 1]) / (len(x) * y.mean() ** 2)
    assert ratio_variance(**row.drop("value")) == pytest.approx(expected, rel=1e-9)


def test_delta_method_matches_cluster_bootstrap_and_beats_naive_binomial():
    rng = np.random.default_rng(7)
    x, y = clustered_week(rng, 800, 0.04)
    delta_se = np.sqrt(ratio_variance(**unit_frame(x, y).drop("value")))
    draws = rng.integers(0, len(x), size=(3000, len(x)))
    bootstrap_se = np.std(x[draws].sum(axis=1) / y[draws].sum(axis=1), ddof=1)
    p = x.sum() / y.sum()
    naive_se = np.sqrt(p * (1 - p) / y.sum())
    assert delta_se == pytest.approx(bootstrap_se, rel=0.10)
    assert naive_se < 0.6 * delta_se


def test_delta_method_on_binary_orders_reduces_to_binomial():
    rng = np.random.default_rng(3)
    x = rng.binomial(1, 0.05, size=20_000).astype(float)
    variance = ratio_variance(**unit_frame(x, np.ones_like(x)).drop("value"))
    p = x.mean()
    assert variance == pytest.approx(p * (1 - p) / (len(x) - 1), rel=1e-9)


def test_ratio_change_test_z_from_two_variances():
    rng = np.random.default_rng(11)
    before, after = unit_frame(*clustered_week(rng, 500, 0.03)), unit_frame(*clustered_week(rng, 500, 0.045))
    change = ratio_change_test(before, after)
    variances = [ratio_variance(**row.drop("value")) for row in (before, after)]
    z = (after["value"] - before["value"]) / np.sqrt(sum(variances))
    assert change.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
    assert change.ci_high - change.ci_low == pytest.approx(
        2 * 1.959963985 * np.sqrt(sum(variances)), rel=1e-6
    )
    assert "delta" in change.method


def test_change_test_picks_two_proportion_for_order_level_and_delta_for_sellers():
    rng = np.random.default_rng(5)
    orders0, orders1 = (rng.binomial(1, p, size=5000).astype(float) for p in (0.02, 0.03))
    binary = change_test(unit_frame(orders0, np.ones(5000)), unit_frame(orders1, np.ones(5000)), "ratio")
    assert binary.p_value == pytest.approx(proportions_ztest([orders1.sum(), orders0.sum()], [5000, 5000])[1])
    seller0, seller1 = clustered_week(rng, 300, 0.02), clustered_week(rng, 300, 0.03)
    clustered = change_test(unit_frame(*seller0), unit_frame(*seller1), "ratio")
    assert "delta" in clustered.method


def test_count_change_test_equals_poisson_wald_when_each_unit_has_one_event():
    before = pd.Series({"numerator": 420.0, "sum_x2": 420.0})
    after = pd.Series({"numerator": 505.0, "sum_x2": 505.0})
    reference = sm_rates.test_poisson_2indep(505, 1, 420, 1, method="wald", compare="diff")
    assert count_change_test(before, after).p_value == pytest.approx(reference.pvalue, rel=1e-9)


def test_count_change_test_is_wider_when_events_cluster_in_few_units():
    spread = count_change_test({"numerator": 400.0, "sum_x2": 400.0}, {"numerator": 460.0, "sum_x2": 460.0})
    clumped = count_change_test(
        {"numerator": 400.0, "sum_x2": 4000.0}, {"numerator": 460.0, "sum_x2": 4600.0}
    )
    assert clumped.p_value > spread.p_value
    assert clumped.ci_high - clumped.ci_low > spread.ci_high - spread.ci_low


def test_median_change_test_matches_mannwhitney():
    rng = np.random.default_rng(2)
    before, after = rng.gamma(2.0, 10.0, size=400), rng.gamma(2.0, 12.0, size=380)
    change = median_change_test(before, after, n_boot=500)
    assert change.p_value == pytest.approx(stats.mannwhitneyu(after, before).pvalue, rel=1e-12)
    assert (change.baseline, change.current) == (np.median(before), np.median(after))
    assert change.ci_low < change.abs_change < change.ci_high


def test_duration_without_samples_reports_medians_without_p_value():
    change = change_test({"value": 20.0}, {"value": 24.0}, "duration")
    assert change.abs_change == 4.0 and np.isnan(change.p_value) and not change.significant


def test_unknown_kind_lists_choices():
    with pytest.raises(AnalysisError, match="ratio, count, sum, duration"):
        change_test({}, {}, "rate")


def test_pool_periods_sums_ratios_and_averages_counts():
    rows = pd.DataFrame(
        {
            "numerator": [10.0, 20.0, 30.0, 40.0],
            "denominator": [100.0, 200.0, 300.0, 400.0],
            "units": [100.0] * 4,
            "sum_x2": [10.0, 20.0, 30.0, 40.0],
            "sum_y2": [100.0, 200.0, 300.0, 400.0],
            "sum_xy": [10.0, 20.0, 30.0, 40.0],
        }
    )
    ratio = pool_periods(rows, "ratio")
    assert ratio["value"] == pytest.approx(100 / 1000) and ratio["denominator"] == 1000
    count = pool_periods(rows, "count")
    assert count["value"] == pytest.approx(25.0) and count["sum_x2"] == pytest.approx(100 / 16)


def test_bh_1995_example_rejects_four_and_matches_scipy():
    adjusted, rejected = benjamini_hochberg(BH_1995, q=0.05)
    assert rejected.sum() == 4 and rejected[:4].all()
    assert adjusted == pytest.approx(stats.false_discovery_control(BH_1995, method="bh"), rel=1e-12)


def test_bh_ignores_missing_p_values():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=40) ** 3
    with_gaps = np.insert(p, [3, 17], np.nan)
    adjusted, rejected = benjamini_hochberg(with_gaps)
    assert np.isnan(adjusted[[3, 18]]).all() and not rejected[[3, 18]].any()
    assert adjusted[~np.isnan(adjusted)] == pytest.approx(stats.false_discovery_control(p), rel=1e-12)


def _random_rows(rng: np.random.Generator, size: int) -> pd.DataFrame:
    """Metric-frame rows of every shape the root cause meets: order-level 0/1 rows, seller-clustered rows,
    rows without events, a single unit."""
    denominator = rng.integers(1, 400, size).astype(float)
    numerator = np.floor(denominator * rng.uniform(0, 0.3, size))
    binary = rng.random(size) < 0.4
    units = np.where(binary, denominator, rng.integers(1, 40, size)).astype(float)
    sum_y2 = np.where(binary, denominator, denominator**2 / units * rng.uniform(1, 3, size))
    sum_x2 = np.where(binary, numerator, numerator**2 / units * rng.uniform(1, 3, size))
    sum_xy = np.where(binary, numerator, np.sqrt(sum_x2 * sum_y2) * rng.uniform(0.5, 1, size))
    return pd.DataFrame({"numerator": numerator, "denominator": denominator, "units": units,
                         "sum_x2": sum_x2, "sum_y2": sum_y2, "sum_xy": sum_xy})


@pytest.mark.parametrize("kind", ["ratio", "count"])
def test_vectorised_change_p_values_equal_change_test_row_by_row(kind):
    rng = np.random.default_rng(11)
    before, after = _random_rows(rng, 300), _random_rows(rng, 300)
    if kind == "count":
        before.loc[::7, "sum_x2"] = np.nan  # no unit statistics: Poisson variance
    expected = [change_test(before.loc[i], after.loc[i], kind).p_value for i in before.index]
    np.testing.assert_allclose(change_p_values(before, after, kind), expected, rtol=1e-12, equal_nan=True)


def test_vectorised_ratio_p_values_are_nan_without_volume_and_one_without_change():
    rows = {"numerator": np.array([0.0, 3.0]), "denominator": np.array([0.0, 10.0]), "units": np.array([0.0, 10.0]),
            "sum_x2": np.array([0.0, 3.0]), "sum_y2": np.array([0.0, 10.0]), "sum_xy": np.array([0.0, 3.0])}
    p_values = change_p_values(rows, {**rows, "numerator": np.array([0.0, 3.0])}, "ratio")
    assert np.isnan(p_values[0]) and p_values[1] == 1.0


def test_vectorised_share_p_values_equal_two_proportion_test():
    x0, x1 = np.array([120.0, 40.0, 0.0]), np.array([90.0, 75.0, 3.0])
    expected = [two_proportion_test(a, 1000, b, 1100).p_value for a, b in zip(x0, x1, strict=True)]
    np.testing.assert_allclose(two_proportion_p_values(x0, 1000, x1, 1100), expected, rtol=1e-12)
    assert np.isnan(two_proportion_p_values(x0, 0, x1, 1100)).all()
