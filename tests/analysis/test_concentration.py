"""Seller concentration: one bad seller is found and named; a change shared by every seller is not."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from gnelib.analysis.concentration import seller_concentration
from gnelib.analysis.errors import AnalysisError


def seller_samples(rng, rates, volumes, period) -> pd.DataFrame:
    """One row per seller and period, as `metrics.samples` returns for a ratio metric."""
    orders = rng.poisson(volumes).astype(float)
    defects = rng.binomial(orders.astype(int), rates).astype(float)
    return pd.DataFrame({"period": period, "unit_id": np.arange(1000, 1000 + len(rates)), "numerator": defects,
                         "denominator": orders, "value": defects / np.maximum(orders, 1)})


def market(rng, bad_seller_rate=None, factor=1.0, sellers=400):
    volumes = rng.lognormal(3.5, 1.0, sellers)
    rates = rng.uniform(0.01, 0.04, sellers)
    before = seller_samples(rng, rates, volumes, "W1")
    after_rates = rates * factor
    if bad_seller_rate is not None:
        after_rates = after_rates.copy()
        after_rates[np.argsort(volumes)[-3]] = bad_seller_rate  # the third-largest seller goes bad
    return pd.concat([before, seller_samples(rng, after_rates, volumes, "W2")], ignore_index=True), volumes


def shapley_share(samples: pd.DataFrame, unit) -> float:
    """The unit's Shapley (centred mix + rate) share of ΔR, recomputed with pandas."""
    wide = samples.pivot_table(index="unit_id", columns="period", values=["numerator", "denominator"],
                               aggfunc="sum", fill_value=0.0)
    x0, x1, n0, n1 = wide[("numerator", "W1")], wide[("numerator", "W2")], wide[("denominator", "W1")], \
        wide[("denominator", "W2")]
    r0, r1 = (x0 / n0).where(n0 > 0), (x1 / n1).where(n1 > 0)
    r0, r1 = r0.fillna(r1), r1.fillna(r0)
    big0, big1 = x0.sum() / n0.sum(), x1.sum() / n1.sum()
    w0, w1 = n0 / n0.sum(), n1 / n1.sum()
    total = (r1 - r0) * (w0 + w1) / 2 + (w1 - w0) * ((r0 + r1) / 2 - (big0 + big1) / 2)
    return float(total[unit] / (big1 - big0))


def test_one_bad_seller_explains_the_rise(rng):
    samples, volumes = market(rng, bad_seller_rate=0.35)
    bad = 1000 + int(np.argsort(volumes)[-3])
    result = seller_concentration(samples, "W1", "W2", "ratio", names={bad: "<b>Shop</b>"})
    assert result.concentrated and result.k == 1 and result.noun == "rise"
    top = result.units.iloc[0]
    assert top["unit_id"] == bad and top["name"] == "<b>Shop</b>"
    assert top["share_of_change"] == pytest.approx(shapley_share(samples, bad), rel=1e-9)
    assert result.share == pytest.approx(top["share_of_change"]) and result.share >= 0.5
    current = samples[samples.period == "W2"]
    assert result.volume_share == pytest.approx(
        current.loc[current.unit_id == bad, "denominator"].sum() / current["denominator"].sum())
    row = samples.set_index(["period", "unit_id"])
    p_value = stats.norm.sf(abs(_z(*row.loc[("W1", bad), ["numerator", "denominator"]],
                                    *row.loc[("W2", bad), ["numerator", "denominator"]]))) * 2
    assert result.top_p_value == pytest.approx(min(1.0, p_value * result.n_units), rel=1e-6)
    amount = f"{result.share:.0%} of the rise" if result.share <= 1 else "more than the whole rise"
    assert result.describe().startswith(f"One seller explains {amount}") and f"seller {bad} (<b>Shop</b>)" in \
        result.describe()


def _z(x0, n0, x1, n1):
    pooled = (x0 + x1) / (n0 + n1)
    return (x1 / n1 - x0 / n0) / np.sqrt(pooled * (1 - pooled) * (1 / n0 + 1 / n1))


def test_a_rise_shared_by_every_seller_is_not_concentrated(rng):
    samples, _ = market(rng, factor=1.5)
    result = seller_concentration(samples, "W1", "W2", "ratio")
    assert not result.concentrated and result.named.empty
    assert result.describe() == "No small group of sellers carries the rise."


def test_count_concentration_with_several_baseline_weeks(rng):
    sellers = 300
    volumes = rng.lognormal(3.0, 0.8, sellers)
    weeks = {"W1": volumes, "W2": volumes, "W3": volumes.copy()}
    surge = np.argsort(volumes)[-5:-2]  # three big sellers triple their orders
    weeks["W3"][surge] *= 3
    samples = pd.concat(
        [pd.DataFrame({"period": week, "unit_id": np.arange(sellers), "numerator": rng.poisson(mean).astype(float)})
         for week, mean in weeks.items()], ignore_index=True)
    result = seller_concentration(samples, ["W1", "W2"], "W3", "count")
    per_week = samples.pivot_table(index="unit_id", columns="period", values="numerator", aggfunc="sum")
    delta = per_week["W3"] - (per_week["W1"] + per_week["W2"]) / 2
    assert result.change == pytest.approx(delta.sum())
    expected_top = delta.sort_values(ascending=False).index[: result.k]
    assert result.concentrated and 1 <= result.k <= 3 and set(result.named["unit_id"]) <= set(surge)
    assert list(result.named["unit_id"]) == list(expected_top)
    assert result.share == pytest.approx(delta[expected_top].sum() / delta.sum())
    top = per_week.loc[expected_top[0]]
    binomial = stats.binomtest(int(top["W3"]), int(top["W1"] + top["W2"] + top["W3"]), 1 / 3).pvalue
    assert result.top_p_value == pytest.approx(min(1.0, binomial * result.n_units))


def test_rejects_durations_and_frames_without_units():
    with pytest.raises(AnalysisError, match="ratio, count or sum"):
        seller_concentration(pd.DataFrame(), "W1", "W2", "duration")
    with pytest.raises(AnalysisError, match="unit_id"):
        seller_concentration(pd.DataFrame({"period": ["W1"], "numerator": [1.0]}), "W1", "W2", "count")
