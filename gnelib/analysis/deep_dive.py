"""The deep dive of one metric × market × week, and the scan of every metric × market: the thin layer that
asks
`gnelib.metrics.compute` for metric frames and runs the pure analysis functions on them."""

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from gnelib.analysis.anomaly import weekly_anomalies
from gnelib.analysis.decomposition import decompose
from gnelib.analysis.errors import AnalysisError
from gnelib.analysis.insights import Insight, build_insights, judge
from gnelib.analysis.maturity import AUTO, Reading, reading
from gnelib.analysis.root_cause import RootCause, explain_change
from gnelib.analysis.significance import (
    Change,
    benjamini_hochberg,
    change_test,
    median_change_test,
    pool_periods,
)
from gnelib.periods import previous_week, shift_week, trailing_weeks, validate_week

DEFAULT_PAIRS = (("carrier", "category"),)


@dataclass
class DeepDiveResult:
    """Everything a deep-dive notebook shows for one metric, market and week."""

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

    @property
    def is_mature(self) -> bool:
        """False while the week is still inside the metric's maturity window."""
        return bool(self._row(self.week).get("is_mature", True))

    @property
    def anomaly(self) -> pd.Series:
        """The week's row of the anomaly-scored series (`robust_z`, `score`, `flag`, …)."""
        return self._row(self.week)

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
    """Trend + anomaly, week-over-week and trailing-mean change, decomposition by each dimension, root cause
    and insights for `metric` (name or definition) in `market` (None: all markets) and ISO `week`.

    The headline compares with the previous week; when that is not significant but the change against the
    trailing `trailing`-week average is (a sustained incident), decomposition, root cause and insights use the
    trailing weeks as the baseline instead (`result.comparison` says which).
    `dimensions` default to the metric's dimensions except market; `pairs` default to carrier × category where
    both exist. `horizon_days` compares fixed-horizon values; the default `auto` does so whenever `week` is still
    inside the metric's maturity window, so an immature week is never compared with mature ones.
    """
    from gnelib import metrics

    definition = metrics.get(metric) if isinstance(metric, str) else metric
    report_week = validate_week(week)
    read = reading(conn, definition, report_week) if horizon_days == AUTO else Reading(report_week, report_week,
                                                                                         horizon_days)
    week, horizon_days = read.read_week, read.horizon_days
    baseline = previous_week(week)
    where = {"market": market} if market else None
    series = metrics.compute(
        conn,
        definition,
        weeks=(shift_week(week, 1 - history_weeks), week),
        where=where,
        horizon_days=horizon_days,
    )
    _require_weeks(series, [baseline, week], definition.name, market)
    series = weekly_anomalies(series, definition.kind)
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
    result = DeepDiveResult(
        definition, market, week, baseline, series, change, trailing_change, comparison=comparison,
        reading=read,
    )
    if kind != "duration":
        chosen = _dimensions(definition, dimensions)
        weeks = [*base_periods, week]
        frames = {
            dimension: metrics.compute(
                conn, definition, weeks=weeks, by=[dimension], where=where, horizon_days=horizon_days
            )
            for dimension in chosen
        }
        result.decompositions = {
            dimension: decompose(frame, dimension, base_periods, week, kind)
            for dimension, frame in frames.items()
            if not frame.empty
        }
        for pair in _pairs(chosen, pairs):
            frames[pair] = metrics.compute(
                conn, definition, weeks=weeks, by=list(pair), where=where, horizon_days=horizon_days
            )
        usable = {
            key: frame
            for key, frame in frames.items()
            if week in set(frame["period"]) and set(base_periods) & set(frame["period"])
        }
        if usable:
            result.root_cause = explain_change(
                usable, base_periods, week, kind, min_volume=min_volume, alpha=alpha
            )
    result.insights = build_insights(
        definition,
        headline,
        market=market,
        week=week,
        root_cause=result.root_cause,
        anomaly=result.anomaly,
        is_mature=result.is_mature,
        comparison=comparison,
        reading=read,
    )
    return result


