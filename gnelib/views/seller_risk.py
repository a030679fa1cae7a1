"""Seller risk report: enforcement volume, ban and repeat-offender trends, new-seller cohorts, detection-to-action
time and this week's riskiest sellers (ids only)."""

import pandas as pd

from gnelib import metrics
from gnelib.analysis.insights import Insight
from gnelib.formats import format_p_value, format_relative, format_value
from gnelib.periods import trailing_weeks, week_range
from gnelib.views.common import (
    HISTORY_WEEKS,
    TRAILING_WEEKS,
    baseline_label,
    dive_insights,
    finding,
    market_label,
    market_where,
    ranked,
    reference_weeks,
    scan_card,
    segment_baseline,
    share_change,
    trailing_change,
    weekly,
    weeks_label,
    window,
)
from gnelib.viz.blocks import Card

NEW_SELLER_BAND = "<30d"
COHORT_BASELINE_WEEKS = 8  # reference weeks for the new-seller shares, ending a month before the report week
HEALTH_METRICS = ("seller_ban_rate", "repeat_offender_rate", "detection_to_action_hours")
# Important columns first (issue 17): segment (or seller), value, change, verdict, then the context.
SUMMARY_COLUMNS = {"action": ("action", None), "reason": ("reason", None), "this_week": ("this week", "count"),
                   "change": ("change", "change_count"), "baseline": ("weekly average, previous 4 weeks", "decimal")}
COHORT_COLUMNS = {"period": ("week", None), "cancel_share": ("share of seller-fault cancellations", "percent"),
                  "enforcement_share": ("share of enforcement actions", "percent"),
                  "order_share": ("share of orders", "percent"),
                  "new_cancels": ("seller-fault cancellations by new sellers", "count"),
                  "new_actions": ("enforcement actions on new sellers", "count")}
RISKY_SELLER_COLUMNS = {"seller_id": ("seller id", "id"),
                        "seller_fault_cancels": ("seller-fault cancellations", "count"),
                        "excess_cancels": ("cancellations above the market rate", "decimal"),
                        "cancel_rate": ("seller-fault cancel rate", "percent"),
                        "enforcement": ("latest enforcement (action · reason · date)", None),
                        "orders": ("orders this week", "count"),
                        "tenure_days": ("days since joining", "count"),
                        "actions_to_date": ("actions to date", "count")}


def enforcement_summary(conn, market: str, week: str, trailing: int = TRAILING_WEEKS) -> pd.DataFrame:
    """Enforcement actions by action × reason: `this_week`, the `trailing`-week weekly average `baseline` and
    `change`, largest this week first."""
    frame = metrics.compute(conn, "enforcement_actions", weeks=window(week, trailing + 1), by=["action", "reason"],
                            where=market_where(market))
    counts = frame.pivot_table(index=["action", "reason"], columns="period", values="numerator", aggfunc="sum",
                               fill_value=0.0)
    this_week = counts[week] if week in counts else pd.Series(0.0, index=counts.index)
    previous = [column for column in trailing_weeks(week, trailing) if column in counts]
    baseline = counts[previous].sum(axis=1) / trailing
    table = pd.DataFrame({"this_week": this_week, "baseline": baseline}).reset_index()
    table["change"] = table["this_week"] - table["baseline"]
    return table.sort_values(["this_week", "baseline"], ascending=False, ignore_index=True)


def enforcement_by_reason(conn, market: str, week: str, trailing: int = TRAILING_WEEKS) -> pd.DataFrame:
    """Enforcement actions per reason, this week vs the trailing weekly average (for `segment_rate_chart`)."""
    frame = metrics.compute(conn, "enforcement_actions", weeks=window(week, trailing + 1), by=["reason"],
                            where=market_where(market))
    return segment_baseline(frame, "reason", week, "count", trailing).assign(
        denominator=lambda data: data["numerator"])


def seller_health(conn, market: str, week: str, history: int = HISTORY_WEEKS) -> dict[str, pd.DataFrame]:
    """Weekly frames of seller ban rate, repeat-offender rate and median detection-to-action hours."""
    return {name: weekly(conn, name, market, week, history) for name in HEALTH_METRICS}


