"""Dimension values and the base rates of the synthetic marketplace.

Every rate is a per-order (or per-review) probability before seller, channel, carrier and incident
multipliers.
Outcomes are drawn independently of one another given the seller, so each planted incident moves only the
metrics its manifest row names.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Market:
    """One market: its volume share, currency and how its base rates differ from the average."""

    code: str
    order_share: float
    usd_to_local: float
    local_decimals: int
    transit_days: int
    cancel_mult: float
    dispatch_mult: float
    delivery_mult: float
    after_sales_mult: float
    review_mult: float
    tracking_valid: float


MARKETS = (
    Market("US", 0.14, 1.0, 2, 4, 0.8, 0.8, 0.9, 1.25, 0.9, 0.985),
    Market("GB", 0.07, 0.79, 2, 3, 0.7, 0.7, 0.8, 1.15, 0.9, 0.985),
    Market("ID", 0.24, 16250.0, 0, 4, 1.1, 1.2, 1.15, 1.0, 1.1, 0.96),
    Market("TH", 0.14, 34.5, 2, 3, 1.0, 1.0, 1.0, 0.85, 1.0, 0.97),
    Market("VN", 0.13, 25400.0, 0, 3, 1.2, 1.1, 1.05, 0.9, 1.05, 0.965),
    Market("MY", 0.10, 4.4, 2, 3, 0.9, 0.9, 0.95, 0.9, 0.95, 0.975),
    Market("PH", 0.12, 57.5, 2, 5, 1.15, 1.3, 1.25, 0.95, 1.15, 0.955),
    Market("SG", 0.06, 1.33, 2, 2, 0.6, 0.6, 0.7, 1.1, 0.8, 0.99),
)
MARKET_CODES = tuple(m.code for m in MARKETS)


@dataclass(frozen=True)
class Category:
    """A product category: its weight in the order mix, median price and claim-risk multipliers."""

    name: str
    weight: float
    median_price_usd: float
    counterfeit_mult: float
    nad_mult: float


CATEGORIES = (
    Category("beauty", 15.0, 14.0, 5.0, 1.1),
    Category("womens_fashion", 13.0, 18.0, 1.0, 1.3),
    Category("mens_fashion", 7.0, 20.0, 1.0, 1.2),
    Category("phones", 5.0, 120.0, 1.5, 0.9),
    Category("electronics", 6.0, 45.0, 1.2, 1.0),
    Category("home_living", 8.0, 16.0, 0.3, 0.9),
    Category("kitchen", 5.0, 15.0, 0.3, 0.8),
    Category("toys", 4.0, 12.0, 0.8, 0.9),
    Category("sports_outdoor", 4.0, 25.0, 1.0, 0.9),
    Category("health", 4.0, 13.0, 1.5, 1.0),
    Category("baby", 3.0, 15.0, 0.7, 0.8),
    Category("pets", 2.0, 14.0, 0.3, 0.8),
    Category("books", 1.5, 10.0, 0.4, 0.6),
    Category("automotive", 2.0, 22.0, 0.8, 0.9),
    Category("jewellery", 2.0, 19.0, 2.5, 1.2),
    Category("bags", 3.0, 28.0, 3.0, 1.1),
    Category("shoes", 4.0, 32.0, 2.5, 1.2),
    Category("food_beverage", 5.0, 8.0, 0.3, 0.7),
    Category("computers", 2.5, 90.0, 1.0, 0.9),
    Category("stationery", 1.5, 6.0, 0.2, 0.6),
    Category("watches", 1.5, 35.0, 3.0, 1.1),
    Category("collectibles", 1.0, 24.0, 2.0, 1.0),
)
CATEGORY_NAMES = tuple(c.name for c in CATEGORIES)

# Channel: (share of orders, late-dispatch multiplier). Live selling dispatches late far more often.
CHANNELS = {"live": (0.20, 3.5), "short_video": (0.25, 1.0), "mall": (0.20, 0.45), "search": (0.35, 0.75)}
CHANNEL_NAMES = tuple(CHANNELS)

# Carrier: (share of a market's orders, late-delivery multiplier, extra transit days).
CARRIERS = {
    "carrier_a": (0.35, 0.9, 0),
    "carrier_b": (0.25, 1.0, 0),
    "carrier_c": (0.25, 1.15, 1),
    "carrier_d": (0.15, 1.0, 1),
}
CARRIER_NAMES = tuple(CARRIERS)

TIERS = ("new", "bronze", "silver", "gold")
BUSINESS_TYPES = {"individual": 0.55, "business": 0.35, "brand": 0.10}
KYC_STATUSES = {"verified": 0.88, "pending": 0.08, "failed": 0.04}

# Seller tenure band at order time: (label, upper bound in days, seller-fault cancel multiplier).
TENURE_BANDS = (("<30d", 30, 1.6), ("30-90d", 90, 1.25), ("90-365d", 365, 1.0), ("1y+", None, 0.9))
TENURE_BAND_NAMES = tuple(band[0] for band in TENURE_BANDS)

# Order-level base rates.
SELLER_CANCEL_RATE = 0.012
SELLER_CANCEL_REASONS = {"out_of_stock": 0.6, "unable_to_ship": 0.25, "pricing_error": 0.15}
BUYER_CANCEL_RATE = 0.025
PLATFORM_CANCEL_RATE = 0.006
PLATFORM_CANCEL_REASONS = {"payment_failed": 0.7, "fraud_suspected": 0.3}
LATE_DISPATCH_RATE = 0.035
LATE_DELIVERY_RATE = 0.06
REVIEW_RATE = 0.35
NEGATIVE_REVIEW_SHARE = 0.06  # of reviews, before market and seller multipliers
CANCEL_REASONS = (
    "out_of_stock",
    "unable_to_ship",
    "pricing_error",
    "buyer_changed_mind",
    "payment_failed",
    "fraud_suspected",
)
CANCEL_FAULTS = ("seller", "buyer", "platform")

# After-sales reasons: (rate per delivered order, share approved, request type when refund-only is possible).
AFTER_SALES_REASONS = {
    "not_as_described": (0.012, 0.75),
    "counterfeit": (0.004, 0.80),
    "damaged": (0.008, 0.85),
    "missing": (0.004, 0.80),
    "late": (0.004, 0.70),
    "changed_mind": (0.009, 0.60),
}
AFTER_SALES_REASON_NAMES = tuple(AFTER_SALES_REASONS)
AFTER_SALES_TYPES = ("refund_only", "return_and_refund")
AFTER_SALES_STATUSES = ("approved", "rejected", "pending")
DISPUTE_OUTCOMES = ("buyer_won", "seller_won")

# Listing moderation: detection source → (share of reviews, removal rate, appeal overturn rate, median hours
# from review to decision).
DETECTION_SOURCES = {
    "proactive_model": (0.90, 0.42, 0.10, 4.0),
    "user_report": (0.07, 0.30, 0.12, 20.0),
    "audit": (0.03, 0.04, 0.06, 30.0),
}
DETECTION_SOURCE_NAMES = tuple(DETECTION_SOURCES)
APPEAL_RATE = 0.20
POLICIES = {
    "counterfeit": 0.20,
    "prohibited_item": 0.15,
    "misleading_claims": 0.25,
    "ip_infringement": 0.15,
    "restricted_item": 0.10,
    "spam": 0.15,
}
POLICY_NAMES = tuple(POLICIES)

# Enforcement: action → (weekly hazard per active seller, reason mix, appeal rate,
# median hours from detection to action).
ENFORCEMENT_ACTIONS = {
    "warning": (
        0.004,
        {"performance": 0.70, "prohibited_items": 0.15, "counterfeit": 0.10, "fraud": 0.05},
        0.10,
        72.0,
    ),
    "suspension": (
        0.001,
        {"performance": 0.40, "counterfeit": 0.25, "prohibited_items": 0.20, "fraud": 0.15},
        0.30,
        48.0,
    ),
    "ban": (
        0.00025,
        {"fraud": 0.50, "counterfeit": 0.30, "prohibited_items": 0.15, "performance": 0.05},
        0.45,
        36.0,
    ),
}
ENFORCEMENT_ACTION_NAMES = tuple(ENFORCEMENT_ACTIONS)
ENFORCEMENT_REASONS = ("fraud", "counterfeit", "prohibited_items", "performance")
ENFORCEMENT_OVERTURN_RATE = 0.15
