"""Listing compliance report: violation rate by policy and category, proactive detection share, appeal overturn
rate by detection source, and violating prevalence from the audit sample (with a Wilson interval)."""

import dataclasses

import pandas as pd

from gnelib import metrics
from gnelib.analysis.insights import Insight
from gnelib.analysis.significance import change_test, pool_periods
from gnelib.formats import format_change, format_p_value, format_value
from gnelib.periods import trailing_weeks
from gnelib.views.common import (
    HISTORY_WEEKS,
    TRAILING_WEEKS,
    dive_insights,
    finding,
    market_label,
    market_where,
    ranked,
    reference_weeks,
    scan_card,
    segment_baseline,
    weekly,
    weeks_label,
    wilson_interval,
    window,
)
from gnelib.viz.blocks import Card

REFERENCE_WEEKS = 8
# Important columns first (issue 17): segment, value, change, p-value, then the context (baselines, counts).
POLICY_COLUMNS = {"policy_violated": ("policy", None), "rate": ("share of reviews removed", "percent"),
                  "removals": ("removals this week", "count"),
                  "baseline_rate": ("share, previous 4 weeks", "percent"),
                  "baseline_removals": ("weekly average, previous 4 weeks", "decimal")}
OVERTURN_COLUMNS = {"detection_source": ("detection source", None), "rate": ("overturn rate, this week", "percent"),
                    "change": ("change", "percent_change"), "p_value": ("p-value", "p_value"),
                    "baseline_rate": ("overturn rate, reference weeks", "percent"),
                    "decided": ("appeals decided, this week", "count"),
                    "baseline_decided": ("appeals decided, reference weeks", "count")}
PREVALENCE_COLUMNS = {"period": ("week", None), "value": ("prevalence", "percent"),
                      "ci_low": ("95% CI low", "percent"), "ci_high": ("95% CI high", "percent"),
                      "violating": ("found violating", "count"), "audited": ("listings audited", "count")}


def headline_cards(conn, market: str, week: str) -> list[Card]:
    """This week's violation rate, proactive share, prevalence, appeal overturn rate and removals."""
    names = ("listing_violation_rate", "proactive_detection_share", "violating_prevalence", "appeal_overturn_rate",
             "listings_removed")
    return [scan_card(conn, name, market, week) for name in names]


def trends(conn, market: str, week: str, history: int = HISTORY_WEEKS) -> dict[str, pd.DataFrame]:
    """Weekly frames of the violation rate and the proactive detection share."""
    return {name: weekly(conn, name, market, week, history)
            for name in ("listing_violation_rate", "proactive_detection_share")}


def violations_by_policy(conn, market: str, week: str, trailing: int = TRAILING_WEEKS) -> pd.DataFrame:
    """Removals per policy this week and per average trailing week, and as a share of all reviews opened
    (`rate` = removals for the policy / reviews; the policies' rates add up to the listing violation rate)."""
    weeks = window(week, trailing + 1)
    removals = metrics.compute(conn, "listings_removed", weeks=weeks, by=["policy_violated"],
                               where=market_where(market))
    reviews = metrics.compute(conn, "listing_violation_rate", weeks=weeks, where=market_where(market))
    reviews = reviews.set_index("period")["denominator"]
    previous = trailing_weeks(week, trailing)
    current = removals[removals["period"] == week].set_index("policy_violated")["numerator"]
    before = removals[removals["period"].isin(previous)].groupby("policy_violated")["numerator"].sum()
    table = pd.DataFrame({"removals": current, "baseline_removals": before / trailing}).fillna(0.0)
    table["rate"] = table["removals"] / reviews.get(week, float("nan"))
    table["baseline_rate"] = table["baseline_removals"] * trailing / reviews.reindex(previous).sum()
    table.index.name = "policy_violated"
    return table.reset_index().sort_values("removals", ascending=False, ignore_index=True)


def policy_segments(table: pd.DataFrame, week: str, trailing: int = TRAILING_WEEKS) -> pd.DataFrame:
    """`violations_by_policy` reshaped for `charts.segment_rate_chart` (share of reviews, this week vs before)."""
    label = f"avg {weeks_label(trailing_weeks(week, trailing))}"
    before = table.assign(period=label, value=table["baseline_rate"], denominator=table["baseline_removals"])
    now = table.assign(period=week, value=table["rate"], denominator=table["removals"])
    return pd.concat([before, now], ignore_index=True)[["period", "policy_violated", "denominator", "value"]]


def violation_rate_by_category(conn, market: str, week: str, trailing: int = TRAILING_WEEKS) -> pd.DataFrame:
    """Listing violation rate per category, this week vs the pooled trailing weeks (for `segment_rate_chart`)."""
    frame = metrics.compute(conn, "listing_violation_rate", weeks=window(week, trailing + 1), by=["category"],
                            where=market_where(market))
    return segment_baseline(frame, "category", week, "ratio", trailing)


