"""The planted incidents: their parameters (for the generator) and their manifest (the `incidents` table).

All incidents sit in 2026-W44..W47; markets US, GB and SG and every week before W44 are quiet.
"""

from dataclasses import dataclass

from gnelib.warehouse import dimensions as dims

# counterfeit_wave: ID beauty orders of W46-W47 get four times the counterfeit after-sales requests.
COUNTERFEIT_MARKET = "ID"
COUNTERFEIT_CATEGORY = "beauty"
COUNTERFEIT_WEEKS = ("2026-W46", "2026-W47")
COUNTERFEIT_MULT = 4.0
# logistics_delay: TH orders of W45-W46 shipped with carrier_b are delivered late this often.
LOGISTICS_MARKET = "TH"
LOGISTICS_CARRIER = "carrier_b"
LOGISTICS_WEEKS = ("2026-W45", "2026-W46")
LOGISTICS_LATE_RATE = 0.35
# fraud_ring: new VN sellers joining early in W44 cancel this share of their orders for seller fault; all are
# banned for fraud during W46-W47 (before their 30th day).
FRAUD_MARKET = "VN"
FRAUD_WEEKS = ("2026-W44", "2026-W47")
FRAUD_JOIN_WEEK = "2026-W44"
FRAUD_BAN_WEEKS = ("2026-W46", "2026-W47")
FRAUD_CANCEL_RATE = 0.45
FRAUD_RING_SHARE = 0.06  # share of the market's order volume that the ring takes while active
FRAUD_RING_SELLER_SHARE = 0.025  # ring size relative to the market's sellers
FRAUD_BASELINE_WEEKS = ("2026-W36", "2026-W43")  # used to state the planted size of the ring's effect
# moderation_regression: MY removals by the proactive model in W46-W47 are overturned on appeal this often.
MODERATION_MARKET = "MY"
MODERATION_SOURCE = "proactive_model"
MODERATION_WEEKS = ("2026-W46", "2026-W47")
MODERATION_OVERTURN_RATE = 0.35
# mix_shift: PH orders of W47 move to the live channel (the target share); channel rates are unchanged.
MIX_MARKET = "PH"
MIX_CHANNEL = "live"
MIX_WEEK = "2026-W47"
MIX_TARGET_SHARE = 0.45

# creator_ring: rising TH creators (joined in W44-W45) push counterfeit listings in live streams in W46-W47: they
# drive this share of TH live creator orders, this share of their delivered orders draws a counterfeit claim, and
# this share of their live content reviews (this many per creator and week) ends in a counterfeit removal.
CREATOR_RING_MARKET = "TH"
CREATOR_RING_WEEKS = ("2026-W46", "2026-W47")
CREATOR_RING_JOIN_WEEKS = ("2026-W44", "2026-W45")
CREATOR_RING_TIER = "rising"
CREATOR_RING_SIZE = 12
CREATOR_RING_ORDER_SHARE = 0.5
CREATOR_RING_COUNTERFEIT_RATE = 0.35
CREATOR_RING_REVIEWS = 6.0
CREATOR_RING_REMOVAL_RATE = 0.6

QUIET_MARKETS = ("US", "GB", "SG")


@dataclass(frozen=True)
class Incident:
    """One row of the `incidents` manifest."""

    incident_id: int
    name: str
    metrics: str
    market: str
    start_week: str
    end_week: str
    dimension: str
    dimension_value: str
    expected_effect: str
    expected_size: float
    description: str


def usual_late_delivery_rate(market: str, carrier: str) -> float:
    """The base late-delivery probability of a market × carrier (orders outside any incident)."""
    market_mult = next(m.delivery_mult for m in dims.MARKETS if m.code == market)
    return dims.LATE_DELIVERY_RATE * market_mult * dims.CARRIERS[carrier][1]


