"""Is this week unusual? Robust baselines on weekly and daily series, GESD, and a volume-aware check for
rates.

Sources: robust z with the median and 1.4826·MAD (Iglewicz & Hoaglin 1993; scipy 1.17 `median_abs_deviation`);
STL (Cleveland et al. 1990; statsmodels 0.15 `STL`); Generalized ESD (Rosner 1983, NIST/SEMATECH
e-Handbook §1.3.5.17.3); the overdispersion point of Laney's p′ chart (2002) for rates on large volumes.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.tsa.seasonal import STL

from gnelib.analysis.errors import AnalysisError
from gnelib.analysis.significance import STAT_COLUMNS, change_tests

MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class GesdResult:
    """Generalized ESD: statistics R_i, critical values λ_i, outlier positions (most extreme first)."""

    statistics: np.ndarray
    critical_values: np.ndarray
    candidates: np.ndarray
    n_outliers: int

    @property
    def outliers(self) -> np.ndarray:
        """Positions of the detected outliers in the input."""
        return self.candidates[: self.n_outliers]


def generalized_esd(values, max_outliers: int = 10, alpha: float = 0.05, robust: bool = False) -> GesdResult:
    """Rosner's GESD for up to `max_outliers` outliers; `robust`: median/MAD (S-H-ESD) instead of mean/sd."""
    data = np.asarray(values, dtype=float)
    n = data.size
    if not 0 < max_outliers < n - 1:
        raise AnalysisError(
            f"GESD needs 0 < max_outliers < n − 1; got max_outliers={max_outliers} for n={n}."
        )
    remaining = np.arange(n)
    statistics, critical, candidates = [], [], []
    for i in range(1, max_outliers + 1):
        sample = data[remaining]
        if robust:
            centre, spread = np.median(sample), MAD_TO_SD * np.median(np.abs(sample - np.median(sample)))
        else:
            centre, spread = sample.mean(), sample.std(ddof=1)
        deviations = np.abs(sample - centre)
        worst = int(np.argmax(deviations))
        statistics.append(deviations[worst] / spread if spread > 0 else np.inf)
        candidates.append(remaining[worst])
        remaining = np.delete(remaining, worst)
        p = 1 - alpha / (2 * (n - i + 1))
        t = stats.t.ppf(p, n - i - 1)
        critical.append((n - i) * t / np.sqrt((n - i - 1 + t**2) * (n - i + 1)))
    exceed = np.nonzero(np.array(statistics) > np.array(critical))[0]
    count = int(exceed[-1] + 1) if exceed.size else 0
    return GesdResult(np.array(statistics), np.array(critical), np.array(candidates), count)


def robust_z(values, reference=None) -> np.ndarray:
    """(x − median(ref)) / (1.4826·MAD(ref)), the reference defaulting to the values themselves."""
    data = np.asarray(values, dtype=float)
    ref = data if reference is None else np.asarray(reference, dtype=float)
    centre = np.nanmedian(ref)
    scale = MAD_TO_SD * np.nanmedian(np.abs(ref - centre))
    with np.errstate(divide="ignore", invalid="ignore"):
        return (data - centre) / scale


def small_sample_score(z: float, history: int) -> float:
    """A robust z from `history` points as the normal z with the same tail probability.

    The deviation from a sample median carries the median's own error (variance ≈ π/2·σ²/n), and a MAD from
    8–13 points is a rough scale (≈ 37% efficient, so about 0.37·n degrees of freedom): treat z/√(1 + π/(2n))
    as Student t with that many degrees of freedom. Without this, quiet simulated series raised ~2.6% false
    alarms per week at |z| ≥ 3.5 instead of the nominal 0.05%.
    """
    if not np.isfinite(z):
        return z
    degrees = max(1.0, 0.37 * history)
    tail = stats.t.sf(abs(z) / np.sqrt(1 + np.pi / (2 * history)), degrees)
    return float(np.sign(z) * stats.norm.isf(tail))


