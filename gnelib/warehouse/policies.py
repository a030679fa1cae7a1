"""The planted policy launches: governance policies switched on market by market, with known true effects.

Two launches, both at least 14 weeks before the weeks the scan benchmark judges (2026-W40..W47):
- tracking_verification: staggered over five markets (2026-W22..W26); invalid tracking numbers are rejected at
  dispatch, so 60 % of the shipped orders whose tracking would have been invalid carry a valid one;
- packaging_standard: one market (ID, 2026-W26); a seller packaging rule that prevents 40 % of the damaged-item
  after-sales requests on orders placed from the launch on.
US, GB and SG never launch either policy. The effects are applied after each week's orders and requests are
drawn, with their own random stream: the generator's other draws are unchanged (docs/warehouse.md lists what the
launches change downstream).
"""

from dataclasses import dataclass

import numpy as np

from gnelib.warehouse import calendar as cal
from gnelib.warehouse import dimensions as dims
from gnelib.warehouse.frames import Coded
from gnelib.warehouse.scales import rng_for

DAMAGED_REMOVED = 0.40  # share of damaged-item requests the packaging standard prevents
INVALID_TRACKING_FIXED = 0.60  # share of invalid tracking numbers the verification replaces with valid ones


@dataclass(frozen=True)
class Launch:
    """One row of `policy_launches`: a policy switched on in one market from a week on."""

    policy_id: int
    policy: str
    metric: str
    market: str
    launch_week: str
    true_effect: float  # planted relative change of the metric in this market from the launch on
    description: str

    @property
    def launch_us(self) -> int:
        return cal.week_start_us(self.launch_week)


def _tracking_effect(market: str) -> float:
    valid = next(m.tracking_valid for m in dims.MARKETS if m.code == market)
    return round(INVALID_TRACKING_FIXED * (1 - valid) / valid, 5)


_PACKAGING = (
    "A packaging standard for sellers (protective packaging for fragile categories): damaged-item requests on "
    f"orders placed from the launch on fall by {DAMAGED_REMOVED:.0%}."
)
_TRACKING = (
    "Tracking verification at dispatch: an invalid tracking number is rejected and re-entered, so "
    f"{INVALID_TRACKING_FIXED:.0%} of the shipped orders whose tracking would have been invalid carry a valid one."
)
LAUNCHES = (
    *(
        Launch(1, "tracking_verification", "valid_tracking_rate", market, week, _tracking_effect(market), _TRACKING)
        for market, week in (
            ("ID", "2026-W22"),
            ("TH", "2026-W22"),
            ("VN", "2026-W24"),
            ("MY", "2026-W24"),
            ("PH", "2026-W26"),
        )
    ),
    Launch(2, "packaging_standard", "damaged_claim_rate", "ID", "2026-W26", -DAMAGED_REMOVED, _PACKAGING),
)


def launch_columns() -> dict[str, object]:
    """The `policy_launches` table: one row per policy × market."""
    return {
        "policy_id": np.array([launch.policy_id for launch in LAUNCHES], np.int64),
        "policy": [launch.policy for launch in LAUNCHES],
        "metric": [launch.metric for launch in LAUNCHES],
        "market": [launch.market for launch in LAUNCHES],
        "launch_date": np.array(
            [cal.week_start_us(launch.launch_week) // cal.US_PER_DAY for launch in LAUNCHES], "datetime64[D]"
        ),
        "true_effect": np.array([launch.true_effect for launch in LAUNCHES]),
        "description": [launch.description for launch in LAUNCHES],
    }


def _launched(launch_policy: str, market_codes: np.ndarray, ordered: np.ndarray) -> np.ndarray:
    """Which orders (market code, order time) fall in a market after its launch of `launch_policy`."""
    hit = np.zeros(len(ordered), bool)
    for launch in (item for item in LAUNCHES if item.policy == launch_policy):
        market = dims.MARKET_CODES.index(launch.market)
        hit |= (market_codes == market) & (ordered >= launch.launch_us)
    return hit


def apply(seed: int, index: int, orders: dict[str, object], after_sales: dict[str, object]) -> dict[str, object]:
    """Apply the launched policies to one generated week; returns the after-sales columns (rows removed)."""
    rng = rng_for(seed, "policies", index)
    market, ordered = orders["market"].codes, orders["ordered_at"]
    tracking = orders["tracking_valid"]
    fixed = (tracking == 0) & _launched("tracking_verification", market, ordered)
    tracking[fixed & (rng.random(len(tracking)) < INVALID_TRACKING_FIXED)] = 1

    position = np.searchsorted(orders["order_id"], after_sales["order_id"])
    damaged = after_sales["reason"].codes == dims.AFTER_SALES_REASON_NAMES.index("damaged")
    covered = damaged & _launched("packaging_standard", market[position], ordered[position])
    prevented = covered & (rng.random(len(damaged)) < DAMAGED_REMOVED)
    return {name: _keep(values, ~prevented) for name, values in after_sales.items()}


def _keep(values: object, rows: np.ndarray) -> object:
    if isinstance(values, Coded):
        return Coded(values.codes[rows], values.labels)
    return values[rows]
