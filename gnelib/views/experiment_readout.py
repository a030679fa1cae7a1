"""Experiment readout for one policy experiment in the project config's experiments source
(`experiments.designs`: one row per experiment; `experiments.units`: one row per randomised unit and its variant).

Every measure is a catalog metric computed through the metrics layer (`metrics.samples`: each unit's numerator and
denominator), so the readout's late dispatch rate is the catalog's: the design's `primary_metric` and its own
`guardrail_metrics`, over the whole ISO weeks of the test and the PRE_PERIOD_WEEKS before it (the CUPED
covariate). The page shows the sample-ratio check first, the primary metric raw and CUPED-adjusted side by side
(and why they differ), each guardrail judged in its metric's direction against a stated non-inferiority margin, a
data-quality line, and the effect in money (`gnelib.analysis.value`)."""

from collections.abc import Mapping
from dataclasses import dataclass

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from gnelib import metrics
from gnelib.analysis.experiments import (
    SRM_ALPHA,
    Effect,
    GuardrailCheck,
    SampleRatioCheck,
    pre_period_rates,
    ratio_effect,
    sample_ratio_check,
)
from gnelib.analysis.insights import Insight
from gnelib.analysis.value import Assumptions, MoneyValue, RateChange, money_value
from gnelib.config import Experiments, load_project
from gnelib.datafacts import as_of
from gnelib.errors import GneError
from gnelib.formats import format_change, format_p_value, format_relative, format_value
from gnelib.metrics.compiler import compile_rows
from gnelib.periods import shift_week, week_of, weeks_between
from gnelib.reporting.errors import choices_hint
from gnelib.views.common import finding
from gnelib.viz.charts import plain_text
from gnelib.viz.theme import PALETTE

PRE_PERIOD_WEEKS = 4
DEFAULT_MARGIN = 0.05
"""Non-inferiority margin of a guardrail when none is given: it holds only if its interval rules out a relative
loss of more than 5%."""

# Important columns first (issue 17): the measure, its value (treatment), the change, its p-value and verdict, then
# the context (control, role).
_EFFECT = {
    "treatment_text": ("treatment", None),
    "absolute_text": ("absolute change", None),
    "relative": ("relative change", "relative"),
    "ci": ("95% CI (relative)", None),
    "p_value": ("p-value", "p_value"),
}
EFFECT_COLUMNS = {"label": ("measure", None), **_EFFECT, "judgement": ("judged", None), "role": ("role", None),
                  "control_text": ("control", None)}
ADJUSTMENT_COLUMNS = {"estimate": ("estimate", None), **_EFFECT, "control_text": ("control", None)}
SRM_COLUMNS = {
    "arm": ("arm", None),
    "observed_share": ("observed share", "percent"),
    "designed_share": ("designed share", "percent"),
    "units": ("units", "count"),
    "expected_units": ("expected by design", "decimal"),
}
STATUS_WORDS = {"held": "held steady", "harmed": "got worse", "unclear": "not ruled out"}


class ExperimentError(GneError):
    """An unknown experiment, an experiment without units, or a design the readout cannot measure."""


@dataclass
class Readout:
    """Everything the readout shows: design, SRM check, primary effect (CUPED and raw), guardrails, verdict, data
    quality and money. The effects, guardrails and money are withheld (None / empty) when the SRM check fails."""

    design: pd.Series
    srm: SampleRatioCheck
    primary: Effect | None
    raw: Effect | None  # the same difference without the CUPED adjustment
    pre_rates: dict[str, float]  # the primary metric per arm in the pre-period
    guardrails: dict[str, GuardrailCheck]
    verdict: str  # ship | don't ship | inconclusive | invalid
    reason: str
    quality: str  # the data-quality line
    quality_level: str  # info | warning
    money: MoneyValue | None = None

    @property
    def primary_metric(self) -> metrics.Metric:
        return metrics.get(self.design["primary_metric"])


def _source() -> Experiments:
    source = load_project().experiments
    if source is None:
        raise ExperimentError(
            "The project config names no experiments source: add `experiments: {designs: TABLE, "
            "units: TABLE}` to gne.yaml, or leave experiment_readout out of the plan."
        )
    return source


