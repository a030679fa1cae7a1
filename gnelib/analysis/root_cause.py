"""Why did the metric change? Rank explanatory segments across dimensions (Adtributor with mix/rate labels).

Sources: Bhagwan et al., "Adtributor: Revenue Debugging in Advertising Systems", NSDI 2014 (explanatory power,
Jensen–Shannon surprise in log2, the derived-measure EP for ratios, normalised); the greedy candidate search
as in riskloc's `algorithms/adtributor.py` (MIT, 2024) with the paper's thresholds T_EEP = 0.1, T_EP = 0.67 as
defaults; Shapley mix/rate split from `gnelib.analysis.decomposition` (DOMAIN.md §2.1 b/c).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gnelib.analysis.decomposition import decompose_additive, decompose_ratio
from gnelib.analysis.errors import AnalysisError
from gnelib.analysis.significance import STAT_COLUMNS, benjamini_hochberg, change_test, two_proportion_test

PAIR_SEPARATOR = " × "
FLAT_RATE_SHARE = 0.1  # a segment's rate counts as flat unless it moves significantly AND by ≥ 10% of ΔR


@dataclass(frozen=True)
class RootCause:
    """`segments`: one row per explanatory segment, best first; `dimensions`: one row per dimension (set)."""

    segments: pd.DataFrame
    dimensions: pd.DataFrame
    baseline_value: float
    current_value: float

    @property
    def delta(self) -> float:
        """The change being explained."""
        return self.current_value - self.baseline_value

    def top(self, n: int = 5) -> pd.DataFrame:
        """The `n` best explanations: ranked candidate segments, then the largest other contributors."""
        return self.segments.head(n)

    def mix_shift_dimension(self) -> str | None:
        """The dimension whose share movements explain the change while each segment's rate stayed flat."""
        shifts = self.dimensions[self.dimensions["pure_mix_shift"]]
        return (
            None
            if shifts.empty
            else str(shifts.sort_values("surprise", ascending=False)["dimension"].iloc[0])
        )


def js_surprise(prior: np.ndarray, posterior: np.ndarray) -> np.ndarray:
    """Per-element Jensen–Shannon term ½[p·log2(2p/(p+q)) + q·log2(2q/(p+q))]; 0·log(·) counts as 0."""
    p, q = np.asarray(prior, dtype=float), np.asarray(posterior, dtype=float)
    middle = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.where(p > 0, p * np.log2(p / middle), 0.0)
        right = np.where(q > 0, q * np.log2(q / middle), 0.0)
    return 0.5 * (left + right)


