"""How well do `scan` and `deep_dive` find the demo warehouse's planted incidents? Recall, segment rank, the
mix label and the false-alarm rate on quiet cells (docs/warehouse.md, *Planted incidents*)."""

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from gnelib.analysis.deep_dive import deep_dive
from gnelib.analysis.detection import TOTAL, findings, scan
from gnelib.periods import week_of, weeks_between
from gnelib.warehouse.calendar import MEGA_SALE_DAYS

AFTER_SALES = (
    "counterfeit_claim_rate",
    "not_as_described_rate",
    "refund_rate",
    "refund_gmv_share",
    "order_defect_rate",
    "dispute_escalation_rate",
    "dispute_seller_win_rate",
    "median_hours_to_refund",
)
ENFORCEMENT = (
    "seller_ban_rate",
    "repeat_offender_rate",
    "bad_actor_gmv_share",
    "detection_to_action_hours",
    "enforcement_overturn_rate",
    "enforcement_actions",
)
ORDER_METRICS = (
    *AFTER_SALES,
    "damaged_claim_rate",
    "negative_review_rate",
    "late_dispatch_rate",
    "late_delivery_rate",
    "valid_tracking_rate",
    "seller_fault_cancel_rate",
    "orders",
    "gmv_usd",
)
CONTACTS = ("cs_contacts_per_order", "where_is_my_order_contacts_per_order", "item_problem_contacts_per_order",
            "refund_status_contacts_per_order", "post_contact_csat")
RELATED_METRICS = {
    "counterfeit_wave": (*AFTER_SALES, *CONTACTS, "creator_order_defect_rate"),
    "logistics_delay": ("late_delivery_rate", "order_defect_rate", "negative_review_rate", *CONTACTS),
    "fraud_ring": (*ENFORCEMENT, "seller_fault_cancel_rate", "order_defect_rate", "orders", "gmv_usd", *CONTACTS,
                   "creator_order_defect_rate", "enforcement_false_positive_rate", "seller_appeal_resolution_hours",
                   "seller_support_contacts"),
    "moderation_regression": ("appeal_overturn_rate", "listing_appeal_rate"),
    "mix_shift": (*ORDER_METRICS, "creator_order_defect_rate", "struck_creator_gmv_share"),
    "creator_ring": (*AFTER_SALES, "struck_creator_gmv_share", "creator_appeal_overturn_rate",
                     "hours_to_act_on_reported_creator"),
}
"""Metrics an incident moves besides its manifest's (same market and weeks): a counterfeit wave also moves
refunds, defects and disputes; a fraud ring enforcement and volume; a channel mix shift every order metric
whose rate differs by channel; a creator ring's counterfeit claims the market's after-sales metrics and its
removals the creators' strikes and enforcement. Buyers contact customer service about late deliveries, claims and
cancellations, and sellers about enforcement, so those incidents also move the contact metrics. Cells these touch
are neither recall targets nor quiet."""
SALE_METRICS = ("orders", "gmv_usd")
"""Volumes that jump in the weeks of the generator's documented mega-sale days (docs/warehouse.md): real moves,
neither recall targets nor quiet."""


@dataclass
class Evaluation:
    """`scan`: every metric × market × week, with `incident` (the planted one it carries, if any) and `quiet`;
    `cells`: one row per incident × metric × week with the scan flag and the deep dive's verdict;
    `incidents`: one summary row per incident."""

    scan: pd.DataFrame
    cells: pd.DataFrame
    incidents: pd.DataFrame

    @property
    def false_alarm_rate(self) -> float:
        """Share of quiet cells the scan flags."""
        quiet = self.scan[self.scan["quiet"]]
        return float(quiet["flag"].mean()) if len(quiet) else float("nan")


