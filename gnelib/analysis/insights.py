"""Plain-language findings: ranked `Insight`s built from a change, its root cause, seller concentration and
maturity.

Numbers are written per the metric's `format` (gnelib.formats); good/bad comes from the metric's `direction`.
Text built from data (segment values are seller- or analyst-supplied strings) is escaped in `Insight.to_html`.
"""

import html
import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gnelib.analysis.concentration import Concentration
from gnelib.analysis.maturity import Reading
from gnelib.analysis.maturity import describe as describe_reading
from gnelib.analysis.root_cause import PAIR_SEPARATOR, RootCause, drivers, shift_gainer
from gnelib.analysis.significance import Change
from gnelib.formats import format_change, format_p_value, format_relative, format_value
from gnelib.periods import previous_week, trailing_weeks

SEVERITY_RANK = {"alert": 3, "warn": 2, "info": 1}
CONTEXT_SCORE = 0.25
"""Score of context notes (how a maturing week was read): after every finding, so a report leads with what
happened."""


@dataclass
class Insight:
    """One finding for a report: `text` (plain), its kind, good/bad direction, confidence, severity, evidence.

    `kind`: `change`, `driver`, `mix_shift` (the change explained by a mix shift), `mix` (a notable mix shift
    beside the headline), `concentration` (a few sellers carry the change), `threshold` (past a warning or alert
    level without an unusual change), `no_change` or `maturity`.
    `direction`: `good`, `bad` or `neutral`. `confidence`: `high` (p < 0.001), `medium` (p < 0.05) or `low`.
    `severity`: `alert`, `warn`, `info`.
    """

    kind: str
    text: str
    metric: str
    direction: str
    confidence: str
    severity: str
    score: float
    market: str | None = None
    evidence: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_html(self) -> str:
        """The sentence as an HTML fragment, escaped, classed by direction and severity (the evidence table
        stays in `evidence` for analysts; reports show the sentence)."""
        return (
            f'<div class="gne-insight gne-{html.escape(self.direction)} gne-{html.escape(self.severity)}">'
            f"{html.escape(self.text)}</div>"
        )

    def to_dict(self) -> dict:
        """The insight without its evidence table, for JSON sidecars."""
        return {
            "kind": self.kind,
            "text": self.text,
            "metric": self.metric,
            "market": self.market,
            "direction": self.direction,
            "confidence": self.confidence,
            "severity": self.severity,
            "score": self.score,
        }


def judge(metric_direction: str, movement: str) -> str:
    """`good`, `bad` or `neutral` for a movement (`up`/`down`/`flat`) of a metric with this direction."""
    if movement == "flat" or metric_direction not in ("lower_is_better", "higher_is_better"):
        return "neutral"
    return "good" if (movement == "down") == (metric_direction == "lower_is_better") else "bad"


def confidence_of(p_value: float) -> str:
    """`high` below 0.001, `medium` below 0.05, else `low` (also when there is no p-value)."""
    if p_value is None or math.isnan(p_value):
        return "low"
    return "high" if p_value < 0.001 else "medium" if p_value < 0.05 else "low"


def describe_change(
    metric, change: Change, market: str | None = None, comparison: str = "week over week"
) -> str:
    """The headline: `Refund rate in ID rose from 2.1% to 3.4% week over week (+1.3 pp, p < 0.001).`"""
    verb = {"up": "rose", "down": "fell", "flat": "was unchanged"}[change.direction]
    detail = [format_change(change.abs_change, metric.format)]
    if metric.format != "percent":
        detail.append(format_relative(change.rel_change))
    detail.append(format_p_value(change.p_value))
    moved = (
        (
            f"{verb} from {format_value(change.baseline, metric.format)} to "
            f"{format_value(change.current, metric.format)}"
        )
        if change.direction != "flat"
        else f"{verb} at {format_value(change.current, metric.format)}"
    )
    return f"{_subject(metric, market)} {moved} {comparison} ({', '.join(detail)})."


