"""Value in money: an effect on a catalog rate metric turned into refunds avoided, GMV protected from bad actors
and defect costs saved, per year and over a stated horizon, with the effect's interval carried through.

    change = RateChange(metric="late_dispatch_rate", direction="lower_is_better", absolute=-0.004,
                        ci_low=-0.006, ci_high=-0.002, relative=-0.09, relative_ci_low=-0.13, relative_ci_high=-0.05)
    money = money_value(change, orders_per_week=120_000, assumptions=Assumptions(
        refunds_per_defect=0.2, cost_per_refund_usd=18.0, gmv_at_risk_per_defect_usd=0.0,
        cost_per_defect_usd=2.5, horizon_weeks=52))
    money.table()          # one row per line: per year and over the horizon, estimate with its 95% interval
    money.sentence()       # "... about $X a year (95% CI $L to $H) ..."

The model is linear: defects avoided per week = −Δ × orders_per_week for a lower-is-better rate (+Δ for a
higher-is-better one), Δ the absolute effect (treatment minus control, as a fraction: 0.004 = 0.4 pp). Each
avoided defect saves `cost_per_defect_usd`, avoids `refunds_per_defect` refunds of `cost_per_refund_usd` each and
keeps `gmv_at_risk_per_defect_usd` of GMV from bad actors. The interval is the effect's interval mapped through
the same arithmetic: it carries the statistical uncertainty of the effect, not that of the assumptions, which are
stated beside every figure. No discounting (horizons are short).
"""

import math
from dataclasses import dataclass, fields

import pandas as pd

from gnelib.analysis.errors import AnalysisError
from gnelib.formats import format_change, format_relative, format_value

WEEKS_PER_YEAR = 52
MAX_HORIZON_WEEKS = 520
DIRECTIONS = ("lower_is_better", "higher_is_better")


class ValueAssumptionError(AnalysisError):
    """An assumption of the money model is missing or out of range; the message names the parameter and the fix."""


@dataclass(frozen=True)
class RateChange:
    """Treated minus counterfactual on a rate metric (fractions: 0.004 = 0.4 pp), with its two-sided interval."""

    metric: str
    direction: str  # the catalog metric's direction: lower_is_better | higher_is_better
    absolute: float
    ci_low: float
    ci_high: float
    relative: float
    relative_ci_low: float
    relative_ci_high: float

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueAssumptionError(
                f"direction = {self.direction!r} for {self.metric}: use one of "
                f"{', '.join(DIRECTIONS)} (the catalog metric's `direction`)."
            )
        for name in ("absolute", "ci_low", "ci_high"):
            _finite(name, getattr(self, name), f"the effect on {self.metric}")
        if not self.ci_low <= self.absolute <= self.ci_high:
            raise ValueAssumptionError(
                f"The effect on {self.metric} ({self.absolute:g}) lies outside its interval "
                f"[{self.ci_low:g}, {self.ci_high:g}]: pass ci_low <= absolute <= ci_high."
            )

    @property
    def defects_avoided_per_order(self) -> tuple[float, float, float]:
        """(estimate, low, high) defects avoided per order: positive when the change is an improvement."""
        sign = -1.0 if self.direction == "lower_is_better" else 1.0
        ends = sorted((sign * self.ci_low, sign * self.ci_high))
        return sign * self.absolute, ends[0], ends[1]


@dataclass(frozen=True)
class Assumptions:
    """What a defect costs and how long the effect lasts: every figure is stated beside the result."""

    refunds_per_defect: float  # share of defects that end in a refund, 0–1 (1 for the refund rate itself)
    cost_per_refund_usd: float  # refund paid plus handling, per refunded order
    gmv_at_risk_per_defect_usd: float  # GMV that would have gone to a bad actor, per defect (0 if none)
    cost_per_defect_usd: float  # handling cost per defect besides the refund: contacts, re-shipping
    horizon_weeks: float = WEEKS_PER_YEAR  # how long the effect is assumed to last

    def __post_init__(self) -> None:
        for item in fields(self):
            check_assumption(item.name, getattr(self, item.name))


ASSUMPTION_NAMES = (
    "refunds_per_defect",
    "cost_per_refund_usd",
    "gmv_at_risk_per_defect_usd",
    "cost_per_defect_usd",
    "horizon_weeks",
)


def check_assumption(name: str, value: object) -> float:
    """One assumption (a field of Assumptions), as a number in its range; ValueAssumptionError names it and the fix.
    Template parameters of these names are checked with it before any kernel starts (gnelib.reporting.params)."""
    _finite(name, value, "an assumption of the money section")
    if value < 0:
        raise ValueAssumptionError(f"Parameter {name} = {value!r} is negative: use 0 or more ({_HINTS[name]}).")
    if name == "refunds_per_defect" and value > 1:
        raise ValueAssumptionError(
            f"Parameter refunds_per_defect = {value!r} is above 1: it is a share of defects, 0–1 "
            f"({_HINTS['refunds_per_defect']})."
        )
    if name == "horizon_weeks" and not 0 < value <= MAX_HORIZON_WEEKS:
        raise ValueAssumptionError(
            f"Parameter horizon_weeks = {value!r} is out of range: use more than 0 and at most {MAX_HORIZON_WEEKS} "
            f"weeks ({_HINTS['horizon_weeks']})."
        )
    return float(value)


