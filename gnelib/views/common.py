"""Helpers shared by the template views: week windows, market filters, pooled baselines, plain-language findings."""

import dataclasses
import math
import re
from dataclasses import dataclass

import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from gnelib import metrics
from gnelib.analysis.deep_dive import deep_dive
from gnelib.analysis.errors import AnalysisError
from gnelib.analysis.headlines import compared_weeks
from gnelib.analysis.insights import Insight, confidence_of, judge, week_label
from gnelib.analysis.significance import Change, change_test, pool_periods, two_proportion_test
from gnelib.config import load_project
from gnelib.formats import format_change, format_p_value, format_relative, format_value
from gnelib.notebook import ALL_MARKETS
from gnelib.periods import shift_week, trailing_weeks
from gnelib.viz.blocks import Card
from gnelib.viz.tables import html_table

HISTORY_WEEKS = 13
TRAILING_WEEKS = 4
CONFIDENCE_WORDS = {"high": "high confidence", "medium": "medium confidence", "low": "not statistically significant"}
UNSCORED_KINDS = ("maturity", "no_change", "note")  # their text already says how sure it is
P_VALUE = re.compile(r"\bp [=<>] \d")


def market_where(market: str | None) -> dict | None:
    """`where=` for one value of the report grain (the config's `grain`, e.g. market), or None for `all` / None."""
    return None if market in (None, ALL_MARKETS) else {load_project().grain: market}


def market_label(market: str | None) -> str | None:
    """The market for sentences: None for all markets."""
    return None if market in (None, ALL_MARKETS) else market


def window(week: str, weeks: int) -> tuple[str, str]:
    """The inclusive `(first, last)` range of `weeks` weeks ending with `week`."""
    return shift_week(week, 1 - weeks), week


def weekly(conn, metric: str, market: str | None, week: str, history: int = HISTORY_WEEKS, by=(),
           horizon_days: int | None = None) -> pd.DataFrame:
    """The metric frame of `metric` for the `history` weeks ending with `week` in `market`."""
    return metrics.compute(conn, metric, weeks=window(week, history), by=list(by), where=market_where(market),
                           horizon_days=horizon_days)


def baseline_label(week: str, count: int = TRAILING_WEEKS) -> str:
    """`"avg W43–W46"`: the label of the trailing baseline of `week`."""
    return f"avg {weeks_label(trailing_weeks(week, count))}"


def weeks_label(weeks: list[str]) -> str:
    """`"W43–W46"` for a run of weeks (oldest first)."""
    return f"{weeks[0][5:]}–{weeks[-1][5:]}" if len(weeks) > 1 else weeks[0]


def reference_weeks(week: str, count: int = 8, gap: int = TRAILING_WEEKS - 1) -> list[str]:
    """`count` weeks ending `gap + 1` weeks before `week`: a baseline that a month-long incident does not touch
    (for 2026-W47: W36–W43)."""
    return trailing_weeks(shift_week(week, -gap), count)


def trailing_change(frame: pd.DataFrame, week: str, kind: str, count: int = TRAILING_WEEKS) -> Change | None:
    """This week's row of a one-segment metric frame against its pooled `count` previous weeks; None if missing."""
    current = frame[frame["period"] == week]
    history = frame[frame["period"].isin(trailing_weeks(week, count))]
    if current.empty or history.empty:
        return None
    return change_test(pool_periods(history, kind), current.iloc[0], kind)


def segment_baseline(frame: pd.DataFrame, dimension: str, week: str, kind: str,
                     count: int = TRAILING_WEEKS) -> pd.DataFrame:
    """Per segment of `dimension`: this week's value and the pooled `count`-week baseline (both metric-frame rows)
    as a frame with `period` = the week or the baseline label, ready for `charts.segment_rate_chart`."""
    label = baseline_label(week, count)
    history = frame[frame["period"].isin(trailing_weeks(week, count))]
    pooled = [pool_periods(rows, kind).to_frame().T.assign(**{dimension: value})
              for value, rows in history.groupby(dimension)]
    baseline = pd.concat(pooled, ignore_index=True).assign(period=label) if pooled else pd.DataFrame()
    current = frame[frame["period"] == week]
    columns = ["period", dimension, "numerator", "denominator", "value"]
    return pd.concat([baseline.reindex(columns=columns), current[columns]], ignore_index=True)


