"""After-sales ("make it right") report: refund rate, return/refund mix, reasons, disputes and time to refund,
by category and channel, read like with like while recent weeks are still receiving claims.

Order-based after-sales metrics take up to 30 days to mature. The report reads them as
`gnelib.analysis.maturity.reading` says: the latest week old enough to have received claims, compared with earlier
weeks at the same fixed horizon, so that young and old weeks count the same window of events.
"""

import math
from dataclasses import dataclass

import pandas as pd

from gnelib import metrics
from gnelib.analysis.insights import Insight
from gnelib.analysis.maturity import describe as describe_reading
from gnelib.analysis.maturity import reading
from gnelib.formats import format_p_value, format_value
from gnelib.periods import week_range
from gnelib.views.common import (
    HISTORY_WEEKS,
    TRAILING_WEEKS,
    dive_insights,
    finding,
    market_label,
    market_where,
    ranked,
    scan_card,
    segment_baseline,
    share_change,
    weekly,
    window,
)
from gnelib.viz.blocks import Card

ORDER_METRICS = ("refund_rate", "counterfeit_claim_rate", "not_as_described_rate")
REQUEST_METRICS = ("dispute_escalation_rate", "dispute_seller_win_rate", "median_hours_to_refund")
# Important columns first (issue 17): segment, value, change, then the context (baseline, counts).
MIX_COLUMNS = {"type": ("request type", None), "reason": ("reason", None), "requests": ("requests this week", "count"),
               "share": ("share of requests", "percent"), "share_change": ("change in share", "percent_change"),
               "baseline_share": ("share, previous 4 weeks", "percent"),
               "approval_rate": ("approved", "percent"), "refunded_usd": ("refunded (USD)", "currency")}
REQUEST_COLUMNS = {"requested_at": "requested_at", "after_sales_type": "type", "after_sales_reason": "reason",
                   "after_sales_status": "status", "refund_amount_usd": "refunded_usd"}  # order_facts → request_mix
SEGMENT_COLUMNS = {"segment": ("segment", None), "current": ("read week", "percent"),
                   "change": ("change", "percent_change"), "baseline": ("before", "percent"),
                   "orders": ("orders, read week", "count")}


@dataclass(frozen=True)
class ReadPlan:
    """Which week the order-based metrics are read for, at which fixed horizon, and why (in plain words)."""

    report_week: str
    read_week: str
    horizon_days: int | None
    note: str


def read_plan(conn, week: str) -> ReadPlan:
    """The week and horizon for order-based after-sales metrics in a report for `week` (see
    `gnelib.analysis.maturity.reading`), with the sentence that explains it to the reader."""
    refund = metrics.get("refund_rate")
    read = reading(conn, refund, week)
    return ReadPlan(week, read.read_week, read.horizon_days, describe_reading(refund, read))


def headline_cards(conn, market: str, plan: ReadPlan) -> list[Card]:
    """The after-sales rates as the weekly scan reads them for the report week (each at its own read week and
    horizon), with the weeks each compares."""
    return [scan_card(conn, name, market, plan.report_week) for name in (*ORDER_METRICS, *REQUEST_METRICS)]


def refund_trends(conn, market: str, plan: ReadPlan, history: int = HISTORY_WEEKS) -> dict[str, pd.DataFrame]:
    """Refund rate per order week as counted today (`as_of_today`, immature weeks flagged) and at the plan's
    fixed horizon (`fixed_horizon`; the same frame when the week is mature)."""
    today = weekly(conn, "refund_rate", market, plan.report_week, history)
    fixed = weekly(conn, "refund_rate", market, plan.read_week, history, horizon_days=plan.horizon_days) \
        if plan.horizon_days else today
    return {"as_of_today": today, "fixed_horizon": fixed}


def refund_by(conn, market: str, plan: ReadPlan, dimension: str, trailing: int = TRAILING_WEEKS) -> pd.DataFrame:
    """Refund rate per segment of `dimension` (category, channel, …) in the read week vs the pooled trailing
    weeks, at the plan's horizon (for `segment_rate_chart`)."""
    frame = metrics.compute(conn, "refund_rate", weeks=window(plan.read_week, trailing + 1), by=[dimension],
                            where=market_where(market), horizon_days=plan.horizon_days)
    return segment_baseline(frame, dimension, plan.read_week, "ratio", trailing)


