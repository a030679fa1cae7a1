"""Why did the metric change? Rank explanatory segments across dimensions (Adtributor with mix/rate labels).

Sources: Bhagwan et al., "Adtributor: Revenue Debugging in Advertising Systems", NSDI 2014 (explanatory power,
Jensen–Shannon surprise in log2, the derived-measure EP for ratios, normalised); the greedy candidate search
as in riskloc's `algorithms/adtributor.py` (MIT, 2024) with the paper's thresholds T_EEP = 0.1, T_EP = 0.67 as
defaults; Shapley mix/rate split from `gnelib.analysis.decomposition` (DOMAIN.md §2.1 b/c).
"""

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from gnelib.analysis.decomposition import decompose_additive, decompose_ratio
from gnelib.analysis.errors import AnalysisError
from gnelib.analysis.significance import (
    STAT_COLUMNS,
    benjamini_hochberg,
    change_p_values,
    change_test,
    ratio_variances,
    two_proportion_p_values,
)

PAIR_SEPARATOR = " × "
PAIR_SHARE = 0.9
"""A succinct pair cell outranks the single-dimension candidates only when it explains at least this share of
what the best of them explains (a cell of two unrelated dimensions that carries 43 % of a carrier's 93 % is a
shadow of the carrier, not the cause)."""
FLAT_RATE_SHARE = 0.1  # a segment's rate counts as flat unless it moves significantly AND by ≥ 10% of ΔR


@dataclass(frozen=True)
class RootCause:
    """`segments`: one row per explanatory segment, best first; `dimensions`: one row per dimension (set);
    `broad_based`: the change is spread in proportion across every dimension, so no segment is named."""

    segments: pd.DataFrame
    dimensions: pd.DataFrame
    baseline_value: float
    current_value: float
    broad_based: bool = False

    @property
    def delta(self) -> float:
        """The change being explained."""
        return self.current_value - self.baseline_value

    def top(self, n: int = 5) -> pd.DataFrame:
        """The `n` best explanations: ranked candidate segments, then the largest other contributors."""
        return self.segments.head(n)

    def mix_shift_dimension(self) -> str | None:
        """The dimension whose share movements explain the change while each segment's rate stayed flat, among
        those with explanatory segments to name (a shift among segments too small to keep names nothing)."""
        shifts = self.dimensions[self.dimensions["pure_mix_shift"]
                                 & self.dimensions["dimension"].isin(self.segments["dimension"])]
        return (
            None
            if shifts.empty
            else str(shifts.sort_values("surprise", ascending=False)["dimension"].iloc[0])
        )


@dataclass(frozen=True)
class Carried:
    """What carried a significant change, as its sentence says it — the one statement the deep dive, the
    scorecard and the digest make about a finding: the named segments (`dimension=value`, best first), which for
    a mix shift is the segment volume moved to; or `broad_based` (no segment is named). Empty: nothing is said."""

    segments: tuple[str, ...] = ()
    mix_shift: bool = False
    broad_based: bool = False


def drivers(root_cause: RootCause | None, limit: int = 3) -> pd.DataFrame:
    """The segments a sentence names as drivers: the significant candidates of the best dimension, best first."""
    if root_cause is None or root_cause.segments.empty:
        return pd.DataFrame()
    segments = root_cause.segments
    found = segments[segments["candidate"] & segments["significant"]]
    if found.empty:
        return found
    return found[found["dimension"] == found["dimension"].iloc[0]].head(limit)


def shift_gainer(root_cause: RootCause, dimension: str) -> pd.Series:
    """The segment of `dimension` whose share of volume grew most (where a mix shift moved volume to)."""
    rows = root_cause.segments[root_cause.segments["dimension"] == dimension]
    return rows.loc[(rows["current_share"] - rows["baseline_share"]).idxmax()]


def carried(root_cause: RootCause | None, limit: int = 3) -> Carried:
    """What the sentence of a significant change says carried it (`insights.build_insights` makes the same
    choices): a mix shift (the segment volume moved to), else broad-based, else the named drivers."""
    if root_cause is None:
        return Carried()
    shift = root_cause.mix_shift_dimension()
    if shift:
        return Carried((f"{shift}={shift_gainer(root_cause, shift)['value']}",), mix_shift=True)
    if root_cause.broad_based:
        return Carried(broad_based=True)
    named = drivers(root_cause, limit)
    return Carried(tuple(f"{d}={v}" for d, v in zip(named.get("dimension", []), named.get("value", []),
                                                     strict=True)))


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