def load_design(conn, experiment: str) -> pd.Series:
    """The design row of an experiment given by name or by id (as parameter validation accepts both: the same
    text comparison as `datafacts.experiments`); ExperimentError lists the valid names."""
    table = _source().designs  # validated as a (qualified) identifier by the config
    designs = _rows(conn, table, order_by=["experiment_id"])
    given = str(experiment)
    match = designs[designs["name"].astype(str) == given]
    if match.empty:
        match = designs[[str(value) == given for value in designs["experiment_id"]]]
    if match.empty:
        raise ExperimentError(
            f"Experiment {given!r} is not in {table}; {choices_hint(given, designs['name'].astype(str).tolist())}."
        )
    return match.iloc[0]


def load_units(conn, design: pd.Series, unit_column: str) -> pd.DataFrame:
    """One row per randomised unit: its id (`unit_column`, the catalog's unit id) and variant."""
    return _rows(
        conn,
        _source().units,
        (unit_column, "variant"),
        equals={"experiment_id": int(design["experiment_id"])},
        order_by=[unit_column],
    )


def _rows(conn, table: str, columns=(), **options) -> pd.DataFrame:
    """Rows of a config-named table, in the connection's SQL dialect with bound values."""
    compiled = compile_rows(table, columns, dialect=conn.dialect, **options)
    return conn.sql(compiled.sql, compiled.params)


def test_weeks(design: pd.Series) -> tuple[list[str], list[str]]:
    """The ISO weeks of the pre-period and of the test (every week the test's dates touch)."""
    first, last = week_of(design["start_date"]), week_of(design["end_date"])
    return weeks_between(shift_week(first, -PRE_PERIOD_WEEKS), shift_week(first, -1)), weeks_between(first, last)


def guardrail_names(design: pd.Series) -> list[str]:
    """The design's own `guardrail_metrics` (comma-separated catalog names), without the primary."""
    names = [name.strip() for name in str(design.get("guardrail_metrics") or "").split(",")]
    return [name for name in dict.fromkeys(names) if name and name != design["primary_metric"]]


def unit_outcomes(conn, design: pd.Series, names: list[str]) -> pd.DataFrame:
    """Per randomised unit: `variant` and, per metric, its catalog numerator and denominator over the test
    (`<metric>.x`, `<metric>.y`) and the pre-period (`<metric>.pre_x`, `<metric>.pre_y`); 0 without orders."""
    definitions = [_ratio_metric(name, design) for name in names]
    units = load_units(conn, design, definitions[0].unit_column)
    if units.empty:
        raise ExperimentError(
            f"Experiment {design['name']!r} has no units in {_source().units}; check the assignment logging."
        )
    pre, test = test_weeks(design)
    frame = units.set_index(definitions[0].unit_column)[["variant"]]
    for metric in definitions:
        rows = metrics.samples(conn, metric.name, weeks=(pre[0], test[-1]))
        rows["phase"] = rows["period"].isin(pre).map({True: "pre_", False: ""})
        sums = rows.groupby(["unit_id", "phase"])[["numerator", "denominator"]].sum().unstack("phase", fill_value=0)
        for phase in ("pre_", ""):
            for column, short in (("numerator", "x"), ("denominator", "y")):
                values = sums[(column, phase)] if (column, phase) in sums.columns else pd.Series(dtype=float)
                frame[f"{metric.name}.{phase}{short}"] = values.reindex(frame.index, fill_value=0).astype(float)
    return frame.reset_index()


def _ratio_metric(name: str, design: pd.Series) -> metrics.Metric:
    metric = metrics.get(name)
    if metric.kind != "ratio":
        raise ExperimentError(
            f"{name} in the design of {design['name']!r} is a {metric.kind} metric: the readout measures ratio "
            "metrics per randomised unit; list ratio metrics in primary_metric and guardrail_metrics."
        )
    if metric.unit != design["unit"]:
        raise ExperimentError(
            f"{name} is measured per {metric.unit} but {design['name']!r} was randomised by {design['unit']}: "
            "list metrics whose catalog unit is the randomisation unit."
        )
    return metric


