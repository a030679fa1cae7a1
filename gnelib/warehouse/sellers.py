"""Sellers and their listings: who sells, since when, how much and how well.

Order volume per seller is lognormal (a long tail: a few sellers take much of the volume) and each seller has
a lognormal risk multiplier shared by its defect rates, so defects cluster by seller.
"""

from dataclasses import dataclass

import numpy as np

from gnelib.warehouse import calendar as cal
from gnelib.warehouse import dimensions as dims
from gnelib.warehouse import hostile_text
from gnelib.warehouse import incidents as inc
from gnelib.warehouse.frames import Coded
from gnelib.warehouse.scales import Scale, rng_for

NEVER = np.iinfo(np.int64).max
SELL_AFTER_JOIN_US = 2 * cal.US_PER_DAY  # listings go live within two days of joining; orders follow
NEW_SELLER_SHARE = 0.22
VOLUME_SIGMA = 1.6
RISK_SIGMA = 0.5


@dataclass
class Sellers:
    """Per-seller arrays (index = seller_id - 1) and the listings in seller order."""

    market: np.ndarray
    joined_us: np.ndarray
    weight: np.ndarray
    risk: np.ndarray
    tier: np.ndarray
    business_type: np.ndarray
    kyc: np.ndarray
    is_ring: np.ndarray
    display_name: list[str]
    banned_us: np.ndarray
    listing_start: np.ndarray
    listing_count: np.ndarray
    listing_category: np.ndarray
    listing_created_us: np.ndarray
    listing_price_usd: np.ndarray
    listing_title: list[str]

    @property
    def count(self) -> int:
        return len(self.market)

    @property
    def eligible_us(self) -> np.ndarray:
        """When each seller can start taking orders."""
        return self.joined_us + SELL_AFTER_JOIN_US

    @property
    def listing_seller(self) -> np.ndarray:
        """Seller index of each listing."""
        return np.repeat(np.arange(self.count), self.listing_count)


def market_category_weights(seed: int) -> np.ndarray:
    """Category mix per market (rows: markets, columns: categories), each row summing to 1."""
    rng = rng_for(seed, "market_categories")
    base = np.array([c.weight for c in dims.CATEGORIES])
    weights = base * rng.lognormal(0.0, 0.25, (len(dims.MARKETS), len(base)))
    beauty = dims.CATEGORY_NAMES.index(inc.COUNTERFEIT_CATEGORY)
    weights[dims.MARKET_CODES.index(inc.COUNTERFEIT_MARKET), beauty] *= 1.6  # beauty is big in Indonesia
    return weights / weights.sum(axis=1, keepdims=True)


def _pick(rng: np.random.Generator, probabilities: dict[str, float] | np.ndarray, n: int) -> np.ndarray:
    p = np.fromiter(probabilities.values(), float) if isinstance(probabilities, dict) else probabilities
    return rng.choice(len(p), size=n, p=p / p.sum()).astype(np.int16)


def _joined_times(rng: np.random.Generator, n: int) -> np.ndarray:
    is_new = rng.random(n) < NEW_SELLER_SHARE
    age_days = np.clip(rng.lognormal(np.log(500.0), 0.8, n), 1.0, 8 * 365.0)
    established = cal.FIRST_US - (age_days * cal.US_PER_DAY).astype(np.int64)
    new_from, new_to = cal.FIRST_US - 60 * cal.US_PER_DAY, cal.AS_OF_US - 3 * cal.US_PER_DAY
    new = rng.integers(new_from, new_to, n)
    return np.where(is_new, new, established)


def _tiers(joined_us: np.ndarray, weight: np.ndarray, risk: np.ndarray) -> np.ndarray:
    tenure_days = (cal.AS_OF_US - joined_us) / cal.US_PER_DAY
    volume_rank = weight.argsort().argsort() / max(len(weight) - 1, 1)
    tier = np.full(len(weight), dims.TIERS.index("bronze"), np.int16)
    tier[volume_rank >= 0.65] = dims.TIERS.index("silver")
    tier[(volume_rank >= 0.90) & (risk < 1.3)] = dims.TIERS.index("gold")
    tier[tenure_days < 90] = dims.TIERS.index("new")
    return tier


def _add_fraud_ring(
    rng: np.random.Generator, market: np.ndarray, weight: np.ndarray
) -> tuple[int, np.ndarray, float]:
    """Size, join times and per-seller volume weight of the VN fraud ring."""
    home = market == dims.MARKET_CODES.index(inc.FRAUD_MARKET)
    size = max(10, round(inc.FRAUD_RING_SELLER_SHARE * home.sum()))
    join_from = cal.week_start_us(inc.FRAUD_JOIN_WEEK)
    joined = rng.integers(join_from, join_from + int(3.5 * cal.US_PER_DAY), size)
    ring_weight = inc.FRAUD_RING_SHARE / (1 - inc.FRAUD_RING_SHARE) * weight[home].sum() / size
    return size, joined, ring_weight