@dataclass(frozen=True)
class ProportionalFit:
    """How well "every segment moved by the same factor" fits a dimension (see `proportional_fit`)."""

    common_factor: float
    chi2: float
    df: int
    p_value: float
    best_single_chi2: float
    potential: float

    @property
    def proportional_beats_single(self) -> bool:
        """The common factor fits better than any one segment changing alone (both have one free parameter)."""
        return bool(self.chi2 < self.best_single_chi2)


def proportional_fit(observed: np.ndarray, expected: np.ndarray, variance: np.ndarray) -> ProportionalFit:
    """Heterogeneity of per-segment ratios observed/expected around one common factor θ = Σobserved/Σexpected.

    `observed` v_i: this period's events (count, sum) of each segment; `expected` f_i: the events had nothing
    changed (baseline rate × current volume; counts: the baseline level); `variance`: Var(v_i − f_i). Returns
    χ² = Σ(v_i − θf_i)²/Var_i on m − 1 degrees of freedom and its p-value (Cochran's Q-style heterogeneity
    test), the χ² of the best "one segment changed, the others did not" model, min_j Σ_{i≠j}(v_i − f_i)²/Var_i,
    and HotSpot's potential score 1 − ‖v − θf‖₂/‖v − f‖₂ (Sun et al., IEEE Access 2018: 1 when the ripple of
    one common factor explains every segment's deviation). Rows with a non-finite or non-positive variance
    or a negative expectation are left out; a segment expected at 0 that has events counts fully.
    """
    v, f, var = (np.asarray(values, dtype=float) for values in (observed, expected, variance))
    keep = np.isfinite(v) & np.isfinite(f) & np.isfinite(var) & (var > 0) & (f >= 0)
    v, f, var = v[keep], f[keep], var[keep]
    nan = float("nan")
    if len(v) < 2 or f.sum() <= 0:
        return ProportionalFit(nan, nan, max(len(v) - 1, 0), nan, nan, nan)
    theta = v.sum() / f.sum()
    chi2 = float(((v - theta * f) ** 2 / var).sum())
    unchanged = (v - f) ** 2 / var
    best_single = float(unchanged.sum() - unchanged.max())
    spread = np.linalg.norm(v - f)
    potential = float(1 - np.linalg.norm(v - theta * f) / spread) if spread > 0 else nan
    df = len(v) - 1
    return ProportionalFit(float(theta), chi2, df, float(stats.chi2.sf(chi2, df)), best_single, potential)


HETEROGENEITY_ALPHA = 0.01
"""Level of the heterogeneity test (BH-adjusted across dimensions) below which a dimension localises the
change. Stricter than the usual 0.05: a real concentrated cause gives p-values far below it, while at 0.05
about one in ten proportional changes had some dimension look uneven by chance and named no cause at all
("not broad-based", with an explanatory set of five noisy segments)."""


def is_broad_based(fit: ProportionalFit, effect: str, alpha: float = HETEROGENEITY_ALPHA) -> bool:
    """A dimension's change is broad-based when its segments' rates (counts: levels) all moved by about the
    same factor: the heterogeneity test does not reject at `alpha` AND the common factor explains the
    segments better than any single segment changing alone; never for a change carried by mix (volume moving
    between segments, `effect` `mix`)."""
    if effect == "mix" or not np.isfinite(fit.p_value):
        return False
    return bool(fit.p_value >= alpha and fit.proportional_beats_single)


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


