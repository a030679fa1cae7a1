"""Creators (affiliates selling through live and short video): who they are, the orders they drive, their
content moderation and the enforcement against them, plus the planted creator ring's counterfeit claims.

Everything here draws from its own random streams, so the tables built before creators existed are unchanged;
orders only gain `creator_id` and after-sales only gains the ring's extra counterfeit requests.
"""

from dataclasses import dataclass, field

import numpy as np

from gnelib.warehouse import calendar as cal
from gnelib.warehouse import dimensions as dims
from gnelib.warehouse import incidents as inc
from gnelib.warehouse.frames import NULL_TIME, Coded
from gnelib.warehouse.scales import Scale, rng_for

CREATORS_PER_SELLER = 0.2
CREATOR_TIERS = ("rising", "established", "top")
FOLLOWER_BANDS = {"<10k": 0.45, "10k-100k": 0.35, "100k-1m": 0.15, "1m+": 0.05}
FOLLOWER_BAND_NAMES = tuple(FOLLOWER_BANDS)
BAND_VOLUME = np.array([0.5, 1.0, 2.5, 6.0])  # order volume multiplier per follower band
BAND_TOP_SHARE = np.array([0.0, 0.05, 0.4, 0.9])  # share of each band that is tier `top`
BAND_ESTABLISHED_SHARE = np.array([0.25, 0.6, 0.5, 0.1])
NEW_CREATOR_SHARE = 0.3  # creators who join inside the window (the rest joined before it)
ATTRIBUTED = {"live": 0.8, "short_video": 0.6}  # share of a channel's orders a creator drove

CONTENT_TYPES = ("live", "short_video")
CONTENT_REVIEWS_PER_WEEK = 0.4
CREATOR_DETECTION = {"proactive_model": 0.6, "user_report": 0.4}
CREATOR_DETECTION_NAMES = tuple(CREATOR_DETECTION)
REMOVAL_RATE = 0.05  # times the creator's risk; user reports twice as often
CREATOR_POLICIES = {"counterfeit": 0.3, "prohibited_items": 0.2, "misleading_claims": 0.35, "harmful_content": 0.15}
CREATOR_POLICY_NAMES = tuple(CREATOR_POLICIES)

CREATOR_ACTIONS = ("warning", "strike")
ACTION_RATE = 0.6  # share of removals that lead to an enforcement action
STRIKE_POLICIES = ("counterfeit", "prohibited_items")
OTHER_STRIKE_SHARE = 0.3
ACTION_MEDIAN_HOURS = 20.0
APPEAL_RATES = {"warning": 0.1, "strike": 0.35}
APPEAL_MEDIAN_HOURS = 60.0
CREATOR_OVERTURN_RATE = 0.2
RING_OVERTURN_RATE = 0.03
STRIKE_DAYS = 90  # a strike is active this long after it is actioned (unless overturned on appeal)


@dataclass
class Creators:
    """Per-creator arrays (index = creator_id - 1); the ring comes last."""

    market: np.ndarray
    joined_us: np.ndarray
    tier: np.ndarray
    follower_band: np.ndarray
    weight: np.ndarray
    risk: np.ndarray
    is_ring: np.ndarray

    @property
    def count(self) -> int:
        return len(self.market)


def generate_creators(scale: Scale, seed: int) -> Creators:
    """The creators of a warehouse: market by order share, follower band, tier, volume weight and risk."""
    rng = rng_for(seed, "creators")
    n = max(50, round(scale.sellers * CREATORS_PER_SELLER))
    shares = np.array([m.order_share for m in dims.MARKETS])
    market = np.sort(rng.choice(len(shares), n, p=shares / shares.sum())).astype(np.int16)
    is_new = rng.random(n) < NEW_CREATOR_SHARE
    age_days = np.clip(rng.lognormal(np.log(300.0), 0.8, n), 1.0, 6 * 365.0)
    joined = np.where(
        is_new,
        rng.integers(cal.FIRST_US, cal.AS_OF_US - 7 * cal.US_PER_DAY, n),
        cal.FIRST_US - (age_days * cal.US_PER_DAY).astype(np.int64),
    )
    band = rng.choice(len(FOLLOWER_BANDS), n, p=list(FOLLOWER_BANDS.values())).astype(np.int16)
    u = rng.random(n)
    tier = np.where(
        u < BAND_TOP_SHARE[band], 2, np.where(u < BAND_TOP_SHARE[band] + BAND_ESTABLISHED_SHARE[band], 1, 0)
    )
    weight = rng.lognormal(0.0, 1.0, n) * BAND_VOLUME[band]
    risk = np.exp(0.5 * rng.standard_normal(n) - 0.125)

    size = inc.CREATOR_RING_SIZE
    join_from = cal.week_start_us(inc.CREATOR_RING_JOIN_WEEKS[0])
    join_to = cal.week_start_us(inc.CREATOR_RING_JOIN_WEEKS[1]) + 7 * cal.US_PER_DAY
    return Creators(
        market=np.concatenate([market, np.full(size, dims.MARKET_CODES.index(inc.CREATOR_RING_MARKET), np.int16)]),
        joined_us=np.concatenate([joined, rng.integers(join_from, join_to, size)]),
        tier=np.concatenate([tier, np.full(size, CREATOR_TIERS.index(inc.CREATOR_RING_TIER))]).astype(np.int16),
        follower_band=np.concatenate([band, band[rng.integers(0, n, size)]]),
        weight=np.concatenate([weight, np.ones(size)]),
        risk=np.concatenate([risk, np.full(size, 3.0)]),
        is_ring=np.arange(n + size) >= n,
    )


