"""Experience beyond defects: buyers' customer-service contacts with their satisfaction (CSAT) survey, sellers'
appeals against enforcement and sellers' support contacts.

Each draws from its own random stream; nothing here changes another table. Contacts, decisions and survey
answers later than the as-of time are censored (absent or NULL).
"""

from dataclasses import dataclass

import numpy as np

from gnelib.warehouse import calendar as cal
from gnelib.warehouse import dimensions as dims
from gnelib.warehouse.frames import NULL_TIME, Coded
from gnelib.warehouse.scales import rng_for
from gnelib.warehouse.sellers import Sellers

# Buyer contact reason → (contacts per order where the reason applies, satisfied share of survey answers).
CONTACT_REASONS = {
    "where_is_my_order": (0.30, 0.62),
    "item_problem": (0.55, 0.55),
    "refund_status": (0.25, 0.68),
    "cancellation": (0.20, 0.72),
    "other": (0.03, 0.85),
}
CONTACT_REASON_NAMES = tuple(CONTACT_REASONS)
ITEM_REASONS = ("not_as_described", "counterfeit", "damaged", "missing")
SURVEY_RESPONSE_RATE = 0.35
SLOW_RESOLUTION_HOURS = 24.0  # contacts resolved slower than this are satisfied less often
SLOW_PENALTY = 0.15

# Seller appeals against enforcement: filed within days of the action, decided after a median of 72 hours.
APPEAL_FILE_DAYS = 3.0
APPEAL_MEDIAN_HOURS = 72.0
# Seller support contact reason → contacts per active seller-week (enforcement: per enforcement action).
SELLER_CONTACT_REASONS = {
    "enforcement": 0.6,
    "payouts": 0.02,
    "listing_review": 0.015,
    "logistics": 0.01,
    "other": 0.01,
}
SELLER_CONTACT_REASON_NAMES = tuple(SELLER_CONTACT_REASONS)


@dataclass
class ContactGenerator:
    """Buyers' customer-service contacts about each week's orders, with running ids."""

    seed: int
    next_contact_id: int = 1

    def week(self, index: int, tables: dict[str, dict[str, object]]) -> dict[str, object]:
        """The `cs_contacts` rows about the orders of the window's week `index`."""
        rng = rng_for(self.seed, "cs_contacts", index)
        orders, requests = tables["orders"], tables["after_sales"]
        n = len(orders["order_id"])
        position = np.searchsorted(orders["order_id"], requests["order_id"])
        request_reason = np.full(n, -1, np.int16)
        request_reason[position] = requests["reason"].codes
        requested = np.full(n, NULL_TIME, np.int64)
        requested[position] = requests["requested_at"]
        item_codes = [dims.AFTER_SALES_REASON_NAMES.index(r) for r in ITEM_REASONS]

        delivered, promised = orders["delivered_at"], orders["promised_delivery_by"]
        late = np.where(delivered != NULL_TIME, delivered > promised, promised < cal.AS_OF_US)
        cancelled = orders["cancelled_at"] != NULL_TIME
        has_request = request_reason >= 0
        applies = {
            "where_is_my_order": (late & ~cancelled, promised),
            "item_problem": (np.isin(request_reason, item_codes), requested),
            "refund_status": (has_request, requested + 3 * cal.US_PER_DAY),
            "cancellation": (cancelled, orders["cancelled_at"]),
            "other": (np.ones(n, bool), orders["ordered_at"] + 2 * cal.US_PER_DAY),
        }
        rows, reasons, times = [], [], []
        for code, (name, (rate, _)) in enumerate(CONTACT_REASONS.items()):
            mask, anchor = applies[name]
            counts = rng.poisson(rate, n) * mask
            who = np.repeat(np.arange(n), counts)
            rows.append(who)
            reasons.append(np.full(len(who), code, np.int16))
            times.append(anchor[who] + (rng.exponential(1.0, len(who)) * cal.US_PER_DAY).astype(np.int64))
        row, reason, contacted = np.concatenate(rows), np.concatenate(reasons), np.concatenate(times)
        keep = np.flatnonzero(contacted < cal.AS_OF_US)
        keep = keep[np.lexsort((row[keep], contacted[keep]))]
        row, reason, contacted = row[keep], reason[keep], contacted[keep]
        m = len(row)

        hours = 8.0 * rng.lognormal(0.0, 0.9, m)
        resolved = contacted + (hours * cal.US_PER_HOUR).astype(np.int64)
        is_resolved = resolved < cal.AS_OF_US
        satisfied_rate = np.array([s for _, s in CONTACT_REASONS.values()])[reason]
        satisfied_rate = satisfied_rate - SLOW_PENALTY * (hours > SLOW_RESOLUTION_HOURS)
        answered = is_resolved & (rng.random(m) < SURVEY_RESPONSE_RATE)
        satisfied = rng.random(m) < satisfied_rate
        score = np.where(satisfied, 4 + (rng.random(m) < 0.55), 1 + rng.integers(0, 3, m))
        ids = np.arange(self.next_contact_id, self.next_contact_id + m, dtype=np.int64)
        self.next_contact_id += m
        return {
            "contact_id": ids,
            "order_id": orders["order_id"][row],
            "buyer_id": orders["buyer_id"][row],
            "market": Coded(orders["market"].codes[row], dims.MARKET_CODES),
            "contacted_at": contacted,
            "reason": Coded(reason, CONTACT_REASON_NAMES),
            "resolved_at": np.where(is_resolved, resolved, NULL_TIME),
            "csat": np.ma.masked_array(score.astype(np.int32), mask=~answered),
        }