@dataclass(frozen=True)
class PairSearch:
    """How `explain_change` searches combinations of dimensions itself (see `pairs_to_search`): `frame(combo)`
    computes the frame of one combination (None: it cannot be had, e.g. it misses a period)."""

    frame: Callable[[tuple[str, ...]], pd.DataFrame | None]
    depth: int = 2
    max_pairs: int = 10
    max_cells: int = 400


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
    pair_search: PairSearch | None = None,
) -> RootCause:
    """Rank the segments that explain a metric's change between periods, across several dimensions.

    `frames` maps a dimension (or a tuple: a pair such as ("carrier", "category")) to a metric frame computed
    with `by=` that dimension over the baseline and current periods. Which pairs are worth computing:
    `pairs_to_search`; with `pair_search`, this function asks for those pairs' frames itself, reusing the tables
    it built for the single dimensions. Pairs are reported when no single dimension explains the change with at
    most `max_set_size` elements, or when a pair cell is a candidate that passes the ripple test against both
    its parents (`succinct`: the rest of channel live and the rest of category beauty moved like everything
    else, so live × beauty, not live or beauty, is the cause); such a cell ranks first.

    Broad-based changes: per dimension, `proportional_fit` tests whether every segment moved by one common
    factor (heterogeneity χ², BH-adjusted across the single dimensions, at `HETEROGENEITY_ALPHA`) and whether
    that common factor fits better than any one segment changing alone (`is_broad_based`). The segments of a
    broad-based dimension are not named as candidates, and when every single dimension is broad-based and the
    whole change is significant, `RootCause.broad_based` is True and no segment anywhere is named. `dimensions`
    carries `broad_based`, `common_factor`, `heterogeneity_p` (unadjusted) and `potential` (HotSpot's ripple score).

    Segments below `min_volume` (denominator for ratios, count for counts) in both periods are not ranked.
    P-values are BH-adjusted within each dimension (a hierarchical family: dimension, then its elements).
    Significant candidate segments rank before the others, then by their dimension's total surprise (the
    "which dimension" signal; a set's own summed surprise favours large noisy sets of rare events; compared at
    2 significant figures), then by the size of their Shapley share of ΔR (Adtributor's EP is the change if
    only the element moved, which in a mix shift favours the segment that lost share over the one that gained
    it), so small noisy segments cannot crowd out a real cause. Labels: `effect_labels`. Per segment:
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
    tables = _tables(frames, periods, current_period, kind, alpha, min_volume)
    if pair_search is not None:
        for combo in _worth_searching(tables, pair_search.depth, pair_search.max_pairs, pair_search.max_cells,
                                      min_volume):
            frame = pair_search.frame(combo)
            if frame is not None:
                tables.update(_tables({combo: frame}, periods, current_period, kind, alpha, min_volume))
    fits = {name: _fit(table, min_volume) for name, table in tables.items()}
    singles = [name for name in tables if PAIR_SEPARATOR not in name]
    pairs = [name for name in tables if PAIR_SEPARATOR in name]
    broad = _broad_dimensions(tables, fits)
    first = tables[singles[0] if singles else next(iter(tables))]
    broad_based = bool(
        singles and all(broad[name] for name in singles) and first.attrs["overall_p_value"] < alpha
    )
    summaries = {
        name: _candidates(table, min_volume, teep, tep, named=not (broad_based or broad[name] and name in singles))
        for name, table in tables.items()
    }
    set_sizes = {name: int(summary["candidate"].sum()) for name, summary in summaries.items()}
    concise_single = any(0 < set_sizes[name] <= max_set_size for name in singles)
    best_single = max((summaries[name].loc[summaries[name]["candidate"], "explained_share"].abs().max()
                       for name in singles if set_sizes[name]), default=0.0)
    for name in pairs:
        summary = summaries[name]
        explains_as_much = summary["explained_share"].abs() >= PAIR_SHARE * best_single
        summary["succinct"] = summary["succinct"] & explains_as_much
        summary["priority"] = np.where(summary["candidate"] & summary["succinct"], 0, 1)
    succinct_pair = {
        name for name in pairs if (summaries[name]["candidate"] & summaries[name]["succinct"]).any()
    }
    used = singles + pairs if succinct_pair or not concise_single else singles
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
    summary = _dimension_summary(segments, tables, used, alpha)
    summary["broad_based"] = summary["dimension"].map(broad).astype(bool)
    for field in ("common_factor", "heterogeneity_p", "potential"):
        summary[field] = summary["dimension"].map(
            {name: getattr(fit, _FIT_FIELDS[field]) for name, fit in fits.items()}
        )
    return RootCause(
        segments, summary, first.attrs["baseline_value"], first.attrs["current_value"], broad_based
    )


_FIT_FIELDS = {"common_factor": "common_factor", "heterogeneity_p": "p_value", "potential": "potential"}


def pairs_to_search(
    frames: Mapping[str, pd.DataFrame],
    baseline_periods: str | Sequence[str],
    current_period: str,
    kind: str = "ratio",
    depth: int = 2,
    max_pairs: int = 10,
    max_cells: int = 400,
    min_volume: float = 30,
    alpha: float = 0.05,
) -> list[tuple[str, ...]]:
    """Which combinations of dimensions (pairs; with `depth` 3 also triples) are worth computing for
    `explain_change`, best first, from the single-dimension `frames` it would get anyway.

    Pruning in the spirit of HotSpot's layer-by-layer search and Adtributor's "which dimension": a dimension
    is *active* when its change is not broad-based (`is_broad_based`: its segments did not all move by one
    common factor, or volume moved between them). Only combinations with at least one active parent are
    searched — a cause in one cell of channel × category makes both channel and category non-proportional —
    those whose parents are all active first, then by the parents' heterogeneity evidence (−log10 p), then
    their surprise. Combinations with more than `max_cells` cells (product of the parents' segment counts)
    are skipped, and at most `max_pairs` are returned. Nothing is returned when the whole change is
    broad-based (no dimension localises it). `depth` 1 returns nothing.
    """
    if kind not in ("ratio", "count", "sum") or depth < 2:
        return []
    periods = [baseline_periods] if isinstance(baseline_periods, str) else list(baseline_periods)
    singles = {name: frame for name, frame in frames.items() if isinstance(name, str)}
    if len(singles) < 2:
        return []
    tables = _tables(singles, periods, current_period, kind, alpha, min_volume)
    return _worth_searching(tables, depth, max_pairs, max_cells, min_volume)


def _worth_searching(
    tables: Mapping[str, pd.DataFrame], depth: int, max_pairs: int, max_cells: int, min_volume: float
) -> list[tuple[str, ...]]:
    """`pairs_to_search` on the single-dimension tables among `tables`."""
    tables = {name: table for name, table in tables.items() if PAIR_SEPARATOR not in name}
    if depth < 2 or len(tables) < 2:
        return []
    evidence, active, cells = {}, {}, {}
    fits = {name: _fit(table, min_volume) for name, table in tables.items()}
    broad = _broad_dimensions(tables, fits)
    for name, table in tables.items():
        fit = fits[name]
        active[name] = not broad[name] and fit.df >= 1
        p_value = fit.p_value if np.isfinite(fit.p_value) else 1.0
        evidence[name] = (-np.log10(max(p_value, 1e-300)), float(table["surprise"].sum()))
        cells[name] = len(table)
    if not any(active.values()):
        return []
    combos = []
    for size in range(2, depth + 1):
        for combo in itertools.combinations(tables, size):
            n_active = sum(active[name] for name in combo)
            if n_active == 0 or np.prod([cells[name] for name in combo]) > max_cells:
                continue
            score = tuple(sum(evidence[name][i] for name in combo) for i in range(2))
            combos.append((n_active < len(combo), size, -score[0], -score[1], combo))
    return [combo for *_, combo in sorted(combos)][:max_pairs]


def _tables(
    frames: Mapping, periods: list[str], current_period: str, kind: str, alpha: float, min_volume: float
) -> dict[str, pd.DataFrame]:
    return {
        _name(key): _dimension_table(frame, _keys(key), periods, current_period, kind, alpha, min_volume)
        for key, frame in frames.items()
    }


def _fit(table: pd.DataFrame, min_volume: float) -> ProportionalFit:
    """`proportional_fit` over a dimension table's segments with at least `min_volume` in either period (a
    segment that appears or grows from almost nothing is often the cause itself)."""
    big = np.maximum(table["baseline_volume"], table["current_volume"]) >= min_volume
    rows = table[big]
    return proportional_fit(rows["events_now"], rows["events_expected"], rows["events_variance"])


def _broad_dimensions(
    tables: Mapping[str, pd.DataFrame], fits: Mapping, alpha: float = HETEROGENEITY_ALPHA
) -> dict[str, bool]:
    """`is_broad_based` per table, the heterogeneity p-values BH-adjusted across the single dimensions (a
    family: "does any dimension localise the change?"; pairs are adjusted among themselves)."""
    broad = {}
    for family in (
        [name for name in tables if PAIR_SEPARATOR not in name],
        [name for name in tables if PAIR_SEPARATOR in name],
    ):
        adjusted, _ = benjamini_hochberg([fits[name].p_value for name in family], alpha)
        for name, p_value in zip(family, adjusted, strict=True):
            fit = replace(fits[name], p_value=float(p_value))
            broad[name] = is_broad_based(fit, _dimension_effect(tables[name]), alpha)
    return broad


def _dimension_effect(table: pd.DataFrame) -> str:
    mix, rate = table["mix"].sum(), table["rate"].sum()
    return "additive" if np.isnan(mix) else "mix" if abs(mix) > abs(rate) else "rate"


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
    frame: pd.DataFrame,
    keys: list[str],
    periods: list[str],
    current_period: str,
    kind: str,
    alpha: float,
    min_volume: float = 30,
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
    table = table.join(_event_model(before, after, len(periods), kind))
    table["succinct"] = _succinct_cells(table, keys, min_volume) if len(keys) > 1 else False
    table = (
        _segment_tests(table, kind, len(periods))
        .reset_index()
        .rename(columns={"share_of_change": "explained_share"})
    )
    table.insert(0, "dimension", PAIR_SEPARATOR.join(keys))
    table.insert(1, "value", table[keys].astype(str).agg(PAIR_SEPARATOR.join, axis=1))
    table = table.drop(columns=keys)
    table.attrs = dict(decomposed.attrs)
    table.attrs["overall_p_value"] = _overall_p_value(before, after, len(periods), kind, alpha)
    return table


def _segment_tests(table: pd.DataFrame, kind: str, n_periods: int) -> pd.DataFrame:
    """Adds `rate_p_value`, `share_p_value` and `p_value` (the test matching the segment's effect label)."""
    pooled = table.filter(like="pooled_").rename(columns=lambda column: column.removeprefix("pooled_"))
    current = table.filter(like="stat_").rename(columns=lambda column: column.removeprefix("stat_"))
    if kind != "ratio":
        scale = {"numerator": n_periods, "units": n_periods, "sum_x2": n_periods**2}
        pooled = pooled.assign(
            **{column: pooled[column] / factor for column, factor in scale.items() if column in pooled}
        )
    table["rate_p_value"] = change_p_values(pooled, current, kind)
    table["share_p_value"] = (
        two_proportion_p_values(pooled["denominator"], pooled["denominator"].sum(),
                                current["denominator"], current["denominator"].sum())
        if kind == "ratio" else np.nan
    )
    table["p_value"] = np.where(table["effect"] == "mix", table["share_p_value"], table["rate_p_value"])
    return table.drop(
        columns=[*pooled.columns.map("pooled_{}".format), *current.columns.map("stat_{}".format)]
    )


def _candidates(
    table: pd.DataFrame, min_volume: float, teep: float, tep: float, named: bool = True
) -> pd.DataFrame:
    """Adtributor's explanatory set of one dimension; none when its segments are not to be `named` (the
    change is broad-based there)."""
    table = table.copy()
    table["eligible"] = np.maximum(table["baseline_volume"], table["current_volume"]) >= min_volume
    chosen = adtributor_candidates(table[table["eligible"]], teep, tep) if named else []
    table["candidate"] = table.index.isin(chosen)
    table["succinct"] = table["succinct"].astype(bool) & table["candidate"]  # only a candidate can outrank
    table["dimension_surprise"] = table["surprise"].sum()
    table["set_surprise"] = table.loc[chosen, "surprise"].sum() if chosen else np.nan
    table["set_explains"] = table.loc[chosen, "ep"].sum() if chosen else np.nan
    table["set_size"] = len(chosen)
    table["priority"] = 1
    return table


def _rank(segments: pd.DataFrame) -> pd.DataFrame:
    candidates = segments[segments["candidate"].astype(bool)]
    candidates = candidates.assign(  # keys from `candidates` itself: an empty frame would adopt another index
        succinct_key=(candidates["set_explains"] / candidates["set_size"].clip(lower=1)).map(_two_figures),
        surprise_key=candidates["dimension_surprise"].map(_two_figures),
        share_size=candidates["explained_share"].abs(),
    )
    candidates = candidates.sort_values(
        ["significant", "priority", "succinct_key", "surprise_key", "share_size"],
        ascending=[False, True, False, False, False],
    )
    others = segments[~segments["candidate"].astype(bool)]
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
        effect = _dimension_effect(table)
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
    "succinct",
    "dimension_surprise",
    "set_surprise",
    "set_explains",
]