def wilson_interval(successes: float, trials: float, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval of a proportion; (nan, nan) without trials."""
    if not trials:
        return math.nan, math.nan
    low, high = proportion_confint(successes, trials, alpha=alpha, method="wilson")
    return float(low), float(high)


def share_change(part_before: float, total_before: float, part_now: float, total_now: float) -> Change | None:
    """Two-proportion test of a share (part / total) between a baseline and now; None if a total is zero."""
    if not total_before or not total_now:
        return None
    return two_proportion_test(part_before, total_before, part_now, total_now)


def finding(text: str, metric: str, *, direction: str = "neutral", p_value: float = math.nan,
            severity: str | None = None, market: str | None = None, kind: str | None = None) -> Insight:
    """A key-insight sentence built here (not by `build_insights`), ranked like the analysis layer's insights.

    `kind` defaults to `change` when there is a p-value, else `note` (a fact without a test)."""
    kind = kind or ("note" if math.isnan(p_value) else "change")
    confidence = confidence_of(p_value)
    severity = severity or ("warn" if direction == "bad" and confidence != "low" else "info")
    strength = 0.0 if math.isnan(p_value) else min(-math.log10(max(p_value, 1e-300)), 10) / 10
    rank = {"alert": 3, "warn": 2, "info": 1}[severity]
    return Insight(kind, text, metric, direction, confidence, severity, rank + strength, market)


def headline(insight: Insight) -> Insight:
    """The insight as a key-insight line without the evidence table. Confidence is shown one way on every page, as
    the p-value; a sentence without one gets its confidence in words."""
    text = insight.text
    if insight.kind not in UNSCORED_KINDS and not P_VALUE.search(text):
        text = f"{text} ({CONFIDENCE_WORDS[insight.confidence]})"
    return dataclasses.replace(insight, text=text, evidence=pd.DataFrame())


def ranked(insights: list[Insight], limit: int = 6) -> list[Insight]:
    """The `limit` most important insights as headline lines, most important first."""
    ordered = sorted(insights, key=lambda insight: insight.score, reverse=True)
    return [headline(insight) for insight in ordered[:limit]]


def is_week_mature(frame: pd.DataFrame, week: str) -> bool:
    """The `is_mature` flag of `week` in a metric frame (False when the week is missing)."""
    rows = frame[frame["period"] == week]
    return bool(rows["is_mature"].all()) if len(rows) else False


@dataclass(frozen=True)
class WeekCard(Card):
    """A headline card that knows the week its value belongs to (`W46`, `W45–W46 average`): a late-arriving
    metric's card reads an older week than the report's."""

    week: str = ""


def metric_card(frame: pd.DataFrame, week: str, metric: str, label: str | None = None,
                trailing: int = TRAILING_WEEKS) -> WeekCard:
    """A headline card for one metric: this week's value and its change against the trailing average, coloured
    good/bad only when the change is significant; `(provisional)` while the week is immature."""
    definition = metrics.get(metric)
    rows = frame[frame["period"] == week]
    value = float(rows["value"].iloc[0]) if len(rows) else math.nan
    change = trailing_change(frame, week, definition.kind, trailing)
    text, tone = "", ""
    if change is not None:
        text = f"{format_change(change.abs_change, definition.format)} vs {baseline_label(week, trailing)}"
        if change.significant:
            tone = judge(definition.direction, change.direction)
    if len(rows) and not is_week_mature(frame, week):
        text = f"{text} (provisional)".strip()
    return WeekCard(label or definition.title, format_value(value, definition.format), text,
                    tone if tone in ("good", "bad") else "", week_label(week))


def scan_card(conn, metric: str, market: str, week: str, label: str | None = None) -> WeekCard:
    """A headline card for one metric from its weekly scan row, the comparison the scorecard, deep dive, digest and
    alerts show for the same cell: the value of the week it reads, the change against its usual level with the
    weeks compared, toned by the scan's verdict when it flags the cell; `week` names the week of the value (the read
    week, or a drift window's weeks). Where the scan has no row (market `all`, a
    metric not cut by the grain) the card compares with the trailing weeks instead (`metric_card`)."""
    from gnelib.analysis.detection import TOTAL, scan

    definition = metrics.get(metric)
    rows = scan(conn, week, markets=[market], metrics=[metric]) if market != ALL_MARKETS else pd.DataFrame()
    totals = rows[rows["dimension"] == TOTAL] if len(rows) else rows
    if not len(totals):
        return metric_card(weekly(conn, metric, market, week, TRAILING_WEEKS + 1), week, metric, label)
    row = totals.iloc[0]
    text = f"{format_change(row['abs_change'], definition.format)}, {compared_weeks(row)}"
    if row["flag"]:
        text += f" ({format_p_value(row['p_adjusted'])})"
    if not row["is_mature"]:
        text += " (provisional)"
    tone = row["verdict"] if row["flag"] and row["verdict"] in ("good", "bad") else ""
    value_weeks = compared_weeks(row).split(" vs ")[0]
    return WeekCard(label or definition.title, format_value(row["current"], definition.format), text, tone,
                    value_weeks)


def table_html(frame: pd.DataFrame, columns: dict[str, tuple[str, str | None]], caption: str | None = None,
               tone: dict[str, pd.Series] | None = None, max_rows: int = 50) -> str:
    """An escaped report table (`tables.html_table`) of `columns` {column: (label, format or None)}: cells are
    written with `format_value` in the column's metric format; `tone` maps a column to good/bad per row."""
    shown = frame[list(columns)].rename(columns={column: label for column, (label, _) in columns.items()})
    formatters = {label: _formatter(fmt) for label, fmt in columns.values() if fmt}
    tones = {columns[column][0]: series for column, series in (tone or {}).items()}
    return html_table(shown, formatters=formatters, tone=tones, caption=caption, max_rows=max_rows)


