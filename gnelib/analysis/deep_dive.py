"""The deep dive of one metric × market × week: the thin layer that asks `gnelib.metrics.compute` for metric
frames and runs the pure analysis functions on them (the headline comes from the weekly scan, `detection`)."""

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from gnelib.analysis.concentration import Concentration, seller_concentration
from gnelib.analysis.decomposition import decompose
from gnelib.analysis.detection import HISTORY, TOTAL, finding_change, grain_of, scan_metric
from gnelib.analysis.errors import AnalysisError
from gnelib.analysis.headlines import comparison_words, finding_size
from gnelib.analysis.insights import Insight, build_insights
from gnelib.analysis.maturity import AUTO, Reading, reading
from gnelib.analysis.root_cause import Carried, PairSearch, RootCause, carried, explain_change
from gnelib.analysis.significance import (
    Change,
    change_test,
    median_change_test,
    pool_periods,
)
from gnelib.periods import previous_week, shift_week, trailing_weeks, validate_week

MAX_PAIRS = 6


@dataclass
class DeepDiveResult:
    """Everything a deep-dive notebook shows for one metric, market and week.

    `series` is the metric's weekly series; its `flag` column marks the weeks the weekly scan flags for this
    market's total (`flagged_weeks` of the scan row, and the week itself when the row is flagged), so the trend
    chart and the headline have one judge. No scan row (all markets, an explicit horizon): nothing is flagged.
    """

    metric: object
    market: str | None
    week: str
    baseline_week: str
    series: pd.DataFrame
    change: Change
    trailing_change: Change | None
    comparison: str = "week over week"
    reading: Reading | None = None

    @property
    def horizon_days(self) -> int | None:
        """The fixed horizon every week was measured at (None: values as they are)."""
        return self.reading.horizon_days if self.reading else None
    decompositions: dict[str, pd.DataFrame] = field(default_factory=dict)
    root_cause: RootCause | None = None
    insights: list[Insight] = field(default_factory=list)
    finding: pd.Series | None = None
    concentration: Concentration | None = None
    """The market total's row of the weekly scan (`gnelib.analysis.detection`): the headline comes from it."""

    @property
    def is_mature(self) -> bool:
        """False while the week is still inside the metric's maturity window."""
        return bool(self._row(self.week).get("is_mature", True))

    def _row(self, period: str) -> pd.Series:
        return self.series[self.series["period"] == period].iloc[0]