def _event_model(before: pd.DataFrame, after: pd.DataFrame, n_periods: int, kind: str) -> pd.DataFrame:
    """Per segment: `events_now` (numerator this period), `events_expected` (had nothing changed: baseline rate ×
    current denominator; counts and sums: the baseline per-period level) and `events_variance`, Var of their
    difference (delta method / Σx² clustered by unit for both periods; Poisson where the unit statistics
    are missing)."""
    stats0 = {column: _column(before, column) for column in STAT_COLUMNS}
    stats1 = {column: _column(after, column) for column in STAT_COLUMNS}
    x0, x1 = stats0["numerator"], stats1["numerator"]
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "ratio":
            n0, n1 = stats0["denominator"], stats1["denominator"]
            overall = np.nansum(x0) / np.nansum(n0) if np.nansum(n0) > 0 else np.nan
            r0 = np.where(n0 > 0, x0 / n0, overall)  # a new segment is expected at the overall baseline rate
            expected = n1 * r0
            var1 = n1**2 * ratio_variances(stats1)
            var0 = n1**2 * ratio_variances(stats0)
            var1 = np.where(np.isfinite(var1), var1, np.maximum(x1, expected))
            var0 = np.where(np.isfinite(var0), var0, np.where(n0 > 0, n1**2 * r0 / n0, 0.0))
        else:
            expected = x0 / n_periods
            var1 = np.where(np.isfinite(stats1["sum_x2"]), stats1["sum_x2"], x1)
            var0 = np.where(np.isfinite(stats0["sum_x2"]), stats0["sum_x2"], x0) / n_periods**2
    return pd.DataFrame(
        {"events_now": x1, "events_expected": expected, "events_variance": var1 + var0}, index=after.index
    )