def segment_table(segments: pd.DataFrame, dimension: str, week: str) -> pd.DataFrame:
    """`refund_by` as one row per segment: `baseline`, `current`, their `change`, `orders` (read week), largest
    first."""
    current = segments[segments["period"] == week].set_index(dimension)
    before = segments[segments["period"] != week].set_index(dimension)
    table = pd.DataFrame({"baseline": before["value"], "current": current["value"],
                          "orders": current["denominator"]})
    table["change"] = table["current"] - table["baseline"]
    table.index.name = "segment"
    return table.reset_index().sort_values("orders", ascending=False, na_position="last", ignore_index=True)


def request_mix(conn, market: str, week: str, trailing: int = TRAILING_WEEKS) -> pd.DataFrame:
    """After-sales requests made in `week` by type × reason: `requests`, `share` of all requests, the same share
    over the `trailing` previous weeks (`baseline_requests` in all of them), `share_change`, `approval_rate` (of all
    requests, decided or not) and `refunded_usd`: the rows behind the catalog's `dispute_escalation_rate` (one per
    request)."""
    rows = metrics.records(conn, "dispute_escalation_rate", list(REQUEST_COLUMNS), weeks=window(week, trailing + 1),
                           where=market_where(market)).rename(columns=REQUEST_COLUMNS)
    rows["approved"] = (rows["status"] == "approved").astype(int)
    rows["requests"] = 1
    is_current = pd.to_datetime(rows["requested_at"]) >= week_range(week)[0]
    current = rows[is_current].groupby(["type", "reason"])[["requests", "approved", "refunded_usd"]].sum()
    before = rows[~is_current].groupby(["type", "reason"])["requests"].sum()
    table = current.reindex(current.index.union(before.index), fill_value=0)
    table["share"] = table["requests"] / max(table["requests"].sum(), 1)
    table["baseline_requests"] = before.reindex(table.index, fill_value=0)
    table["baseline_share"] = table["baseline_requests"] / max(before.sum(), 1)
    table["share_change"] = table["share"] - table["baseline_share"]
    table["approval_rate"] = table["approved"] / table["requests"].where(table["requests"] > 0)
    return table.reset_index().sort_values("requests", ascending=False, ignore_index=True)


def request_trends(conn, market: str, week: str, history: int = HISTORY_WEEKS) -> dict[str, pd.DataFrame]:
    """Weekly frames (by request week) of dispute escalation, seller win rate and median hours to refund."""
    return {name: weekly(conn, name, market, week, history) for name in REQUEST_METRICS}


def key_insights(conn, market: str, week: str, limit: int = 6) -> list[Insight]:
    """The report's key findings, most important first, each with its numbers and confidence: the weekly scan's
    comparison for each metric, so they read as in the scorecard (the read plan's maturity note is shown
    separately, above them)."""
    label = market_label(market)
    found = []
    for name in (*ORDER_METRICS, "dispute_escalation_rate", "median_hours_to_refund"):
        found += dive_insights(conn, name, market, week)  # the deep dive's own root cause: one "carried by"
    mix = _mix_finding(request_mix(conn, market, week), week, label)
    return ranked(_one_per_metric(found) + ([mix] if mix else []), limit)


def _one_per_metric(insights: list[Insight]) -> list[Insight]:
    """Keep the strongest insight per metric (the deep dives overlap: counterfeit claims are also NAD claims)."""
    best: dict[str, Insight] = {}
    for insight in insights:
        if insight.metric not in best or insight.score > best[insight.metric].score:
            best[insight.metric] = insight
    return list(best.values())


def _mix_finding(mix: pd.DataFrame, week: str, market: str | None) -> Insight | None:
    """The reason whose share of requests moved most, if it moved by at least 3 points, with a two-proportion test."""
    by_reason = mix.groupby("reason")[["requests", "baseline_requests", "share", "baseline_share"]].sum()
    if by_reason.empty or not by_reason["requests"].sum():
        return None
    shift = by_reason["share"] - by_reason["baseline_share"]
    reason = shift.abs().idxmax()
    if math.isnan(shift[reason]) or abs(shift[reason]) < 0.03:
        return None
    row = by_reason.loc[reason]
    change = share_change(row["baseline_requests"], by_reason["baseline_requests"].sum(), row["requests"],
                          by_reason["requests"].sum())
    if change is None:
        return None
    where = f" in {market}" if market else ""
    text = (f"{reason.replace('_', ' ').capitalize()} requests made up {format_value(row['share'], 'percent')} of "
            f"after-sales requests{where} in {week} ({row['requests']:,.0f}), against "
            f"{format_value(row['baseline_share'], 'percent')} over the previous {TRAILING_WEEKS} weeks "
            f"({format_p_value(change.p_value)}).")
    direction = "neutral" if not change.significant else "bad" if change.abs_change > 0 else "good"
    return finding(text, "refund_rate", direction=direction, p_value=change.p_value, market=market)