def describe_driver(metric, segment: pd.Series, change: Change) -> str:
    """`78% of the rise comes from category beauty, where the rate went from 2.0% to 6.1%.`; above 100 %, the
    offset is said: `104% of the rise comes from carrier carrier_b (the other carriers offset -4%), …`."""
    noun = {"up": "rise", "down": "fall", "flat": "change"}[change.direction]
    share = f"{segment['explained_share'] * 100:.0f}%"
    where = segment_label(segment["dimension"], segment["value"])
    if segment["explained_share"] > 1.005 and PAIR_SEPARATOR not in str(segment["dimension"]):
        where += (f" (the other {str(segment['dimension']).replace('_', ' ')} segments offset "
                  f"{(1 - segment['explained_share']) * 100:+.0f}%)")
    rates = (
        f"{format_value(segment['baseline_rate'], metric.format)} to "
        f"{format_value(segment['current_rate'], metric.format)}"
    )
    if segment["effect"] == "mix":
        detail = (
            f"mostly because its share of {volume_noun(metric)} went from "
            f"{format_value(segment['baseline_share'], 'percent')} to "
            f"{format_value(segment['current_share'], 'percent')} (its rate: {rates})"
        )
    elif segment["effect"] == "rate":
        detail = f"where the rate went from {rates}"
    else:
        detail = f"{format_change(segment['total'], metric.format)} there"
    return f"{share} of the {noun} comes from {where}, {detail}."


def describe_mix_effect(metric, root_cause: RootCause, dimension: str, market: str | None = None,
                        week: str | None = None) -> str:
    """`Orders moved to channel live (21.6% → 45.0% of the total), where the rate is higher; on its own this
    moved late dispatch rate in PH by +1.4 pp in W46." — a mix shift worth knowing even when the total held
    still (`week`: the week the decomposition reads)."""
    mix = float(root_cause.dimensions.set_index("dimension").loc[dimension, "mix"])
    shift = describe_mix_shift(metric, root_cause, dimension).removeprefix("because ")
    shift = shift.split("; each")[0]
    when = f" in {week_label(week)}" if week else ""
    return (
        f"{shift[0].upper()}{shift[1:]}: on its own this moved {_subject(metric, market)[0].lower()}"
        f"{_subject(metric, market)[1:]} by {format_change(mix, metric.format)}{when}."
    )


def describe_mix_shift(metric, root_cause: RootCause, dimension: str) -> str:
    """The mix-shift clause: `because orders moved to channel live (…), where the rate is higher; …`."""
    gainer = shift_gainer(root_cause, dimension)
    overall = (root_cause.baseline_value + root_cause.current_value) / 2
    level = "higher" if (gainer["baseline_rate"] + gainer["current_rate"]) / 2 > overall else "lower"
    label = dimension.replace("_", " ")
    return (
        f"because {volume_noun(metric)} moved to {segment_label(dimension, gainer['value'])} "
        f"({format_value(gainer['baseline_share'], 'percent')} → "
        f"{format_value(gainer['current_share'], 'percent')} of the total), where the rate is {level}; "
        f"each {label}'s own rate was flat"
    )


def describe_no_change(
    metric,
    change: Change,
    market: str | None = None,
    week: str | None = None,
    comparison: str = "the previous week",
) -> str:
    """`Refund rate in ID was 2.1% in 2026-W47, in line with the previous week (2.0%; +0.1 pp, p = 0.41).`"""
    when = f" in {week}" if week else ""
    verb = "were" if metric.kind in ("count", "sum") and metric.title.endswith("s") else "was"
    return (
        f"{_subject(metric, market)} {verb} {format_value(change.current, metric.format)}{when}, "
        f"in line with {comparison} ({format_value(change.baseline, metric.format)}; "
        f"{format_change(change.abs_change, metric.format)}, {format_p_value(change.p_value)})."
    )


def describe_immature(metric, week: str, read: Reading | None = None) -> str:
    """The maturity caveat: how a still-maturing week was read, or that its value is provisional."""
    if read is not None and (read.moved or read.horizon_days):
        return describe_reading(metric, read)
    days = getattr(metric, "maturity_days", 0)
    late = f"up to {days} days late" if days else "that arrive late"
    trend = "is likely to rise" if metric.kind in ("ratio", "count", "sum") else "may still change"
    return (
        f"{week} is not mature yet: {metric.title.lower()} counts events {late}, so this week's value "
        f"{trend} as they arrive; treat it as provisional."
    )


def describe_broad_based(root_cause: RootCause, change: Change) -> str:
    """`The rise is broad-based: every category, channel and carrier moved by about the same factor (×1.21), so
    no single segment explains it.`"""
    noun = {"up": "rise", "down": "fall", "flat": "change"}[change.direction]
    dimensions = root_cause.dimensions
    singles = dimensions[~dimensions["dimension"].str.contains(PAIR_SEPARATOR, regex=False)]
    names = [str(name).replace("_", " ") for name in singles["dimension"]]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    factors = singles["common_factor"].dropna() if "common_factor" in singles else pd.Series(dtype=float)
    factor = f" (×{float(factors.median()):.2f})" if len(factors) else ""
    return (
        f"The {noun} is broad-based: every {listed} moved by about the same factor{factor}, so no single "
        f"segment explains it."
    )