def explanatory_power(forecast: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Adtributor EP of an additive measure: (A_ij − F_ij) / (A − F); sums to 1 over a dimension."""
    forecast, actual = np.asarray(forecast, dtype=float), np.asarray(actual, dtype=float)
    total = actual.sum() - forecast.sum()
    return (actual - forecast) / total if total else np.full(forecast.shape, np.nan)


def derived_explanatory_power(
    forecast_num: np.ndarray, actual_num: np.ndarray, forecast_den: np.ndarray, actual_den: np.ndarray
) -> np.ndarray:
    """Adtributor EP of a ratio m1/m2 (its change if only element j moved), normalised to sum to 1."""
    f1, a1 = np.asarray(forecast_num, dtype=float), np.asarray(actual_num, dtype=float)
    f2, a2 = np.asarray(forecast_den, dtype=float), np.asarray(actual_den, dtype=float)
    total1, total2 = f1.sum(), f2.sum()
    raw = ((a1 - f1) * total2 - (a2 - f2) * total1) / (total2 * (total2 + a2 - f2))
    total = raw.sum()
    return raw / total if total else np.full(raw.shape, np.nan)


def effect_labels(table: pd.DataFrame) -> np.ndarray:
    """`mix` or `rate` per segment of a `decompose_ratio` table: which effect would have moved the total on
    its own, each valued without the other — the share shift at the segment's *baseline* rate,
    Δw·(r0 − R0), against the rate change at its *current* share, Δr·w1.

    The symmetric Shapley split gives a segment that both grows and worsens (a fraud ring of new sellers:
    share ×4, rate ×3) half of the interaction Δw·Δr as mix, so its worsening alone read as a mix shift; this
    labelling gives the interaction to the rate, so a segment is `mix` only when its share moved at a rate
    that was already unusual (the PH live-channel shift: the live rate was 3.5× the others before).
    """
    w0, w1 = table["baseline_share"], table["current_share"]
    r0 = table["baseline_rate"].fillna(table["current_rate"])
    r1 = table["current_rate"].fillna(table["baseline_rate"])
    overall0 = table["baseline_numerator"].sum() / table["baseline_denominator"].sum()
    mix_alone = (w1 - w0) * (r0 - overall0)
    rate_alone = (r1 - r0) * w1
    return np.where(mix_alone.abs() > rate_alone.abs(), "mix", "rate")


def adtributor_candidates(table: pd.DataFrame, teep: float = 0.1, tep: float = 0.67) -> list[int]:
    """Row labels of a dimension's explanatory set: by surprise, add elements with EP > `teep` until their EP
    exceeds `tep`; empty when the dimension cannot explain the change that way."""
    chosen, explained = [], 0.0
    for label, row in table.sort_values("surprise", ascending=False).iterrows():
        if row["ep"] > teep:
            chosen.append(label)
            explained += row["ep"]
            if explained > tep:
                return chosen
    return []


def explain_change(
    frames: Mapping[str | tuple[str, ...], pd.DataFrame],
    baseline_periods: str | Sequence[str],
    current_period: str,
    kind: str = "ratio",
    min_volume: float = 30,
    teep: float = 0.1,
    tep: float = 0.67,
    max_set_size: int = 3,
    alpha: float = 0.05,
) -> RootCause:
    """Rank the segments that explain a metric's change between periods, across several dimensions.

    `frames` maps a dimension (or a tuple: a pair such as ("carrier", "category")) to a metric frame computed
    with
    `by=` that dimension over the baseline and current periods. Pairs are reported when no single dimension
    explains the change with at most `max_set_size` elements, or one pair cell alone explains it (then the
    pair, the more specific finding, ranks first). Segments below `min_volume` (denominator for ratios, count
    for counts) in both periods are not ranked. P-values are BH-adjusted within each dimension (a hierarchical
    family: dimension, then its elements). Significant candidate segments rank before the others, then by
    their dimension's total surprise (the "which dimension" signal; a set's own summed surprise favours large
    noisy sets of rare events; compared at 2 significant figures), then by the size of their Shapley share
    of ΔR (Adtributor's EP is the change if only the element moved, which in a mix shift favours the segment
    that lost share over the one that gained it), so small noisy segments cannot crowd out a real cause.
    Labels: `effect_labels`. Per segment:
    `explained_share` (its Shapley share of ΔR), `ep` (Adtributor, normalised), `surprise` (JS, log2),
    `mix`/`rate` and the `effect` label (`mix`, `rate`; `additive` for counts), baseline and current rate and
    volume, and a BH-adjusted p-value for the labelled effect (rate test or share test).
    """
    if kind not in ("ratio", "count", "sum"):
        raise AnalysisError(
            f"Root cause needs a ratio, count or sum metric, not {kind!r} (medians do not add up)."
        )
    if not frames:
        raise AnalysisError("Root cause needs at least one dimension frame, e.g. {'category': frame}.")
    periods = [baseline_periods] if isinstance(baseline_periods, str) else list(baseline_periods)
    tables = {
        _name(key): _dimension_table(frame, _keys(key), periods, current_period, kind, alpha)
        for key, frame in frames.items()
    }
    summaries = {name: _candidates(table, min_volume, teep, tep) for name, table in tables.items()}
    set_sizes = {name: int(summary["candidate"].sum()) for name, summary in summaries.items()}
    singles = [name for name in tables if PAIR_SEPARATOR not in name]
    pairs = [name for name in tables if PAIR_SEPARATOR in name]
    concise_single = any(0 < set_sizes[name] <= max_set_size for name in singles)
    one_cell_pair = any(set_sizes[name] == 1 for name in pairs)
    used = singles + pairs if one_cell_pair or not concise_single else singles
    for name in pairs:
        summaries[name]["priority"] = 0 if one_cell_pair else 1
    for name in singles:
        if _mix_dominates(tables[name]):
            summaries[name]["priority"] = 0  # volume moved between its segments: a structural explanation
    segments = pd.concat([summaries[name] for name in used], ignore_index=True)
    segments = segments[segments["eligible"]].drop(columns="eligible")
    segments["p_adjusted"], segments["significant"] = np.nan, False
    for _, rows in segments.groupby("dimension", sort=False):
        adjusted, rejected = benjamini_hochberg(rows["p_value"].to_numpy(), alpha)
        segments.loc[rows.index, "p_adjusted"], segments.loc[rows.index, "significant"] = adjusted, rejected
    segments = _rank(segments)
    first = next(iter(tables.values()))
    return RootCause(
        segments,
        _dimension_summary(segments, tables, used, alpha),
        first.attrs["baseline_value"],
        first.attrs["current_value"],
    )


def cube_frames(
    cube: pd.DataFrame, dimensions: Sequence[str], pairs: Sequence[tuple[str, str]] = ()
) -> dict[str | tuple[str, ...], pd.DataFrame]:
    """Per-dimension frames for `explain_change` summed from one cube frame (computed with all `dimensions`).

    Sums are exact for numerators and denominators; `units` and the squared sums are exact only when each unit
    falls in a single cell (order-level metrics) and approximate otherwise — compute per dimension when it
    matters.
    """
    present = [column for column in (*STAT_COLUMNS, "value") if column in cube]
    return {
        key: cube.groupby(["period", *_keys(key)], as_index=False, observed=True)[present].sum()
        for key in (*dimensions, *pairs)
    }


def _dimension_table(
    frame: pd.DataFrame, keys: list[str], periods: list[str], current_period: str, kind: str, alpha: float
) -> pd.DataFrame:
    missing = [column for column in (*keys, "period", "numerator") if column not in frame]
    if missing:
        raise AnalysisError(f"A root-cause frame lacks column {missing[0]!r}; compute it with by={keys}.")
    columns = [column for column in STAT_COLUMNS if column in frame]
    before = frame[frame["period"].isin(periods)].groupby(keys, observed=True)[columns].sum()
    after = frame[frame["period"] == current_period].groupby(keys, observed=True)[columns].sum()
    if before.empty or after.empty:
        raise AnalysisError(
            f"No rows for {'baseline ' + str(periods) if before.empty else current_period} in the "
            f"frame for {keys}; compute it over both periods."
        )
    before, after = before.align(after, join="outer", fill_value=0.0)
    per_period = before / len(periods)
    if kind == "ratio":
        decomposed = decompose_ratio(per_period.reset_index(), after.reset_index(), keys)
        table = decomposed.set_index(keys).join(before.add_prefix("pooled_")).join(after.add_prefix("stat_"))
        table["ep"] = derived_explanatory_power(
            table["baseline_numerator"],
            table["current_numerator"],
            table["baseline_denominator"],
            table["current_denominator"],
        )
        table["surprise"] = _surprise(table["baseline_numerator"], table["current_numerator"]) + _surprise(
            table["baseline_denominator"], table["current_denominator"]
        )
        table["baseline_volume"], table["current_volume"] = (
            table["baseline_denominator"],
            table["current_denominator"],
        )
        table["effect"] = effect_labels(table)
    else:
        decomposed = decompose_additive(per_period.reset_index(), after.reset_index(), keys)
        table = decomposed.set_index(keys).join(before.add_prefix("pooled_")).join(after.add_prefix("stat_"))
        table["ep"] = explanatory_power(table["baseline_numerator"], table["current_numerator"])
        table["surprise"] = _surprise(table["baseline_numerator"], table["current_numerator"])
        table["baseline_volume"], table["current_volume"] = (
            table["baseline_numerator"],
            table["current_numerator"],
        )
        table["mix"], table["rate"], table["effect"] = np.nan, np.nan, "additive"
    table = (
        _segment_tests(table, kind, len(periods), alpha)
        .reset_index()
        .rename(columns={"share_of_change": "explained_share"})
    )
    table.insert(0, "dimension", PAIR_SEPARATOR.join(keys))
    table.insert(1, "value", table[keys].astype(str).agg(PAIR_SEPARATOR.join, axis=1))
    table = table.drop(columns=keys)
    table.attrs = dict(decomposed.attrs)
    return table


def _segment_tests(table: pd.DataFrame, kind: str, n_periods: int, alpha: float) -> pd.DataFrame:
    """Adds `rate_p_value`, `share_p_value` and `p_value` (the test matching the segment's effect label)."""
    pooled = table.filter(like="pooled_").rename(columns=lambda column: column.removeprefix("pooled_"))
    current = table.filter(like="stat_").rename(columns=lambda column: column.removeprefix("stat_"))
    if kind != "ratio":
        scale = {"numerator": n_periods, "units": n_periods, "sum_x2": n_periods**2}
        pooled = pooled.assign(
            **{column: pooled[column] / factor for column, factor in scale.items() if column in pooled}
        )
    rate_p, share_p = [], []
    if kind == "ratio":
        total0, total1 = table["pooled_denominator"].sum(), table["stat_denominator"].sum()
    for label in table.index:
        before, after = pooled.loc[label], current.loc[label]
        if kind == "ratio":
            has_volume = before["denominator"] > 0 and after["denominator"] > 0
            rate_p.append(change_test(before, after, kind, alpha).p_value if has_volume else np.nan)
            share_p.append(
                two_proportion_test(
                    before["denominator"], total0, after["denominator"], total1, alpha
                ).p_value
            )
        else:
            rate_p.append(change_test(before, after, kind, alpha).p_value)
            share_p.append(np.nan)
    table["rate_p_value"], table["share_p_value"] = rate_p, share_p
    table["p_value"] = np.where(table["effect"] == "mix", table["share_p_value"], table["rate_p_value"])
    return table.drop(
        columns=[*pooled.columns.map("pooled_{}".format), *current.columns.map("stat_{}".format)]
    )


def _candidates(table: pd.DataFrame, min_volume: float, teep: float, tep: float) -> pd.DataFrame:
    table = table.copy()
    table["eligible"] = np.maximum(table["baseline_volume"], table["current_volume"]) >= min_volume
    chosen = adtributor_candidates(table[table["eligible"]], teep, tep)
    table["candidate"] = table.index.isin(chosen)
    table["dimension_surprise"] = table["surprise"].sum()
    table["set_surprise"] = table.loc[chosen, "surprise"].sum() if chosen else np.nan
    table["set_explains"] = table.loc[chosen, "ep"].sum() if chosen else np.nan
    table["set_size"] = len(chosen)
    table["priority"] = 1
    return table


def _rank(segments: pd.DataFrame) -> pd.DataFrame:
    candidates = segments[segments["candidate"]].assign(
        succinct_key=(segments["set_explains"] / segments["set_size"].clip(lower=1)).map(_two_figures),
        surprise_key=segments["dimension_surprise"].map(_two_figures),
        share_size=segments["explained_share"].abs(),
    )
    candidates = candidates.sort_values(
        ["significant", "priority", "succinct_key", "surprise_key", "share_size"],
        ascending=[False, True, False, False, False],
    )
    others = segments[~segments["candidate"]]
    others = others.reindex(others["explained_share"].abs().sort_values(ascending=False).index)
    ranked = pd.concat([candidates, others], ignore_index=True)
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    return ranked.reindex(columns=_SEGMENT_COLUMNS)


def _mix_dominates(table: pd.DataFrame) -> bool:
    """True when a dimension's mix effect (volume moving between its segments) outweighs its rate effect: the
    change is then explained by where the volume went, whatever the segments' own rates did."""
    mix, rate = table["mix"].sum(), table["rate"].sum()
    return bool(np.isfinite(mix) and abs(mix) > abs(rate))


def _two_figures(value: float) -> float:
    """A ranking key to 2 significant figures: dimensions within ~1% of each other tie (two dimensions that
    split off the same sellers, e.g. tier `new` and tenure `<30d`, differ by noise), so the next key decides."""
    return float(f"{value:.2g}") if np.isfinite(value) else value


def _dimension_summary(
    segments: pd.DataFrame, tables: dict[str, pd.DataFrame], used: Mapping, alpha: float
) -> pd.DataFrame:
    rows = []
    for name in used:
        table = tables[name]
        delta = table.attrs["delta"]
        mix, rate = table["mix"].sum(), table["rate"].sum()
        _, rate_significant = benjamini_hochberg(table["rate_p_value"].to_numpy(), alpha)
        rate_moved = rate_significant & (table["rate"].abs() >= FLAT_RATE_SHARE * abs(delta)).to_numpy()
        chosen = segments[(segments["dimension"] == name) & segments["candidate"]]
        effect = "additive" if np.isnan(mix) else "mix" if abs(mix) > abs(rate) else "rate"
        rows.append(
            {
                "dimension": name,
                "surprise": float(table["surprise"].sum()),
                "candidates": list(chosen["value"]),
                "candidates_explain": float(chosen["ep"].sum()) if len(chosen) else np.nan,
                "mix": mix,
                "rate": rate,
                "mix_share": mix / delta if delta else np.nan,
                "effect": effect,
                "pure_mix_shift": bool(effect == "mix" and not rate_moved.any()),
            }
        )
    summary = pd.DataFrame(rows)
    return summary.sort_values("surprise", ascending=False, ignore_index=True)


def _surprise(before: pd.Series, after: pd.Series) -> np.ndarray:
    total0, total1 = before.sum(), after.sum()
    return js_surprise(before / total0 if total0 else before * 0, after / total1 if total1 else after * 0)


def _keys(key: str | tuple[str, ...]) -> list[str]:
    return [key] if isinstance(key, str) else list(key)


def _name(key: str | tuple[str, ...]) -> str:
    return PAIR_SEPARATOR.join(_keys(key))


_SEGMENT_COLUMNS = [
    "rank",
    "dimension",
    "value",
    "explained_share",
    "ep",
    "surprise",
    "effect",
    "mix",
    "rate",
    "total",
    "baseline_rate",
    "current_rate",
    "baseline_volume",
    "current_volume",
    "baseline_share",
    "current_share",
    "p_value",
    "p_adjusted",
    "significant",
    "rate_p_value",
    "share_p_value",
    "candidate",
    "dimension_surprise",
    "set_surprise",
    "set_explains",
]