def new_seller_cohorts(conn, market: str, week: str, history: int = HISTORY_WEEKS) -> pd.DataFrame:
    """Per week, how much of orders, seller-fault cancellations and enforcement comes from sellers under 30 days
    old: counts (`new_*`, totals) and shares (`order_share`, `cancel_share`, `enforcement_share`)."""
    cancels = weekly(conn, "seller_fault_cancel_rate", market, week, history, by=["seller_tenure_band"])
    actions = weekly(conn, "enforcement_actions", market, week, history, by=["seller_tenure_band"])
    weeks = cancels.groupby("period").agg(period_start=("period_start", "first"), is_mature=("is_mature", "all"))
    new = cancels[cancels["seller_tenure_band"] == NEW_SELLER_BAND].set_index("period")
    new_actions = actions[actions["seller_tenure_band"] == NEW_SELLER_BAND].set_index("period")["numerator"]
    table = weeks.assign(
        new_orders=new["denominator"], orders=cancels.groupby("period")["denominator"].sum(),
        new_cancels=new["numerator"], cancels=cancels.groupby("period")["numerator"].sum(),
        new_actions=new_actions, actions=actions.groupby("period")["numerator"].sum(),
    ).fillna({"new_orders": 0.0, "new_cancels": 0.0, "new_actions": 0.0, "actions": 0.0})
    table["order_share"] = table["new_orders"] / table["orders"]
    table["cancel_share"] = table["new_cancels"] / table["cancels"].where(table["cancels"] > 0)
    table["enforcement_share"] = table["new_actions"] / table["actions"].where(table["actions"] > 0)
    return table.reset_index()


def share_series(cohorts: pd.DataFrame, share: str) -> pd.DataFrame:
    """One share column of `new_seller_cohorts` as a trend frame (`period`, `period_start`, `value`, `is_mature`)."""
    return cohorts[["period", "period_start", "is_mature"]].assign(value=cohorts[share])


def top_risky_sellers(conn, market: str, week: str, limit: int = 15, min_cancels: int = 2) -> pd.DataFrame:
    """The week's sellers with the most seller-fault cancellations above what the market's rate predicts.

    Columns: `seller_id`, `tenure_days` (at the week's end), `orders`, `seller_fault_cancels`, `cancel_rate`,
    `excess_cancels` (cancels − orders × market rate), `enforcement` (latest action · reason · date up to the
    week's end, or `none`) and `actions_to_date`. Only sellers with at least `min_cancels` seller-fault
    cancellations.
    """
    per_seller = metrics.samples(conn, "seller_fault_cancel_rate", weeks=week, where=market_where(market))
    per_seller = per_seller.rename(columns={"unit_id": "seller_id", "denominator": "orders",
                                            "numerator": "seller_fault_cancels", "value": "cancel_rate"})
    market_rate = per_seller["seller_fault_cancels"].sum() / max(per_seller["orders"].sum(), 1.0)
    per_seller["excess_cancels"] = per_seller["seller_fault_cancels"] - per_seller["orders"] * market_rate
    top = (per_seller[per_seller["seller_fault_cancels"] >= min_cancels]
           .sort_values(["excess_cancels", "orders"], ascending=False).head(limit))
    _, end = week_range(week)
    status = _enforcement_status(conn, market, end)
    tenure = _tenure_days(conn, market, week, end)
    top = top.merge(tenure, on="seller_id", how="left").merge(status, on="seller_id", how="left")
    top["enforcement"] = top["enforcement"].fillna("none")
    top["actions_to_date"] = top["actions_to_date"].fillna(0).astype(int)
    columns = ["seller_id", "tenure_days", "orders", "seller_fault_cancels", "cancel_rate", "excess_cancels",
               "enforcement", "actions_to_date"]
    return top[columns].reset_index(drop=True)


def _enforcement_status(conn, market: str, end: pd.Timestamp) -> pd.DataFrame:
    """Per seller: the latest enforcement action before `end` as `action · reason · date`, and the action count
    (the rows behind the catalog's `enforcement_actions`)."""
    actions = metrics.records(conn, "enforcement_actions", ["seller_id", "action", "reason", "actioned_at"],
                              where=market_where(market))
    actions = actions[pd.to_datetime(actions["actioned_at"]) < end]
    if actions.empty:
        return pd.DataFrame(columns=["seller_id", "enforcement", "actions_to_date"])
    actions = actions.sort_values(["actioned_at", "action", "reason"])
    latest = actions.groupby("seller_id").tail(1).set_index("seller_id")
    label = (latest["action"] + " · " + latest["reason"] + " · "
             + pd.to_datetime(latest["actioned_at"]).dt.strftime("%Y-%m-%d"))
    return pd.DataFrame({"enforcement": label, "actions_to_date": actions.groupby("seller_id").size()}).reset_index()


def _tenure_days(conn, market: str, week: str, end: pd.Timestamp) -> pd.DataFrame:
    """Whole days from the day each seller with orders in `week` joined to `end` (the sellers of the catalog's
    `seller_fault_cancel_rate` rows)."""
    sellers = metrics.records(conn, "seller_fault_cancel_rate", ["seller_id", "seller_joined_at"], weeks=week,
                              where=market_where(market), distinct=True)
    joined = pd.to_datetime(sellers["seller_joined_at"]).dt.normalize()
    return pd.DataFrame({"seller_id": sellers["seller_id"], "tenure_days": (end.normalize() - joined).dt.days})