MATERIAL_SCORE = 2.0
"""A scan cell is material when its calibrated robust z against the trailing median is at least this large:
the move stands out from the series' own week-to-week swing (which, on large volumes, is mostly real drift
that a sampling-error test calls significant). 2 rather than the anomaly threshold 3 because the
significance test already guards against noise; on quiet simulated series |score| ≥ 2 holds in ~5% of weeks."""

MIN_EVENTS = 10
"""A scan cell needs at least this many events (observed this week, or expected at the trailing rate) to be
material: below ~10 events a count's normal approximation is poor (Poisson skew 1/√λ > 0.3) and a rate at 0
has zero estimated variance, so "2 of 20 → 0 of 22" looked like p < 0.001."""


def scan(
    conn,
    week: str,
    markets: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    window: int = 13,
    alpha: float = 0.05,
    trailing: int = 4,
) -> pd.DataFrame:
    """Headline change and anomaly for every metric × market in `week`, one `compute` per metric.

    Returns one row per metric × market, flagged rows first: the week-over-week change (baseline, current,
    CI, `p_value`), the change against the pooled trailing `trailing` weeks (`trailing_baseline`,
    `trailing_p_value`), the anomaly `score` and `anomaly` flag, `verdict` (good/bad/neutral), `is_mature`,
    `horizon_days`, and:

    - `p_cell`: min(1, 2·min(week-over-week p, trailing p)) — Bonferroni over the two looks, so a sustained
      incident is still caught in its later weeks, when the previous week is already affected;
    - `p_adjusted`, `significant`: BH-FDR at `alpha` within each metric's family of markets (a hierarchical
      family: one question per metric owner), not over the whole scan — pooling ~230 heterogeneous tests
      let the many null metrics drown a real change (the small warehouse's counterfeit wave);
    - `events`: the larger of this week's event count and the count expected at the trailing rate (durations:
      this week's events);
    - `material`: |score| ≥ `MATERIAL_SCORE` and `events` ≥ `MIN_EVENTS`;
    - `comparable`: False for a fall in a still-maturing ratio without a fixed-horizon variant: its late
      events (late deliveries, decided appeals…) have not all arrived, so it reads low and a fall is no
      evidence (a rise still is);
    - `flag` = significant and material and comparable.
    """
    from gnelib import metrics as metric_layer

    week = validate_week(week)
    catalog = metric_layer.load_catalog()
    names = (
        list(metrics)
        if metrics is not None
        else [name for name in catalog.names() if "market" in catalog.get(name).dimensions]
    )
    where = {"market": list(markets)} if markets else None
    tables = []
    for name in names:
        definition = catalog.get(name)
        read = reading(conn, definition, week)
        read_week, horizon = read.read_week, read.horizon_days
        frame = metric_layer.compute(
            conn, definition, weeks=(shift_week(read_week, -window), read_week), by=["market"], where=where,
            horizon_days=horizon,
        )
        events = None
        if definition.kind == "duration":
            events = metric_layer.samples(
                conn, definition, weeks=[previous_week(read_week), read_week], by=["market"], where=where,
                horizon_days=horizon,
            )
        rows = [
            _scan_row(definition, market, series, events, read_week, previous_week(read_week), window, trailing,
                      alpha)
            for market, series in frame.groupby("market", sort=True)
        ]
        table = pd.DataFrame(rows)
        if table.empty:
            continue
        table["horizon_days"] = horizon
        table["read_week"] = read_week
        table["week"] = week
        tables.append(_judge_family(table, definition, alpha))
    if not tables:
        return pd.DataFrame()
    table = pd.concat(tables, ignore_index=True)
    return table.sort_values(["flag", "p_adjusted"], ascending=[False, True], ignore_index=True)


def _judge_family(table: pd.DataFrame, definition, alpha: float) -> pd.DataFrame:
    """One metric's markets: cell p-value, BH within the family, materiality, comparability, flag."""
    looks = table[["p_value", "trailing_p_value"]].min(axis=1, skipna=True)
    table["p_cell"] = (2 * looks).clip(upper=1.0).where(table["trailing_p_value"].notna(), table["p_value"])
    table["p_adjusted"], table["significant"] = benjamini_hochberg(table["p_cell"].to_numpy(), alpha)
    table["material"] = table["score"].abs().ge(MATERIAL_SCORE) & table["events"].ge(MIN_EVENTS)
    has_horizon = table["horizon_days"].notna()
    maturing_fall = (definition.kind == "ratio") & ~table["is_mature"] & ~has_horizon & (table["score"] < 0)
    table["comparable"] = ~maturing_fall
    table["flag"] = table["significant"] & table["material"] & table["comparable"]
    return table