def effect_of(frame: pd.DataFrame, metric: str, alpha: float = 0.05, adjust: bool = True) -> Effect:
    """The metric's treatment effect from `unit_outcomes`, CUPED-adjusted on its pre-period unless not `adjust`."""
    return ratio_effect(
        frame,
        metric=metric,
        numerator=f"{metric}.x",
        denominator=f"{metric}.y",
        pre_numerator=f"{metric}.pre_x",
        pre_denominator=f"{metric}.pre_y",
        alpha=alpha,
        adjust=adjust,
    )


def readout(
    conn,
    experiment: str,
    alpha: float = 0.05,
    margin: float | Mapping[str, float] = DEFAULT_MARGIN,
    assumptions: Assumptions | None = None,
) -> Readout:
    """SRM check, then (unless SRM invalidates the test) the primary effect raw and CUPED-adjusted, the design's
    guardrails against their non-inferiority `margin` (one for all, or per metric), a verdict, and the money
    value of the primary effect when `assumptions` are given (and the primary metric has a better direction)."""
    design = load_design(conn, experiment)
    primary_name = design["primary_metric"]
    guards = guardrail_names(design)
    frame = unit_outcomes(conn, design, [primary_name, *guards])
    counts = frame["variant"].value_counts()
    srm = sample_ratio_check(
        int(counts.get("control", 0)), int(counts.get("treatment", 0)), float(design["designed_split"])
    )
    quality, level = data_quality(conn, design, frame, [primary_name, *guards])
    if srm.mismatch:
        reason = (
            f"The split of units between the arms ({srm.observed_treatment_share:.1%} in "
            f"treatment against a designed {srm.designed_treatment_share:.0%}) is very unlikely by chance "
            f"({srm_p_text(srm.p_value)}): assignment or logging is broken, so any lift would be biased and is "
            "withheld. Fix the assignment and re-run the test."
        )
        return Readout(design, srm, None, None, {}, {}, "invalid", reason, quality, level)
    primary = effect_of(frame, primary_name, alpha)
    raw = effect_of(frame, primary_name, alpha, adjust=False)
    pre_rates = pre_period_rates(frame, numerator=f"{primary_name}.pre_x", denominator=f"{primary_name}.pre_y")
    guardrails = {
        name: GuardrailCheck(effect_of(frame, name, alpha), metrics.get(name).direction, _margin(margin, name))
        for name in guards
    }
    metric = metrics.get(primary_name)
    verdict, reason = _verdict(metric, primary, guardrails)
    money = None
    if assumptions is not None and metric.direction != "neutral":
        weekly = frame[f"{primary_name}.y"].sum() / len(test_weeks(design)[1])
        money = money_value(rate_change(primary, metric), float(weekly), assumptions)
    return Readout(design, srm, primary, raw, pre_rates, guardrails, verdict, reason, quality, level, money)


def _margin(margin: float | Mapping[str, float], name: str) -> float:
    value = margin.get(name, DEFAULT_MARGIN) if isinstance(margin, Mapping) else margin
    if not 0 < value < 1:
        raise ExperimentError(
            f"guardrail_margin = {value!r} for {name}: use a relative loss between 0 and 1, e.g. 0.05 for 5%."
        )
    return float(value)


def rate_change(effect: Effect, metric: metrics.Metric) -> RateChange:
    """The effect as value.py's RateChange (in the catalog metric's direction)."""
    return RateChange(
        metric=metric.title.lower(),
        direction=metric.direction,
        absolute=effect.absolute,
        ci_low=effect.ci_low,
        ci_high=effect.ci_high,
        relative=effect.relative,
        relative_ci_low=effect.relative_ci_low,
        relative_ci_high=effect.relative_ci_high,
    )