def _formatter(fmt: str):
    if fmt == "id":
        return lambda value: "–" if pd.isna(value) else str(int(value))
    if fmt == "change_count":
        return lambda value: "–" if pd.isna(value) else f"{value:+,.1f}"
    if fmt == "percent_change":
        return lambda value: format_change(None if pd.isna(value) else float(value), "percent")
    if fmt == "relative":
        return lambda value: format_relative(None if pd.isna(value) else float(value))
    if fmt == "p_value":
        return lambda value: format_p_value(None if pd.isna(value) else float(value))
    if fmt == "decimal":
        return lambda value: "–" if pd.isna(value) else f"{value:,.1f}"
    return lambda value: format_value(None if pd.isna(value) else float(value), fmt)


def cards_table(cards: list[Card], caption: str = "Headline numbers") -> str:
    """Headline cards as one escaped table (metric, value, change), changes coloured good/bad. The value's header
    names the week it belongs to when every card reads the same week (`Value, W47`); else a `Week` column after
    the change names each row's week (a late-arriving metric reads an older week than the others)."""
    weeks = [getattr(card, "week", "") or "–" for card in cards]
    same = len(set(weeks)) == 1 and weeks[0] != "–"
    value = f"Value, {weeks[0]}" if same else "Value"
    frame = pd.DataFrame({"Metric": [card.label for card in cards], value: [card.value for card in cards],
                          "Change": [card.change for card in cards]})
    if not same:
        frame["Week"] = weeks
    tone = pd.Series([card.tone for card in cards], index=frame.index)
    return html_table(frame, tone={"Change": tone}, caption=caption)


def dive_insights(conn, metric: str, market: str | None, week: str, limit: int = 2, **options) -> list[Insight]:
    """The top `limit` insights of `analysis.deep_dive` (maturity notes ranked last: each report states maturity
    once); [] when the metric has no data to compare for this market and week."""
    try:
        result = deep_dive(conn, metric, market_label(market), week, **options)
    except AnalysisError:
        return []
    return [dataclasses.replace(insight, score=0.0) if insight.kind == "maturity" else insight
            for insight in result.insights[:limit]]
