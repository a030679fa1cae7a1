"""Independent pandas implementations of every catalog metric, written from the metric descriptions.

Each function turns the raw warehouse tables into one row per counted thing with its period timestamp
(`time`), unit of analysis (`unit`), numerator contribution `x`, denominator contribution `y` (ratios) and the
dimension columns. `reference_frame` then aggregates per unit and per cell in pandas. Nothing here reads the
catalog's SQL, so a wrong view, filter or compiler step shows up as a mismatch.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

NAD_REASONS = ("not_as_described", "counterfeit")


@dataclass
class Tables:
    """The raw warehouse tables as pandas frames."""

    path: Path

    def _read(self, name: str) -> pd.DataFrame:
        with duckdb.connect(str(self.path), read_only=True) as con:
            return con.execute(f"SELECT * FROM {name}").df()

    @cached_property
    def orders(self) -> pd.DataFrame:
        return self._read("orders")

    @cached_property
    def after_sales(self) -> pd.DataFrame:
        return self._read("after_sales")

    @cached_property
    def reviews(self) -> pd.DataFrame:
        return self._read("reviews")

    @cached_property
    def sellers(self) -> pd.DataFrame:
        return self._read("sellers")

    @cached_property
    def enforcement(self) -> pd.DataFrame:
        return self._read("enforcement")

    @cached_property
    def moderation(self) -> pd.DataFrame:
        return self._read("listing_moderation")

    @cached_property
    def creators(self) -> pd.DataFrame:
        return self._read("creators")

    @cached_property
    def creator_moderation(self) -> pd.DataFrame:
        return self._read("creator_content_moderation")

    @cached_property
    def creator_enforcement(self) -> pd.DataFrame:
        return self._read("creator_enforcement")

    @cached_property
    def cs_contacts(self) -> pd.DataFrame:
        return self._read("cs_contacts")

    @cached_property
    def seller_appeals(self) -> pd.DataFrame:
        return self._read("seller_appeals")

    @cached_property
    def seller_contacts(self) -> pd.DataFrame:
        return self._read("seller_support_contacts")

    @cached_property
    def as_of(self) -> pd.Timestamp:
        meta = self._read("warehouse_meta")
        return pd.Timestamp(meta.set_index("key").loc["as_of", "value"])

    @cached_property
    def order_rows(self) -> pd.DataFrame:
        """Orders with their after-sales request, initial review rating and seller tier."""
        requests = self.after_sales.rename(
            columns={"reason": "after_sales_reason", "status": "request_status"}
        )
        frame = self.orders.merge(requests.drop(columns=["request_id"]), on="order_id", how="left")
        frame = frame.merge(self.reviews[["order_id", "rating"]], on="order_id", how="left")
        tiers = self.sellers[["seller_id", "tier"]].rename(columns={"tier": "seller_tier"})
        frame = frame.merge(tiers, on="seller_id", how="left")
        frame["time"], frame["unit"] = frame["ordered_at"], frame["seller_id"]
        return frame


def _flag(series: pd.Series) -> pd.Series:
    return series.fillna(False).astype(bool).astype(float)


def _ratio(rows: pd.DataFrame, numerator: pd.Series, denominator: pd.Series | float = 1.0) -> pd.DataFrame:
    out = rows.copy()
    out["x"] = numerator.astype(float) if isinstance(numerator, pd.Series) else float(numerator)
    out["y"] = denominator if isinstance(denominator, float) else denominator.astype(float)
    return out


def _hours(end: pd.Series, start: pd.Series) -> pd.Series:
    return (end - start).dt.total_seconds() / 3600.0


def _tenure_band(days: pd.Series) -> pd.Series:
    return pd.Series(
        np.select([days < 30, days < 90, days < 365], ["<30d", "30-90d", "90-365d"], "1y+"), index=days.index
    )


def _days_between(start: pd.Series, end: pd.Series) -> pd.Series:
    return (end.dt.normalize() - start.dt.normalize()).dt.days


# -- pillar 3: authentic products (order-date cohorts, unit = seller) ----------------------------------------


def _delivered(t: Tables) -> pd.DataFrame:
    return t.order_rows[t.order_rows["delivered_at"].notna()]


def _shipped(t: Tables) -> pd.DataFrame:
    return t.order_rows[t.order_rows["shipped_at"].notna()]


def not_as_described_rate(t: Tables) -> pd.DataFrame:
    rows = _delivered(t)
    return _ratio(rows, rows["after_sales_reason"].isin(NAD_REASONS))


def counterfeit_claim_rate(t: Tables) -> pd.DataFrame:
    rows = _delivered(t)
    return _ratio(rows, rows["after_sales_reason"] == "counterfeit")


def damaged_claim_rate(t: Tables) -> pd.DataFrame:
    rows = _delivered(t)
    return _ratio(rows, rows["after_sales_reason"] == "damaged")


def negative_review_rate(t: Tables) -> pd.DataFrame:
    rows = _delivered(t)
    return _ratio(rows, rows["rating"] <= 2)


def late_dispatch_rate(t: Tables) -> pd.DataFrame:
    orders = t.order_rows
    rows = orders[orders["shipped_at"].notna() | orders["cancelled_at"].isna()]
    not_dispatched_in_time = rows["shipped_at"].isna() | (rows["shipped_at"] > rows["promised_ship_by"])
    return _ratio(rows, not_dispatched_in_time)


def late_delivery_rate(t: Tables) -> pd.DataFrame:
    rows = _shipped(t)
    return _ratio(rows, rows["delivered_at"] > rows["promised_delivery_by"])


def valid_tracking_rate(t: Tables) -> pd.DataFrame:
    rows = _shipped(t)
    return _ratio(rows, _flag(rows["tracking_valid"]))


def _seller_fault(rows: pd.DataFrame) -> pd.Series:
    return (rows["cancel_fault"] == "seller") & rows["cancelled_at"].notna()


def seller_fault_cancel_rate(t: Tables) -> pd.DataFrame:
    return _ratio(t.order_rows, _seller_fault(t.order_rows))


def order_defect_rate(t: Tables) -> pd.DataFrame:
    rows = t.order_rows
    defect = rows["after_sales_reason"].isin(NAD_REASONS) | (rows["rating"] <= 2) | _seller_fault(rows)
    return _ratio(rows, defect)


def orders(t: Tables) -> pd.DataFrame:
    return _ratio(t.order_rows, pd.Series(1.0, index=t.order_rows.index))


def gmv_usd(t: Tables) -> pd.DataFrame:
    return _ratio(t.order_rows, t.order_rows["gmv_usd"].fillna(0.0))


# -- pillar 4: make it right ---------------------------------------------------------------------------------


def _not_cancelled(t: Tables) -> pd.DataFrame:
    return t.order_rows[t.order_rows["cancelled_at"].isna()]


def refund_rate(t: Tables) -> pd.DataFrame:
    rows = _not_cancelled(t)
    return _ratio(rows, rows["request_status"] == "approved")


def refund_gmv_share(t: Tables) -> pd.DataFrame:
    rows = _not_cancelled(t)
    refunded = rows["refund_amount_usd"].where(rows["request_status"] == "approved", 0.0).fillna(0.0)
    return _ratio(rows, refunded, rows["gmv_usd"].fillna(0.0))


def _requests(t: Tables) -> pd.DataFrame:
    rows = t.order_rows[t.order_rows["requested_at"].notna()].copy()
    rows["time"] = rows["requested_at"]
    return rows


def median_hours_to_refund(t: Tables) -> pd.DataFrame:
    rows = _requests(t)
    rows = rows[(rows["request_status"] == "approved") & rows["resolved_at"].notna()]
    return rows.assign(x=_hours(rows["resolved_at"], rows["requested_at"]))


def dispute_escalation_rate(t: Tables) -> pd.DataFrame:
    rows = _requests(t)
    return _ratio(rows, _flag(rows["escalated_to_dispute"]))


def dispute_seller_win_rate(t: Tables) -> pd.DataFrame:
    rows = _requests(t)
    rows = rows[rows["dispute_outcome"].notna()]
    return _ratio(rows, rows["dispute_outcome"] == "seller_won")


# -- pillar 2: listing compliance (review cohorts, unit = listing) -------------------------------------------


def _moderation(t: Tables) -> pd.DataFrame:
    return t.moderation.assign(time=t.moderation["reviewed_at"], unit=t.moderation["listing_id"])


def _removals(t: Tables) -> pd.DataFrame:
    rows = _moderation(t)
    return rows[rows["decision"] == "removed"]


def listing_violation_rate(t: Tables) -> pd.DataFrame:
    rows = _moderation(t)
    return _ratio(rows, rows["decision"] == "removed")


def proactive_detection_share(t: Tables) -> pd.DataFrame:
    rows = _removals(t)
    rows = rows[rows["detection_source"].isin(["proactive_model", "user_report"])]
    return _ratio(rows, rows["detection_source"] == "proactive_model")


def violating_prevalence(t: Tables) -> pd.DataFrame:
    rows = _moderation(t)
    rows = rows[rows["detection_source"] == "audit"]
    return _ratio(rows, rows["decision"] == "removed")


def appeal_overturn_rate(t: Tables) -> pd.DataFrame:
    rows = _removals(t)
    rows = rows[_flag(rows["appealed"]).astype(bool) & rows["appeal_overturned"].notna()]
    return _ratio(rows, _flag(rows["appeal_overturned"]))


def listing_appeal_rate(t: Tables) -> pd.DataFrame:
    rows = _removals(t)
    return _ratio(rows, _flag(rows["appealed"]))


def hours_to_listing_removal(t: Tables) -> pd.DataFrame:
    rows = _removals(t)
    rows = rows[rows["decided_at"].notna()]
    return rows.assign(x=_hours(rows["decided_at"], rows["reviewed_at"]))


def listings_removed(t: Tables) -> pd.DataFrame:
    rows = _removals(t)
    return _ratio(rows, pd.Series(1.0, index=rows.index))


# -- pillar 1: malicious sellers -----------------------------------------------------------------------------


def _actions(t: Tables) -> pd.DataFrame:
    rows = t.enforcement.merge(
        t.sellers[["seller_id", "tier", "business_type", "joined_at"]], on="seller_id", how="left"
    ).rename(columns={"tier": "seller_tier"})
    rows["seller_tenure_band"] = _tenure_band(_days_between(rows["joined_at"], rows["actioned_at"]))
    rows = rows.sort_values(["actioned_at", "action_id"])
    rows["earlier_actions"] = rows.groupby("seller_id").cumcount()
    return rows.assign(time=rows["actioned_at"], unit=rows["seller_id"])


def seller_ban_rate(t: Tables) -> pd.DataFrame:
    monday = lambda s: s.dt.to_period("W-SUN").dt.start_time  # noqa: E731
    active = pd.DataFrame({"seller_id": t.orders["seller_id"], "week": monday(t.orders["ordered_at"])})
    actions = pd.DataFrame(
        {
            "seller_id": t.enforcement["seller_id"],
            "week": monday(t.enforcement["actioned_at"]),
            "ban": t.enforcement["action"] == "ban",
        }
    )
    banned = actions[actions["ban"]][["seller_id", "week"]].drop_duplicates().assign(banned=True)
    weeks = pd.concat([active, actions[["seller_id", "week"]]]).drop_duplicates()
    weeks = weeks.merge(banned, on=["seller_id", "week"], how="left")
    weeks = weeks.merge(
        t.sellers[["seller_id", "market", "tier", "business_type", "joined_at"]], on="seller_id"
    )
    weeks["seller_tenure_band"] = _tenure_band(_days_between(weeks["joined_at"], weeks["week"]))
    weeks = weeks.rename(columns={"tier": "seller_tier"}).assign(time=weeks["week"], unit=weeks["seller_id"])
    return _ratio(weeks, _flag(weeks["banned"]))


def repeat_offender_rate(t: Tables) -> pd.DataFrame:
    rows = _actions(t)
    return _ratio(rows, rows["earlier_actions"] > 0)


def bad_actor_gmv_share(t: Tables) -> pd.DataFrame:
    bans = t.enforcement[
        (t.enforcement["action"] == "ban") & t.enforcement["reason"].isin(["fraud", "counterfeit"])
    ]
    first_ban = bans.groupby("seller_id")["actioned_at"].min().rename("first_ban")
    rows = t.orders.merge(first_ban, left_on="seller_id", right_index=True, how="left")
    in_window = (rows["first_ban"] >= rows["ordered_at"]) & (
        rows["first_ban"] <= rows["ordered_at"] + pd.Timedelta(days=90)
    )
    gmv = rows["gmv_usd"].fillna(0.0)
    rows = rows.assign(time=rows["ordered_at"], unit=rows["seller_id"])
    return _ratio(rows, gmv.where(in_window, 0.0), gmv)


def detection_to_action_hours(t: Tables) -> pd.DataFrame:
    rows = _actions(t)
    rows = rows[rows["detected_at"].notna()]
    return rows.assign(x=_hours(rows["actioned_at"], rows["detected_at"]))


def enforcement_overturn_rate(t: Tables) -> pd.DataFrame:
    rows = _actions(t)
    rows = rows[_flag(rows["appealed"]).astype(bool) & rows["overturned"].notna()]
    return _ratio(rows, _flag(rows["overturned"]))


def enforcement_actions(t: Tables) -> pd.DataFrame:
    rows = _actions(t)
    return _ratio(rows, pd.Series(1.0, index=rows.index))


# -- creators (unit = creator) ----------------------------------------------------------------------------------


def _creator_columns(rows: pd.DataFrame, t: Tables) -> pd.DataFrame:
    creators = t.creators[["creator_id", "tier", "follower_band"]].rename(
        columns={"tier": "creator_tier", "follower_band": "creator_follower_band"}
    )
    rows = rows.merge(creators, on="creator_id", how="inner")
    return rows.assign(unit=rows["creator_id"])


def _creator_orders(t: Tables) -> pd.DataFrame:
    return _creator_columns(t.order_rows[t.order_rows["creator_id"].notna()], t)


def creator_order_defect_rate(t: Tables) -> pd.DataFrame:
    rows = _creator_orders(t)
    defect = rows["after_sales_reason"].isin(NAD_REASONS) | (rows["rating"] <= 2) | _seller_fault(rows)
    return _ratio(rows, defect)


def struck_creator_gmv_share(t: Tables) -> pd.DataFrame:
    rows = _creator_orders(t)
    strikes = t.creator_enforcement[t.creator_enforcement["action"] == "strike"]
    pairs = rows[["order_id", "creator_id", "ordered_at"]].merge(strikes, on="creator_id")
    overturned_by_then = _flag(pairs["overturned"]).astype(bool) & (pairs["appeal_decided_at"] <= pairs["ordered_at"])
    active = (
        (pairs["actioned_at"] <= pairs["ordered_at"])
        & (pairs["ordered_at"] < pairs["actioned_at"] + pd.Timedelta(days=90))
        & ~overturned_by_then
    )
    struck = rows["order_id"].isin(pairs.loc[active, "order_id"])
    gmv = rows["gmv_usd"].fillna(0.0)
    return _ratio(rows, gmv.where(struck, 0.0), gmv)


def creator_violation_rate(t: Tables) -> pd.DataFrame:
    rows = _creator_columns(t.creator_moderation, t)
    return _ratio(rows.assign(time=rows["reviewed_at"]), rows["decision"] == "removed")


def _creator_actions(t: Tables) -> pd.DataFrame:
    rows = _creator_columns(t.creator_enforcement, t)
    rows = rows.rename(columns={"action": "creator_action", "reason": "creator_policy"})
    return rows.assign(time=rows["actioned_at"])


def creator_appeal_overturn_rate(t: Tables) -> pd.DataFrame:
    rows = _creator_actions(t)
    rows = rows[_flag(rows["appealed"]).astype(bool) & rows["overturned"].notna()]
    return _ratio(rows, _flag(rows["overturned"]))


def hours_to_act_on_reported_creator(t: Tables) -> pd.DataFrame:
    rows = _creator_actions(t)
    return rows.assign(x=_hours(rows["actioned_at"], rows["reported_at"]))


# -- experience ------------------------------------------------------------------------------------------------


def _contacts_within_30_days(t: Tables, reason: str | None) -> pd.DataFrame:
    contacts = t.cs_contacts.merge(t.orders[["order_id", "ordered_at"]], on="order_id")
    contacts = contacts[contacts["contacted_at"] < contacts["ordered_at"] + pd.Timedelta(days=30)]
    if reason is not None:
        contacts = contacts[contacts["reason"] == reason]
    counts = contacts.groupby("order_id").size()
    rows = t.orders.assign(time=t.orders["ordered_at"], unit=t.orders["seller_id"])
    return _ratio(rows, rows["order_id"].map(counts).fillna(0.0))


def cs_contacts_per_order(t: Tables) -> pd.DataFrame:
    return _contacts_within_30_days(t, None)


def where_is_my_order_contacts_per_order(t: Tables) -> pd.DataFrame:
    return _contacts_within_30_days(t, "where_is_my_order")


def item_problem_contacts_per_order(t: Tables) -> pd.DataFrame:
    return _contacts_within_30_days(t, "item_problem")


def refund_status_contacts_per_order(t: Tables) -> pd.DataFrame:
    return _contacts_within_30_days(t, "refund_status")


def post_contact_csat(t: Tables) -> pd.DataFrame:
    rows = t.cs_contacts[t.cs_contacts["csat"].notna()]
    rows = rows.merge(t.orders[["order_id", "category", "channel"]], on="order_id")
    rows = rows.rename(columns={"reason": "contact_reason"})
    rows = rows.assign(time=rows["contacted_at"], unit=rows["order_id"])
    return _ratio(rows, rows["csat"] >= 4)


def _experiences(t: Tables, kind: str) -> pd.DataFrame:
    """Each order's experience time (first defect if any, else delivery) and whether the buyer ordered again
    within 30 days of it (the next order at or after it, found with merge_asof)."""
    rows = t.order_rows
    nad = rows["requested_at"].where(rows["after_sales_reason"].isin(NAD_REASONS))
    review_at = rows["order_id"].map(t.reviews.set_index("order_id")["created_at"])
    review = review_at.where(rows["rating"] <= 2)
    cancel = rows["cancelled_at"].where(_seller_fault(rows))
    defect_at = pd.concat([nad, review, cancel], axis=1).min(axis=1)
    rows = rows.assign(experience_at=defect_at.where(defect_at.notna(), rows["delivered_at"]))
    rows = rows[defect_at.notna()] if kind == "bad" else rows[defect_at.isna() & rows["delivered_at"].notna()]
    orders = t.orders[["buyer_id", "ordered_at"]].rename(columns={"ordered_at": "next_order_at"})
    joined = pd.merge_asof(
        rows.sort_values("experience_at"),
        orders.sort_values("next_order_at"),
        left_on="experience_at",
        right_on="next_order_at",
        by="buyer_id",
        direction="forward",
    )
    repeated = joined["next_order_at"] <= joined["experience_at"] + pd.Timedelta(days=30)
    joined = joined.assign(time=joined["experience_at"], unit=joined["buyer_id"])
    return _ratio(joined, repeated)


def repeat_purchase_after_bad_experience(t: Tables) -> pd.DataFrame:
    return _experiences(t, "bad")


def repeat_purchase_after_good_experience(t: Tables) -> pd.DataFrame:
    return _experiences(t, "good")


def seller_appeal_resolution_hours(t: Tables) -> pd.DataFrame:
    rows = t.seller_appeals.merge(t.enforcement[["action_id", "action", "reason"]], on="action_id")
    rows = rows.merge(t.sellers[["seller_id", "tier"]].rename(columns={"tier": "seller_tier"}), on="seller_id")
    rows = rows[rows["decided_at"].notna()]
    return rows.assign(time=rows["filed_at"], unit=rows["seller_id"], x=_hours(rows["decided_at"], rows["filed_at"]))


def enforcement_false_positive_rate(t: Tables) -> pd.DataFrame:
    rows = _actions(t).merge(
        t.seller_appeals[["action_id", "overturned"]], on="action_id", how="left", suffixes=("", "_on_appeal")
    )
    return _ratio(rows, _flag(rows["overturned_on_appeal"]))


def seller_support_contacts(t: Tables) -> pd.DataFrame:
    rows = t.seller_contacts.merge(
        t.sellers[["seller_id", "tier"]].rename(columns={"tier": "seller_tier"}), on="seller_id"
    ).rename(columns={"reason": "seller_contact_reason"})
    rows = rows.assign(time=rows["contacted_at"], unit=rows["seller_id"])
    return _ratio(rows, pd.Series(1.0, index=rows.index))


REFERENCE: dict[str, Callable[[Tables], pd.DataFrame]] = {
    function.__name__: function
    for function in [
        not_as_described_rate,
        counterfeit_claim_rate,
        damaged_claim_rate,
        negative_review_rate,
        late_dispatch_rate,
        late_delivery_rate,
        valid_tracking_rate,
        seller_fault_cancel_rate,
        order_defect_rate,
        orders,
        gmv_usd,
        refund_rate,
        refund_gmv_share,
        median_hours_to_refund,
        dispute_escalation_rate,
        dispute_seller_win_rate,
        listing_violation_rate,
        proactive_detection_share,
        violating_prevalence,
        appeal_overturn_rate,
        listing_appeal_rate,
        hours_to_listing_removal,
        listings_removed,
        seller_ban_rate,
        repeat_offender_rate,
        bad_actor_gmv_share,
        detection_to_action_hours,
        enforcement_overturn_rate,
        enforcement_actions,
        creator_order_defect_rate,
        struck_creator_gmv_share,
        creator_violation_rate,
        creator_appeal_overturn_rate,
        hours_to_act_on_reported_creator,
        cs_contacts_per_order,
        where_is_my_order_contacts_per_order,
        item_problem_contacts_per_order,
        refund_status_contacts_per_order,
        post_contact_csat,
        repeat_purchase_after_bad_experience,
        repeat_purchase_after_good_experience,
        seller_appeal_resolution_hours,
        enforcement_false_positive_rate,
        seller_support_contacts,
    ]
}


def reference_frame(
    rows: pd.DataFrame,
    kind: str,
    by: Sequence[str] = (),
    weeks: Sequence[str] = (),
    where: dict | None = None,
    period: str = "week",
) -> pd.DataFrame:
    """Aggregate reference rows into metric-frame numbers: per unit first, then per period × segment."""
    rows = rows[rows["time"].notna()].copy()
    monday = rows["time"].dt.to_period("W-SUN").dt.start_time
    rows["period_start"] = monday if period == "week" else rows["time"].dt.normalize()
    if weeks:
        starts = {pd.Timestamp.fromisocalendar(int(w[:4]), int(w[6:]), 1) for w in weeks}
        rows = rows[monday.isin(starts)]
    for column, values in (where or {}).items():
        rows = rows[rows[column].isin(values if isinstance(values, list) else [values])]
    keys = ["period_start", *by]
    if kind == "duration":
        grouped = rows.assign(x2=rows["x"] ** 2).groupby(keys, dropna=False)
        out = grouped.agg(
            numerator=("x", "sum"),
            denominator=("x", "size"),
            value=("x", "median"),
            units=("unit", "nunique"),
            sum_x2=("x2", "sum"),
        )
        return out.reset_index()
    per_unit = rows.groupby([*keys, "unit"], dropna=False)[["x", "y"]].sum().reset_index()
    per_unit = per_unit.assign(xx=per_unit["x"] ** 2, yy=per_unit["y"] ** 2, xy=per_unit["x"] * per_unit["y"])
    out = (
        per_unit.groupby(keys, dropna=False)
        .agg(
            numerator=("x", "sum"),
            denominator=("y", "sum"),
            units=("unit", "size"),
            sum_x2=("xx", "sum"),
            sum_y2=("yy", "sum"),
            sum_xy=("xy", "sum"),
        )
        .reset_index()
    )
    out["value"] = out["numerator"] / out["denominator"] if kind == "ratio" else out["numerator"]
    return out
