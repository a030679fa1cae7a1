"""Experiment readout: verdict, sample-ratio check, CUPED-adjusted primary effect and guardrails for one policy
experiment in the project config's experiments source (`experiments.designs`: one row per experiment;
`experiments.units`: one row per randomised unit with its outcomes)."""

from dataclasses import dataclass

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from gnelib import metrics
from gnelib.analysis.experiments import Effect, SampleRatioCheck, mean_effect, ratio_effect, sample_ratio_check
from gnelib.analysis.insights import Insight
from gnelib.config import Experiments, load_project
from gnelib.errors import GneError
from gnelib.formats import format_p_value, format_relative, format_value
from gnelib.metrics.compiler import compile_rows
from gnelib.reporting.errors import choices_hint
from gnelib.views.common import finding
from gnelib.viz.charts import plain_text
from gnelib.viz.theme import PALETTE

GUARDRAILS = {"gmv_per_seller": ("GMV per seller (USD)", "gmv_usd", "pre_gmv_usd", "currency"),
              "orders_per_seller": ("Orders per seller", "orders", "pre_orders", "count")}
EFFECT_COLUMNS = {"label": ("measure", None), "control_text": ("control", None), "treatment_text": ("treatment", None),
                  "relative": ("relative change", "relative"), "ci": ("95% CI (relative)", None),
                  "p_value": ("p-value", "p_value"), "variance_reduction": ("variance removed by CUPED", "percent")}

UNIT_COLUMNS = ("variant", "pre_orders", "pre_defects", "orders", "defects", "gmv_usd", "pre_gmv_usd")
SRM_COLUMNS = {"arm": ("arm", None), "units": ("sellers", "count"), "expected_units": ("expected by design", "decimal"),
               "observed_share": ("observed share", "percent"), "designed_share": ("designed share", "percent")}


class ExperimentError(GneError):
    """An unknown experiment name or an experiment without units."""


@dataclass
class Readout:
    """Everything the readout shows: the design row, the SRM check, the primary effect, guardrails, the verdict."""

    design: pd.Series
    srm: SampleRatioCheck
    primary: Effect | None
    guardrails: dict[str, Effect]
    verdict: str  # ship | don't ship | inconclusive | invalid
    reason: str

    @property
    def primary_metric(self):
        return metrics.get(self.design["primary_metric"])


def _source() -> Experiments:
    source = load_project().experiments
    if source is None:
        raise ExperimentError("The project config names no experiments source: add `experiments: {designs: TABLE, "
                              "units: TABLE}` to gne.yaml, or leave experiment_readout out of the plan.")
    return source


def load_design(conn, name: str) -> pd.Series:
    """The design row of experiment `name`; ExperimentError lists the valid names."""
    table = _source().designs  # validated as a (qualified) identifier by the config
    designs = _rows(conn, table, order_by=["experiment_id"])
    match = designs[designs["name"] == name]
    if match.empty:
        raise ExperimentError(f"Experiment {name!r} is not in {table}; "
                              f"{choices_hint(name, designs['name'].tolist())}.")
    return match.iloc[0]


def load_units(conn, experiment_id: int) -> pd.DataFrame:
    """One row per randomised unit with its variant, pre-period and test-period outcomes (ids stay internal)."""
    return _rows(conn, _source().units, UNIT_COLUMNS, equals={"experiment_id": int(experiment_id)},
                 order_by=["seller_id"])


def _rows(conn, table: str, columns=(), **options) -> pd.DataFrame:
    """Rows of a config-named table, in the connection's SQL dialect with bound values."""
    compiled = compile_rows(table, columns, dialect=conn.dialect, **options)
    return conn.sql(compiled.sql, compiled.params)


def readout(conn, name: str, alpha: float = 0.05) -> Readout:
    """SRM check, then (unless SRM invalidates the test) the CUPED primary effect and guardrails, and a verdict."""
    design = load_design(conn, name)
    units = load_units(conn, design["experiment_id"])
    if units.empty:
        raise ExperimentError(f"Experiment {name!r} has no units in {_source().units}; check the assignment logging.")
    counts = units["variant"].value_counts()
    srm = sample_ratio_check(int(counts.get("control", 0)), int(counts.get("treatment", 0)),
                             float(design["designed_split"]))
    if srm.mismatch:
        reason = (f"The split of sellers between the arms ({srm.observed_treatment_share:.1%} in treatment against "
                  f"a designed {srm.designed_treatment_share:.0%}) is very unlikely by chance "
                  f"({format_p_value(srm.p_value)}): assignment or logging is broken, so any lift would be biased "
                  f"and is withheld. Fix the assignment and re-run the test.")
        return Readout(design, srm, None, {}, "invalid", reason)
    primary = ratio_effect(units, metric=design["primary_metric"], numerator="defects", denominator="orders",
                           pre_numerator="pre_defects", pre_denominator="pre_orders", alpha=alpha)
    guardrails = {key: mean_effect(units, metric=key, value=value, pre_value=pre, alpha=alpha)
                  for key, (_, value, pre, _) in GUARDRAILS.items()}
    verdict, reason = _verdict(metrics.get(design["primary_metric"]), primary, guardrails)
    return Readout(design, srm, primary, guardrails, verdict, reason)


