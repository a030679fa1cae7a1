"""HTML building blocks for the top of a report: callouts, headline cards and insight lists (all text escaped)."""

import html
from collections.abc import Iterable
from dataclasses import dataclass

from IPython.display import HTML

from gnelib.viz.tables import tone_icon


@dataclass(frozen=True)
class Card:
    """One headline number: label, value, change line and its tone (`good`, `bad` or blank)."""

    label: str
    value: str
    change: str = ""
    tone: str = ""


def callout(message: str, level: str = "info", title: str | None = None) -> HTML:
    """A boxed message: `info`, `warning` (data quality) or `error`."""
    heading = f"<strong>{html.escape(title)}</strong> " if title else ""
    return HTML(f'<div class="gne-callout gne-callout-{html.escape(level)}">{heading}{html.escape(message)}</div>')


def cards(items: Iterable[Card]) -> HTML:
    """A row of headline cards."""
    parts = []
    for card in items:
        tone = f" gne-{html.escape(card.tone)}" if card.tone else ""
        parts.append(
            f'<div class="gne-card"><div class="gne-card-label">{html.escape(card.label)}</div>'
            f'<div class="gne-card-value">{html.escape(card.value)}</div>'
            f'<div class="gne-card-change{tone}">{tone_icon(card.tone)}{html.escape(card.change)}</div></div>'
        )
    return HTML(f'<div class="gne-cards">{"".join(parts)}</div>')


def insight_list(insights: Iterable, empty: str = "No notable changes this week.") -> HTML:
    """Numbered key insights, most important first: each insight's `to_html()` (escaped, marked good/bad)."""
    items = [f"<li>{insight.to_html()}</li>" for insight in insights]
    if not items:
        return HTML(f'<p class="gne-insights-empty">{html.escape(empty)}</p>')
    return HTML(f'<ol class="gne-insights">{"".join(items)}</ol>')