def key_insights(conn, market: str, week: str, limit: int = 6) -> list[Insight]:
    """The report's key findings, most important first, each with its numbers and confidence."""
    label = market_label(market)
    found = [_enforcement_volume(conn, market, week)]
    cohorts = new_seller_cohorts(conn, market, week, COHORT_BASELINE_WEEKS + TRAILING_WEEKS)
    found += [_cohort_finding(cohorts, week, share, label) for share in ("cancel_share", "enforcement_share")]
    for name in ("seller_ban_rate", "seller_fault_cancel_rate", "detection_to_action_hours"):
        found += dive_insights(conn, name, market, week)
    found.append(_risky_sellers_finding(top_risky_sellers(conn, market, week, limit=1000), label, week))
    return ranked([insight for insight in found if insight is not None], limit)


def _enforcement_volume(conn, market: str, week: str) -> Insight | None:
    frame = weekly(conn, "enforcement_actions", market, week, TRAILING_WEEKS + 1)
    change = trailing_change(frame, week, "count")
    if change is None:
        return None
    summary = enforcement_summary(conn, market, week)
    top = summary.iloc[0]
    where = f" in {market_label(market)}" if market_label(market) else ""
    verb = "up from" if change.abs_change > 0 else "down from" if change.abs_change < 0 else "the same as"
    taken = "enforcement action was" if change.current == 1 else "enforcement actions were"
    text = (f"{change.current:,.0f} {taken} taken{where} in {week}, {verb} {change.baseline:,.1f} "
            f"a week on average ({baseline_label(week)[4:]}; {format_relative(change.rel_change)}, "
            f"{format_p_value(change.p_value)}); the largest group is {top['action']} for {top['reason']} "
            f"({top['this_week']:,.0f}).")
    return finding(text, "enforcement_actions", p_value=change.p_value, market=market_label(market))


def _cohort_finding(cohorts: pd.DataFrame, week: str, share: str, market: str | None) -> Insight | None:
    part, total, noun, metric = {
        "cancel_share": ("new_cancels", "cancels", "seller-fault cancellations", "seller_fault_cancel_rate"),
        "enforcement_share": ("new_actions", "actions", "enforcement actions", "enforcement_actions"),
    }[share]
    current = cohorts[cohorts["period"] == week]
    reference = reference_weeks(week, COHORT_BASELINE_WEEKS)
    before = cohorts[cohorts["period"].isin(reference)]
    if current.empty or not current[total].iloc[0]:
        return None
    now, base = current.iloc[0], before[[part, total, "new_orders", "orders"]].sum()
    change = share_change(base[part], base[total], now[part], now[total])
    if change is None or not change.significant:  # a quiet share is noise at the top of the report
        return None
    where = f"{market} " if market else ""
    text = (f"Sellers under 30 days old placed {format_value(now['order_share'], 'percent')} of {where}orders in "
            f"{week} but account for {format_value(change.current, 'percent')} of its {noun} "
            f"({now[part]:,.0f} of {now[total]:,.0f}), against {format_value(change.baseline, 'percent')} in "
            f"{weeks_label(reference)} ({format_p_value(change.p_value)}).")
    direction = "bad" if change.abs_change > 0 else "good"
    return finding(text, metric, direction=direction, p_value=change.p_value, market=market)


def _risky_sellers_finding(top: pd.DataFrame, market: str | None, week: str, min_cancels: int = 3) -> Insight | None:
    heavy = top[top["seller_fault_cancels"] >= min_cancels]
    if heavy.empty:
        return None
    acted = heavy["enforcement"].str.startswith(("ban", "suspension")).sum()
    new = (heavy["tenure_days"] < 30).sum()
    where = f" in {market}" if market else ""
    text = (f"{len(heavy)} sellers{where} had {min_cancels} or more seller-fault cancellations in {week} "
            f"({heavy['seller_fault_cancels'].sum():,.0f} cancellations in all); {new} of them joined less than "
            f"30 days earlier and {acted} are already banned or suspended (see the table of risky sellers).")
    return finding(text, "seller_fault_cancel_rate", direction="bad" if acted < len(heavy) else "neutral",
                   severity="warn" if acted < len(heavy) else "info", market=market)



def headline_cards(conn, market: str, week: str) -> list[Card]:
    """This week's headline numbers: enforcement actions, ban rate, repeat-offender rate, detection-to-action."""
    return [scan_card(conn, name, market, week) for name in ("enforcement_actions", *HEALTH_METRICS)]