def manifest(fraud_ring_size: float) -> list[Incident]:
    """The incidents table; `fraud_ring_size` is the planted multiplier of VN <30d seller-fault cancels."""
    logistics_size = LOGISTICS_LATE_RATE / usual_late_delivery_rate(LOGISTICS_MARKET, LOGISTICS_CARRIER)
    moderation_usual = dims.DETECTION_SOURCES[MODERATION_SOURCE][2]
    return [
        Incident(
            1,
            "counterfeit_wave",
            "counterfeit_claim_rate,not_as_described_rate,refund_rate",
            COUNTERFEIT_MARKET,
            *COUNTERFEIT_WEEKS,
            "category",
            COUNTERFEIT_CATEGORY,
            f"counterfeit after-sales requests x{COUNTERFEIT_MULT:g} on ID beauty orders",
            COUNTERFEIT_MULT,
            "A wave of counterfeit beauty products in Indonesia: buyers of beauty orders placed in W46-W47 "
            "file four times the usual counterfeit claims, which raises the counterfeit claim, "
            "not-as-described (counterfeit included) and refund rates of ID beauty.",
        ),
        Incident(
            2,
            "logistics_delay",
            "late_delivery_rate",
            LOGISTICS_MARKET,
            *LOGISTICS_WEEKS,
            "carrier",
            LOGISTICS_CARRIER,
            f"late deliveries of TH carrier_b orders rise to {LOGISTICS_LATE_RATE:.0%}",
            round(logistics_size, 2),
            "A carrier_b hub backlog in Thailand: orders placed in W45-W46 and shipped with carrier_b are "
            f"delivered after the promised date {LOGISTICS_LATE_RATE:.0%} of the time instead of the usual "
            f"{usual_late_delivery_rate(LOGISTICS_MARKET, LOGISTICS_CARRIER):.1%}.",
        ),
        Incident(
            3,
            "fraud_ring",
            "seller_fault_cancel_rate,seller_ban_rate",
            FRAUD_MARKET,
            *FRAUD_WEEKS,
            "seller_tenure_band",
            "<30d",
            "seller-fault cancellations of VN <30d orders rise; the ring's sellers are banned for fraud in "
            "W46-W47",
            round(fraud_ring_size, 2),
            "A ring of new Vietnamese sellers (joined early in W44) takes orders it never ships: "
            f"{FRAUD_CANCEL_RATE:.0%} of its orders are cancelled for seller fault, lifting the seller-fault "
            "cancel rate of orders from <30d sellers; every ring seller is banned for fraud in W46-W47, "
            "lifting the seller ban rate.",
        ),
        Incident(
            4,
            "moderation_regression",
            "appeal_overturn_rate",
            MODERATION_MARKET,
            *MODERATION_WEEKS,
            "detection_source",
            MODERATION_SOURCE,
            f"appeal overturn rate of proactive_model removals rises from {moderation_usual:.0%} to "
            f"{MODERATION_OVERTURN_RATE:.0%}",
            round(MODERATION_OVERTURN_RATE / moderation_usual, 2),
            "A regressed proactive moderation model in Malaysia removes compliant listings: removals it "
            "made on listings reviewed in W46-W47 are overturned on appeal far more often.",
        ),
        Incident(
            5,
            "mix_shift",
            "late_dispatch_rate",
            MIX_MARKET,
            MIX_WEEK,
            MIX_WEEK,
            "channel",
            MIX_CHANNEL,
            f"live channel share of PH orders rises from {dims.CHANNELS[MIX_CHANNEL][0]:.0%} to "
            f"{MIX_TARGET_SHARE:.0%}; each channel's late dispatch rate is unchanged",
            MIX_TARGET_SHARE,
            "A live-selling campaign in the Philippines moves orders to the live channel, which dispatches "
            "late more often than other channels: the market's late dispatch rate rises through mix alone "
            "(a mix effect, not a rate effect).",
        ),
        Incident(
            6,
            "creator_ring",
            "creator_order_defect_rate,creator_violation_rate",
            CREATOR_RING_MARKET,
            *CREATOR_RING_WEEKS,
            "creator_tier",
            CREATOR_RING_TIER,
            f"{CREATOR_RING_COUNTERFEIT_RATE:.0%} of the ring's delivered orders draw a counterfeit claim; "
            f"{CREATOR_RING_REMOVAL_RATE:.0%} of its live content reviews end in a counterfeit removal",
            CREATOR_RING_COUNTERFEIT_RATE,
            f"A ring of {CREATOR_RING_SIZE} new Thai creators (tier rising, joined in W44-W45) pushes counterfeit "
            f"listings in live streams in W46-W47: it drives {CREATOR_RING_ORDER_SHARE:.0%} of TH live creator "
            "orders, whose buyers file counterfeit claims, lifting the creator-driven order defect rate of "
            "rising creators, and its live content is reported and removed for counterfeit, lifting the "
            "creator violation rate.",
        ),
    ]