def deep_dive(
    conn,
    metric,
    market: str | None,
    week: str,
    dimensions: Sequence[str] | None = None,
    pairs: Sequence[tuple[str, str]] | None = None,
    history_weeks: int = 26,
    trailing: int = 4,
    horizon_days: int | str | None = AUTO,
    min_volume: float = 30,
    alpha: float = 0.05,
) -> DeepDiveResult:
    """Trend, week-over-week and trailing-mean change, decomposition by each dimension, root cause
    and insights for `metric` (name or definition) in `market` (None: all markets) and ISO `week`.

    For one market the headline is the weekly scan's comparison for that market's total
    (`gnelib.analysis.detection`): the week against its own baseline, or a drift over the last weeks, with the
    family-adjusted p-value, so the deep dive, the scorecard and the digest say the same thing
    (`result.finding` holds the scan row); decomposition and root cause compare with the `trailing` weeks before
    the move began (the scan's 12 baseline weeks). Across all markets (or with an explicit horizon) the headline
    compares with the previous week, or with the trailing `trailing`-week average when only that is significant.
    `dimensions` default to the metric's dimensions except the grain (market); `pairs` default to the pairs of
    dimensions the root cause finds worth searching (`pairs_to_search`, at most `MAX_PAIRS`); for metrics
    measured per seller, `result.concentration` says when a few sellers carry the change.
    `horizon_days` compares fixed-horizon values; the default `auto` does so whenever `week` is still
    inside the metric's maturity window, so an immature week is never compared with mature ones.
    """
    from gnelib import metrics

    definition = metrics.get(metric) if isinstance(metric, str) else metric
    report_week = validate_week(week)
    from_scan = horizon_days == AUTO
    read = reading(conn, definition, report_week) if horizon_days == AUTO else Reading(report_week, report_week,
                                                                                         horizon_days)
    week, horizon_days = read.read_week, read.horizon_days
    baseline = previous_week(week)
    grain = grain_of(conn)
    where = {grain: market} if market else None
    series = metrics.compute(
        conn,
        definition,
        weeks=(shift_week(week, 1 - history_weeks), week),
        where=where,
        horizon_days=horizon_days,
    )
    _require_weeks(series, [baseline, week], definition.name, market)
    current, before = (series[series["period"] == period].iloc[0] for period in (week, baseline))
    kind = definition.kind
    if kind == "duration":
        events = metrics.samples(
            conn, definition, weeks=[baseline, week], where=where, horizon_days=horizon_days
        )
        change = median_change_test(
            *(events.loc[events["period"] == period, "value"] for period in (baseline, week)), alpha=alpha
        )
        trailing_change = None
    else:
        change = change_test(before, current, kind, alpha)
        history = series[series["period"].isin(trailing_weeks(week, trailing))]
        trailing_change = (
            change_test(pool_periods(history, kind), current, kind, alpha) if len(history) else None
        )
    comparison, base_periods = "week over week", [baseline]
    if trailing_change is not None and trailing_change.significant and not change.significant:
        comparison, base_periods = f"against the {trailing}-week average", trailing_weeks(week, trailing)
    headline = trailing_change if len(base_periods) > 1 else change
    finding = _scan_cell(conn, definition, market, report_week) if market and from_scan else None
    if finding is not None:
        headline, comparison = finding_change(finding, alpha), comparison_words(finding)
        base_periods = _finding_baseline(finding, week)
    series = series.sort_values("period", ignore_index=True)
    series["flag"] = series["period"].isin(_flagged_weeks(finding, week))
    result = DeepDiveResult(
        definition, market, week, baseline, series, headline if finding is not None else change,
        None if finding is not None else trailing_change, comparison=comparison, reading=read, finding=finding,
    )
    if kind != "duration":
        frames, result.root_cause = _explain(
            conn, definition, where, grain, base_periods, week, horizon_days, dimensions, pairs, min_volume, alpha
        )
        result.decompositions = {dimension: decompose(frame, dimension, base_periods, week, kind)
                                 for dimension, frame in frames.items() if not frame.empty}
        weeks = [*base_periods, week]
        if definition.unit == "seller" and kind in ("ratio", "count"):
            units = metrics.samples(conn, definition, weeks=weeks, where=where, horizon_days=horizon_days)
            try:
                result.concentration = seller_concentration(units, base_periods, week, kind, alpha=alpha)
            except AnalysisError:
                result.concentration = None
    result.insights = build_insights(
        definition,
        headline,
        market=market,
        week=week,
        root_cause=result.root_cause,
        is_mature=result.is_mature,
        comparison=comparison,
        reading=read,
        concentration=result.concentration,
        size=finding_size(finding, definition) if finding is not None else "",
    )
    return result


def _explain(conn, definition, where: dict | None, grain: str, base_periods: list[str], week: str,
             horizon_days: int | None, dimensions: Sequence[str] | None, pairs: Sequence[tuple[str, str]] | None,
             min_volume: float, alpha: float) -> tuple[dict[str, pd.DataFrame], RootCause | None]:
    """(frame per dimension, root cause or None) of `week` against `base_periods`: the single dimensions'
    frames, and the pairs `pairs` names (None: those the root cause finds worth searching, at most `MAX_PAIRS`)."""
    from gnelib import metrics

    chosen = _dimensions(definition, dimensions, grain)
    weeks = [*base_periods, week]

    def frame_of(key: Sequence[str]) -> pd.DataFrame:
        return metrics.compute(conn, definition, weeks=weeks, by=list(key), where=where, horizon_days=horizon_days)

    frames = {dimension: frame_of([dimension]) for dimension in chosen}
    usable = {key: frame for key, frame in frames.items() if _covers(frame, base_periods, week)}
    search = None
    if pairs is None:
        search = PairSearch(lambda pair: _if_covers(frame_of(pair), base_periods, week), max_pairs=MAX_PAIRS)
    else:
        for pair in (tuple(pair) for pair in pairs if all(part in chosen for part in pair)):
            frame = frame_of(pair)
            if _covers(frame, base_periods, week):
                usable[pair] = frame
    root = (explain_change(usable, base_periods, week, definition.kind, min_volume=min_volume, alpha=alpha,
                           pair_search=search) if usable else None)
    return frames, root