def creator_columns(creators: Creators) -> dict[str, object]:
    """The `creators` table."""
    return {
        "creator_id": np.arange(1, creators.count + 1, dtype=np.int64),
        "market": Coded(creators.market, dims.MARKET_CODES),
        "tier": Coded(creators.tier, CREATOR_TIERS),
        "follower_band": Coded(creators.follower_band, FOLLOWER_BAND_NAMES),
        "joined_at": creators.joined_us,
    }


@dataclass
class CreatorAttribution:
    """Adds `creator_id` to each week's orders and keeps the ring's counterfeit claims for the end of the build."""

    creators: Creators
    seed: int
    ring_claims: list[dict[str, np.ndarray]] = field(default_factory=list)

    def attribute(self, index: int, tables: dict[str, dict[str, object]]) -> None:
        """Set `tables["orders"]["creator_id"]` (NULL for orders no creator drove) for the window's week `index`."""
        rng = rng_for(self.seed, "creator_orders", index)
        orders = tables["orders"]
        market, channel = orders["market"].codes, orders["channel"].codes
        n = len(market)
        share = np.zeros(len(dims.CHANNEL_NAMES))
        for name, value in ATTRIBUTED.items():
            share[dims.CHANNEL_NAMES.index(name)] = value
        driven = rng.random(n) < share[channel]
        u = rng.random(n)
        creator = np.full(n, -1, np.int64)
        week_start = cal.FIRST_US + index * 7 * cal.US_PER_DAY
        active = (self.creators.joined_us <= week_start) & ~self.creators.is_ring
        for m in range(len(dims.MARKETS)):
            candidates = np.flatnonzero(active & (self.creators.market == m))
            rows = np.flatnonzero(driven & (market == m))
            if len(candidates) == 0 or len(rows) == 0:
                driven[rows] = False
                continue
            cumulative = np.cumsum(self.creators.weight[candidates])
            picks = np.searchsorted(cumulative, u[rows] * cumulative[-1], side="right")
            creator[rows] = candidates[np.minimum(picks, len(candidates) - 1)]
        ring = self._ring_orders(rng, index, market, channel, driven)
        ring_members = np.flatnonzero(self.creators.is_ring)
        creator[ring] = ring_members[rng.integers(0, len(ring_members), len(ring))]
        orders["creator_id"] = np.ma.masked_less(creator + 1, 1)  # masked = NULL (no creator drove the order)
        if len(ring):
            self._ring_claims(rng, ring, tables)

    def _ring_orders(
        self, rng: np.random.Generator, index: int, market: np.ndarray, channel: np.ndarray, driven: np.ndarray
    ) -> np.ndarray:
        """Rows of the week's orders that the ring drives (TH live creator orders of the ring's weeks)."""
        if not inc.CREATOR_RING_WEEKS[0] <= cal.week_label(index) <= inc.CREATOR_RING_WEEKS[1]:
            return np.array([], np.int64)
        eligible = (
            driven
            & (market == dims.MARKET_CODES.index(inc.CREATOR_RING_MARKET))
            & (channel == dims.CHANNEL_NAMES.index("live"))
        )
        return np.flatnonzero(eligible & (rng.random(len(market)) < inc.CREATOR_RING_ORDER_SHARE))

    def _ring_claims(self, rng: np.random.Generator, ring: np.ndarray, tables: dict[str, dict[str, object]]) -> None:
        """Counterfeit after-sales requests on the ring's delivered orders that have no request yet."""
        orders = tables["orders"]
        delivered = orders["delivered_at"][ring]
        has_request = np.isin(orders["order_id"][ring], tables["after_sales"]["order_id"])
        claim = (delivered != NULL_TIME) & ~has_request & (rng.random(len(ring)) < inc.CREATOR_RING_COUNTERFEIT_RATE)
        rows = ring[claim]
        requested = (
            orders["delivered_at"][rows] + cal.US_PER_HOUR + (rng.exponential(2.5, len(rows)) * cal.US_PER_DAY)
        ).astype(np.int64)
        resolved = requested + (36.0 * rng.lognormal(0.0, 0.7, len(rows)) * cal.US_PER_HOUR).astype(np.int64)
        approved = rng.random(len(rows)) < dims.AFTER_SALES_REASONS["counterfeit"][1]
        refund_only = rng.random(len(rows)) >= 0.2
        keep = requested < cal.AS_OF_US
        self.ring_claims.append(
            {
                "order_id": orders["order_id"][rows][keep],
                "requested_at": requested[keep],
                "resolved_at": resolved[keep],
                "approved": approved[keep],
                "refund_only": refund_only[keep],
                "gmv_usd": orders["gmv_usd"][rows][keep],
            }
        )

    def ring_requests(self, first_request_id: int) -> dict[str, object]:
        """The ring's counterfeit requests as `after_sales` rows, numbered from `first_request_id`."""
        parts = (
            {key: np.concatenate([claim[key] for claim in self.ring_claims]) for key in _CLAIM_KEYS}
            if self.ring_claims
            else {key: np.array([], np.int64) for key in _CLAIM_KEYS}
        )
        n = len(parts["order_id"])
        resolved = parts["resolved_at"].astype(np.int64)
        is_resolved = resolved < cal.AS_OF_US
        status = np.where(is_resolved, np.where(parts["approved"].astype(bool), 0, 1), 2).astype(np.int16)
        return {
            "request_id": np.arange(first_request_id, first_request_id + n, dtype=np.int64),
            "order_id": parts["order_id"].astype(np.int64),
            "requested_at": parts["requested_at"].astype(np.int64),
            "type": Coded(np.where(parts["refund_only"].astype(bool), 0, 1).astype(np.int16), dims.AFTER_SALES_TYPES),
            "reason": Coded(
                np.full(n, dims.AFTER_SALES_REASON_NAMES.index("counterfeit"), np.int16), dims.AFTER_SALES_REASON_NAMES
            ),
            "status": Coded(status, dims.AFTER_SALES_STATUSES),
            "refund_amount_usd": np.where(status == 0, parts["gmv_usd"].astype(float), 0.0),
            "resolved_at": np.where(is_resolved, resolved, NULL_TIME),
            "escalated_to_dispute": np.zeros(n, np.int8),
            "dispute_outcome": Coded(np.full(n, -1, np.int16), dims.DISPUTE_OUTCOMES),
        }