def overturn_by_source(conn, market: str, week: str, reference: int = REFERENCE_WEEKS) -> pd.DataFrame:
    """Appeal overturn rate per detection source: this week against `reference` mature weeks ending a month
    earlier, with the change's p-value and whether this week's appeals are all decided (`is_mature`)."""
    weeks = reference_weeks(week, reference)
    frame = metrics.compute(conn, "appeal_overturn_rate", weeks=[*weeks, week], by=["detection_source"],
                            where=market_where(market))
    rows = []
    for source, group in frame.groupby("detection_source"):
        current, before = group[group["period"] == week], group[group["period"].isin(weeks)]
        if current.empty or before.empty or not current["denominator"].iloc[0]:
            continue
        pooled = pool_periods(before, "ratio")
        change = change_test(pooled, current.iloc[0], "ratio")
        rows.append({"detection_source": source, "baseline_overturned": pooled["numerator"],
                     "baseline_decided": pooled["denominator"], "baseline_rate": change.baseline,
                     "overturned": current["numerator"].iloc[0], "decided": current["denominator"].iloc[0],
                     "rate": change.current, "change": change.abs_change, "p_value": change.p_value,
                     "significant": change.significant, "is_mature": bool(current["is_mature"].iloc[0])})
    columns = ["detection_source", "baseline_overturned", "baseline_decided", "baseline_rate", "overturned",
               "decided", "rate", "change", "p_value", "significant", "is_mature"]
    return pd.DataFrame(rows, columns=columns)


def overturn_segments(table: pd.DataFrame, week: str, reference: int = REFERENCE_WEEKS) -> pd.DataFrame:
    """`overturn_by_source` reshaped for `charts.segment_rate_chart`."""
    label = weeks_label(reference_weeks(week, reference))
    before = table.assign(period=label, value=table["baseline_rate"], denominator=table["decided"])
    now = table.assign(period=week, value=table["rate"], denominator=table["decided"])
    return pd.concat([before, now], ignore_index=True)[["period", "detection_source", "denominator", "value"]]


def prevalence(conn, market: str, week: str, history: int = HISTORY_WEEKS) -> pd.DataFrame:
    """Violating prevalence per week from the audit sample: `audited`, `violating`, `value` and its 95% Wilson
    interval (`ci_low`, `ci_high`), newest week last."""
    frame = weekly(conn, "violating_prevalence", market, week, history)
    bounds = [wilson_interval(row.numerator, row.denominator) for row in frame.itertuples()]
    return frame.assign(audited=frame["denominator"], violating=frame["numerator"],
                        ci_low=[low for low, _ in bounds], ci_high=[high for _, high in bounds])


def key_insights(conn, market: str, week: str, limit: int = 6) -> list[Insight]:
    """The report's key findings, most important first, each with its numbers and confidence."""
    label = market_label(market)
    found = [_prevalence_finding(prevalence(conn, market, week, TRAILING_WEEKS), week, label)]
    found += _overturn_findings(overturn_by_source(conn, market, week), week, label)
    for name in ("listing_violation_rate", "proactive_detection_share"):
        found += dive_insights(conn, name, market, week)
    return ranked([insight for insight in found if insight is not None], limit)


def _prevalence_finding(frame: pd.DataFrame, week: str, market: str | None) -> Insight | None:
    audited, violating = frame["audited"].sum(), frame["violating"].sum()
    if not audited:
        return None
    low, high = wilson_interval(violating, audited)
    where = f" in {market}" if market else ""
    weeks = weeks_label(frame["period"].tolist())
    text = (f"An estimated {format_value(violating / audited, 'percent')} of live listings{where} violate policy "
            f"(95% CI {format_value(low, 'percent')}–{format_value(high, 'percent')}): {violating:,.0f} of "
            f"{audited:,.0f} randomly audited listings in {weeks} were removed.")
    return finding(text, "violating_prevalence", market=market)


def _overturn_findings(table: pd.DataFrame, week: str, market: str | None) -> list[Insight]:
    found = []
    where = f" in {market}" if market else ""
    for row in table.itertuples():
        if not row.significant and row.detection_source != "proactive_model":
            continue
        source = row.detection_source.replace("_", " ")
        verb = "rose" if row.change > 0 else "fell"
        reference = weeks_label(reference_weeks(week, REFERENCE_WEEKS))
        moved = (f"{verb} to {format_value(row.rate, 'percent')} in {week} from "
                 f"{format_value(row.baseline_rate, 'percent')} in {reference} "
                 f"({format_change(row.change, 'percent')}, {format_p_value(row.p_value)})") if row.significant else \
            (f"was {format_value(row.rate, 'percent')} in {week}, in line with "
             f"{format_value(row.baseline_rate, 'percent')} before ({format_p_value(row.p_value)})")
        tail = "; more appeals are still being decided, so this is provisional" if not row.is_mature else ""
        text = (f"Appeals against {source} removals{where}: the overturn rate {moved}, {row.overturned:,.0f} of "
                f"{row.decided:,.0f} decided appeals{tail}.")
        if row.significant and row.change > 0:
            text += " Many wrongful removals suggest the detection is over-removing."
        insight = finding(text, "appeal_overturn_rate", p_value=row.p_value, market=market,
                          direction=("bad" if row.change > 0 else "good") if row.significant else "neutral")
        found.append(insight if row.significant else dataclasses.replace(insight, kind="no_change"))
    return found
