"""Is a change real? Tests for the metric kinds in the catalog, on the metric frame's sufficient statistics.

Sources: two-proportion z test and Wald interval (e.g. Agresti, *Categorical Data Analysis*, 3rd ed., §1.4,
§2.2; statsmodels 0.15 `proportions_ztest`, `confint_proportions_2indep(method="wald")`); delta method for a
ratio of sums clustered at the unit of analysis (Deng, Knoblich & Lu, KDD 2018); Mann–Whitney U (scipy 1.17
`mannwhitneyu`); Benjamini & Hochberg (1995), "Controlling the false discovery rate".
"""

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from gnelib.analysis.errors import AnalysisError

STAT_COLUMNS = ("numerator", "denominator", "units", "sum_x2", "sum_y2", "sum_xy")
KINDS = ("ratio", "count", "sum", "duration")


@dataclass(frozen=True)
class Change:
    """A metric moving from `baseline` to `current`, with a CI for `abs_change` and a p-value."""

    baseline: float
    current: float
    abs_change: float
    rel_change: float
    ci_low: float
    ci_high: float
    p_value: float
    method: str
    significant: bool
    alpha: float = 0.05

    @property
    def direction(self) -> str:
        """`up`, `down` or `flat` (exactly equal)."""
        return "up" if self.abs_change > 0 else "down" if self.abs_change < 0 else "flat"

    def to_dict(self) -> dict:
        """The fields as a plain dict (for JSON sidecars and tables)."""
        return asdict(self)


def two_proportion_test(x0: float, n0: float, x1: float, n1: float, alpha: float = 0.05) -> Change:
    """Baseline x0/n0 vs current x1/n1 for independent binary outcomes: pooled z test, unpooled (Wald) CI."""
    if n0 <= 0 or n1 <= 0:
        raise AnalysisError(f"A proportion needs a positive denominator; got n0={n0}, n1={n1}.")
    p0, p1 = x0 / n0, x1 / n1
    pooled = (x0 + x1) / (n0 + n1)
    se_test = np.sqrt(pooled * (1 - pooled) * (1 / n0 + 1 / n1))
    se_ci = np.sqrt(p0 * (1 - p0) / n0 + p1 * (1 - p1) / n1)
    return _z_change(p0, p1, se_test, se_ci, alpha, "two-proportion z test (pooled), Wald CI")


def ratio_variance(
    units: float, numerator: float, denominator: float, sum_x2: float, sum_y2: float, sum_xy: float
) -> float:
    """Delta-method Var(R) of R = Σx/Σy over `units` clustered units: Σ(x_j − R·y_j)² / ((K−1)·K·ȳ²).

    Identical to (s²_x − 2R·s_xy + R²·s²_y)/(K·ȳ²) with sample (co)variances, written so it stays stable.
    NaN with fewer than two units or no denominator.
    """
    if not units or units < 2 or not denominator:
        return float("nan")
    ratio = numerator / denominator
    mean_y = denominator / units
    spread = sum_x2 - 2 * ratio * sum_xy + ratio**2 * sum_y2
    return max(spread, 0.0) / ((units - 1) * units * mean_y**2)


def count_variance(numerator: float, sum_x2: float) -> float:
    """Var of a count or sum, Σx_j² over units (compound Poisson, clustered); `numerator` if absent."""
    return float(sum_x2) if pd.notna(sum_x2) else float(numerator)


def ratio_change_test(baseline: Mapping, current: Mapping, alpha: float = 0.05) -> Change:
    """Ratio metric change with the delta-method variance of each period (conservative: ignores the
    positive week-to-week covariance of units present in both periods)."""
    r0, r1 = _ratio(baseline), _ratio(current)
    se = np.sqrt(_row_ratio_variance(baseline) + _row_ratio_variance(current))
    return _z_change(r0, r1, se, se, alpha, "delta-method z test, clustered by unit")


def count_change_test(baseline: Mapping, current: Mapping, alpha: float = 0.05) -> Change:
    """Count or sum metric change, z test with each period's variance Σx_j² (clustered by unit)."""
    c0, c1 = float(baseline["numerator"]), float(current["numerator"])
    se = np.sqrt(count_variance(c0, baseline.get("sum_x2")) + count_variance(c1, current.get("sum_x2")))
    return _z_change(c0, c1, se, se, alpha, "z test on counts, variance Σx² clustered by unit")