_HINTS = {
    "refunds_per_defect": "e.g. 0.2 if one defect in five ends in a refund; 1 for the refund rate itself",
    "cost_per_refund_usd": "refund paid plus handling per refunded order, e.g. 18",
    "gmv_at_risk_per_defect_usd": "GMV lost to bad actors per defect, e.g. the average counterfeit order; 0 if none",
    "cost_per_defect_usd": "support and re-shipping cost per defect, e.g. 2.5",
    "horizon_weeks": "52 for a year",
    "orders_per_week": "the metric's weekly denominator where the change would apply, e.g. from the metric frame",
}


@dataclass(frozen=True)
class Amount:
    """A figure per year with its interval; `low` <= `estimate` <= `high`."""

    estimate: float
    low: float
    high: float

    def scaled(self, factor: float) -> "Amount":
        return Amount(self.estimate * factor, self.low * factor, self.high * factor)


LINES = {
    "defects_avoided": ("Defects avoided", "count"),
    "refunds_avoided": ("Refunds avoided", "count"),
    "refund_cost_usd": ("Refund cost saved", "currency"),
    "gmv_protected_usd": ("GMV protected from bad actors", "currency"),
    "defect_cost_usd": ("Defect handling cost saved", "currency"),
    "total_usd": ("Total value", "currency"),
}
TABLE_COLUMNS = {
    "line": ("", None),
    "per_year": ("per year", None),
    "per_year_ci": ("95% CI", None),
    "over_horizon": ("over the horizon", None),
}


@dataclass(frozen=True)
class MoneyValue:
    """Each line of LINES per year (annualised) with its interval, and what it was computed from."""

    change: RateChange
    orders_per_week: float
    assumptions: Assumptions
    lines: dict[str, Amount]

    @property
    def total(self) -> Amount:
        return self.lines["total_usd"]

    def over_horizon(self, key: str) -> Amount:
        """A line summed over the assumed horizon instead of one year."""
        return self.lines[key].scaled(self.assumptions.horizon_weeks / WEEKS_PER_YEAR)

    def table(self) -> pd.DataFrame:
        """One row per line: label, numbers per year and over the horizon, and their text."""
        rows = []
        for key, (label, fmt) in LINES.items():
            year, horizon = self.lines[key], self.over_horizon(key)
            rows.append(
                {
                    "key": key,
                    "line": label,
                    "estimate": year.estimate,
                    "low": year.low,
                    "high": year.high,
                    "per_year": format_value(year.estimate, fmt),
                    "per_year_ci": f"{format_value(year.low, fmt)} to {format_value(year.high, fmt)}",
                    "over_horizon": format_value(horizon.estimate, fmt),
                }
            )
        return pd.DataFrame(rows)

    def sentence(self, subject: str = "The change") -> str:
        """The headline in words, its interval, and when the interval includes a loss."""
        total, change = self.total, self.change
        verb = "is worth" if total.estimate >= 0 else "costs"
        words = (
            f"{subject} {verb} about {format_value(abs(total.estimate), 'currency')} a year "
            f"(95% CI {format_value(total.low, 'currency')} to {format_value(total.high, 'currency')}), "
            f"from a change of {format_change(change.absolute, 'percent')} "
            f"({format_relative(change.relative)}) on {change.metric} over "
            f"{format_value(self.orders_per_week, 'count')} orders a week."
        )
        if total.low < 0 < total.high:
            words += " The interval includes zero: a loss cannot be ruled out."
        return words

    def assumptions_table(self) -> pd.DataFrame:
        """Every assumption (and the volume) with its value and meaning, to show beside the figures."""
        values = {
            "orders_per_week": self.orders_per_week,
            **{item.name: getattr(self.assumptions, item.name) for item in fields(self.assumptions)},
        }
        return pd.DataFrame(
            [{"parameter": name, "value": f"{value:,.6g}", "meaning": _HINTS[name]} for name, value in values.items()]
        )


ASSUMPTION_COLUMNS = {"parameter": ("assumption", None), "value": ("value", None), "meaning": ("meaning", None)}


def money_value(change: RateChange, orders_per_week: float, assumptions: Assumptions) -> MoneyValue:
    """The change's value per year (52 weeks at `orders_per_week`), line by line, each with its interval."""
    _finite("orders_per_week", orders_per_week, "the money section")
    if orders_per_week <= 0:
        raise ValueAssumptionError(
            f"Parameter orders_per_week = {orders_per_week!r} must be positive ({_HINTS['orders_per_week']})."
        )
    estimate, low, high = change.defects_avoided_per_order
    defects = Amount(estimate, low, high).scaled(orders_per_week * WEEKS_PER_YEAR)
    refunds = defects.scaled(assumptions.refunds_per_defect)
    lines = {
        "defects_avoided": defects,
        "refunds_avoided": refunds,
        "refund_cost_usd": refunds.scaled(assumptions.cost_per_refund_usd),
        "gmv_protected_usd": defects.scaled(assumptions.gmv_at_risk_per_defect_usd),
        "defect_cost_usd": defects.scaled(assumptions.cost_per_defect_usd),
    }
    per_defect = (
        assumptions.refunds_per_defect * assumptions.cost_per_refund_usd
        + assumptions.gmv_at_risk_per_defect_usd
        + assumptions.cost_per_defect_usd
    )
    lines["total_usd"] = defects.scaled(per_defect)
    return MoneyValue(change, float(orders_per_week), assumptions, lines)


def _finite(name: str, value: object, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        hint = _HINTS.get(name, "a finite number")
        raise ValueAssumptionError(f"Parameter {name} = {value!r} is not a finite number ({what}): use {hint}.")