def _scan_row(
    definition,
    market: str,
    series: pd.DataFrame,
    events: pd.DataFrame | None,
    week: str,
    baseline: str,
    window: int,
    trailing: int,
    alpha: float,
) -> dict:
    scored = weekly_anomalies(series, definition.kind, window=window)
    row = {"metric": definition.name, "market": market, "week": week}
    current = scored[scored["period"] == week]
    before = scored[scored["period"] == baseline]
    history = scored[scored["period"].isin(trailing_weeks(week, trailing))]
    nan = float("nan")
    change = trailing_change = None
    if len(current) and len(before):
        try:
            if events is not None:
                mine = events[events["market"] == market]
                change = median_change_test(
                    *(mine.loc[mine["period"] == p, "value"] for p in (baseline, week)), alpha=alpha
                )
            else:
                change = change_test(before.iloc[0], current.iloc[0], definition.kind, alpha)
        except AnalysisError:
            change = None
    if events is None and len(current) and len(history):
        try:
            trailing_change = change_test(
                pool_periods(history, definition.kind), current.iloc[0], definition.kind, alpha
            )
        except AnalysisError:
            trailing_change = None
    values = (
        change.to_dict()
        if change
        else dict.fromkeys(
            ["baseline", "current", "abs_change", "rel_change", "ci_low", "ci_high", "p_value"], nan
        )
    )
    values.pop("alpha", None)
    values.pop("significant", None)
    row.update(values)
    row["trailing_baseline"] = trailing_change.baseline if trailing_change else nan
    row["trailing_p_value"] = trailing_change.p_value if trailing_change else nan
    last = current.iloc[0] if len(current) else pd.Series(dtype=object)
    row["verdict"] = judge(definition.direction, change.direction) if change else "neutral"
    row["score"] = float(last.get("score", nan))
    row["anomaly"] = bool(last.get("flag", False))
    row["is_mature"] = bool(last.get("is_mature", False))
    row["units"] = float(last.get("units", nan))
    row["events"] = _events(definition.kind, last, trailing_change, events, market, week)
    return row


def _events(kind: str, current: pd.Series, trailing_change: Change | None, events, market, week) -> float:
    """This week's event count, or the count expected at the trailing rate when that is larger."""
    if events is not None:
        return float(((events["market"] == market) & (events["period"] == week)).sum())
    if current.empty:
        return float("nan")
    observed = float(current["numerator"])
    if trailing_change is None:
        return observed
    expected = trailing_change.baseline * (float(current["denominator"]) if kind == "ratio" else 1.0)
    return max(observed, expected)


def _require_weeks(series: pd.DataFrame, weeks: list[str], metric: str, market: str | None) -> None:
    missing = [week for week in weeks if week not in set(series["period"])]
    if missing:
        scope = f" in market {market}" if market else ""
        raise AnalysisError(
            f"Metric {metric!r} has no data{scope} for {', '.join(missing)}; pick a week inside "
            f"the warehouse's range (see `gne warehouse info`) or another market."
        )


def _dimensions(definition, dimensions: Sequence[str] | None) -> list[str]:
    allowed = [dimension for dimension in definition.dimensions if dimension != "market"]
    if dimensions is None:
        return allowed
    unknown = [dimension for dimension in dimensions if dimension not in definition.dimensions]
    if unknown:
        raise AnalysisError(
            f"Metric {definition.name!r} cannot be split by {unknown[0]!r}; choose from {', '.join(allowed)}."
        )
    return list(dimensions)


def _pairs(dimensions: list[str], pairs: Sequence[tuple[str, str]] | None) -> list[tuple[str, str]]:
    wanted = DEFAULT_PAIRS if pairs is None else pairs
    return [tuple(pair) for pair in wanted if all(part in dimensions for part in pair)]