def _verdict(metric, primary: Effect, guardrails: dict[str, GuardrailCheck]) -> tuple[str, str]:
    better = (primary.absolute < 0) == (metric.direction == "lower_is_better")
    name = metric.title.lower()
    harmed = [_guard_title(key) for key, check in guardrails.items() if check.status == "harmed"]
    unclear = [_guard_title(key) for key, check in guardrails.items() if check.status == "unclear"]
    if primary.significant and not better:
        return "don't ship", f"The treatment made {name} worse ({_effect_words(primary)})."
    if primary.significant and harmed:
        return "don't ship", (
            f"{name.capitalize()} improved ({_effect_words(primary)}), but a guardrail got worse: {', '.join(harmed)}."
        )
    if primary.significant and unclear:
        return "inconclusive", (
            f"{name.capitalize()} improved ({_effect_words(primary)}), but the test cannot rule out a loss beyond "
            f"the margin on {', '.join(unclear)}. Run longer or on more units before shipping."
        )
    if primary.significant:
        return "ship", (
            f"The treatment improved {name} ({_effect_words(primary)}) and every guardrail held within its margin."
        )
    return "inconclusive", (
        f"No clear effect on {name} ({_effect_words(primary)}): the interval includes zero. "
        "Run longer or on more units before deciding."
    )


def _guard_title(name: str) -> str:
    return metrics.get(name).title.lower()


def _effect_words(effect: Effect) -> str:
    """`-0.40 pp, -8.7% relative, 95% CI -13% to -4.3%, p < 0.001`."""
    return (
        f"{format_change(effect.absolute, 'percent')}, {format_relative(effect.relative)} relative, 95% CI "
        f"{format_relative(effect.relative_ci_low)} to {format_relative(effect.relative_ci_high)}, "
        f"{format_p_value(effect.p_value)}"
    )


def srm_p_text(p_value: float) -> str:
    """The SRM p-value precise enough to compare with the 0.0005 threshold: `p = 0.0007`, `p < 0.0001`."""
    if p_value < 0.0001:
        return "p < 0.0001"
    return f"p = {p_value:.4f}" if p_value < 0.01 else format_p_value(p_value)


def srm_sentence(srm: SampleRatioCheck, unit: str = "unit") -> str:
    """`Sample-ratio check passed: ... (chi-square p = 0.0007, above the 0.0005 threshold).`"""
    side = "below" if srm.mismatch else "above"
    return (
        f"Sample-ratio check {'FAILED' if srm.mismatch else 'passed'}: {srm.control:,} control and "
        f"{srm.treatment:,} treatment {unit}s ({srm.observed_treatment_share:.1%} in treatment, designed "
        f"{srm.designed_treatment_share:.0%}; chi-square {srm_p_text(srm.p_value)}, {side} the {SRM_ALPHA:g} "
        "threshold)."
    )


def adjustment_sentence(result: Readout) -> str:
    """Raw against CUPED-adjusted, and why they differ: where each arm started in the pre-period."""
    raw, adjusted, metric = result.raw, result.primary, result.primary_metric
    control, treatment = result.pre_rates.get("control"), result.pre_rates.get("treatment")
    started = (
        f"In the {PRE_PERIOD_WEEKS} weeks before the test, treatment units' {metric.title.lower()} was "
        f"{format_value(treatment, metric.format)} against {format_value(control, metric.format)} in control"
    )
    moved = abs(adjusted.absolute - raw.absolute)
    shift = (
        f"CUPED moved the estimate from {format_relative(raw.relative)} (raw) to {format_relative(adjusted.relative)}"
        f" ({format_change(raw.absolute, 'percent')} to {format_change(adjusted.absolute, 'percent')})"
    )
    if moved < 0.1 * (raw.ci_high - raw.ci_low) / 2:
        return (
            f"{started}: the arms started level, so CUPED left the estimate nearly where it was "
            f"({format_relative(raw.relative)} raw, {format_relative(adjusted.relative)} adjusted) and removed "
            f"{adjusted.variance_reduction:.0%} of its variance."
        )
    gap = treatment - control
    worse = (gap > 0) == (metric.direction == "lower_is_better")
    return (
        f"{shift}. {started} ({format_change(gap, 'percent')}): treatment units started "
        f"{'worse' if worse else 'better'}, and CUPED removes that pre-period imbalance, which the raw difference "
        f"counts as an effect. It also removed {adjusted.variance_reduction:.0%} of the variance."
    )