_CLAIM_KEYS = ("order_id", "requested_at", "resolved_at", "approved", "refund_only", "gmv_usd")


def generate_creator_moderation(creators: Creators, seed: int) -> dict[str, object]:
    """The `creator_content_moderation` table: reviews of creators' live and short-video content."""
    rng = rng_for(seed, "creator_moderation")
    start = np.maximum(creators.joined_us, cal.FIRST_US)
    weeks = np.clip((cal.AS_OF_US - start) / (7 * cal.US_PER_DAY), 0.0, None)
    counts = rng.poisson(CONTENT_REVIEWS_PER_WEEK * weeks * np.sqrt(creators.weight))
    counts[creators.is_ring] = 0
    creator = np.repeat(np.arange(creators.count), counts)
    reviewed = start[creator] + (rng.random(len(creator)) * (cal.AS_OF_US - start[creator])).astype(np.int64)
    content = rng.choice(len(CONTENT_TYPES), len(creator), p=[0.45, 0.55]).astype(np.int16)
    source = rng.choice(len(CREATOR_DETECTION), len(creator), p=list(CREATOR_DETECTION.values())).astype(np.int16)
    removal = REMOVAL_RATE * creators.risk[creator] * np.where(source == 1, 2.0, 1.0)
    policy = rng.choice(len(CREATOR_POLICIES), len(creator), p=list(CREATOR_POLICIES.values())).astype(np.int16)

    ring = np.flatnonzero(creators.is_ring)
    ring_from = cal.week_start_us(inc.CREATOR_RING_WEEKS[0])
    ring_weeks = (cal.week_start_us(inc.CREATOR_RING_WEEKS[1]) - ring_from) // (7 * cal.US_PER_DAY) + 1
    ring_creator = np.repeat(ring, rng.poisson(inc.CREATOR_RING_REVIEWS * ring_weeks, len(ring)))
    creator = np.concatenate([creator, ring_creator])
    ring_span = ring_weeks * 7 * cal.US_PER_DAY
    reviewed = np.concatenate([reviewed, ring_from + rng.integers(0, ring_span, len(ring_creator))])
    content = np.concatenate([content, np.zeros(len(ring_creator), np.int16)])
    source = np.concatenate([source, np.ones(len(ring_creator), np.int16)])
    removal = np.concatenate([removal, np.full(len(ring_creator), inc.CREATOR_RING_REMOVAL_RATE)])
    policy = np.concatenate([policy, np.zeros(len(ring_creator), np.int16)])

    removed = rng.random(len(creator)) < np.clip(removal, 0.0, 0.95)
    decided = reviewed + (6.0 * rng.lognormal(0.0, 0.7, len(creator)) * cal.US_PER_HOUR).astype(np.int64)
    keep = np.flatnonzero(decided < cal.AS_OF_US)
    keep = keep[np.argsort(reviewed[keep], kind="stable")]
    return {
        "review_id": np.arange(1, len(keep) + 1, dtype=np.int64),
        "creator_id": creator[keep].astype(np.int64) + 1,
        "market": Coded(creators.market[creator[keep]], dims.MARKET_CODES),
        "content_type": Coded(content[keep], CONTENT_TYPES),
        "reviewed_at": reviewed[keep],
        "decided_at": decided[keep],
        "decision": Coded(removed[keep].astype(np.int16), ("approved", "removed")),
        "policy_violated": Coded(np.where(removed[keep], policy[keep], -1).astype(np.int16), CREATOR_POLICY_NAMES),
        "detection_source": Coded(source[keep], CREATOR_DETECTION_NAMES),
    }


