"""Orders and their post-order events (after-sales requests, reviews), generated one week at a time.

Each order's outcomes are drawn from probabilities built as base rate x market x seller risk x segment
multipliers x incident. Post-order events later than the as-of time are censored (NULL or absent).
"""

from dataclasses import dataclass, field

import numpy as np

from gnelib.warehouse import calendar as cal
from gnelib.warehouse import dimensions as dims
from gnelib.warehouse import incidents as inc
from gnelib.warehouse import policies
from gnelib.warehouse.frames import NULL_TIME, Coded
from gnelib.warehouse.scales import Scale, rng_for
from gnelib.warehouse.sellers import Sellers, round_local

DAY_OF_WEEK_VOLUME = np.array([0.95, 0.93, 0.95, 0.98, 1.05, 1.10, 1.04])  # Monday first
WEEKLY_GROWTH = 0.005
HOUR_OF_DAY_VOLUME = np.array([3, 2, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 7, 6, 6, 5, 5, 6, 7, 8, 9, 9, 7, 5], float)
MEGA_SALE_PRICE = 0.85
TIER_DISPATCH_MULT = {"new": 1.2, "bronze": 1.0, "silver": 0.85, "gold": 0.7}
BUYERS_PER_ORDER = 0.3
ORDER_ID_START = 10_000_001


def daily_order_counts(scale: Scale, seed: int) -> np.ndarray:
    """Orders per day (rows, 0 = 2026-04-27) and market (columns): weekday pattern, growth and sale spikes."""
    days = np.arange(cal.N_DAYS)
    weekday = DAY_OF_WEEK_VOLUME[days % 7]
    growth = np.exp(WEEKLY_GROWTH / 7 * days)
    spike = np.ones(cal.N_DAYS)
    for day, mult in cal.MEGA_SALE_DAYS.items():
        spike[(day - cal.FIRST_DAY).days] = mult
    shares = np.array([m.order_share for m in dims.MARKETS])
    intensity = np.outer(weekday * growth * spike, shares)
    return rng_for(seed, "order_counts").poisson(intensity / intensity.sum() * scale.orders)


@dataclass
class FraudRingTally:
    """Expected seller-fault cancels of VN <30d orders, in the incident weeks and in the baseline weeks."""

    sums: dict[str, list[float]] = field(
        default_factory=lambda: {"incident": [0.0, 0.0], "baseline": [0.0, 0.0]}
    )

    def add(self, period: str, probabilities: np.ndarray) -> None:
        self.sums[period][0] += float(probabilities.sum())
        self.sums[period][1] += len(probabilities)

    @property
    def planted_multiplier(self) -> float:
        (inc_sum, inc_n), (base_sum, base_n) = self.sums["incident"], self.sums["baseline"]
        return (inc_sum / max(inc_n, 1)) / max(base_sum / max(base_n, 1), 1e-12)


