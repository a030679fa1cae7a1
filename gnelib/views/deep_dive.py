"""What the metric deep-dive template shows, built from a `DeepDiveResult`: headline cards and readable tables."""

import html

import pandas as pd

from gnelib.analysis.deep_dive import DeepDiveResult
from gnelib.analysis.insights import describe_broad_based, segment_label, week_label
from gnelib.analysis.maturity import anchor
from gnelib.analysis.root_cause import carried
from gnelib.analysis.significance import Change
from gnelib.formats import format_change, format_p_value, format_relative, format_value
from gnelib.periods import shift_week
from gnelib.viz.blocks import Card
from gnelib.viz.tables import change_tone, html_table


def headline(result: DeepDiveResult) -> tuple[str, Change]:
    """The comparison the finding (the first insight) is about, and its change: the scan's finding when the deep
    dive has one, else the trailing average when it was chosen, else the previous week."""
    if getattr(result, "finding", None) is not None:
        return result.comparison, result.change
    if result.comparison != "week over week" and result.trailing_change is not None:
        return result.comparison, result.trailing_change
    return "week over week", result.change


def headline_cards(result: DeepDiveResult) -> list[Card]:
    """This week's value, the change the finding is about (first, in the words of the finding), the other
    comparison, and the scan's verdict on the week against its own history (when the scan judged it)."""
    metric = result.metric
    comparison, change = headline(result)
    cards = [
        Card(f"{metric.title}, {_value_weeks(result)}", format_value(change.current, metric.format),
             _maturity(result)),
        _change_card(result, _comparison_label(result, comparison), change),
    ]
    trailing = result.trailing_change
    if trailing is not None and trailing is not change:
        cards.append(_change_card(result, "vs 4-week average", trailing))
    if result.change is not change:
        cards.append(_change_card(result, f"vs {result.baseline_week}", result.change))
    history = history_card(result)
    return [*cards, history] if history is not None else cards


def history_card(result: DeepDiveResult) -> Card | None:
    """The weekly scan's verdict on this market's total, in the words of the scorecard ("unusually high", "still
    elevated, week 2", "rising for 4 weeks"; "within its usual range" when not flagged), with the scan's p-value
    (confidence is shown one way on every page); None without a scan row
    (all markets, an explicit horizon), as no other detector judges the week."""
    row = result.finding
    if row is None:
        return None
    detail = f"{format_p_value(row['p_adjusted'])} against its last {int(row['baseline_weeks'])} usual weeks"
    if not row["flag"]:
        return Card("Against its own history", "within its usual range", detail)
    up = row["abs_change"] > 0
    if row["comparison"] == "window":
        words = f"{'rising' if up else 'falling'} for {int(row['window_weeks'])} weeks"
    elif row["pattern"] == "sustained":
        words = f"still {'elevated' if up else 'low'}, week {int(row['weeks_running'])}"
    else:
        words = f"unusually {'high' if up else 'low'}"
    tone = change_tone(pd.Series([1.0 if up else -1.0]), result.metric.direction).iloc[0]
    return Card("Against its own history", words, detail, tone)


def root_cause_summary(result: DeepDiveResult) -> str:
    """One line above the segment table: the change is broad-based (no segment is named), or nothing."""
    root = result.root_cause
    if root is None or not carried(root).broad_based:
        return ""
    _, change = headline(result)
    return f"<p>{html.escape(describe_broad_based(root, change))}</p>"


def root_cause_table(result: DeepDiveResult, top: int = 8) -> str:
    """The segments that explain the change, largest share of the change first (columns: segment, its rate or
    level now, share of the change, adjusted p, what drove it, then the rate or level before and the volume): what
    drove it in words (its rate got worse or better, its share of volume moved, its own level) and the rate or
    level before and now. A share above 100 % is explained (other segments of its breakdown moved the other way);
    when the change itself is not significant the table is labelled exploratory."""
    if result.root_cause is None or result.root_cause.segments.empty:
        return "<p>No segment breakdown is available for this metric (medians do not split into segments).</p>"
    fmt = result.metric.format
    segments = result.root_cause.top(top).sort_values("explained_share", ascending=False, kind="stable")
    ratio = result.metric.kind == "ratio"
    before, now = ("baseline_rate", "current_rate") if ratio else ("baseline_volume", "current_volume")
    table = pd.DataFrame({  # important columns first: segment, value, change, p-value and verdict, then context
        "Segment": [segment_label(d, v) for d, v in zip(segments["dimension"], segments["value"], strict=True)],
        "Now" if not ratio else "Rate now": segments[now],
        "Share of change": segments["explained_share"],
        "Adjusted p": segments["p_adjusted"],
        "Driven by": [driven_by(segment, result.metric.direction, result_delta(result))
                      for _, segment in segments.iterrows()],
        "Before" if not ratio else "Rate before": segments[before],
        "Volume now": segments["current_volume"],
    })
    if not ratio:
        table = table.drop(columns="Volume now")
    delta = segments[now] - segments[before]
    value = lambda v: format_value(v, fmt)  # noqa: E731
    return html_table(
        table,
        formatters={
            "Share of change": lambda v: f"{v:.0%}",
            "Rate before": value, "Rate now": value, "Before": value, "Now": value,
            "Volume now": lambda v: f"{v:,.0f}",
            "Adjusted p": format_p_value,
        },
        tone={"Rate now" if ratio else "Now": change_tone(delta, result.metric.direction, segments["significant"])},
        caption=root_cause_caption(result, segments),
    )


