"""Do a few units (sellers) carry most of a change? "3 sellers explain 71% of the rise".

Input: one row per unit of analysis and period, as `gnelib.metrics.samples` returns for ratio, count and sum
metrics (`unit_id`, `numerator`, `denominator`, `period`). Each unit's contribution to the change is its term
of an exact additive split of the change: for ratios the Shapley mix/rate split of ΔR = Σ w_u r_u with the
units as segments (`decompose_ratio`, DOMAIN.md §2.1 b/c), so a new seller with a high rate counts through its
share; for counts and sums the unit's own change. The rule, and the test that keeps noise from being named,
are in `seller_concentration`.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from gnelib.analysis.decomposition import decompose_ratio
from gnelib.analysis.errors import AnalysisError
from gnelib.analysis.significance import two_proportion_test

MAX_UNITS = 5
MIN_SHARE = 0.5
DISPROPORTION = 2.0


@dataclass(frozen=True)
class Concentration:
    """The top units of a change. `units`: the top `MAX_UNITS` units by contribution in the change's direction
    (`unit_id`, `name`, baseline and current `numerator`/`denominator`/`value`, `contribution`,
    `share_of_change`, `volume_share`, `p_value` of the unit's own change); `k`, `share`, `volume_share`: how
    many of them the finding names and what they carry; `top_p_value`: the top unit's p-value, Bonferroni-
    adjusted for picking the largest of `n_units`; `concentrated`: the rule held."""

    kind: str
    unit: str
    change: float
    units: pd.DataFrame
    k: int
    share: float
    volume_share: float
    top_p_value: float
    n_units: int
    concentrated: bool

    @property
    def noun(self) -> str:
        """`rise`, `fall` or `change`."""
        return "rise" if self.change > 0 else "fall" if self.change < 0 else "change"

    @property
    def named(self) -> pd.DataFrame:
        """The `k` units the finding names (empty unless concentrated)."""
        return self.units.head(self.k) if self.concentrated else self.units.head(0)

    def describe(self) -> str:
        """`3 sellers explain 71% of the rise: seller 1501, 1502, 1503, with 4% of the volume.` (plain text)."""
        if not self.concentrated:
            return f"No small group of {self.unit}s carries the {self.noun}."
        labels = ", ".join(_label(row) for _, row in self.named.iterrows())
        who = f"{self.k} {self.unit}s explain" if self.k > 1 else f"One {self.unit} explains"
        amount = (
            f"more than the whole {self.noun} ({self.share:.0%}; the other {self.unit}s together moved the "
            "other way)"
            if self.share > 1
            else f"{self.share:.0%} of the {self.noun}"
        )
        return f"{who} {amount}: {self.unit} {labels}, with {self.volume_share:.0%} of the volume."


def seller_concentration(
    samples: pd.DataFrame,
    baseline_periods: str | Sequence[str],
    current_period: str,
    kind: str = "ratio",
    names: Mapping[object, str] | None = None,
    unit: str = "seller",
    max_units: int = MAX_UNITS,
    min_share: float = MIN_SHARE,
    disproportion: float = DISPROPORTION,
    alpha: float = 0.05,
) -> Concentration:
    """Whether at most `max_units` units carry at least `min_share` of the change between periods.

    The finding names the smallest k ≤ `max_units` whose contributions sum to ≥ `min_share` of the change,
    when (a) that share is at least `disproportion` × their share of the current volume (denominator for
    ratios, the metric itself for counts and sums: a big seller carrying its proportional part of a broad
    change is not a concentration) and (b) the top unit's own change is significant at `alpha` after a
    Bonferroni correction over all units (it was picked as the largest). Unit tests: ratio — two-proportion z
    of the unit's current rate against its baseline rate (against the whole baseline rate when it had no
    baseline volume); count — the exact conditional Poisson test (current count given the total, binomial
    with p = 1/(periods + 1)); sum — no per-unit variance exists, so a robust z of the unit's change against
    all units' changes (median, 1.4826·MAD). Several baseline periods: summed for ratios, averaged for
    counts and sums. `names` maps unit ids to display names (shown escaped by `html_table`).
    """
    if kind not in ("ratio", "count", "sum"):
        raise AnalysisError(f"Concentration needs a ratio, count or sum metric, not {kind!r}.")
    periods = [baseline_periods] if isinstance(baseline_periods, str) else list(baseline_periods)
    table = _per_unit(samples, periods, current_period, kind)
    change = float(table.attrs["delta"])
    direction = 1.0 if change >= 0 else -1.0
    table = table.sort_values("contribution", key=lambda c: -direction * c, kind="stable").reset_index(drop=True)
    top = table.head(max_units).copy()
    top["p_value"] = [_unit_p_value(row, table, kind, len(periods)) for _, row in top.iterrows()]
    top.insert(1, "name", top["unit_id"].map(names) if names else None)
    share = top["share_of_change"].cumsum().to_numpy()
    volume = top["volume_share"].cumsum().to_numpy()
    n_units = len(table)
    top_p = float(min(1.0, top["p_value"].iloc[0] * n_units)) if n_units else float("nan")
    enough = (share >= min_share) & (share >= disproportion * volume)
    k = int(np.argmax(enough)) + 1 if enough.any() else len(top)
    concentrated = bool(change and enough.any() and top_p < alpha)
    return Concentration(
        kind, unit, change, top, k, float(share[k - 1]) if k else float("nan"),
        float(volume[k - 1]) if k else float("nan"), top_p, n_units, concentrated,
    )


def _per_unit(samples: pd.DataFrame, periods: list[str], current_period: str, kind: str) -> pd.DataFrame:
    missing = [column for column in ("unit_id", "period", "numerator") if column not in samples]
    if missing:
        raise AnalysisError(f"Concentration needs per-unit samples with column {missing[0]!r} (metrics.samples).")
    columns = ["numerator", "denominator"] if kind == "ratio" else ["numerator"]
    before = samples[samples["period"].isin(periods)].groupby("unit_id")[columns].sum()
    after = samples[samples["period"] == current_period].groupby("unit_id")[columns].sum()
    if before.empty or after.empty:
        raise AnalysisError(f"Concentration needs units in both the baseline {periods} and {current_period}.")
    if kind == "ratio":
        split = decompose_ratio(before.reset_index(), after.reset_index(), "unit_id")
        table = pd.DataFrame({
            "unit_id": split["unit_id"],
            "baseline_numerator": split["baseline_numerator"],
            "baseline_denominator": split["baseline_denominator"],
            "current_numerator": split["current_numerator"],
            "current_denominator": split["current_denominator"],
            "baseline_value": split["baseline_rate"],
            "current_value": split["current_rate"],
            "contribution": split["total"],
            "share_of_change": split["share_of_change"],
            "volume_share": split["current_share"],
        })
        table.attrs.update(split.attrs)
        return table
    joined = (before / len(periods)).add_prefix("baseline_").join(after.add_prefix("current_"), how="outer")
    joined = joined.fillna(0.0).reset_index()
    delta = joined["current_numerator"].sum() - joined["baseline_numerator"].sum()
    table = pd.DataFrame({
        "unit_id": joined["unit_id"],
        "baseline_numerator": joined["baseline_numerator"],
        "current_numerator": joined["current_numerator"],
        "baseline_value": joined["baseline_numerator"],
        "current_value": joined["current_numerator"],
        "contribution": joined["current_numerator"] - joined["baseline_numerator"],
    })
    table["share_of_change"] = table["contribution"] / delta if delta else np.nan
    total_now = table["current_numerator"].sum()
    table["volume_share"] = table["current_numerator"] / total_now if total_now else np.nan
    table.attrs.update(delta=float(delta))
    return table


def _unit_p_value(row: pd.Series, table: pd.DataFrame, kind: str, n_periods: int) -> float:
    """The unit's own change (see `seller_concentration`), unadjusted."""
    if kind == "ratio":
        n1 = row["current_denominator"]
        if n1 <= 0:
            return float("nan")
        x0, n0 = row["baseline_numerator"], row["baseline_denominator"]
        if n0 <= 0:
            x0, n0 = table["baseline_numerator"].sum(), table["baseline_denominator"].sum()
        return float(two_proportion_test(x0, n0, row["current_numerator"], n1).p_value)
    if kind == "count":
        x1 = int(round(row["current_numerator"]))
        total = int(round(row["baseline_numerator"] * n_periods)) + x1
        return float(stats.binomtest(x1, total, 1 / (n_periods + 1)).pvalue) if total else float("nan")
    changes = table["contribution"].to_numpy(dtype=float)
    spread = stats.median_abs_deviation(changes, scale="normal")
    if not spread > 0:
        spread = float(np.mean(np.abs(changes - np.median(changes)))) or float("nan")
    return float(2 * stats.norm.sf(abs(row["contribution"] - np.median(changes)) / spread))


def _label(row: pd.Series) -> str:
    name = row.get("name")
    return f"{row['unit_id']} ({name})" if isinstance(name, str) and name else str(row["unit_id"])