def data_quality(conn, design: pd.Series, frame: pd.DataFrame, names: list[str]) -> tuple[str, str]:
    """One line on the data behind the readout (for a `Data quality:` callout), and its level (`info` or
    `warning`): are the test's weeks
    complete (the config's completeness metric, all markets), has the test ended, are its metrics final (their
    `maturity_days` after the end), and how many units had no orders in the test."""
    project = load_project()
    rule = project.completeness
    moment = as_of(conn)
    pre, test = test_weeks(design)
    counts = metrics.compute(conn, rule.metric, weeks=(pre[0], test[-1])).set_index("period")["value"]
    counts = counts.reindex(pre + test, fill_value=0)
    median = float(counts.median())
    thin = [week for week, value in counts.items() if value < rule.min_ratio * median]
    noun = metrics.get(rule.metric).title.lower()
    problems = []
    if thin:
        verb = "looks" if len(thin) == 1 else "look"
        problems.append(
            f"{', '.join(thin)} {verb} incomplete (fewer than {rule.min_ratio:.0%} of the median {median:,.0f} {noun})"
        )
    end = pd.Timestamp(design["end_date"]) + pd.Timedelta(days=1)
    slowest = max((metrics.get(name) for name in names), key=lambda metric: metric.maturity_days)
    final_at = end + pd.Timedelta(days=slowest.maturity_days)
    if moment < end:
        problems.append(f"the test has not ended (it ends {design['end_date']:%Y-%m-%d}): this is an interim read")
    elif moment < final_at:
        problems.append(
            f"{slowest.title.lower()} is not final until {final_at:%Y-%m-%d} ({slowest.maturity_days} days after the "
            "end): late events are still arriving"
        )
    idle = int((frame[f"{names[0]}.y"] == 0).sum())
    summary = (
        f"{len(frame):,} units, {idle:,} of them with no orders in the test; {len(pre + test)} weeks "
        f"({pre[0]} to {test[-1]}) of {noun}, {counts.min():,.0f} to {counts.max():,.0f} a week; data as of "
        f"{moment:%Y-%m-%d %H:%M}"
    )
    if problems:
        return f"{_sentence_case('; '.join(problems))}. {_sentence_case(summary)}.", "warning"
    final = f"{slowest.title.lower()}, the slowest metric, final since {final_at:%Y-%m-%d}"
    return f"Complete and final ({final}). {_sentence_case(summary)}.", "info"


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def effects_table(result: Readout) -> pd.DataFrame:
    """Primary metric (CUPED-adjusted) and guardrails: arm levels, absolute change in pp, relative change with its
    CI, p-value and the judgement (guardrails: against their margin)."""
    if result.primary is None:
        return pd.DataFrame()
    metric = result.primary_metric
    rows = [_effect_row(metric.title, result.primary, metric.format, "primary", _primary_judgement(result))]
    for name, check in result.guardrails.items():
        guard = metrics.get(name)
        rows.append(_effect_row(guard.title, check.effect, guard.format, "guardrail", guardrail_judgement(check)))
    return pd.DataFrame(rows)


def _primary_judgement(result: Readout) -> str:
    if not result.primary.significant:
        return "no clear effect"
    better = (result.primary.absolute < 0) == (result.primary_metric.direction == "lower_is_better")
    return "improved" if better else "got worse"


def guardrail_judgement(check: GuardrailCheck) -> str:
    """`held steady (loss under 5% ruled out)`, `got worse`, `cannot rule out a loss of up to 7.2% (margin 5%)`."""
    if check.status == "held":
        return f"held steady (a loss over {check.margin:.0%} ruled out)"
    if check.status == "harmed":
        return f"got worse (a loss of {format_relative(check.least_loss)} to {format_relative(check.worst_loss)})"
    return (
        f"cannot rule out a loss of up to {format_relative(check.worst_loss).lstrip('+')} (margin {check.margin:.0%})"
    )


def adjustment_table(result: Readout) -> pd.DataFrame:
    """The primary effect raw and CUPED-adjusted, side by side."""
    if result.primary is None:
        return pd.DataFrame()
    fmt = result.primary_metric.format
    return pd.DataFrame(
        [
            {"estimate": label, **_effect_row("", effect, fmt, "primary", "")}
            for label, effect in (("raw", result.raw), ("CUPED-adjusted", result.primary))
        ]
    )