def segment_label(dimension: str, value: str) -> str:
    """`category beauty`; pairs as `carrier carrier_b × category beauty`."""
    parts = zip(dimension.split(PAIR_SEPARATOR), str(value).split(PAIR_SEPARATOR), strict=False)
    return PAIR_SEPARATOR.join(f"{name.replace('_', ' ')} {item}" for name, item in parts)


def build_insights(
    metric,
    change: Change,
    *,
    market: str | None = None,
    week: str | None = None,
    root_cause: RootCause | None = None,
    is_mature: bool = True,
    comparison: str = "week over week",
    max_drivers: int = 3,
    reading: Reading | None = None,
    concentration: Concentration | None = None,
    size: str = "",
) -> list[Insight]:
    """The findings for one metric (× market) and week: the finding first, then the rest by score, context last.

    A significant change gets the headline sentence plus its top driver (or the mix-shift explanation, or
    "broad-based" when `root_cause.broad_based`: no segment is named then); further significant candidate
    segments become `driver` insights; a concentrated change (`concentration`, from
    `gnelib.analysis.concentration`) a `concentration` insight. The headline
    (`change`, `mix_shift` or `no_change`) always comes first; a maturity note (how the week was read) is
    context and comes last. `size` (how much of the business the change touches, e.g.
    `headlines.finding_size`) is said in the headline of a significant change.
    """
    direction = judge(metric.direction, change.direction)
    confidence = confidence_of(change.p_value)
    comparison = _named(comparison, week)
    insights = []
    if change.significant:
        text = describe_change(metric, change, market, comparison)
        if size:
            text = f"{text[:-1]}; {size}."
        drivers = _drivers(root_cause, max_drivers)
        shift = root_cause.mix_shift_dimension() if root_cause is not None else None
        broad = bool(getattr(root_cause, "broad_based", False)) and not shift
        if shift:
            text = f"{text[:-1]}, {describe_mix_shift(metric, root_cause, shift)}."
        elif broad:
            drivers = drivers.head(0)
            text = f"{text} {describe_broad_based(root_cause, change)}"
        elif not drivers.empty:
            text = f"{text} {describe_driver(metric, drivers.iloc[0], change)}"
        severity = _severity(metric, change, direction)
        insights.append(
            Insight(
                "mix_shift" if shift else "change",
                text,
                metric.name,
                direction,
                confidence,
                severity,
                _score(severity, change.p_value),
                market,
                _change_table(change, drivers),
            )
        )
        for _, segment in drivers.iloc[1:].iterrows() if not shift else ():
            insights.append(
                Insight(
                    "driver",
                    describe_driver(metric, segment, change),
                    metric.name,
                    direction,
                    confidence_of(segment["p_adjusted"]),
                    "info",
                    _score("info", segment["p_adjusted"]),
                    market,
                    segment.to_frame().T,
                )
            )
    else:
        insights.append(
            Insight(
                "no_change",
                describe_no_change(metric, change, market, week, _reference(comparison)),
                metric.name,
                "neutral",
                confidence,
                "info",
                _score("info", 1.0) - 0.5,
                market,
                _change_table(change, pd.DataFrame()),
            )
        )
    if change.significant and concentration is not None and concentration.concentrated:
        insights.append(
            Insight(
                "concentration",
                concentration.describe(),
                metric.name,
                direction,
                confidence_of(concentration.top_p_value),
                "info",
                _score("info", concentration.top_p_value),
                market,
                concentration.named.reset_index(drop=True),
            )
        )
    shift = _notable_mix(root_cause, exclude=insights[0].kind == "mix_shift")
    if shift:
        mix = float(root_cause.dimensions.set_index("dimension").loc[shift, "mix"])
        verdict = judge(metric.direction, "up" if mix > 0 else "down")
        insights.append(
            Insight(
                "mix",
                describe_mix_effect(metric, root_cause, shift, market, week),
                metric.name,
                verdict,
                "medium",
                "info",
                _score("info", 0.01),
                market,
                root_cause.segments[root_cause.segments["dimension"] == shift].reset_index(drop=True),
            )
        )
    read_differently = reading is not None and (reading.moved or reading.horizon_days)
    if (not is_mature or read_differently) and week:
        insights.append(
            Insight(
                "maturity",
                describe_immature(metric, week, reading),
                metric.name,
                "neutral",
                "high",
                "info",
                CONTEXT_SCORE,
                market,
            )
        )
    headline, rest = insights[0], insights[1:]
    return [headline, *sorted(rest, key=lambda insight: insight.score, reverse=True)]