def _column(frame: pd.DataFrame, column: str) -> np.ndarray:
    return frame[column].to_numpy(dtype=float) if column in frame else np.full(len(frame), np.nan)


def _succinct_cells(table: pd.DataFrame, keys: list[str], min_volume: float) -> np.ndarray:
    """For a pair (or deeper) table: True where the cell, not any of its parents, is the better explanation.

    The ripple test (HotSpot's ripple effect, as a likelihood comparison): for each parent P (the cells that
    share all keys but one with cell C), compare "only C changed; the rest of P moved like everything outside
    P" with "all of P moved by one common factor" by their χ² over {C, rest of P}; C is succinct when it fits
    better against every parent and every parent's rest has at least `min_volume` of volume (otherwise C
    is its parent).
    """
    frame = table.reset_index()
    v, f, var = (frame[c].to_numpy(dtype=float) for c in ("events_now", "events_expected", "events_variance"))
    volume = np.maximum(frame["baseline_volume"], frame["current_volume"]).to_numpy(dtype=float)
    usable = np.isfinite(v) & np.isfinite(f) & np.isfinite(var) & (var > 0) & (f > 0)
    v, f, var = np.where(usable, v, 0.0), np.where(usable, f, 0.0), np.where(usable, var, 0.0)
    result = np.ones(len(frame), dtype=bool) & usable
    for dropped in keys:
        parent = [key for key in keys if key != dropped]
        group = frame.groupby(parent, observed=True, sort=False).ngroup().to_numpy()
        group_v, group_f, group_var, group_volume = (
            np.bincount(group, weights=values) for values in (v, f, var, volume)
        )
        rest_v, rest_f, rest_var = group_v[group] - v, group_f[group] - f, group_var[group] - var
        outside_f = f.sum() - group_f[group]
        with np.errstate(divide="ignore", invalid="ignore"):
            background = np.where(outside_f > 0, (v.sum() - group_v[group]) / outside_f, 1.0)
            common = group_v[group] / group_f[group]
            only_cell = (rest_v - background * rest_f) ** 2 / rest_var
            whole_parent = (v - common * f) ** 2 / var + (rest_v - common * rest_f) ** 2 / rest_var
        enough = (group_volume[group] - volume >= min_volume) & (rest_var > 0) & (rest_f > 0)
        result &= enough & (only_cell < whole_parent)
    return result


def _overall_p_value(before: pd.DataFrame, after: pd.DataFrame, n_periods: int, kind: str, alpha: float) -> float:
    """The whole change's p-value (the test `change_test` picks), from the summed segment statistics."""
    total0, total1 = before.sum(), after.sum()
    if kind != "ratio":
        for column, factor in (("numerator", n_periods), ("units", n_periods), ("sum_x2", n_periods**2)):
            if column in total0:
                total0[column] = total0[column] / factor
    try:
        return float(change_test(total0, total1, kind, alpha).p_value)
    except (AnalysisError, KeyError):
        return float("nan")