def median_change_test(
    baseline_values: Sequence[float],
    current_values: Sequence[float],
    alpha: float = 0.05,
    n_boot: int = 1000,
    seed: int = 0,
) -> Change:
    """Median change of durations: Mann–Whitney U p-value (two-sided), bootstrap CI of the difference."""
    before = np.asarray(baseline_values, dtype=float)
    after = np.asarray(current_values, dtype=float)
    before, after = before[~np.isnan(before)], after[~np.isnan(after)]
    if before.size == 0 or after.size == 0:
        raise AnalysisError(
            "A median comparison needs at least one value in each period; one period is empty."
        )
    m0, m1 = float(np.median(before)), float(np.median(after))
    p_value = float(stats.mannwhitneyu(after, before, alternative="two-sided").pvalue)
    rng = np.random.default_rng(seed)
    differences = _bootstrap_medians(after, n_boot, rng) - _bootstrap_medians(before, n_boot, rng)
    low, high = np.quantile(differences, [alpha / 2, 1 - alpha / 2])
    return Change(
        m0,
        m1,
        m1 - m0,
        _relative(m0, m1),
        float(low),
        float(high),
        p_value,
        "Mann–Whitney U test, bootstrap CI of the median difference",
        p_value < alpha,
        alpha,
    )


def is_binary_ratio(row: Mapping) -> bool:
    """True when every unit has denominator 1 and numerator 0 or 1 (an order-level proportion)."""
    tolerance = 1e-9 * max(1.0, float(row["denominator"]))
    return (
        abs(row["units"] - row["denominator"]) <= tolerance
        and abs(row["sum_y2"] - row["denominator"]) <= tolerance
        and abs(row["sum_x2"] - row["numerator"]) <= tolerance
        and abs(row["sum_xy"] - row["numerator"]) <= tolerance
    )


def change_test(
    baseline: Mapping,
    current: Mapping,
    kind: str,
    alpha: float = 0.05,
    baseline_samples: Sequence[float] | None = None,
    current_samples: Sequence[float] | None = None,
) -> Change:
    """The right test for a metric kind, on two metric-frame rows (or pooled rows from `pool_periods`).

    ratio: two-proportion z when every unit is one 0/1 order, else the delta method; count/sum: z on Σx²;
    duration: Mann–Whitney on the per-event samples (without samples: medians only, p-value NaN).
    """
    _check_kind(kind)
    if kind == "ratio":
        if is_binary_ratio(baseline) and is_binary_ratio(current):
            return two_proportion_test(
                baseline["numerator"],
                baseline["denominator"],
                current["numerator"],
                current["denominator"],
                alpha,
            )
        return ratio_change_test(baseline, current, alpha)
    if kind in ("count", "sum"):
        return count_change_test(baseline, current, alpha)
    if baseline_samples is not None and current_samples is not None:
        return median_change_test(baseline_samples, current_samples, alpha)
    m0, m1 = float(baseline["value"]), float(current["value"])
    nan = float("nan")
    return Change(
        m0, m1, m1 - m0, _relative(m0, m1), nan, nan, nan, "medians only (no per-event samples)", False, alpha
    )


def pool_periods(rows: pd.DataFrame, kind: str) -> pd.Series:
    """Several periods' rows of one segment combined into one baseline row.

    ratio: the sums add up (units of different periods count as different clusters); count/sum: the per-period
    mean, with variance Σx²/n²; duration: the mean of the medians.
    """
    _check_kind(kind)
    if rows.empty:
        raise AnalysisError("No baseline periods to pool: the requested baseline weeks have no data.")
    present = [column for column in (*STAT_COLUMNS, "value") if column in rows]
    pooled = rows[present].sum(min_count=1)
    periods = len(rows)
    if kind == "ratio":
        pooled["value"] = pooled["numerator"] / pooled["denominator"]
    elif kind in ("count", "sum"):
        pooled["numerator"] /= periods
        pooled["units"] /= periods
        pooled["sum_x2"] /= periods**2
        pooled["value"] = pooled["numerator"]
    else:
        pooled["value"] = rows["value"].mean()
    return pooled