def driven_by(segment: pd.Series, direction: str, delta: float) -> str:
    """What moved a segment, in words: `its rate got worse`, `its share of the volume grew: worse overall`, `its own
    level got better`; worse/better from the metric's direction (rose/fell for a neutral metric). `delta` is the
    change being explained (a mix segment's contribution is its share of it)."""
    if segment["effect"] == "mix":
        grew = "grew" if segment["current_share"] > segment["baseline_share"] else "shrank"
        overall = _verdict_word(segment["explained_share"] * delta, direction).removeprefix("got ")
        return f"its share of the volume {grew}: {overall} overall"
    if segment["effect"] == "rate":
        moved = segment["current_rate"] - segment["baseline_rate"]
        return f"its rate {_verdict_word(moved, direction)}"
    moved = segment["current_volume"] - segment["baseline_volume"]
    return f"its own level {_verdict_word(moved, direction)}"


def root_cause_caption(result: DeepDiveResult, segments: pd.DataFrame) -> str:
    """What the shares mean: shares of the change within each breakdown (so they add up to 100 % per dimension),
    offsets for shares above 100 %, and "exploratory" when the change itself is not significant."""
    _, change = headline(result)
    parts = []
    if not change.significant:
        parts.append(f"Exploratory: the change itself is not significant ({format_p_value(change.p_value)}), so "
                     "these segments may be noise.")
    parts.append("Each share is of the whole change, within its own breakdown (the segments of one dimension add "
                 "up to 100 %).")
    for _, segment in segments[segments["explained_share"] > 1.005].iterrows():
        dimension = str(segment["dimension"]).replace("_", " ")
        parts.append(f"{segment_label(segment['dimension'], segment['value'])}: "
                     f"{segment['explained_share']:+.0%} here, offset by {1 - segment['explained_share']:+.0%} "
                     f"elsewhere in {dimension} (segments that moved the other way).")
    return " ".join(parts)


def _verdict_word(moved: float, direction: str) -> str:
    if direction == "neutral" or not moved:
        return "rose" if moved > 0 else "fell" if moved < 0 else "held"
    return "got worse" if (moved > 0) == (direction == "lower_is_better") else "got better"


def decomposition_table(result: DeepDiveResult, dimension: str, top: int = 10) -> str:
    """Per-segment contributions to the change for one dimension: mix and rate effects for ratios, each
    segment's own change for counts and sums (they sum to the total change either way)."""
    table = result.decompositions[dimension]
    shown = table.reindex(table["total"].abs().sort_values(ascending=False).index).head(top)
    fmt = result.metric.format
    label = dimension.replace("_", " ").capitalize()
    share = lambda v: f"{v:.1%}"  # noqa: E731
    change = lambda v: format_change(v, fmt)  # noqa: E731
    value = lambda v: format_value(v, fmt)  # noqa: E731
    caption_total = format_change(table.attrs.get("delta", result_delta(result)), fmt) + _compared(table)
    if "mix" not in shown:
        frame = pd.DataFrame({  # important columns first: segment, value, change, then context
            label: shown[dimension],
            "Now": shown["current_numerator"],
            "Change": shown["total"],
            "Share of change": shown["share_of_change"],
            "Before (per week)": shown["baseline_numerator"],
        })
        return html_table(
            frame,
            formatters={"Before (per week)": value, "Now": value, "Change": change,
                        "Share of change": lambda v: f"{v:.0%}"},
            tone={"Change": change_tone(shown["total"], result.metric.direction)},
            caption=f"The segments' changes add up to the total change of {caption_total}.",
        )
    frame = pd.DataFrame({  # important columns first: segment, value, change and its parts, then context
        label: shown[dimension],
        "Rate now": shown["current_rate"],
        "Change": shown["total"],
        "Mix effect": shown["mix"],
        "Rate effect": shown["rate"],
        "Rate before": shown["baseline_rate"],
        "Share now": shown["current_share"],
        "Share before": shown["baseline_share"],
    })
    return html_table(
        frame,
        formatters={"Share before": share, "Share now": share, "Rate before": value, "Rate now": value,
                    "Mix effect": change, "Rate effect": change, "Change": change},
        tone={"Change": change_tone(shown["total"], result.metric.direction)},
        caption=f"Each segment's change is its mix effect plus its rate effect; they add up to the total change "
                f"of {caption_total}.",
    )