def evaluate(conn, first_week: str, last_week: str, metrics: Sequence[str] | None = None) -> Evaluation:
    """Scan every week from `first_week` to `last_week`, deep-dive every planted incident cell, and score both
    against the warehouse's `incidents` manifest."""
    manifest = conn.sql("SELECT * FROM incidents ORDER BY incident_id")
    weeks = weeks_between(first_week, last_week)
    table = pd.concat([market_summary(scan(conn, week, metrics=metrics)) for week in weeks], ignore_index=True)
    table["incident"], table["quiet"] = None, True
    sale_weeks = {week_of(pd.Timestamp(day)) for day in MEGA_SALE_DAYS}
    table.loc[table["metric"].isin(SALE_METRICS) & table["week"].isin(sale_weeks), "quiet"] = False
    rows = []
    for _, incident in manifest.iterrows():
        active = set(weeks_between(incident["start_week"], incident["end_week"])) & set(weeks)
        planted = incident["metrics"].split(",")
        in_scope = (table["market"] == incident["market"]) & table["week"].isin(active)
        table.loc[
            in_scope & table["metric"].isin([*planted, *RELATED_METRICS.get(incident["name"], ())]), "quiet"
        ] = False
        table.loc[in_scope & table["metric"].isin(planted), "incident"] = incident["name"]
        for metric in planted:
            if metrics is not None and metric not in metrics:
                continue
            for week in sorted(active):
                rows.append(_judge_cell(conn, table, incident, metric, week))
    cells = pd.DataFrame(rows)
    return Evaluation(table, cells, _summarise(manifest, cells))


def market_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per metric × market × week of a `scan`: its total's numbers, and `flag`, `verdict`, `p_adjusted`
    and `segments` of the market's finding (a flagged total or segment cell) where there is one."""
    totals = table[table["dimension"] == TOTAL].drop(columns=["flag", "verdict", "p_adjusted"])
    found = findings(table)[["metric", "market", "week", "flag", "verdict", "p_adjusted", "segments", "level"]]
    summary = totals.merge(found, on=["metric", "market", "week"], how="left")
    summary["flag"] = summary["flag"].fillna(False).astype(bool)
    summary["verdict"] = summary["verdict"].fillna("neutral")
    return summary


def _judge_cell(conn, table: pd.DataFrame, incident: pd.Series, metric: str, week: str) -> dict:
    market, dimension, value = incident["market"], incident["dimension"], incident["dimension_value"]
    found = table[(table["metric"] == metric) & (table["market"] == market) & (table["week"] == week)]
    result = deep_dive(conn, metric, market, week)
    rank, effect = float("nan"), None
    if result.root_cause is not None:
        segments = result.root_cause.segments
        hit = segments[(segments["dimension"] == dimension) & (segments["value"] == value)]
        if len(hit):
            rank, effect = int(hit["rank"].iloc[0]), str(hit["effect"].iloc[0])
    label = f"{dimension.replace('_', ' ')} {value}"
    mix_insight = any(
        insight.kind in ("mix", "mix_shift") and label in insight.text for insight in result.insights
    )
    return {
        "incident": incident["name"],
        "metric": metric,
        "market": market,
        "week": week,
        "flag": bool(found["flag"].iloc[0]) if len(found) else False,
        "p_adjusted": float(found["p_adjusted"].iloc[0]) if len(found) else float("nan"),
        "z": float(found["z"].iloc[0]) if len(found) else float("nan"),
        "comparison": result.comparison,
        "segment_rank": rank,
        "effect": effect,
        "mix_insight": mix_insight,
    }


def _summarise(manifest: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, incident in manifest.iterrows():
        mine = cells[cells["incident"] == incident["name"]] if len(cells) else cells
        flagged = mine[mine["flag"]] if len(mine) else mine
        first = flagged[flagged["segment_rank"] == 1] if len(flagged) else flagged
        mix = incident["name"] == "mix_shift"
        rows.append(
            {
                "incident": incident["name"],
                "market": incident["market"],
                "segment": f"{incident['dimension']}={incident['dimension_value']}",
                "weeks_flagged": ", ".join(
                    sorted({f"{w[-3:]}:{m}" for w, m in zip(flagged["week"], flagged["metric"], strict=True)})
                )
                if len(flagged)
                else "",
                "cells_flagged": f"{len(flagged)}/{len(mine)}",
                "best_rank_when_flagged": flagged["segment_rank"].min() if len(flagged) else float("nan"),
                "best_rank_any": mine["segment_rank"].min() if len(mine) else float("nan"),
                "labelled_mix": bool((mine["effect"].eq("mix") & mine["mix_insight"]).any()) if mix else None,
                "found": bool(len(first)) and (not mix or bool((first["effect"] == "mix").any())),
            }
        )
    return pd.DataFrame(rows)
