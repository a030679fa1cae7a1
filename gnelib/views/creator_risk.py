"""Creator risk report: defects on the orders creators drive, creator content violations, GMV from creators with
active strikes, appeal overturns, time to act on reported creators, and this week's riskiest creators (ids only)."""

import pandas as pd

from gnelib import metrics
from gnelib.analysis.insights import Insight
from gnelib.formats import format_value
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
    weekly,
    window,
)
from gnelib.viz.blocks import Card

HEALTH_METRICS = (
    "creator_order_defect_rate",
    "creator_violation_rate",
    "struck_creator_gmv_share",
    "creator_appeal_overturn_rate",
    "hours_to_act_on_reported_creator",
)
RISKY_CREATOR_COLUMNS = {  # important columns first (issue 17): creator, value, excess, verdict, then context
    "creator_id": ("creator id", "id"),
    "defects": ("defective orders", "count"),
    "excess_defects": ("defects above the market rate", "decimal"),
    "defect_rate": ("defect rate", "percent"),
    "enforcement": ("latest enforcement (action · policy · date)", None),
    "orders": ("orders this week", "count"),
    "removals": ("content removals this week", "count"),
    "creator_tier": ("tier", None),
    "creator_follower_band": ("followers", None),
}


def headline_cards(conn, market: str, week: str) -> list[Card]:
    """This week's headline numbers, one card per creator health metric."""
    return [scan_card(conn, name, market, week) for name in HEALTH_METRICS]


def creator_health(conn, market: str, week: str, history: int = HISTORY_WEEKS) -> dict[str, pd.DataFrame]:
    """Weekly frames of every creator health metric."""
    return {name: weekly(conn, name, market, week, history) for name in HEALTH_METRICS}


def by_tier(conn, metric: str, market: str, week: str, trailing: int = TRAILING_WEEKS) -> pd.DataFrame:
    """`metric` per creator tier, this week vs the pooled trailing weeks (for `charts.segment_rate_chart`)."""
    frame = metrics.compute(
        conn, metric, weeks=window(week, trailing + 1), by=["creator_tier"], where=market_where(market)
    )
    return segment_baseline(frame, "creator_tier", week, metrics.get(metric).kind, trailing)


def top_risky_creators(conn, market: str, week: str, limit: int = 15, min_defects: int = 2) -> pd.DataFrame:
    """The week's creators whose driven orders had the most defects above what the market's rate predicts.

    Columns: `creator_id`, `creator_tier`, `creator_follower_band`, `orders`, `defects`, `defect_rate`,
    `excess_defects` (defects − orders × market rate), `removals` (their content removed this week) and
    `enforcement` (latest action · policy · date up to the week's end, or `none`). Only creators with at least
    `min_defects` defective orders.
    """
    where = market_where(market)
    per_creator = metrics.samples(conn, "creator_order_defect_rate", weeks=week, where=where)
    per_creator = per_creator.rename(
        columns={"unit_id": "creator_id", "denominator": "orders", "numerator": "defects", "value": "defect_rate"}
    )
    market_rate = per_creator["defects"].sum() / max(per_creator["orders"].sum(), 1.0)
    per_creator["excess_defects"] = per_creator["defects"] - per_creator["orders"] * market_rate
    top = (
        per_creator[per_creator["defects"] >= min_defects]
        .sort_values(["excess_defects", "orders"], ascending=False)
        .head(limit)
    )
    profile = metrics.records(
        conn,
        "creator_order_defect_rate",
        ["creator_id", "creator_tier", "creator_follower_band"],
        weeks=week,
        where=where,
        distinct=True,
    )
    removals = metrics.samples(conn, "creator_violation_rate", weeks=week, where=where)
    removals = removals.rename(columns={"unit_id": "creator_id", "numerator": "removals"})[["creator_id", "removals"]]
    top = (
        top.merge(profile, on="creator_id", how="left")
        .merge(removals, on="creator_id", how="left")
        .merge(_enforcement_status(conn, market, week_range(week)[1]), on="creator_id", how="left")
    )
    top["removals"] = top["removals"].fillna(0.0)
    top["enforcement"] = top["enforcement"].fillna("none")
    return top[list(RISKY_CREATOR_COLUMNS)].reset_index(drop=True)


def _enforcement_status(conn, market: str, end: pd.Timestamp) -> pd.DataFrame:
    """Per creator: the latest enforcement action before `end` as `action · policy · date` (the rows behind the
    catalog's `hours_to_act_on_reported_creator`)."""
    actions = metrics.records(
        conn,
        "hours_to_act_on_reported_creator",
        ["creator_id", "creator_action", "creator_policy", "actioned_at"],
        where=market_where(market),
    )
    actions = actions[pd.to_datetime(actions["actioned_at"]) < end]
    if actions.empty:
        return pd.DataFrame(columns=["creator_id", "enforcement"])
    latest = actions.sort_values(["actioned_at", "creator_action"]).groupby("creator_id").tail(1)
    label = (
        latest["creator_action"]
        + " · "
        + latest["creator_policy"]
        + " · "
        + pd.to_datetime(latest["actioned_at"]).dt.strftime("%Y-%m-%d")
    )
    return pd.DataFrame({"creator_id": latest["creator_id"], "enforcement": label})


def key_insights(conn, market: str, week: str, limit: int = 6) -> list[Insight]:
    """The report's key findings, most important first, each with its numbers and confidence."""
    found = []
    for name in (
        "creator_order_defect_rate",
        "creator_violation_rate",
        "struck_creator_gmv_share",
        "hours_to_act_on_reported_creator",
    ):
        found += dive_insights(conn, name, market, week)
    found.append(
        _risky_creators_finding(top_risky_creators(conn, market, week, limit=1000), market_label(market), week)
    )
    return ranked([insight for insight in found if insight is not None], limit)


def _risky_creators_finding(top: pd.DataFrame, market: str | None, week: str, min_defects: int = 3) -> Insight | None:
    heavy = top[top["defects"] >= min_defects]
    if heavy.empty:
        return None
    struck = heavy["enforcement"].str.startswith("strike").sum()
    where = f" in {market}" if market else ""
    tiers = heavy["creator_tier"].value_counts()
    text = (
        f"{len(heavy)} creators{where} drove {min_defects} or more defective orders in {week} "
        f"({heavy['defects'].sum():,.0f} defective orders of {heavy['orders'].sum():,.0f}, "
        f"{format_value(heavy['defects'].sum() / heavy['orders'].sum(), 'percent')}); most are "
        f"{tiers.index[0]} creators ({tiers.iloc[0]}), and the latest enforcement on {struck} of them is a "
        "strike (see the table of risky creators)."
    )
    return finding(
        text,
        "creator_order_defect_rate",
        direction="bad" if struck < len(heavy) else "neutral",
        severity="warn" if struck < len(heavy) else "info",
        market=market,
    )