def _verdict(metric, primary: Effect, guardrails: dict[str, Effect]) -> tuple[str, str]:
    better = (primary.absolute < 0) == (metric.direction == "lower_is_better")
    harmed = [GUARDRAILS[key][0].lower() for key, effect in guardrails.items()
              if effect.significant and effect.absolute < 0]
    name = metric.title.lower()
    if primary.significant and not better:
        return "don't ship", f"The treatment made {name} worse ({_effect_words(primary)})."
    if primary.significant and harmed:
        return "don't ship", (f"{name.capitalize()} improved ({_effect_words(primary)}), but a guardrail got worse: "
                              f"{', '.join(harmed)}.")
    if primary.significant:
        return "ship", (f"The treatment improved {name} ({_effect_words(primary)}) and no guardrail got worse.")
    return "inconclusive", (f"No clear effect on {name} ({_effect_words(primary)}): the interval includes zero. "
                            "Run longer or on more sellers before deciding.")


def _effect_words(effect: Effect) -> str:
    return (f"{format_relative(effect.relative)} relative, 95% CI {format_relative(effect.relative_ci_low)} to "
            f"{format_relative(effect.relative_ci_high)}, {format_p_value(effect.p_value)}")


def effects_table(result: Readout) -> pd.DataFrame:
    """Primary metric and guardrails: CUPED-adjusted arm levels, relative effect with CI, p-value, variance removed."""
    rows = []
    if result.primary is not None:
        rows.append(_effect_row(result.primary_metric.title, result.primary, result.primary_metric.format, "primary"))
    for key, effect in result.guardrails.items():
        label, _, _, fmt = GUARDRAILS[key]
        rows.append(_effect_row(label, effect, fmt, "guardrail"))
    return pd.DataFrame(rows)


def _effect_row(label: str, effect: Effect, fmt: str, role: str) -> dict:
    return {"label": label, "role": role, "control": effect.control, "treatment": effect.treatment,
            "control_text": _level(effect.control, fmt), "treatment_text": _level(effect.treatment, fmt),
            "relative": effect.relative, "relative_ci_low": effect.relative_ci_low,
            "relative_ci_high": effect.relative_ci_high,
            "ci": f"{format_relative(effect.relative_ci_low)} to {format_relative(effect.relative_ci_high)}",
            "p_value": effect.p_value, "variance_reduction": effect.variance_reduction,
            "significant": effect.significant}


def srm_table(srm: SampleRatioCheck) -> pd.DataFrame:
    """Observed vs designed units per arm."""
    total = srm.control + srm.treatment
    designed = [1 - srm.designed_treatment_share, srm.designed_treatment_share]
    return pd.DataFrame({"arm": ["control", "treatment"], "units": [srm.control, srm.treatment],
                         "observed_share": [srm.control / total, srm.treatment / total], "designed_share": designed,
                         "expected_units": [share * total for share in designed]})


def verdict_level(result: Readout) -> str:
    """Callout level of the verdict: `info` to ship, `warning` when inconclusive, `error` otherwise."""
    return {"ship": "info", "inconclusive": "warning"}.get(result.verdict, "error")


def key_insights(result: Readout) -> list[Insight]:
    """Plain-language findings below the verdict callout: the SRM check, the primary effect, guardrails, design."""
    design, srm = result.design, result.srm
    lines = []
    split = (f"{srm.control:,} control and {srm.treatment:,} treatment sellers ({srm.observed_treatment_share:.1%} "
             f"in treatment, designed {srm.designed_treatment_share:.0%}; chi-square {format_p_value(srm.p_value)})")
    lines.append(f"Sample-ratio check {'FAILED' if srm.mismatch else 'passed'}: {split}.")
    if result.primary is not None:
        effect, metric = result.primary, result.primary_metric
        lines.append(f"{metric.title}: {format_value(effect.control, metric.format)} in control against "
                     f"{format_value(effect.treatment, metric.format)} in treatment after CUPED adjustment "
                     f"({_effect_words(effect)}); CUPED removed {effect.variance_reduction:.0%} of the variance.")
        for key, guard in result.guardrails.items():
            label, _, _, fmt = GUARDRAILS[key]
            state = "moved" if guard.significant else "held steady"
            lines.append(f"Guardrail {label} {state}: {_level(guard.control, fmt)} in control, "
                         f"{_level(guard.treatment, fmt)} in treatment ({_effect_words(guard)}).")
    lines.append(f"Design: {design['hypothesis']} Test ran {design['start_date']:%Y-%m-%d} to "
                 f"{design['end_date']:%Y-%m-%d}, randomised by {design['unit']}.")
    return [finding(line, design["primary_metric"], severity="alert" if srm.mismatch and index == 0 else "info")
            for index, line in enumerate(lines)]


def _level(value: float, fmt: str) -> str:
    """An arm's level: per-seller counts keep one decimal."""
    return f"{value:,.1f}" if fmt == "count" else format_value(value, fmt)


def effect_chart(table: pd.DataFrame, title: str = "Relative effect with 95% CI", ax: Axes | None = None) -> Axes:
    """Relative effect of each measure as a point with its confidence interval; zero marked."""
    data = table.iloc[::-1].reset_index(drop=True)
    ax = ax or plt.subplots(figsize=(9.0, 0.6 * len(data) + 1.2))[1]
    for position, row in data.iterrows():
        colour = PALETTE["primary"] if row["role"] == "primary" else PALETTE["muted"]
        ax.errorbar(row["relative"], position, xerr=[[row["relative"] - row["relative_ci_low"]],
                                                     [row["relative_ci_high"] - row["relative"]]],
                    fmt="o", color=colour, capsize=4, markersize=7)
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.set_yticks(range(len(data)), data["label"])
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_title(title)
    ax.set_ylim(-0.6, len(data) - 0.4)
    return plain_text(ax)

