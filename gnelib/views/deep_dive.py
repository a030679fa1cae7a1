"""What the metric deep-dive template shows, built from a `DeepDiveResult`: headline cards and readable tables."""

import pandas as pd

from gnelib.analysis.deep_dive import DeepDiveResult
from gnelib.analysis.insights import segment_label
from gnelib.formats import format_change, format_p_value, format_relative, format_value
from gnelib.viz.blocks import Card
from gnelib.viz.tables import change_tone, html_table


def headline_cards(result: DeepDiveResult) -> list[Card]:
    """This week's value, the week-over-week change, the change against the trailing average, and the anomaly."""
    metric, change = result.metric, result.change
    cards = [
        Card(f"{metric.title}, {result.week}", format_value(change.current, metric.format), _maturity(result)),
        Card(f"vs {result.baseline_week}", format_change(change.abs_change, metric.format),
             f"{format_relative(change.rel_change)}, {format_p_value(change.p_value)}", _tone(result, change)),
    ]
    if result.trailing_change is not None:
        trailing = result.trailing_change
        cards.append(Card("vs 4-week average", format_change(trailing.abs_change, metric.format),
                          f"{format_relative(trailing.rel_change)}, {format_p_value(trailing.p_value)}",
                          _tone(result, trailing)))
    anomaly = result.anomaly
    flagged = bool(anomaly.get("flag", False))
    cards.append(Card("Against its own history", "unusual" if flagged else "typical",
                      f"robust z = {float(anomaly.get('robust_z', float('nan'))):+.1f}", "bad" if flagged else ""))
    return cards


def root_cause_table(result: DeepDiveResult, top: int = 8) -> str:
    """The segments that explain the change, best first, with the share explained and mix vs rate."""
    if result.root_cause is None or result.root_cause.segments.empty:
        return "<p>No segment breakdown is available for this metric.</p>"
    fmt = result.metric.format
    segments = result.root_cause.top(top)
    table = pd.DataFrame({
        "Segment": [segment_label(d, v) for d, v in zip(segments["dimension"], segments["value"], strict=True)],
        "Share of change": segments["explained_share"],
        "Driven by": segments["effect"].map({"mix": "mix (share moved)", "rate": "rate (segment got worse/better)"}),
        "Rate before": segments["baseline_rate"],
        "Rate now": segments["current_rate"],
        "Volume now": segments["current_volume"],
        "Adjusted p": segments["p_adjusted"],
    })
    delta = segments["current_rate"] - segments["baseline_rate"]
    return html_table(
        table,
        formatters={
            "Share of change": lambda v: f"{v:.0%}",
            "Rate before": lambda v: format_value(v, fmt),
            "Rate now": lambda v: format_value(v, fmt),
            "Volume now": lambda v: f"{v:,.0f}",
            "Adjusted p": format_p_value,
        },
        tone={"Rate now": change_tone(delta, result.metric.direction, segments["significant"])},
    )


def decomposition_table(result: DeepDiveResult, dimension: str, top: int = 10) -> str:
    """Per-segment mix and rate contributions to the change for one dimension (they sum to the total change)."""
    table = result.decompositions[dimension]
    shown = table.reindex(table["total"].abs().sort_values(ascending=False).index).head(top)
    fmt = result.metric.format
    frame = pd.DataFrame({
        dimension.replace("_", " ").capitalize(): shown[dimension],
        "Share before": shown["baseline_share"],
        "Share now": shown["current_share"],
        "Rate before": shown["baseline_rate"],
        "Rate now": shown["current_rate"],
        "Mix effect": shown["mix"],
        "Rate effect": shown["rate"],
        "Total": shown["total"],
    })
    share = lambda v: f"{v:.1%}"  # noqa: E731
    change = lambda v: format_change(v, fmt)  # noqa: E731
    return html_table(
        frame,
        formatters={"Share before": share, "Share now": share,
                    "Rate before": lambda v: format_value(v, fmt), "Rate now": lambda v: format_value(v, fmt),
                    "Mix effect": change, "Rate effect": change, "Total": change},
        tone={"Total": change_tone(shown["total"], result.metric.direction)},
        caption=f"Mix + rate effects add up to the total change of {format_change(result_delta(result), fmt)}.",
    )


def ranked_dimensions(result: DeepDiveResult) -> list[str]:
    """Dimensions ordered by how surprising their breakdown is (the most telling first)."""
    if result.root_cause is None:
        return list(result.decompositions)
    ordered = [d for d in result.root_cause.dimensions["dimension"] if d in result.decompositions]
    return ordered + [d for d in result.decompositions if d not in ordered]


def result_delta(result: DeepDiveResult) -> float:
    """The change the decomposition explains (against the comparison the deep dive chose)."""
    headline = result.trailing_change if result.comparison != "week over week" else result.change
    return headline.abs_change


def _maturity(result: DeepDiveResult) -> str:
    if result.horizon_days:
        return f"events within {result.horizon_days} days of the order"
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