def generate_creator_enforcement(moderation: dict[str, object], creators: Creators, seed: int) -> dict[str, object]:
    """The `creator_enforcement` table: warnings and strikes after content removals, with their appeals.

    `reported_at` is when the removed content was reported or flagged (its review time); appeals filed or decided
    after the as-of time are unknown."""
    rng = rng_for(seed, "creator_enforcement")
    removed = np.flatnonzero(moderation["decision"].codes == 1)
    removed = removed[rng.random(len(removed)) < ACTION_RATE]
    n = len(removed)
    creator = moderation["creator_id"][removed] - 1
    policy = moderation["policy_violated"].codes[removed]
    strike_policy = np.isin(policy, [CREATOR_POLICY_NAMES.index(p) for p in STRIKE_POLICIES])
    action = (strike_policy | (rng.random(n) < OTHER_STRIKE_SHARE)).astype(np.int16)
    reported = moderation["reviewed_at"][removed]
    actioned = moderation["decided_at"][removed] + (
        ACTION_MEDIAN_HOURS * rng.lognormal(0.0, 0.8, n) * cal.US_PER_HOUR
    ).astype(np.int64)
    filed = actioned + (rng.exponential(1.5, n) * cal.US_PER_DAY).astype(np.int64)
    decided = filed + (APPEAL_MEDIAN_HOURS * rng.lognormal(0.0, 0.6, n) * cal.US_PER_HOUR).astype(np.int64)
    appeal_rate = np.array([APPEAL_RATES[a] for a in CREATOR_ACTIONS])[action]
    appealed = (rng.random(n) < appeal_rate) & (filed < cal.AS_OF_US)
    known = appealed & (decided < cal.AS_OF_US)
    overturn_rate = np.where(creators.is_ring[creator], RING_OVERTURN_RATE, CREATOR_OVERTURN_RATE)
    overturned = np.where(known, (rng.random(n) < overturn_rate).astype(np.int8), -1)

    keep = np.flatnonzero(actioned < cal.AS_OF_US)
    keep = keep[np.lexsort((creator[keep], actioned[keep]))]
    return {
        "action_id": np.arange(1, len(keep) + 1, dtype=np.int64),
        "creator_id": creator[keep].astype(np.int64) + 1,
        "market": Coded(creators.market[creator[keep]], dims.MARKET_CODES),
        "action": Coded(action[keep], CREATOR_ACTIONS),
        "reason": Coded(policy[keep].astype(np.int16), CREATOR_POLICY_NAMES),
        "reported_at": reported[keep],
        "actioned_at": actioned[keep],
        "appealed": appealed[keep].astype(np.int8),
        "appeal_decided_at": np.where(known, decided, NULL_TIME)[keep],
        "overturned": overturned[keep],
    }