def week_label(week: str) -> str:
    """`W46` for 2026-W46: the short week label sentences use."""
    return week.split("-", 1)[-1]


def _named(comparison: str, week: str | None) -> str:
    """The comparison phrase with the weeks it compares: `week over week, W46 vs W45`; `against the 4-week
    average, W46 vs W42–W45`; a phrase that already names its weeks (the scan's), or a week that is not an ISO
    week, as it is."""
    if week is None or not re.fullmatch(r"\d{4}-W\d{2}", week):
        return comparison
    if comparison == "week over week":
        return f"{comparison}, {week_label(week)} vs {week_label(previous_week(week))}"
    average = re.fullmatch(r"against the (\d+)-week average", comparison)
    if average:
        weeks = trailing_weeks(week, int(average.group(1)))
        return f"{comparison}, {week_label(week)} vs {week_label(weeks[0])}–{week_label(weeks[-1])}"
    return comparison


def _reference(comparison: str) -> str:
    """What a no-change sentence is "in line with", from the headline's comparison phrase: `week over week` →
    `the previous week`; `against the 4-week average` → `the 4-week average`; other phrases as they are."""
    if comparison.startswith("week over week"):
        return "the previous week" + comparison.removeprefix("week over week")
    return comparison.removeprefix("against ")


def _subject(metric, market: str | None) -> str:
    return f"{metric.title} in {market}" if market else metric.title


def volume_noun(metric) -> str:
    """What a metric's denominator counts, in words (`orders`, `GMV`, `listings`…; `volume` when unknown)."""
    text = f"{getattr(metric, 'denominator', '') or ''} {getattr(metric, 'source', '') or ''}".lower()
    for marker, noun in (
        ("gmv", "GMV"),
        ("order", "orders"),
        ("listing", "listings"),
        ("after_sales", "requests"),
        ("enforcement", "actions"),
        ("appeal", "appeals"),
        ("contact", "contacts"),
        ("content", "content reviews"),
        ("experience", "experiences"),
        ("seller", "sellers"),
    ):
        if marker in text:
            return noun
    return "volume"


def _drivers(root_cause: RootCause | None, limit: int) -> pd.DataFrame:
    return drivers(root_cause, limit)


def _notable_mix(
    root_cause: RootCause | None, exclude: bool, relative: float = 0.1, share_alpha: float = 0.001
) -> str | None:
    """A dimension whose mix effect alone is ≥ `relative` of the baseline value, carried by a segment whose
    share moved significantly (p < `share_alpha`); None when there is none or the headline already tells
    it."""
    if exclude or root_cause is None or root_cause.dimensions.empty or not root_cause.baseline_value:
        return None
    for _, row in root_cause.dimensions.iterrows():
        if np.isnan(row["mix"]) or abs(row["mix"]) < relative * abs(root_cause.baseline_value):
            continue
        rows = root_cause.segments[root_cause.segments["dimension"] == row["dimension"]]
        if rows.empty:
            continue
        gainer = rows.loc[(rows["current_share"] - rows["baseline_share"]).abs().idxmax()]
        if gainer["share_p_value"] < share_alpha:
            return str(row["dimension"])
    return None


def _severity(metric, change: Change, direction: str) -> str:
    """`info` unless the move is bad; then `alert` past the alert threshold or at ±20%, else `warn`."""
    if direction != "bad":
        return "info"
    alert = getattr(getattr(metric, "thresholds", None), "alert", None)
    return (
        "alert"
        if _breaches(metric.direction, change.current, alert) or abs(change.rel_change) >= 0.2
        else "warn"
    )


def _breaches(metric_direction: str, value: float, threshold: float | None) -> bool:
    if threshold is None:
        return False
    return value > threshold if metric_direction == "lower_is_better" else value < threshold


def _score(severity: str, p_value: float) -> float:
    strength = (
        0.0 if p_value is None or math.isnan(p_value) else min(-math.log10(max(p_value, 1e-300)), 10) / 10
    )
    return SEVERITY_RANK[severity] + strength


def _change_table(change: Change, drivers: pd.DataFrame) -> pd.DataFrame:
    headline = pd.DataFrame([change.to_dict()])
    if drivers.empty:
        return headline
    columns = [
        "dimension",
        "value",
        "explained_share",
        "effect",
        "baseline_rate",
        "current_rate",
        "baseline_volume",
        "current_volume",
        "p_adjusted",
    ]
    return drivers[columns].reset_index(drop=True)
