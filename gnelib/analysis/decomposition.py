"""Which segments moved the metric? Mix/rate (ratio metrics) and Δ-contribution (additive metrics) by one
dimension.

Source: the symmetric two-factor Shapley split of ΔR = Σ w_i r_i (e.g. Kitagawa 1955 made symmetric, as in
Das Gupta 1993, *Standardization and Decomposition of Rates*), DOMAIN.md §2.1 (b), with the centred mix (c).
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd

from gnelib.analysis.errors import AnalysisError


def decompose_ratio(
    baseline: pd.DataFrame, current: pd.DataFrame, dimension: str | Sequence[str], centred: bool = True
) -> pd.DataFrame:
    """Shapley mix/rate split of a ratio metric's change, one row per segment of `dimension`.

    `baseline`/`current` hold `numerator` and `denominator` per segment. Σ(mix + rate) = ΔR exactly. A segment
    missing in one period takes the other period's rate, so its whole effect is mix. With `centred`, a
    segment's mix is (Δshare)·(segment rate − overall rate), so it is positive only when a segment with an
    above-average rate gained share (same totals). Columns: the dimension column(s), baseline/current
    numerator, denominator, share and rate, `mix`, `rate`, `total`, `share_of_change`; `attrs` hold
    `baseline_value`, `current_value`, `delta`.
    """
    keys = _keys(dimension)
    table = _align(baseline, current, keys)
    table = table[(table["baseline_denominator"] > 0) | (table["current_denominator"] > 0)].reset_index(
        drop=True
    )
    n0, n1 = table["baseline_denominator"], table["current_denominator"]
    if n0.sum() <= 0 or n1.sum() <= 0:
        raise AnalysisError("A ratio decomposition needs volume (a positive denominator) in both periods.")
    w0, w1 = n0 / n0.sum(), n1 / n1.sum()
    r0 = (table["baseline_numerator"] / n0.where(n0 > 0)).astype(float)
    r1 = (table["current_numerator"] / n1.where(n1 > 0)).astype(float)
    r0, r1 = r0.fillna(r1), r1.fillna(r0)
    overall0 = table["baseline_numerator"].sum() / n0.sum()
    overall1 = table["current_numerator"].sum() / n1.sum()
    reference = (overall0 + overall1) / 2 if centred else 0.0
    table["baseline_share"], table["current_share"] = w0, w1
    table["baseline_rate"] = np.where(n0 > 0, r0, np.nan)
    table["current_rate"] = np.where(n1 > 0, r1, np.nan)
    table["mix"] = (w1 - w0) * ((r0 + r1) / 2 - reference)
    table["rate"] = (r1 - r0) * (w0 + w1) / 2
    return _finish(table, overall0, overall1)


def decompose_additive(
    baseline: pd.DataFrame, current: pd.DataFrame, dimension: str | Sequence[str]
) -> pd.DataFrame:
    """Contribution of each segment to the change of a count or sum metric: Δ_i = current_i − baseline_i."""
    keys = _keys(dimension)
    table = _align(baseline, current, keys, columns=("numerator",))
    table["total"] = table["current_numerator"] - table["baseline_numerator"]
    return _finish(table, table["baseline_numerator"].sum(), table["current_numerator"].sum())


def decompose(
    frame: pd.DataFrame,
    dimension: str | Sequence[str],
    baseline_periods: str | Sequence[str],
    current_period: str,
    kind: str = "ratio",
    centred: bool = True,
) -> pd.DataFrame:
    """Decompose a metric frame's change between periods (several baseline periods: summed for ratios,
    averaged for counts and sums) by `dimension`. Duration metrics (medians) do not decompose. `attrs` also hold
    `baseline_periods` and `current_period`, for captions that name the weeks compared."""
    keys = _keys(dimension)
    missing = [key for key in (*keys, "period") if key not in frame]
    if missing:
        raise AnalysisError(f"The metric frame has no column {missing[0]!r}; compute it with by={keys}.")
    if kind == "duration":
        raise AnalysisError("Medians do not decompose by segment; use a ratio, count or sum metric.")
    base_list = [baseline_periods] if isinstance(baseline_periods, str) else list(baseline_periods)
    before = frame[frame["period"].isin(base_list)]
    after = frame[frame["period"] == current_period]
    for label, part in (("baseline", before), ("current", after)):
        if part.empty:
            raise AnalysisError(
                f"The metric frame has no rows for the {label} period(s); compute it over "
                f"{base_list if label == 'baseline' else current_period}."
            )
    columns = ["numerator", "denominator"] if kind == "ratio" else ["numerator"]
    before = before.groupby(keys, as_index=False, observed=True, dropna=False)[columns].sum()
    after = after.groupby(keys, as_index=False, observed=True, dropna=False)[columns].sum()
    if kind == "ratio":
        table = decompose_ratio(before, after, keys, centred)
    else:
        before["numerator"] /= len(base_list)
        table = decompose_additive(before, after, keys)
    table.attrs.update(baseline_periods=sorted(base_list), current_period=current_period)
    return table


def _keys(dimension: str | Sequence[str]) -> list[str]:
    return [dimension] if isinstance(dimension, str) else list(dimension)


def _align(
    baseline: pd.DataFrame,
    current: pd.DataFrame,
    keys: list[str],
    columns: Sequence[str] = ("numerator", "denominator"),
) -> pd.DataFrame:
    for label, part in (("baseline", baseline), ("current", current)):
        absent = [column for column in (*keys, *columns) if column not in part]
        if absent:
            raise AnalysisError(
                f"The {label} frame has no column {absent[0]!r}; it needs {[*keys, *columns]}."
            )
    before = baseline.groupby(keys, observed=True, dropna=False)[list(columns)].sum()
    after = current.groupby(keys, observed=True, dropna=False)[list(columns)].sum()
    table = before.add_prefix("baseline_").join(after.add_prefix("current_"), how="outer")
    return table.fillna(0.0).astype(float).reset_index()


def _finish(table: pd.DataFrame, baseline_value: float, current_value: float) -> pd.DataFrame:
    delta = current_value - baseline_value
    if "mix" in table:
        table["total"] = table["mix"] + table["rate"]
    table["share_of_change"] = table["total"] / delta if delta else np.nan
    table = table.reindex(table["total"].abs().sort_values(ascending=False, kind="stable").index)
    table = table.reset_index(drop=True)
    table.attrs.update(
        baseline_value=float(baseline_value), current_value=float(current_value), delta=float(delta)
    )
    return table