def _effect_row(label: str, effect: Effect, fmt: str, role: str, judgement: str) -> dict:
    return {
        "label": label,
        "role": role,
        "control": effect.control,
        "treatment": effect.treatment,
        "control_text": format_value(effect.control, fmt),
        "treatment_text": format_value(effect.treatment, fmt),
        "absolute": effect.absolute,
        "absolute_text": format_change(effect.absolute, fmt),
        "relative": effect.relative,
        "relative_ci_low": effect.relative_ci_low,
        "relative_ci_high": effect.relative_ci_high,
        "ci": f"{format_relative(effect.relative_ci_low)} to {format_relative(effect.relative_ci_high)}",
        "p_value": effect.p_value,
        "variance_reduction": effect.variance_reduction,
        "significant": effect.significant,
        "judgement": judgement,
    }


def srm_table(srm: SampleRatioCheck) -> pd.DataFrame:
    """Observed vs designed units per arm."""
    total = srm.control + srm.treatment
    designed = [1 - srm.designed_treatment_share, srm.designed_treatment_share]
    return pd.DataFrame(
        {
            "arm": ["control", "treatment"],
            "units": [srm.control, srm.treatment],
            "observed_share": [srm.control / total, srm.treatment / total],
            "designed_share": designed,
            "expected_units": [share * total for share in designed],
        }
    )


def verdict_level(result: Readout) -> str:
    """Callout level of the verdict: `info` to ship, `warning` when inconclusive, `error` otherwise."""
    return {"ship": "info", "inconclusive": "warning"}.get(result.verdict, "error")


def verdict_title(result: Readout) -> str:
    """The verdict callout's title; an invalid test leads with the sample-ratio mismatch."""
    name = result.design["name"]
    if result.verdict == "invalid":
        return f"Sample-ratio mismatch in {name}: INVALID."
    return f"Verdict for {name}: {result.verdict.upper()}."


def key_insights(result: Readout) -> list[Insight]:
    """Plain-language findings below the verdict and data-quality callouts: SRM, primary effect (raw and
    adjusted), guardrails, money, design."""
    design, srm = result.design, result.srm
    lines = [srm_sentence(srm, str(design["unit"]))]
    if result.primary is not None:
        effect, metric = result.primary, result.primary_metric
        lines.append(
            f"{metric.title}: {format_value(effect.control, metric.format)} in control against "
            f"{format_value(effect.treatment, metric.format)} in treatment after CUPED adjustment "
            f"({_effect_words(effect)})."
        )
        lines.append(adjustment_sentence(result))
        for name, check in result.guardrails.items():
            guard = metrics.get(name)
            lines.append(
                f"Guardrail {guard.title.lower()} {guardrail_judgement(check)}: "
                f"{format_value(check.effect.control, guard.format)} in control, "
                f"{format_value(check.effect.treatment, guard.format)} in treatment ({_effect_words(check.effect)})."
            )
        if result.money is not None:
            lines.append(result.money.sentence("If shipped to every unit in the test, the treatment"))
    lines.append(
        f"Design: {design['hypothesis']} Test ran {design['start_date']:%Y-%m-%d} to "
        f"{design['end_date']:%Y-%m-%d}, randomised by {design['unit']}."
    )
    return [
        finding(line, design["primary_metric"], severity="alert" if srm.mismatch and index == 0 else "info")
        for index, line in enumerate(lines)
    ]


def effect_chart(table: pd.DataFrame, title: str = "Relative effect with 95% CI", ax: Axes | None = None) -> Axes:
    """Relative effect of each measure as a point with its confidence interval; zero marked."""
    data = table.iloc[::-1].reset_index(drop=True)
    ax = ax or plt.subplots(figsize=(9.0, 0.6 * len(data) + 1.2))[1]
    for position, row in data.iterrows():
        colour = PALETTE["primary"] if row["role"] == "primary" else PALETTE["muted"]
        ax.errorbar(
            row["relative"],
            position,
            xerr=[[row["relative"] - row["relative_ci_low"]], [row["relative_ci_high"] - row["relative"]]],
            fmt="o",
            color=colour,
            capsize=4,
            markersize=7,
        )
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.set_yticks(range(len(data)), data["label"])
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_title(title)
    ax.set_ylim(-0.6, len(data) - 0.4)
    return plain_text(ax)
