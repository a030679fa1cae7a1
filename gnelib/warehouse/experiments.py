"""Seller-level experiments: designs, random assignment, the planted effect and the per-unit readout table."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import duckdb
import numpy as np
import pyarrow as pa

from gnelib.warehouse import calendar as cal
from gnelib.warehouse.scales import rng_for
from gnelib.warehouse.sellers import Sellers

PRE_PERIOD_WEEKS = 4


@dataclass(frozen=True)
class Design:
    """One experiment, as documented in `experiment_designs`."""

    experiment_id: int
    name: str
    hypothesis: str
    start_week: str
    weeks: int
    designed_split: float
    primary_metric: str
    guardrail_metrics: str
    true_effect: float
    defect_definition: str
    defect_sql: str  # per-order defect flag over `o` (orders) and `r` (its after-sales request, if any)
    lost_treatment_share: float  # share of treatment units missing from the readout (planted SRM)
    notes: str

    @property
    def start(self) -> date:
        year, number = self.start_week.split("-W")
        return date.fromisocalendar(int(year), int(number), 1)

    @property
    def end(self) -> date:
        """Last day of the experiment (inclusive)."""
        return self.start + timedelta(weeks=self.weeks, days=-1)

    @property
    def pre_start(self) -> date:
        return self.start - timedelta(weeks=PRE_PERIOD_WEEKS)


DISPATCH_NUDGE = Design(
    1,
    "dispatch_sla_nudge",
    "Reminding sellers of their dispatch deadline 24 h ahead lowers the late dispatch rate.",
    "2026-W36",
    6,
    0.5,
    "late_dispatch_rate",
    "seller_fault_cancel_rate,refund_rate",
    -0.10,
    "defects = orders placed in the period and shipped after promised_ship_by; orders = orders placed",
    "o.shipped_at > o.promised_ship_by",
    0.0,
    "Clean seller-level 50/50 test. Treatment sellers' late dispatch probability is planted at 0.9x "
    "control during the test (true_effect = -10% relative). pre_defects/pre_orders cover the 4 weeks "
    "before the start and correlate with the outcome, so CUPED reduces the variance. No sample-ratio "
    "mismatch.",
)
REFUND_FAST_TRACK = Design(
    2,
    "refund_fast_track",
    "Auto-approving small refund claims does not raise the refund rate.",
    "2026-W40",
    4,
    0.5,
    "refund_rate",
    "not_as_described_rate,late_dispatch_rate",
    0.0,
    "defects = orders placed in the period whose after-sales request was approved; orders = orders placed",
    "r.status = 'approved'",
    0.15,
    "Deliberate sample-ratio mismatch: an assignment-logging bug lost 15% of treatment units, so the "
    "observed split is far from the designed 50/50 (chi-square p << 0.0005). A readout must flag the SRM "
    "and withhold the lift. The planted treatment effect is zero.",
)
DESIGNS = (DISPATCH_NUDGE, REFUND_FAST_TRACK)
VARIANTS = ("control", "treatment")


def assign(sellers: Sellers, seed: int) -> dict[int, np.ndarray]:
    """Variant code per seller for each experiment: 0 control, 1 treatment, -1 not eligible or lost."""
    assignments = {}
    for design in DESIGNS:
        rng = rng_for(seed, "experiment", design.experiment_id)
        start_us, pre_us = cal.to_us(design.start), cal.to_us(design.pre_start)
        eligible = (sellers.eligible_us <= pre_us) & (sellers.banned_us > start_us) & ~sellers.is_ring
        variant = (rng.random(sellers.count) < design.designed_split).astype(np.int8)
        lost = (variant == 1) & (rng.random(sellers.count) < design.lost_treatment_share)
        assignments[design.experiment_id] = np.where(eligible & ~lost, variant, -1).astype(np.int8)
    return assignments


def dispatch_treated(assignments: dict[int, np.ndarray]) -> np.ndarray:
    """Sellers whose late dispatch probability is lowered during the dispatch nudge experiment."""
    return assignments[DISPATCH_NUDGE.experiment_id] == 1


def design_columns() -> dict[str, object]:
    """The `experiment_designs` table."""
    return {
        "experiment_id": np.array([d.experiment_id for d in DESIGNS], np.int64),
        "name": [d.name for d in DESIGNS],
        "hypothesis": [d.hypothesis for d in DESIGNS],
        "unit": ["seller"] * len(DESIGNS),
        "start_date": np.array([d.start for d in DESIGNS], "datetime64[D]"),
        "end_date": np.array([d.end for d in DESIGNS], "datetime64[D]"),
        "designed_split": np.array([d.designed_split for d in DESIGNS]),
        "primary_metric": [d.primary_metric for d in DESIGNS],
        "guardrail_metrics": [d.guardrail_metrics for d in DESIGNS],
        "true_effect": np.array([d.true_effect for d in DESIGNS]),
        "defect_definition": [d.defect_definition for d in DESIGNS],
        "notes": [d.notes for d in DESIGNS],
    }


_READOUT_SQL = """
INSERT INTO experiments
SELECT $experiment_id, a.seller_id, s.market, a.variant, $start::TIMESTAMP,
       count(o.order_id) FILTER (WHERE o.ordered_at < $start) AS pre_orders,
       count(o.order_id) FILTER (WHERE o.ordered_at < $start AND coalesce({defect}, FALSE)) AS pre_defects,
       count(o.order_id) FILTER (WHERE o.ordered_at >= $start) AS orders,
       count(o.order_id) FILTER (WHERE o.ordered_at >= $start AND coalesce({defect}, FALSE)) AS defects,
       coalesce(sum(o.gmv_usd::DECIMAL(18, 2)) FILTER (WHERE o.ordered_at >= $start), 0)::DOUBLE AS gmv_usd,
       coalesce(sum(o.gmv_usd::DECIMAL(18, 2)) FILTER (WHERE o.ordered_at < $start), 0)::DOUBLE AS pre_gmv_usd
FROM _gne_assignment a
JOIN sellers s ON s.seller_id = a.seller_id
LEFT JOIN orders o ON o.seller_id = a.seller_id AND o.ordered_at >= $pre_start AND o.ordered_at < $end
LEFT JOIN after_sales r ON r.order_id = o.order_id
GROUP BY a.seller_id, s.market, a.variant
HAVING pre_orders > 0
ORDER BY a.seller_id
"""


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time())


def fill_readouts(con: duckdb.DuckDBPyConnection, assignments: dict[int, np.ndarray]) -> None:
    """Write `experiments`: one row per assigned seller active in the pre-period, outcomes from `orders`."""
    for design in DESIGNS:
        variant = assignments[design.experiment_id]
        units = np.flatnonzero(variant >= 0)
        frame = pa.table(
            {
                "seller_id": units.astype(np.int64) + 1,
                "variant": pa.array(np.array(VARIANTS)[variant[units]].tolist()),
            }
        )
        con.register("_gne_assignment", frame)
        try:
            con.execute(
                _READOUT_SQL.format(defect=design.defect_sql),
                {
                    "experiment_id": design.experiment_id,
                    "start": _midnight(design.start),
                    "pre_start": _midnight(design.pre_start),
                    "end": _midnight(design.end + timedelta(days=1)),
                },
            )
        finally:
            con.unregister("_gne_assignment")