def generate_seller_appeals(enforcement: dict[str, object], seed: int) -> dict[str, object]:
    """The `seller_appeals` table: one row per appealed enforcement action, filed before the as-of time; the
    decision (and its outcome, the action's `overturned`) is NULL while it is still open."""
    rng = rng_for(seed, "seller_appeals")
    rows = np.flatnonzero(enforcement["appealed"] > 0)
    actioned = enforcement["actioned_at"][rows]
    window = np.minimum(APPEAL_FILE_DAYS * cal.US_PER_DAY, cal.AS_OF_US - actioned - 1)
    filed = actioned + (rng.random(len(rows)) * window).astype(np.int64)
    decided = filed + (APPEAL_MEDIAN_HOURS * rng.lognormal(0.0, 0.6, len(rows)) * cal.US_PER_HOUR).astype(np.int64)
    known = decided < cal.AS_OF_US
    return {
        "appeal_id": np.arange(1, len(rows) + 1, dtype=np.int64),
        "action_id": enforcement["action_id"][rows],
        "seller_id": enforcement["seller_id"][rows],
        "market": Coded(enforcement["market"].codes[rows], dims.MARKET_CODES),
        "filed_at": filed,
        "decided_at": np.where(known, decided, NULL_TIME),
        "overturned": np.where(known, enforcement["overturned"][rows], -1).astype(np.int8),
    }


def generate_seller_contacts(sellers: Sellers, enforcement: dict[str, object], seed: int) -> dict[str, object]:
    """The `seller_support_contacts` table: sellers contacting support steadily while they can sell, and after
    most enforcement actions."""
    rng = rng_for(seed, "seller_contacts")
    start = np.maximum(sellers.eligible_us, cal.FIRST_US)
    end = np.minimum(sellers.banned_us, cal.AS_OF_US)
    weeks = np.clip((end - start) / (7 * cal.US_PER_DAY), 0.0, None)
    seller_parts, reason_parts, time_parts = [], [], []
    for code, (name, rate) in enumerate(SELLER_CONTACT_REASONS.items()):
        if name == "enforcement":
            acted = np.flatnonzero(rng.random(len(enforcement["seller_id"])) < rate)
            who = enforcement["seller_id"][acted] - 1
            at = enforcement["actioned_at"][acted] + (rng.exponential(0.5, len(acted)) * cal.US_PER_DAY).astype(
                np.int64
            )
        else:
            who = np.repeat(np.arange(sellers.count), rng.poisson(rate * weeks))
            at = start[who] + (rng.random(len(who)) * (end[who] - start[who])).astype(np.int64)
        seller_parts.append(who)
        reason_parts.append(np.full(len(who), code, np.int16))
        time_parts.append(at)
    seller, reason, contacted = np.concatenate(seller_parts), np.concatenate(reason_parts), np.concatenate(time_parts)
    resolved = contacted + (20.0 * rng.lognormal(0.0, 0.9, len(seller)) * cal.US_PER_HOUR).astype(np.int64)
    keep = np.flatnonzero(contacted < cal.AS_OF_US)
    keep = keep[np.lexsort((seller[keep], contacted[keep]))]
    return {
        "contact_id": np.arange(1, len(keep) + 1, dtype=np.int64),
        "seller_id": seller[keep].astype(np.int64) + 1,
        "market": Coded(sellers.market[seller[keep]], dims.MARKET_CODES),
        "contacted_at": contacted[keep],
        "reason": Coded(reason[keep], SELLER_CONTACT_REASON_NAMES),
        "resolved_at": np.where(resolved[keep] < cal.AS_OF_US, resolved[keep], NULL_TIME),
    }