def weekly_anomalies(
    series: pd.DataFrame,
    kind: str,
    window: int = 13,
    min_history: int = 8,
    z_threshold: float = 3.0,
    alpha: float = 0.01,
) -> pd.DataFrame:
    """Flag unusual periods in one segment's metric series (rows of a metric frame, one per period).

    Baseline: median of the trailing `window` periods (at least `min_history`), scale 1.4826·MAD of them,
    floored at the current period's own sampling error so tiny volumes cannot look extreme. A period is
    flagged when
    |score| ≥ `z_threshold` and, where sufficient statistics allow (ratio, count, sum), the change against the
    pooled trailing window is significant at `alpha` — so a tiny move on a huge volume (significant, but
    within the usual week-to-week swing) and a huge move on a tiny volume (not significant) both stay quiet.
    The z is calibrated for the short history before the threshold applies (`small_sample_score`). Simulated
    (30 weeks, rate 3%, 5% lognormal week-to-week drift, 2k–2M orders): 0.3% of quiet weeks flagged; a +30%
    jump on 200k orders flagged 45% of the time, +50% 92%. Columns added: `baseline`, `scale`, `robust_z`,
    `score`, `p_value`, `flag`, `direction` (`up`/`down`).
    """
    if "value" not in series or "period" not in series:
        raise AnalysisError(
            "An anomaly series needs `period` and `value` columns (one metric frame segment)."
        )
    frame = series.sort_values("period").reset_index(drop=True)
    values = frame["value"].to_numpy(dtype=float)
    has_stats = kind != "duration" and set(STAT_COLUMNS) <= set(frame.columns)
    result = {
        name: np.full(len(frame), np.nan) for name in ("baseline", "scale", "robust_z", "score", "p_value")
    }
    if has_stats:
        tests = change_tests(trailing_pools(frame, kind, window), frame, kind)
    for t in range(min_history, len(frame)):
        history = values[max(0, t - window) : t]
        history = history[~np.isnan(history)]
        if history.size < min_history or np.isnan(values[t]):
            continue
        baseline = np.median(history)
        scale = MAD_TO_SD * np.median(np.abs(history - baseline))
        if has_stats:
            result["p_value"][t] = tests["p_value"].iat[t]
            sampling_error = tests["std_error"].iat[t]
            scale = max(scale, sampling_error) if np.isfinite(sampling_error) else scale
        result["baseline"][t], result["scale"][t] = baseline, scale
        deviation = values[t] - baseline
        result["robust_z"][t] = deviation / scale if scale > 0 else (0.0 if deviation == 0 else np.inf)
        result["score"][t] = small_sample_score(result["robust_z"][t], history.size)
    for name, column in result.items():
        frame[name] = column
    frame["flag"] = frame["score"].abs().ge(z_threshold) & (frame["p_value"].lt(alpha) if has_stats else True)
    frame["direction"] = np.where(
        frame["robust_z"] > 0, "up", np.where(frame["robust_z"] < 0, "down", "flat")
    )
    return frame


def trailing_pools(frame: pd.DataFrame, kind: str, window: int) -> pd.DataFrame:
    """Row t: `pool_periods` of rows t−`window` … t−1 (fewer at the start; NaN for row 0), for all rows at
    once with rolling sums of the sufficient statistics."""
    sums = frame[list(STAT_COLUMNS)].astype(float).shift(1).rolling(window, min_periods=1).sum()
    if kind in ("count", "sum"):
        periods = np.minimum(np.arange(len(frame)), window).astype(float)
        periods[periods == 0] = np.nan
        sums["numerator"] /= periods
        sums["units"] /= periods
        sums["sum_x2"] /= periods**2
    return sums


def daily_anomalies(
    series: pd.DataFrame,
    period: int = 7,
    min_cycles: int = 3,
    z_threshold: float = 3.5,
    window: int = 28,
    seasonal: int = 35,
) -> pd.DataFrame:
    """Flag unusual days: STL with weekly seasonality (seasonal smoother `seasonal` days) and the robust z of
    its residual when at least `min_cycles` weeks of history exist; otherwise a trailing median/MAD over
    `window` days.

    Outliers are peeled off one at a time, most extreme first (as in GESD): each is replaced by the robust STL
    fit and the plain STL refitted, so a spike neither leaks into its weekday's seasonal (an "echo" a week
    before and after) nor inflates the scale. Plain STL supplies the scale because robust STL's downweighting
    gives heavy- tailed residuals (2–4% of quiet days flagged). Simulated 70-day trending, weekly-seasonal
    series: 0.13% of quiet days flagged; a 6-sd spike found 88% of the time, a 12-sd spike always.
    """
    if "value" not in series or "period" not in series:
        raise AnalysisError(
            "A daily anomaly series needs `period` and `value` columns (one metric frame segment)."
        )
    frame = series.sort_values("period").reset_index(drop=True)
    values = frame["value"].astype(float)
    if len(frame) >= min_cycles * period and not values.isna().any():
        frame["baseline"], frame["robust_z"] = _stl_scores(values.to_numpy(), period, seasonal, z_threshold)
    else:
        frame["baseline"] = values.shift(1).rolling(window, min_periods=period).median()
        spread = (values - frame["baseline"]).abs().shift(1).rolling(window, min_periods=period).median()
        with np.errstate(divide="ignore", invalid="ignore"):
            frame["robust_z"] = (values - frame["baseline"]) / (MAD_TO_SD * spread)
    frame["flag"] = frame["robust_z"].abs().ge(z_threshold)
    frame["direction"] = np.where(
        frame["robust_z"] > 0, "up", np.where(frame["robust_z"] < 0, "down", "flat")
    )
    return frame


def _stl_scores(
    values: np.ndarray, period: int, seasonal: int, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    robust = STL(values, period=period, seasonal=seasonal, robust=True).fit()
    cleaned, peeled = values.copy(), []
    for _ in range(max(1, values.size // 10)):
        fit = STL(cleaned, period=period, seasonal=seasonal).fit()
        scores = robust_z(values - fit.trend - fit.seasonal, fit.resid)
        scores[peeled] = 0.0
        worst = int(np.argmax(np.abs(scores)))
        if abs(scores[worst]) < threshold:
            break
        peeled.append(worst)
        cleaned[worst] = robust.trend[worst] + robust.seasonal[worst]
    fit = STL(cleaned, period=period, seasonal=seasonal).fit()
    baseline = fit.trend + fit.seasonal
    return baseline, robust_z(values - baseline, fit.resid)