def _finding_baseline(finding: pd.Series, week: str) -> list[str]:
    """The weeks a finding's decomposition and root cause compare `week` (its read week) with: the scan's
    baseline weeks before the move began."""
    start = shift_week(week, 1 - int(max(finding["weeks_running"], finding["window_weeks"])))
    return trailing_weeks(start, HISTORY)


def finding_carried(conn, finding: pd.Series, min_volume: float = 30, alpha: float = 0.05) -> Carried:
    """What carried a market-level finding (a flagged market total of the weekly scan), as the deep dive of its
    metric × market × week says it: the same read week, horizon, baseline weeks and root cause. Medians have no
    root cause (nothing is said); a segment-level finding is its own segment (nothing more is said)."""
    from gnelib import metrics

    if finding["dimension"] != TOTAL or not finding.get("flag", True):  # saved findings are all flagged
        return Carried()
    definition = metrics.get(finding["metric"])
    if definition.kind == "duration":
        return Carried()
    read = reading(conn, definition, finding["week"])
    grain = grain_of(conn)
    try:
        _, root = _explain(conn, definition, {grain: finding["market"]}, grain,
                           _finding_baseline(finding, read.read_week), read.read_week, read.horizon_days,
                           None, None, min_volume, alpha)
    except AnalysisError:
        return Carried()
    return carried(root)


def explain_findings(conn, table: pd.DataFrame) -> pd.DataFrame:
    """`detection.findings` rows with what carried each, as its deep dive says it: `carried_by` (the segments
    named, `dimension=value`), `mix_shift` and `broad_based` (see `root_cause.Carried`)."""
    said = [finding_carried(conn, row) if row["level"] == "market" else Carried() for _, row in table.iterrows()]
    return table.assign(carried_by=[list(c.segments) for c in said], mix_shift=[c.mix_shift for c in said],
                        broad_based=[c.broad_based for c in said])


def _covers(frame: pd.DataFrame, base_periods: list[str], week: str) -> bool:
    periods = set(frame["period"])
    return week in periods and bool(set(base_periods) & periods)


def _if_covers(frame: pd.DataFrame, base_periods: list[str], week: str) -> pd.DataFrame | None:
    return frame if _covers(frame, base_periods, week) else None


def _flagged_weeks(finding: pd.Series | None, week: str) -> list[str]:
    """The weeks the scan flags for a market's total: its history's unusual weeks, and `week` (the read week) when
    the row itself is flagged."""
    if finding is None:
        return []
    return [*finding["flagged_weeks"], *([week] if finding["flag"] else [])]


def _scan_cell(conn, definition, market: str, week: str) -> pd.Series | None:
    """The scan's row for `market`'s total, or None when the scan has none (too little history). A page's copy of a
    catalog metric that differs only in its display unit (`headlines.in_page_unit`: per 1k shown in percent) is
    scanned as the catalog's definition, so it reads the scan the batch stored for it (the numbers are the same)."""
    table = scan_metric(conn, _catalogued(definition), week)
    rows = table[(table["market"] == market) & (table["dimension"] == TOTAL)]
    return rows.iloc[0] if len(rows) else None


def _catalogued(definition):
    """The catalog's definition of `definition`'s metric when the two differ at most in `format`, else itself."""
    from gnelib import metrics

    try:
        catalogued = metrics.get(definition.name)
    except Exception:  # noqa: BLE001 — a definition not in the catalog (a test's or an ad-hoc one): scan it as is
        return definition
    same = catalogued.model_copy(update={"format": definition.format}) == definition
    return catalogued if same else definition


def _require_weeks(series: pd.DataFrame, weeks: list[str], metric: str, market: str | None) -> None:
    missing = [week for week in weeks if week not in set(series["period"])]
    if missing:
        scope = f" in market {market}" if market else ""
        raise AnalysisError(
            f"Metric {metric!r} has no data{scope} for {', '.join(missing)}; pick a week inside "
            f"the warehouse's range (see `gne warehouse info`) or another market."
        )


def _dimensions(definition, dimensions: Sequence[str] | None, grain: str) -> list[str]:
    allowed = [dimension for dimension in definition.dimensions if dimension != grain]
    if dimensions is None:
        return allowed
    unknown = [dimension for dimension in dimensions if dimension not in definition.dimensions]
    if unknown:
        raise AnalysisError(
            f"Metric {definition.name!r} cannot be split by {unknown[0]!r}; choose from {', '.join(allowed)}."
        )
    return list(dimensions)
