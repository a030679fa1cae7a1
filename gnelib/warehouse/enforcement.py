"""Enforcement actions against sellers: warnings, suspensions and (rare) bans, plus the fraud ring's bans.

A banned seller takes no orders after the ban. Riskier sellers are actioned more often.
"""

import numpy as np

from gnelib.warehouse import calendar as cal
from gnelib.warehouse import dimensions as dims
from gnelib.warehouse import incidents as inc
from gnelib.warehouse.frames import Coded
from gnelib.warehouse.scales import rng_for
from gnelib.warehouse.sellers import NEVER, Sellers


def _uniform_between(rng: np.random.Generator, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    return start + (rng.random(len(start)) * (end - start)).astype(np.int64)


def generate_enforcement(sellers: Sellers, seed: int) -> dict[str, object]:
    """The `enforcement` table; also sets `sellers.banned_us`."""
    rng = rng_for(seed, "enforcement")
    start = np.maximum(sellers.eligible_us, cal.FIRST_US)
    active_weeks = np.clip((cal.AS_OF_US - start) / (7 * cal.US_PER_DAY), 0.0, None)
    pressure = active_weeks * sellers.risk**2 * ~sellers.is_ring

    ban_hazard = dims.ENFORCEMENT_ACTIONS["ban"][0]
    banned = rng.random(sellers.count) < 1 - np.exp(-ban_hazard * pressure)
    ban_time = _uniform_between(rng, start, np.full(sellers.count, cal.AS_OF_US))
    ring_ban_from = cal.week_start_us(inc.FRAUD_BAN_WEEKS[0])
    ring_ban_to = cal.week_start_us(inc.FRAUD_BAN_WEEKS[1]) + 7 * cal.US_PER_DAY
    ring = np.flatnonzero(sellers.is_ring)
    ban_time[ring] = rng.integers(ring_ban_from, ring_ban_to, len(ring))
    banned |= sellers.is_ring
    sellers.banned_us = np.where(banned, ban_time, NEVER)
    active_until = np.where(banned, ban_time, cal.AS_OF_US)

    seller_parts, action_parts, time_parts = [np.flatnonzero(banned)], [], [ban_time[banned]]
    action_parts.append(np.full(int(banned.sum()), dims.ENFORCEMENT_ACTION_NAMES.index("ban")))
    for action in ("warning", "suspension"):
        hazard = dims.ENFORCEMENT_ACTIONS[action][0]
        counts = rng.poisson(
            hazard * pressure * (active_until - start).clip(0) / np.maximum(cal.AS_OF_US - start, 1)
        )
        who = np.repeat(np.arange(sellers.count), counts)
        seller_parts.append(who)
        action_parts.append(np.full(len(who), dims.ENFORCEMENT_ACTION_NAMES.index(action)))
        time_parts.append(_uniform_between(rng, start[who], active_until[who]))
    seller = np.concatenate(seller_parts)
    action = np.concatenate(action_parts)
    actioned = np.concatenate(time_parts)

    reason = np.empty(len(seller), np.int16)
    detect_hours = np.empty(len(seller))
    appeal_rate = np.empty(len(seller))
    for code, (_, reasons, appeal, median_hours) in enumerate(dims.ENFORCEMENT_ACTIONS.values()):
        rows = action == code
        names = list(reasons)
        picks = rng.choice(len(names), int(rows.sum()), p=list(reasons.values()))
        reason[rows] = [dims.ENFORCEMENT_REASONS.index(names[p]) for p in picks]
        detect_hours[rows] = median_hours
        appeal_rate[rows] = appeal
    in_ring = sellers.is_ring[seller]
    reason[in_ring] = dims.ENFORCEMENT_REASONS.index("fraud")
    delay = (detect_hours * rng.lognormal(0.0, 0.8, len(seller)) * cal.US_PER_HOUR).astype(np.int64)
    ring_first_signal = sellers.eligible_us[seller] + (
        rng.lognormal(np.log(4.0), 0.4, len(seller)) * cal.US_PER_DAY
    ).astype(np.int64)
    detected = np.where(in_ring, np.minimum(ring_first_signal, actioned - cal.US_PER_HOUR), actioned - delay)
    detected = np.maximum(detected, sellers.joined_us[seller])
    appealed = rng.random(len(seller)) < appeal_rate
    overturned = np.where(
        appealed, (rng.random(len(seller)) < dims.ENFORCEMENT_OVERTURN_RATE).astype(np.int8), -1
    )

    order = np.lexsort((seller, actioned))
    return {
        "action_id": np.arange(1, len(seller) + 1, dtype=np.int64),
        "seller_id": seller[order].astype(np.int64) + 1,
        "market": Coded(sellers.market[seller][order], dims.MARKET_CODES),
        "action": Coded(action[order], dims.ENFORCEMENT_ACTION_NAMES),
        "reason": Coded(reason[order], dims.ENFORCEMENT_REASONS),
        "detected_at": detected[order],
        "actioned_at": actioned[order],
        "appealed": appealed[order].astype(np.int8),
        "overturned": overturned[order],
    }