def _compared(table: pd.DataFrame) -> str:
    """` (W46 vs W33–W44)`: the weeks a decomposition compares, when it says; the headline may compare others."""
    base, now = table.attrs.get("baseline_periods"), table.attrs.get("current_period")
    if not base or not now:
        return ""
    before = week_label(base[0]) if len(base) == 1 else f"{week_label(base[0])}–{week_label(base[-1])}"
    return f" ({week_label(now)} vs {before})"


def decomposition_parts(result: DeepDiveResult) -> list[str]:
    """The contribution columns to chart: `mix` and `rate` for ratios, `total` for counts and sums."""
    return ["mix", "rate"] if result.metric.kind == "ratio" else ["total"]


def ranked_dimensions(result: DeepDiveResult) -> list[str]:
    """Dimensions ordered by how surprising their breakdown is (the most telling first)."""
    if result.root_cause is None:
        return list(result.decompositions)
    ordered = [d for d in result.root_cause.dimensions["dimension"] if d in result.decompositions]
    return ordered + [d for d in result.decompositions if d not in ordered]


def result_delta(result: DeepDiveResult) -> float:
    """The change the decomposition explains (against the comparison the deep dive chose)."""
    return headline(result)[1].abs_change


def concentration_summary(result: DeepDiveResult) -> str:
    """The seller-concentration sentence (escaped), or a line saying no small group carries the change."""
    found = getattr(result, "concentration", None)
    if found is None:
        return "<p>Seller concentration was not computed for this metric.</p>"
    return f"<p>{html.escape(found.describe())}</p>"


def concentration_table(result: DeepDiveResult) -> str:
    """The top sellers of the change: id, shop name when known (escaped), value before and now, their share of
    the change and of the volume, and the p-value of their own change. Empty when not computed."""
    found = getattr(result, "concentration", None)
    if found is None or found.units.empty:
        return ""
    fmt = result.metric.format
    units = found.units
    noun = found.unit.capitalize()
    frame = pd.DataFrame({  # important columns first: seller, value, change, p-value, then context
        noun: units["unit_id"].astype(str),
        "Name": units["name"] if "name" in units and units["name"].notna().any() else None,
        "Now": units["current_value"],
        "Share of change": units["share_of_change"],
        "p (own change)": units["p_value"],
        "Before": units["baseline_value"],
        "Share of volume": units["volume_share"],
    })
    if frame["Name"].isna().all():
        frame = frame.drop(columns="Name")
    value = lambda v: format_value(v, fmt)  # noqa: E731
    return html_table(
        frame,
        formatters={"Before": value, "Now": value, "Share of change": lambda v: f"{v:.0%}",
                    "Share of volume": lambda v: f"{v:.1%}", "p (own change)": format_p_value},
        caption=f"The {len(units)} {found.unit}s that carry most of the {found.noun}; p-values are per "
                f"{found.unit}, before the Bonferroni correction (top {found.unit}: "
                f"{format_p_value(found.top_p_value)} after it).",
    )


def _value_weeks(result: DeepDiveResult) -> str:
    """The weeks the headline value covers: the read week, or `2026-W45–W46 average` for a drift window."""
    finding = result.finding
    if finding is None or finding["comparison"] != "window" or int(finding["window_weeks"]) < 2:
        return result.week
    return f"{shift_week(result.week, 1 - int(finding['window_weeks']))}–{week_label(result.week)} average"


def _comparison_label(result: DeepDiveResult, comparison: str) -> str:
    if comparison == "week over week":
        return f"vs {result.baseline_week}"
    return comparison[0].upper() + comparison[1:]


def _change_card(result: DeepDiveResult, label: str, change: Change) -> Card:
    metric = result.metric
    detail = ", ".join(part for part in (format_relative(change.rel_change), format_p_value(change.p_value)) if part)
    return Card(label, format_change(change.abs_change, metric.format), detail, _tone(result, change))


def _maturity(result: DeepDiveResult) -> str:
    if result.horizon_days:
        return f"events within {result.horizon_days} days of {anchor(result.metric)}"
    return "mature" if result.is_mature else "provisional: still maturing"


def _tone(result: DeepDiveResult, change) -> str:
    delta = pd.Series([change.abs_change])
    return change_tone(delta, result.metric.direction, pd.Series([change.significant])).iloc[0]


def definition_table(metric) -> str:
    """The catalog definition in words: what counts, the unit, direction, maturity, thresholds and owner."""
    thresholds = metric.thresholds
    rows = [
        ("What it measures", metric.description),
        ("Good direction", metric.direction.replace("_", " ")),
        ("Unit of analysis (for confidence intervals)", metric.unit),
        ("Maturity", f"late events arrive for up to {metric.maturity_days} days" if metric.maturity_days
         else "final as soon as the week ends"),
        ("Alert thresholds", ", ".join(f"{level} {format_value(value, metric.format)}"
                                       for level, value in (("warn", thresholds and thresholds.warn),
                                                            ("alert", thresholds and thresholds.alert)) if value)
         or "none"),
        ("Owner", metric.owner),
        ("Catalog name", metric.name),
    ]
    return html_table(pd.DataFrame(rows, columns=["", "Definition"]))