@dataclass
class OrderGenerator:
    """Generates the orders of one week at a time, with running ids."""

    sellers: Sellers
    scale: Scale
    seed: int
    dispatch_treated: np.ndarray
    dispatch_window_us: tuple[int, int]
    dispatch_effect: float
    tally: FraudRingTally = field(default_factory=FraudRingTally)
    next_order_id: int = ORDER_ID_START
    next_request_id: int = 1

    def __post_init__(self) -> None:
        self.counts = daily_order_counts(self.scale, self.seed)
        self.market_sellers = [np.flatnonzero(self.sellers.market == m) for m in range(len(dims.MARKETS))]
        eligible = self.sellers.eligible_us
        self.market_windows = [(eligible[c], self.sellers.banned_us[c]) for c in self.market_sellers]
        self.buyer_pool = np.maximum(1000, self.counts.sum(axis=0) * BUYERS_PER_ORDER).astype(np.int64)

    def week(self, index: int) -> dict[str, dict[str, object]]:
        """Columns of `orders`, `after_sales` and `reviews` for the window's week `index`."""
        rng = rng_for(self.seed, "orders", index)
        market, seller, ordered = self._place_orders(rng, index)
        order_cols, delivered, gmv_usd = self._fulfil(rng, index, market, seller, ordered)
        order_ids = order_cols["order_id"]
        after_sales = self._after_sales(rng, index, market, seller, order_cols, delivered, gmv_usd)
        after_sales = policies.apply(self.seed, index, order_cols, after_sales)
        reviews = self._reviews(rng, market, seller, order_ids, delivered)
        return {"orders": order_cols, "after_sales": after_sales, "reviews": reviews}

    # -- who buys from whom, when --------------------------------------------------------------------------
    def _place_orders(
        self, rng: np.random.Generator, index: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        hour_cdf = np.cumsum(HOUR_OF_DAY_VOLUME / HOUR_OF_DAY_VOLUME.sum())
        markets, sellers, times = [], [], []
        for day in range(index * 7, min(index * 7 + 7, cal.N_DAYS)):
            day_start = cal.day_start_us(day)
            for m, candidates in enumerate(self.market_sellers):
                n = int(self.counts[day, m])
                eligible_from, banned_at = self.market_windows[m]
                active = (eligible_from <= day_start) & (banned_at > day_start + cal.US_PER_DAY)
                cumulative = np.cumsum(np.where(active, self.sellers.weight[candidates], 0.0))
                picks = np.searchsorted(cumulative, rng.random(n) * cumulative[-1], side="right")
                hours = np.searchsorted(hour_cdf, rng.random(n), side="right")
                markets.append(np.full(n, m, np.int16))
                sellers.append(candidates[np.minimum(picks, len(candidates) - 1)])
                times.append(day_start + hours * cal.US_PER_HOUR + rng.integers(0, cal.US_PER_HOUR, n))
        market, seller, ordered = np.concatenate(markets), np.concatenate(sellers), np.concatenate(times)
        order = np.argsort(ordered, kind="stable")
        return market[order], seller[order], ordered[order]

    # -- the order row: segments, value, cancellation, dispatch, delivery ---------------------------------
    def _fulfil(
        self,
        rng: np.random.Generator,
        index: int,
        market: np.ndarray,
        seller: np.ndarray,
        ordered: np.ndarray,
    ) -> tuple[dict[str, object], np.ndarray, np.ndarray]:
        s = self.sellers
        n = len(seller)
        week = cal.week_label(index)
        listing = s.listing_start[seller] + (rng.random(n) * s.listing_count[seller]).astype(np.int64)
        category = s.listing_category[listing]
        channel = self._channels(rng, market, week)
        carrier_shares = np.array([c[0] for c in dims.CARRIERS.values()])
        carrier = rng.choice(len(carrier_shares), n, p=carrier_shares).astype(np.int16)
        tenure_days = (ordered - s.joined_us[seller]) / cal.US_PER_DAY
        bounds = [band[1] for band in dims.TENURE_BANDS[:-1]]
        tenure = np.searchsorted(bounds, tenure_days, side="right").astype(np.int16)

        on_sale_day = np.isin(
            (ordered - cal.FIRST_US) // cal.US_PER_DAY, [(d - cal.FIRST_DAY).days for d in cal.MEGA_SALE_DAYS]
        )
        quantity = 1 + rng.poisson(0.25, n)
        gmv_usd = np.round(
            s.listing_price_usd[listing] * quantity * np.where(on_sale_day, MEGA_SALE_PRICE, 1.0), 2
        )
        fx = np.array([m.usd_to_local for m in dims.MARKETS])[market]
        decimals = np.array([m.local_decimals for m in dims.MARKETS])[market]
        buyer = (
            (market.astype(np.int64) + 1) * 1_000_000_000
            + 1
            + (self.buyer_pool[market] * rng.random(n) ** 2).astype(np.int64)
        )

        risk = s.risk[seller]
        cancelled, fault, reason, ships = self._cancellations(
            rng, index, market, seller, tenure, ordered, risk
        )

        promised_ship = cal.add_business_days(ordered, 2)
        transit_days = (
            np.array([m.transit_days for m in dims.MARKETS])[market]
            + np.array([c[2] for c in dims.CARRIERS.values()])[carrier]
        )
        promised_delivery = promised_ship + transit_days * cal.US_PER_DAY
        late_dispatch = rng.random(n) < self._late_dispatch_probability(
            market, seller, channel, ordered, risk
        )
        late_by = np.minimum(rng.exponential(0.5, n), transit_days - 1.0)
        on_time_share = 0.05 + 0.95 * rng.random(n)
        shipped = np.where(
            late_dispatch,
            promised_ship + 60_000_000 + (late_by * cal.US_PER_DAY).astype(np.int64),
            ordered + (on_time_share * (promised_ship - ordered)).astype(np.int64),
        )
        late_delivery = rng.random(n) < self._late_delivery_probability(market, carrier, week)
        slack = np.maximum(promised_delivery - shipped - 12 * cal.US_PER_HOUR, 0)
        delivered = np.where(
            late_delivery,
            promised_delivery + cal.US_PER_HOUR + (rng.exponential(1.5, n) * cal.US_PER_DAY).astype(np.int64),
            shipped + 12 * cal.US_PER_HOUR + (rng.random(n) * slack).astype(np.int64),
        )
        tracking_valid = rng.random(n) < np.array([m.tracking_valid for m in dims.MARKETS])[market]

        is_shipped = ships & (shipped < cal.AS_OF_US)
        is_delivered = is_shipped & (delivered < cal.AS_OF_US)
        order_ids = np.arange(self.next_order_id, self.next_order_id + n, dtype=np.int64)
        self.next_order_id += n
        columns = {
            "order_id": order_ids,
            "ordered_at": ordered,
            "market": Coded(market, dims.MARKET_CODES),
            "buyer_id": buyer,
            "seller_id": seller.astype(np.int64) + 1,
            "listing_id": listing.astype(np.int64) + 1,
            "category": Coded(category, dims.CATEGORY_NAMES),
            "channel": Coded(channel, dims.CHANNEL_NAMES),
            "seller_tenure_band": Coded(tenure, dims.TENURE_BAND_NAMES),
            "carrier": Coded(carrier, dims.CARRIER_NAMES),
            "gmv_local": round_local(gmv_usd * fx, decimals),
            "gmv_usd": gmv_usd,
            "promised_ship_by": promised_ship,
            "shipped_at": np.where(is_shipped, shipped, NULL_TIME),
            "promised_delivery_by": promised_delivery,
            "delivered_at": np.where(is_delivered, delivered, NULL_TIME),
            "tracking_valid": np.where(is_shipped, tracking_valid.astype(np.int8), -1),
            "cancelled_at": cancelled,
            "cancel_reason": Coded(reason, dims.CANCEL_REASONS),
            "cancel_fault": Coded(fault, dims.CANCEL_FAULTS),
        }
        return columns, np.where(is_delivered, delivered, NULL_TIME), gmv_usd

    def _channels(self, rng: np.random.Generator, market: np.ndarray, week: str) -> np.ndarray:
        shares = np.array([c[0] for c in dims.CHANNELS.values()])
        shifted = (
            shares * (1 - inc.MIX_TARGET_SHARE) / (1 - shares[dims.CHANNEL_NAMES.index(inc.MIX_CHANNEL)])
        )
        shifted[dims.CHANNEL_NAMES.index(inc.MIX_CHANNEL)] = inc.MIX_TARGET_SHARE
        cdf = np.cumsum(shares)
        channel = np.searchsorted(cdf, rng.random(len(market)) * cdf[-1], side="right")
        if week == inc.MIX_WEEK:
            in_shift = market == dims.MARKET_CODES.index(inc.MIX_MARKET)
            shifted_cdf = np.cumsum(shifted)
            channel[in_shift] = np.searchsorted(
                shifted_cdf, rng.random(int(in_shift.sum())) * shifted_cdf[-1], side="right"
            )
        return np.minimum(channel, len(shares) - 1).astype(np.int16)

    def _cancellations(
        self,
        rng: np.random.Generator,
        index: int,
        market: np.ndarray,
        seller: np.ndarray,
        tenure: np.ndarray,
        ordered: np.ndarray,
        risk: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Cancel time, fault code, reason code (NULL / -1 unless cancelled by the as-of time), and which
        orders go on to ship (neither cancelled nor about to be)."""
        n = len(seller)
        tenure_mult = np.array([band[2] for band in dims.TENURE_BANDS])[tenure]
        cancel_mult = np.array([m.cancel_mult for m in dims.MARKETS])[market]
        p_seller = np.clip(dims.SELLER_CANCEL_RATE * cancel_mult * risk * tenure_mult, 0.0, 0.5)
        p_seller = np.where(self.sellers.is_ring[seller], inc.FRAUD_CANCEL_RATE, p_seller)
        self._tally_fraud_ring(index, market, tenure, p_seller)
        u = rng.random(n)
        fault = np.full(n, -1, np.int16)
        fault[u < p_seller + dims.BUYER_CANCEL_RATE + dims.PLATFORM_CANCEL_RATE] = 2
        fault[u < p_seller + dims.BUYER_CANCEL_RATE] = 1
        fault[u < p_seller] = 0

        seller_reason = _draw_codes(rng, dims.SELLER_CANCEL_REASONS, dims.CANCEL_REASONS, n)
        platform_reason = _draw_codes(rng, dims.PLATFORM_CANCEL_REASONS, dims.CANCEL_REASONS, n)
        buyer_reason = np.full(n, dims.CANCEL_REASONS.index("buyer_changed_mind"), np.int16)
        reason = np.select(
            [fault == 0, fault == 1, fault == 2], [seller_reason, buyer_reason, platform_reason], -1
        )
        median_hours = np.array([20.0, 5.0, 0.5])[np.maximum(fault, 0)]
        cancelled = ordered + (median_hours * rng.lognormal(0.0, 0.8, n) * cal.US_PER_HOUR).astype(np.int64)
        known = (fault >= 0) & (cancelled < cal.AS_OF_US)
        return (
            np.where(known, cancelled, NULL_TIME),
            np.where(known, fault, -1).astype(np.int16),
            np.where(known, reason, -1).astype(np.int16),
            fault < 0,
        )

    def _tally_fraud_ring(
        self, index: int, market: np.ndarray, tenure: np.ndarray, p_seller: np.ndarray
    ) -> None:
        week = cal.week_label(index)
        segment = (market == dims.MARKET_CODES.index(inc.FRAUD_MARKET)) & (tenure == 0)
        if inc.FRAUD_WEEKS[0] <= week <= inc.FRAUD_WEEKS[1]:
            self.tally.add("incident", p_seller[segment])
        elif inc.FRAUD_BASELINE_WEEKS[0] <= week <= inc.FRAUD_BASELINE_WEEKS[1]:
            self.tally.add("baseline", p_seller[segment])

    def _late_dispatch_probability(
        self,
        market: np.ndarray,
        seller: np.ndarray,
        channel: np.ndarray,
        ordered: np.ndarray,
        risk: np.ndarray,
    ) -> np.ndarray:
        market_mult = np.array([m.dispatch_mult for m in dims.MARKETS])[market]
        channel_mult = np.array([c[1] for c in dims.CHANNELS.values()])[channel]
        tier_mult = np.array([TIER_DISPATCH_MULT[t] for t in dims.TIERS])[self.sellers.tier[seller]]
        start, end = self.dispatch_window_us
        treated = self.dispatch_treated[seller] & (ordered >= start) & (ordered < end)
        effect = np.where(treated, 1 + self.dispatch_effect, 1.0)
        return np.clip(
            dims.LATE_DISPATCH_RATE * market_mult * channel_mult * tier_mult * risk * effect, 0, 0.9
        )

    @staticmethod
    def _late_delivery_probability(market: np.ndarray, carrier: np.ndarray, week: str) -> np.ndarray:
        market_mult = np.array([m.delivery_mult for m in dims.MARKETS])[market]
        carrier_mult = np.array([c[1] for c in dims.CARRIERS.values()])[carrier]
        p = dims.LATE_DELIVERY_RATE * market_mult * carrier_mult
        if inc.LOGISTICS_WEEKS[0] <= week <= inc.LOGISTICS_WEEKS[1]:
            hit = (market == dims.MARKET_CODES.index(inc.LOGISTICS_MARKET)) & (
                carrier == dims.CARRIER_NAMES.index(inc.LOGISTICS_CARRIER)
            )
            p = np.where(hit, inc.LOGISTICS_LATE_RATE, p)
        return p

    # -- after-sales requests and reviews of delivered orders ---------------------------------------------
    def _after_sales(
        self,
        rng: np.random.Generator,
        index: int,
        market: np.ndarray,
        seller: np.ndarray,
        orders: dict[str, object],
        delivered: np.ndarray,
        gmv_usd: np.ndarray,
    ) -> dict[str, object]:
        rows = np.flatnonzero(delivered != NULL_TIME)
        m, sel, category = market[rows], seller[rows], orders["category"].codes[rows]
        rates = np.empty((len(rows), len(dims.AFTER_SALES_REASONS)))
        market_mult = np.array([x.after_sales_mult for x in dims.MARKETS])[m]
        risk = self.sellers.risk[sel]
        for r, (name, (base, _)) in enumerate(dims.AFTER_SALES_REASONS.items()):
            rates[:, r] = base * market_mult * (1.0 if name == "changed_mind" else risk)
        rates[:, 0] *= np.array([c.nad_mult for c in dims.CATEGORIES])[category]
        counterfeit = dims.AFTER_SALES_REASON_NAMES.index("counterfeit")
        brand = self.sellers.business_type[sel] == list(dims.BUSINESS_TYPES).index("brand")
        rates[:, counterfeit] *= np.array([c.counterfeit_mult for c in dims.CATEGORIES])[category]
        rates[:, counterfeit] *= np.where(brand, 0.3, 1.0)
        week = cal.week_label(index)
        if inc.COUNTERFEIT_WEEKS[0] <= week <= inc.COUNTERFEIT_WEEKS[1]:
            wave = (m == dims.MARKET_CODES.index(inc.COUNTERFEIT_MARKET)) & (
                category == dims.CATEGORY_NAMES.index(inc.COUNTERFEIT_CATEGORY)
            )
            rates[:, counterfeit] *= np.where(wave, inc.COUNTERFEIT_MULT, 1.0)
        cdf = np.cumsum(rates, axis=1)
        reason = (rng.random(len(rows))[:, None] >= cdf).sum(axis=1)
        asked = reason < len(dims.AFTER_SALES_REASONS)
        requested = (
            delivered[rows]
            + cal.US_PER_HOUR
            + (rng.exponential(2.5, len(rows)) * cal.US_PER_DAY).astype(np.int64)
        )
        keep = asked & (requested < cal.AS_OF_US)
        rows, reason, requested = rows[keep], reason[keep].astype(np.int16), requested[keep]
        n = len(rows)

        returnable = np.isin(
            reason,
            [dims.AFTER_SALES_REASON_NAMES.index(r) for r in ("not_as_described", "damaged", "changed_mind")],
        )
        request_type = (rng.random(n) < np.where(returnable, 0.7, 0.2)).astype(
            np.int16
        )  # 1 = return_and_refund
        approve_rate = np.array([a for _, a in dims.AFTER_SALES_REASONS.values()])[reason]
        approved = rng.random(n) < approve_rate
        resolve_hours = 36.0 * rng.lognormal(0.0, 0.7, n) + request_type * 96.0
        resolved = requested + (resolve_hours * cal.US_PER_HOUR).astype(np.int64)
        is_resolved = resolved < cal.AS_OF_US
        status = np.where(is_resolved, np.where(approved, 0, 1), 2).astype(np.int16)
        partial = rng.random(n) < 0.2
        refund = np.where(status == 0, np.round(gmv_usd[rows] * np.where(partial, 0.5, 1.0), 2), 0.0)
        escalated_at = resolved + cal.US_PER_DAY
        escalated = (
            (rng.random(n) < np.where(status == 1, 0.25, 0.02)) & is_resolved & (escalated_at < cal.AS_OF_US)
        )
        dispute_decided = escalated_at + (5.0 * rng.lognormal(0.0, 0.5, n) * cal.US_PER_DAY).astype(np.int64)
        outcome = np.where(
            escalated & (dispute_decided < cal.AS_OF_US), (rng.random(n) >= 0.55).astype(np.int16), -1
        )

        ids = np.arange(self.next_request_id, self.next_request_id + n, dtype=np.int64)
        self.next_request_id += n
        return {
            "request_id": ids,
            "order_id": orders["order_id"][rows],
            "requested_at": requested,
            "type": Coded(request_type, dims.AFTER_SALES_TYPES),
            "reason": Coded(reason, dims.AFTER_SALES_REASON_NAMES),
            "status": Coded(status, dims.AFTER_SALES_STATUSES),
            "refund_amount_usd": refund,
            "resolved_at": np.where(is_resolved, resolved, NULL_TIME),
            "escalated_to_dispute": escalated.astype(np.int8),
            "dispute_outcome": Coded(outcome, dims.DISPUTE_OUTCOMES),
        }

    def _reviews(
        self,
        rng: np.random.Generator,
        market: np.ndarray,
        seller: np.ndarray,
        order_ids: np.ndarray,
        delivered: np.ndarray,
    ) -> dict[str, object]:
        rows = np.flatnonzero(delivered != NULL_TIME)
        created = (
            delivered[rows]
            + cal.US_PER_HOUR
            + (rng.exponential(3.0, len(rows)) * cal.US_PER_DAY).astype(np.int64)
        )
        keep = (rng.random(len(rows)) < dims.REVIEW_RATE) & (created < cal.AS_OF_US)
        rows, created = rows[keep], created[keep]
        n = len(rows)
        review_mult = np.array([m.review_mult for m in dims.MARKETS])[market[rows]]
        negative = rng.random(n) < np.clip(
            dims.NEGATIVE_REVIEW_SHARE * review_mult * self.sellers.risk[seller[rows]], 0.0, 0.9
        )
        low = np.where(rng.random(n) < 0.6, 1, 2)
        high = 3 + np.searchsorted([0.08, 0.33], rng.random(n), side="right")
        return {
            "order_id": order_ids[rows],
            "rating": np.where(negative, low, high).astype(np.int32),
            "created_at": created,
        }


def _draw_codes(
    rng: np.random.Generator, shares: dict[str, float], labels: tuple[str, ...], n: int
) -> np.ndarray:
    """`n` draws from `shares`, as codes into `labels`."""
    codes = np.array([labels.index(name) for name in shares], np.int16)
    return codes[rng.choice(len(codes), n, p=list(shares.values()))]
