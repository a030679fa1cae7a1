"""Listing moderation reviews: detection source, decision, policy, appeal and its outcome.

Reviews not yet decided at the as-of time are not in the table; appeals filed or decided after it are unknown.
"""

import numpy as np

from gnelib.warehouse import calendar as cal
from gnelib.warehouse import dimensions as dims
from gnelib.warehouse import incidents as inc
from gnelib.warehouse.frames import NULL_TIME, Coded
from gnelib.warehouse.scales import Scale, rng_for
from gnelib.warehouse.sellers import Sellers

WEEKLY_GROWTH = 0.004


def _review_times(rng: np.random.Generator, scale: Scale) -> tuple[np.ndarray, np.ndarray]:
    """Market index and review time of every review, spread over the window with slow growth."""
    shares = np.array([m.order_share for m in dims.MARKETS])
    days = np.arange(cal.N_DAYS)
    intensity = np.outer(np.exp(WEEKLY_GROWTH / 7 * days), shares)
    counts = rng.poisson(intensity / intensity.sum() * scale.moderation_reviews)
    day, market = np.nonzero(counts)
    repeats = counts[day, market]
    day, market = np.repeat(day, repeats), np.repeat(market, repeats)
    reviewed = cal.FIRST_US + day * cal.US_PER_DAY + rng.integers(0, cal.US_PER_DAY, len(day))
    return market.astype(np.int16), reviewed


def _pick_listings(
    rng: np.random.Generator, sellers: Sellers, market: np.ndarray, reviewed: np.ndarray
) -> np.ndarray:
    """A listing of the review's market already published at review time (uniformly among those)."""
    listing_market = sellers.market[sellers.listing_seller]
    picked = np.empty(len(market), np.int64)
    for m in range(len(dims.MARKETS)):
        candidates = np.flatnonzero(listing_market == m)
        candidates = candidates[np.argsort(sellers.listing_created_us[candidates], kind="stable")]
        created = sellers.listing_created_us[candidates]
        rows = np.flatnonzero(market == m)
        available = np.searchsorted(created, reviewed[rows])
        picked[rows] = candidates[(rng.random(len(rows)) * np.maximum(available, 1)).astype(np.int64)]
    return picked


def generate_moderation(sellers: Sellers, scale: Scale, seed: int) -> dict[str, object]:
    """The `listing_moderation` table."""
    rng = rng_for(seed, "moderation")
    market, reviewed = _review_times(rng, scale)
    listing = _pick_listings(rng, sellers, market, reviewed)
    category = sellers.listing_category[listing]
    risk = sellers.risk[sellers.listing_seller[listing]]
    n = len(listing)

    sources = dims.DETECTION_SOURCES
    source = rng.choice(len(sources), n, p=[s[0] for s in sources.values()]).astype(np.int16)
    removal_rate = np.array([s[1] for s in sources.values()])[source]
    audit = source == dims.DETECTION_SOURCE_NAMES.index("audit")
    removed = rng.random(n) < np.clip(removal_rate * np.where(audit, 1.0, risk), 0.0, 0.95)

    policy_weights = np.tile(np.fromiter(dims.POLICIES.values(), float), (len(dims.CATEGORIES), 1))
    policy_weights[:, dims.POLICY_NAMES.index("counterfeit")] *= [c.counterfeit_mult for c in dims.CATEGORIES]
    policy_cdf = np.cumsum(policy_weights / policy_weights.sum(axis=1, keepdims=True), axis=1)
    policy = (rng.random(n)[:, None] > policy_cdf[category]).sum(axis=1).astype(np.int16)
    policy = np.where(removed, policy, -1)

    median_hours = np.array([s[3] for s in sources.values()])[source]
    decided = reviewed + (median_hours * rng.lognormal(0.0, 0.7, n) * cal.US_PER_HOUR).astype(np.int64)
    filed = decided + (rng.exponential(1.5, n) * cal.US_PER_DAY).astype(np.int64)
    appeal_decided = filed + (48.0 * rng.lognormal(0.0, 0.6, n) * cal.US_PER_HOUR).astype(np.int64)
    appealed = removed & (rng.random(n) < dims.APPEAL_RATE) & (filed < cal.AS_OF_US)

    overturn_rate = np.array([s[2] for s in sources.values()])[source]
    regression_weeks = [cal.week_index(w) for w in inc.MODERATION_WEEKS]
    week = cal.week_index_of(reviewed)
    regressed = (
        (market == dims.MARKET_CODES.index(inc.MODERATION_MARKET))
        & (source == dims.DETECTION_SOURCE_NAMES.index(inc.MODERATION_SOURCE))
        & (week >= regression_weeks[0])
        & (week <= regression_weeks[1])
    )
    overturn_rate = np.where(regressed, inc.MODERATION_OVERTURN_RATE, overturn_rate)
    known = appealed & (appeal_decided < cal.AS_OF_US)
    overturned = np.where(known, (rng.random(n) < overturn_rate).astype(np.int8), -1)

    keep = np.flatnonzero(decided < cal.AS_OF_US)
    keep = keep[np.argsort(reviewed[keep], kind="stable")]
    return {
        "review_id": np.arange(1, len(keep) + 1, dtype=np.int64),
        "listing_id": listing[keep] + 1,
        "market": Coded(market[keep], dims.MARKET_CODES),
        "category": Coded(category[keep], dims.CATEGORY_NAMES),
        "reviewed_at": reviewed[keep],
        "decided_at": decided[keep],
        "decision": Coded(removed[keep].astype(np.int16), ("approved", "removed")),
        "policy_violated": Coded(policy[keep], dims.POLICY_NAMES),
        "detection_source": Coded(source[keep], dims.DETECTION_SOURCE_NAMES),
        "appealed": appealed[keep].astype(np.int8),
        "appeal_overturned": overturned[keep],
        "appeal_decided_at": np.where(known, appeal_decided, NULL_TIME)[keep],
    }
