"""Anomaly detection: GESD on the NIST fixture, robust z vs scipy, flags on simulated series."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from gnelib.analysis.anomaly import daily_anomalies, generalized_esd, robust_z, weekly_anomalies
from gnelib.analysis.errors import AnalysisError

NIST = [
    -0.25,
    0.68,
    0.94,
    1.15,
    1.20,
    1.26,
    1.26,
    1.34,
    1.38,
    1.43,
    1.49,
    1.49,
    1.55,
    1.56,
    1.58,
    1.65,
    1.69,
    1.70,
    1.76,
    1.77,
    1.81,
    1.91,
    1.94,
    1.96,
    1.99,
    2.06,
    2.09,
    2.10,
    2.14,
    2.15,
    2.23,
    2.24,
    2.26,
    2.35,
    2.37,
    2.40,
    2.47,
    2.54,
    2.62,
    2.64,
    2.90,
    2.92,
    2.92,
    2.93,
    3.21,
    3.26,
    3.30,
    3.59,
    3.68,
    4.30,
    4.64,
    5.34,
    5.42,
    6.01,
]
NIST_R = [3.118, 2.942, 3.179, 2.810, 2.815, 2.848, 2.279, 2.310, 2.101, 2.067]
NIST_LAMBDA = [3.158, 3.151, 3.143, 3.136, 3.128, 3.120, 3.111, 3.103, 3.094, 3.085]


def test_gesd_reproduces_the_nist_table():
    result = generalized_esd(NIST, max_outliers=10, alpha=0.05)
    assert np.trunc(result.statistics * 1000) / 1000 == pytest.approx(NIST_R, abs=1e-9)
    assert np.trunc(result.critical_values * 1000) / 1000 == pytest.approx(NIST_LAMBDA, abs=1e-9)
    assert result.n_outliers == 3
    assert sorted(np.asarray(NIST)[result.outliers]) == [5.34, 5.42, 6.01]


def test_gesd_rejects_too_many_outliers():
    with pytest.raises(AnalysisError, match="max_outliers"):
        generalized_esd([1.0, 2.0, 3.0], max_outliers=5)


def test_robust_z_matches_scipy_mad():
    rng = np.random.default_rng(0)
    x = rng.standard_t(3, size=200)
    expected = (x - np.median(x)) / stats.median_abs_deviation(x, scale="normal")
    assert robust_z(x) == pytest.approx(expected, rel=1e-4)  # 1.4826 vs scipy's exact 1/Φ⁻¹(3/4)


def binary_series(rng, weeks: int, orders, rates) -> pd.DataFrame:
    orders = np.broadcast_to(orders, weeks).astype(int)
    defects = rng.binomial(orders, rates).astype(float)
    return pd.DataFrame(
        {
            "period": [f"2026-W{w + 1:02d}" for w in range(weeks)],
            "numerator": defects,
            "denominator": orders.astype(float),
            "units": orders.astype(float),
            "sum_x2": defects,
            "sum_y2": orders.astype(float),
            "sum_xy": defects,
            "value": defects / orders,
        }
    )


def test_quiet_overdispersed_series_raise_few_alarms():
    rng = np.random.default_rng(1)
    flags = 0
    for _ in range(100):
        weekly_rate = 0.03 * np.exp(
            rng.normal(0, 0.05, size=30)
        )  # real week-to-week drift (Laney's p′ point)
        frame = weekly_anomalies(binary_series(rng, 30, rng.integers(2_000, 2_000_000), weekly_rate), "ratio")
        flags += int(frame["flag"].sum())
    assert flags / (100 * 22) < 0.01  # 22 testable weeks per series (8 weeks of history first)


def test_tiny_move_on_huge_volume_is_not_flagged_but_is_significant():
    rng = np.random.default_rng(2)
    rates = 0.03 * np.exp(rng.normal(0, 0.03, size=20))
    rates[-1] = np.median(rates[-14:-1]) * 1.02
    frame = weekly_anomalies(binary_series(rng, 20, 20_000_000, rates), "ratio")
    last = frame.iloc[-1]
    assert last["p_value"] < 0.01 and not last["flag"]


def test_huge_move_on_tiny_volume_is_not_flagged():
    rng = np.random.default_rng(3)
    frame = binary_series(rng, 20, 40, np.full(20, 0.004))
    frame.loc[19, ["numerator", "sum_x2", "sum_xy"]] = 2.0
    frame.loc[19, "value"] = 2 / 40
    last = weekly_anomalies(frame, "ratio").iloc[-1]
    assert last["value"] > 10 * last["baseline"] if last["baseline"] > 0 else last["value"] > 0
    assert not last["flag"]


def test_real_jump_is_flagged_with_direction():
    rng = np.random.default_rng(4)
    rates = 0.03 * np.exp(rng.normal(0, 0.04, size=20))
    rates[-1] = 0.045
    frame = weekly_anomalies(binary_series(rng, 20, 200_000, rates), "ratio")
    assert frame["flag"].tolist() == [False] * 19 + [True]
    assert frame.iloc[-1]["direction"] == "up"
    history = frame["value"].iloc[-14:-1]
    assert frame.iloc[-1]["baseline"] == pytest.approx(history.median())


def test_duration_series_use_robust_z_only():
    values = np.r_[np.full(12, 20.0) + np.arange(12) % 3, 45.0]
    frame = weekly_anomalies(
        pd.DataFrame({"period": [f"W{i:02d}" for i in range(13)], "value": values}), "duration"
    )
    assert frame["flag"].tolist() == [False] * 12 + [True]


def test_daily_stl_finds_a_spike_despite_weekly_seasonality():
    rng = np.random.default_rng(5)
    days = pd.date_range("2026-08-03", periods=70, freq="D")
    values = 100 + 30 * (days.day_of_week >= 5) + rng.normal(0, 2, size=70)
    values[60] += 25
    frame = daily_anomalies(pd.DataFrame({"period": days.strftime("%Y-%m-%d"), "value": values}))
    assert frame.index[frame["flag"]].tolist() == [60]
    weekend_days = frame.index[days.day_of_week >= 5]
    assert not frame.loc[weekend_days.difference([60]), "flag"].any()
