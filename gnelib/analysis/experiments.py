"""A/B readouts for policy experiments: sample-ratio-mismatch check, raw and CUPED-adjusted effects with intervals,
the pre-period gap between the arms that makes them differ, and guardrails judged against a non-inferiority margin.

Sources: Fabijan et al. (KDD 2019) for the SRM threshold p < 0.0005; Deng, Xu, Kohavi & Walker (WSDM 2013) for
CUPED; Deng, Knoblich & Lu (KDD 2018) for the delta-method linearisation of ratio metrics.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

SRM_ALPHA = 0.0005


@dataclass(frozen=True)
class SampleRatioCheck:
    """Observed vs designed split of units between control and treatment."""

    control: int
    treatment: int
    designed_treatment_share: float
    chi2: float
    p_value: float

    @property
    def mismatch(self) -> bool:
        return self.p_value < SRM_ALPHA

    @property
    def observed_treatment_share(self) -> float:
        return self.treatment / (self.control + self.treatment)


@dataclass(frozen=True)
class Effect:
    """Treatment minus control for one metric, after CUPED adjustment, with a two-sided confidence interval."""

    metric: str
    control: float
    treatment: float
    absolute: float
    relative: float
    ci_low: float
    ci_high: float
    relative_ci_low: float
    relative_ci_high: float
    p_value: float
    variance_reduction: float  # 1 - Var(adjusted) / Var(unadjusted)

    @property
    def significant(self) -> bool:
        return self.ci_low > 0 or self.ci_high < 0


def sample_ratio_check(control: int, treatment: int, designed_treatment_share: float = 0.5) -> SampleRatioCheck:
    """Chi-square goodness of fit of the unit counts against the designed split."""
    total = control + treatment
    expected = np.array([1 - designed_treatment_share, designed_treatment_share]) * total
    observed = np.array([control, treatment], dtype=float)
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    return SampleRatioCheck(control, treatment, designed_treatment_share, chi2, float(stats.chi2.sf(chi2, df=1)))


def ratio_effect(
    units: pd.DataFrame,
    *,
    metric: str,
    numerator: str,
    denominator: str,
    pre_numerator: str,
    pre_denominator: str,
    variant: str = "variant",
    alpha: float = 0.05,
    adjust: bool = True,
) -> Effect:
    """Effect on a ratio metric Σx/Σy with units as the randomisation unit: CUPED on the delta-method linearisation
    (`adjust=False`: the raw difference of the arms' ratios, with the same delta-method interval).

    Each unit's outcome is linearised as (x − R·y)/ȳ within its arm; the covariate is the same linearisation of the
    unit's pre-period numerator and denominator.
    """
    pre_total_y = units[pre_denominator].mean()
    pre_rate = units[pre_numerator].sum() / units[pre_denominator].sum()
    covariate = (units[pre_numerator] - pre_rate * units[pre_denominator]) / pre_total_y
    linear = pd.Series(index=units.index, dtype=float)
    rates = {}
    for arm, group in units.groupby(variant):
        rate = group[numerator].sum() / group[denominator].sum()
        rates[arm] = rate
        linear.loc[group.index] = (group[numerator] - rate * group[denominator]) / group[denominator].mean()
    return _cuped_effect(metric, units[variant], rates, linear, covariate, alpha, adjust)


def mean_effect(
    units: pd.DataFrame,
    *,
    metric: str,
    value: str,
    pre_value: str,
    variant: str = "variant",
    alpha: float = 0.05,
    adjust: bool = True,
) -> Effect:
    """Effect on a per-unit mean (e.g. GMV per seller), CUPED-adjusted with the unit's pre-period value."""
    means = units.groupby(variant)[value].mean().to_dict()
    residual = units[value] - units[variant].map(means)
    return _cuped_effect(metric, units[variant], means, residual, units[pre_value], alpha, adjust)


def _cuped_effect(
    metric: str,
    arms: pd.Series,
    level: dict,
    residual: pd.Series,
    covariate: pd.Series,
    alpha: float,
    adjust: bool,
) -> Effect:
    """Shared CUPED step: θ from pooled data (0 without `adjust`), adjusted arm levels, delta-method intervals for
    Δ and Δ/control."""
    centred = covariate - covariate.mean()
    variance = float(np.var(centred, ddof=1))
    theta = float(np.cov(residual, centred, ddof=1)[0, 1] / variance) if adjust and variance > 0 else 0.0
    adjusted_residual = residual - theta * centred
    adjusted, var, raw_var = {}, {}, {}
    for arm in ("control", "treatment"):
        mask = arms == arm
        count = int(mask.sum())
        adjusted[arm] = level[arm] - theta * float(centred[mask].mean())
        var[arm] = float(np.var(adjusted_residual[mask], ddof=1)) / count
        raw_var[arm] = float(np.var(residual[mask], ddof=1)) / count
    control, treatment = adjusted["control"], adjusted["treatment"]
    absolute = treatment - control
    se = float(np.sqrt(var["control"] + var["treatment"]))
    rel_se = float(np.sqrt(var["treatment"] / control**2 + treatment**2 * var["control"] / control**4))
    z = stats.norm.ppf(1 - alpha / 2)
    p_value = float(2 * stats.norm.sf(abs(absolute) / se)) if se > 0 else float("nan")
    relative = absolute / control
    return Effect(
        metric=metric,
        control=control,
        treatment=treatment,
        absolute=absolute,
        relative=relative,
        ci_low=absolute - z * se,
        ci_high=absolute + z * se,
        relative_ci_low=relative - z * rel_se,
        relative_ci_high=relative + z * rel_se,
        p_value=p_value,
        variance_reduction=1 - (var["control"] + var["treatment"]) / (raw_var["control"] + raw_var["treatment"]),
    )


def pre_period_rates(units: pd.DataFrame, *, numerator: str, denominator: str, variant: str = "variant") -> dict:
    """{arm: Σ numerator / Σ denominator} over the pre-period columns: how far apart the arms started."""
    sums = units.groupby(variant)[[numerator, denominator]].sum()
    return (sums[numerator] / sums[denominator]).to_dict()


@dataclass(frozen=True)
class GuardrailCheck:
    """A guardrail's effect judged against a relative non-inferiority margin, in the metric's own direction."""

    effect: Effect
    direction: str  # the catalog metric's: lower_is_better, higher_is_better, or neutral (any move is a loss)
    margin: float  # the largest relative loss that still counts as holding steady, e.g. 0.02 = 2%

    @property
    def worst_loss(self) -> float:
        """The largest relative loss the interval allows (negative: even its worst end is a gain)."""
        low, high = self.effect.relative_ci_low, self.effect.relative_ci_high
        return {"lower_is_better": high, "higher_is_better": -low}.get(self.direction, max(high, -low))

    @property
    def least_loss(self) -> float:
        """The smallest relative loss the interval allows (positive: a loss for sure)."""
        low, high = self.effect.relative_ci_low, self.effect.relative_ci_high
        return {"lower_is_better": low, "higher_is_better": -high}.get(self.direction, max(low, -high))

    @property
    def status(self) -> str:
        """`harmed` (the interval is all loss), `held` (it rules out a loss beyond the margin), else `unclear`."""
        if self.least_loss > 0:
            return "harmed"
        return "held" if self.worst_loss < self.margin else "unclear"