def benjamini_hochberg(p_values: Sequence[float], q: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """BH step-up: `(adjusted p-values, rejected)`; NaN p-values stay NaN, unrejected and uncounted."""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    finite = ~np.isnan(p)
    m = int(finite.sum())
    if m:
        order = np.argsort(p[finite])
        ranked = p[finite][order] * m / np.arange(1, m + 1)
        stepped = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
        values = np.empty(m)
        values[order] = stepped
        adjusted[finite] = values
    return adjusted, np.where(finite, adjusted <= q, False)


def _z_change(before: float, after: float, se_test: float, se_ci: float, alpha: float, method: str) -> Change:
    delta = after - before
    p_value = float(_z_p_values(np.asarray(delta, dtype=float), np.asarray(se_test, dtype=float)))
    half = stats.norm.isf(alpha / 2) * se_ci
    significant = bool(p_value < alpha)
    return Change(
        float(before),
        float(after),
        float(delta),
        _relative(before, after),
        float(delta - half),
        float(delta + half),
        p_value,
        method,
        significant,
        alpha,
    )


def binary_rows(stats_by_column: Mapping[str, np.ndarray]) -> np.ndarray:
    """`is_binary_ratio` for arrays of rows."""
    denominator, numerator = stats_by_column["denominator"], stats_by_column["numerator"]
    tolerance = 1e-9 * np.maximum(1.0, denominator)
    return (
        (np.abs(stats_by_column["units"] - denominator) <= tolerance)
        & (np.abs(stats_by_column["sum_y2"] - denominator) <= tolerance)
        & (np.abs(stats_by_column["sum_x2"] - numerator) <= tolerance)
        & (np.abs(stats_by_column["sum_xy"] - numerator) <= tolerance)
    )


def ratio_variances(stats_by_column: Mapping[str, np.ndarray]) -> np.ndarray:
    """`ratio_variance` for arrays of rows."""
    units, numerator, denominator = (stats_by_column[c] for c in ("units", "numerator", "denominator"))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = numerator / denominator
        mean_y = denominator / units
        x2, xy, y2 = (stats_by_column[column] for column in ("sum_x2", "sum_xy", "sum_y2"))
        spread = x2 - 2 * ratio * xy + ratio**2 * y2
        variance = np.maximum(spread, 0.0) / ((units - 1) * units * mean_y**2)
    return np.where((units >= 2) & (denominator != 0), variance, np.nan)


def change_p_values(baseline: Mapping[str, np.ndarray], current: Mapping[str, np.ndarray], kind: str) -> np.ndarray:
    """`change_test(...).p_value` for arrays of rows of a ratio, count or sum metric (keyed by `STAT_COLUMNS`; a
    missing column counts as NaN). A ratio row without volume in either period gets NaN."""
    before, after = _stat_arrays(baseline), _stat_arrays(current)
    x0, x1 = before["numerator"], after["numerator"]
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "ratio":
            n0, n1 = before["denominator"], after["denominator"]
            pooled = (x0 + x1) / (n0 + n1)
            se_binary = np.sqrt(pooled * (1 - pooled) * (1 / n0 + 1 / n1))
            se_delta = np.sqrt(ratio_variances(before) + ratio_variances(after))
            se = np.where(binary_rows(before) & binary_rows(after), se_binary, se_delta)
            p_values = _z_p_values(x1 / n1 - x0 / n0, se)
            return np.where((n0 > 0) & (n1 > 0), p_values, np.nan)
        if kind in ("count", "sum"):
            variance0 = np.where(np.isfinite(before["sum_x2"]), before["sum_x2"], x0)
            variance1 = np.where(np.isfinite(after["sum_x2"]), after["sum_x2"], x1)
            return _z_p_values(x1 - x0, np.sqrt(variance0 + variance1))
    raise AnalysisError(f"Vectorised change tests cover ratio, count and sum metrics, not {kind!r}.")


def two_proportion_p_values(x0: np.ndarray, n0: float, x1: np.ndarray, n1: float) -> np.ndarray:
    """`two_proportion_test(...).p_value` for arrays of counts against fixed totals (NaN without a total)."""
    x0, x1 = np.asarray(x0, dtype=float), np.asarray(x1, dtype=float)
    if n0 <= 0 or n1 <= 0:
        return np.full(x0.shape, np.nan)
    pooled = (x0 + x1) / (n0 + n1)
    return _z_p_values(x1 / n1 - x0 / n0, np.sqrt(pooled * (1 - pooled) * (1 / n0 + 1 / n1)))


def _z_p_values(delta: np.ndarray, se: np.ndarray) -> np.ndarray:
    """Two-sided normal p-values of `delta`/`se`, as `_z_change` gives them: 1 for no change without spread."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p_values = 2 * stats.norm.sf(np.abs(delta) / se)
    return np.where(se > 0, p_values, np.where(delta == 0, 1.0, np.nan))


def _stat_arrays(rows: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    size = len(np.atleast_1d(np.asarray(rows["numerator"])))
    return {column: np.asarray(rows[column], dtype=float) if column in rows else np.full(size, np.nan)
            for column in STAT_COLUMNS}


def _ratio(row: Mapping) -> float:
    if not row["denominator"]:
        raise AnalysisError("A ratio needs a positive denominator; this period has none (no volume).")
    return float(row["numerator"] / row["denominator"])


def _row_ratio_variance(row: Mapping) -> float:
    return ratio_variance(
        row["units"], row["numerator"], row["denominator"], row["sum_x2"], row["sum_y2"], row["sum_xy"]
    )


def _relative(before: float, after: float) -> float:
    return float((after - before) / before) if before else float("nan")


def _bootstrap_medians(
    values: np.ndarray, n_boot: int, rng: np.random.Generator, chunk_cells: int = 5_000_000
):
    per_chunk = max(1, chunk_cells // values.size)
    medians = []
    for start in range(0, n_boot, per_chunk):
        draws = rng.choice(values, size=(min(per_chunk, n_boot - start), values.size), replace=True)
        medians.append(np.median(draws, axis=1))
    return np.concatenate(medians)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise AnalysisError(f"Unknown metric kind {kind!r}; choose one of {', '.join(KINDS)}.")