def generate_sellers(scale: Scale, seed: int) -> Sellers:
    """Sellers (the fraud ring appended last) and their listings."""
    rng = rng_for(seed, "sellers")
    n = scale.sellers
    shares = np.array([m.order_share for m in dims.MARKETS])
    market = np.sort(_pick(rng, shares, n)).astype(np.int16)
    joined = _joined_times(rng, n)
    weight = rng.lognormal(0.0, VOLUME_SIGMA, n)
    ring_size, ring_joined, ring_weight = _add_fraud_ring(rng, market, weight)
    market = np.concatenate([market, np.full(ring_size, dims.MARKET_CODES.index(inc.FRAUD_MARKET), np.int16)])
    joined = np.concatenate([joined, ring_joined])
    weight = np.concatenate([weight, np.full(ring_size, ring_weight)])
    is_ring = np.arange(n + ring_size) >= n
    total = n + ring_size
    risk = np.exp(RISK_SIGMA * rng.standard_normal(total) - RISK_SIGMA**2 / 2)
    business_type = _pick(rng, dims.BUSINESS_TYPES, total)
    kyc = _pick(rng, dims.KYC_STATUSES, total)
    business_type[is_ring] = list(dims.BUSINESS_TYPES).index("individual")
    kyc[is_ring] = list(dims.KYC_STATUSES).index("pending")
    names = hostile_text.shop_names(total, rng)

    listing_count = 1 + rng.poisson(2.5, total)
    listing_start = np.concatenate([[0], np.cumsum(listing_count)[:-1]])
    category_weights = market_category_weights(seed)
    seller_primary = np.empty(total, np.int16)
    for m in range(len(dims.MARKETS)):
        at_m = market == m
        seller_primary[at_m] = _pick(rng, category_weights[m], int(at_m.sum()))
    listing_seller = np.repeat(np.arange(total), listing_count)
    n_listings = int(listing_count.sum())
    other = np.empty(n_listings, np.int16)
    listing_market = market[listing_seller]
    for m in range(len(dims.MARKETS)):
        at_m = listing_market == m
        other[at_m] = _pick(rng, category_weights[m], int(at_m.sum()))
    category = np.where(rng.random(n_listings) < 0.75, seller_primary[listing_seller], other)
    created = joined[listing_seller] + rng.integers(0, SELL_AFTER_JOIN_US, n_listings)
    medians = np.array([c.median_price_usd for c in dims.CATEGORIES])
    price = np.round(medians[category] * rng.lognormal(0.0, 0.55, n_listings), 2)
    titles = hostile_text.listing_titles(np.array(dims.CATEGORY_NAMES)[category], rng)

    return Sellers(
        market=market,
        joined_us=joined,
        weight=weight,
        risk=risk,
        tier=_tiers(joined, weight, risk),
        business_type=business_type,
        kyc=kyc,
        is_ring=is_ring,
        display_name=names,
        banned_us=np.full(total, NEVER, np.int64),
        listing_start=listing_start,
        listing_count=listing_count,
        listing_category=category,
        listing_created_us=created,
        listing_price_usd=price,
        listing_title=titles,
    )


def seller_columns(sellers: Sellers) -> dict[str, object]:
    """The `sellers` table."""
    return {
        "seller_id": np.arange(1, sellers.count + 1, dtype=np.int64),
        "market": Coded(sellers.market, dims.MARKET_CODES),
        "joined_at": sellers.joined_us,
        "tier": Coded(sellers.tier, dims.TIERS),
        "business_type": Coded(sellers.business_type, tuple(dims.BUSINESS_TYPES)),
        "kyc_status": Coded(sellers.kyc, tuple(dims.KYC_STATUSES)),
        "display_name": sellers.display_name,
    }


def listing_columns(sellers: Sellers) -> dict[str, object]:
    """The `listings` table."""
    seller = sellers.listing_seller
    market = sellers.market[seller]
    fx = np.array([m.usd_to_local for m in dims.MARKETS])[market]
    decimals = np.array([m.local_decimals for m in dims.MARKETS])[market]
    return {
        "listing_id": np.arange(1, len(seller) + 1, dtype=np.int64),
        "seller_id": seller.astype(np.int64) + 1,
        "market": Coded(market, dims.MARKET_CODES),
        "category": Coded(sellers.listing_category, dims.CATEGORY_NAMES),
        "created_at": sellers.listing_created_us,
        "title": sellers.listing_title,
        "price_local": round_local(sellers.listing_price_usd * fx, decimals),
        "price_usd": sellers.listing_price_usd,
    }


def round_local(amounts: np.ndarray, decimals: np.ndarray) -> np.ndarray:
    """Round local-currency amounts to each currency's decimals (0 for IDR and VND)."""
    return np.where(decimals == 0, np.round(amounts, 0), np.round(amounts, 2))
