"""Readable HTML tables for reports: formatted numbers right-aligned, good/bad marked by colour and icon, long
text truncated with the full text on hover, every cell escaped."""

import html
import re
from collections.abc import Callable, Mapping

import pandas as pd

CellFormatter = Callable[[object], str]
SHORT_TEXT = 24
LONG_TEXT = 90
"""Cells longer than this show two lines, the full text on hover (`title`) and in print."""
NUM_CLASS = ' class="gne-num"'
TONE_ICONS = {"good": ("▲", "better"), "bad": ("▼", "worse")}
"""The icon and word of each tone: meaning never rests on colour alone."""
# A number as the reports format it: sign, currency, digits, decimal/thousands marks, a short unit, a p-value.
NUMBER = re.compile(r"^(p\s*[<=>]\s*)?[+\-−]?[$€£]?\d[\d,.\s]*\s?(%|pp|×|x|k|M|bn|h|d|per 1k|per 1,000)?$|^[–—-]$")


def html_table(
    frame: pd.DataFrame,
    *,
    formatters: Mapping[str, CellFormatter] | None = None,
    tone: Mapping[str, pd.Series] | None = None,
    caption: str | None = None,
    max_rows: int = 50,
    trusted_html: tuple[str, ...] = (),
) -> str:
    """Render `frame` as an HTML table.

    `formatters` maps a column to a function turning a cell into text; `tone` maps a column to a Series (same index)
    of `"good"`, `"bad"` or `""` that marks those cells (colour and ▲/▼ icon). A column whose cells read as
    numbers (`NUMBER`; at least half of them) is right-aligned, header included. All text, including data values,
    is HTML-escaped, except the columns named in `trusted_html`, which hold markup gnelib made itself (e.g.
    sparkline images).
    """
    formatters = formatters or {}
    tone = tone or {}
    shown = frame.head(max_rows)
    texts = {
        col: [formatters[col](value) if col in formatters else _plain(value) for value in shown[col]]
        for col in shown.columns
    }
    numeric = {col for col, column in texts.items() if col not in trusted_html and _numeric(shown[col], column)}
    head = "".join(f"<th{NUM_CLASS if col in numeric else ''}>{html.escape(str(col))}</th>" for col in shown.columns)
    rows = []
    for position, index in enumerate(shown.index):
        cells = []
        for col in shown.columns:
            text = texts[col][position]
            marked = tone[col].get(index, "") if tone.get(col) is not None else ""
            classes = [f"gne-{marked}"] if marked else []
            if col in numeric:
                classes.append("gne-num")
            if len(text) <= SHORT_TEXT and not any(char.isspace() for char in text):
                classes.append("gne-nowrap")  # keep short tokens like 2026-W47 on one line
            klass = f' class="{" ".join(classes)}"' if classes else ""
            shown_text = text if col in trusted_html else _cell_text(text)
            cells.append(f"<td{klass}>{tone_icon(marked)}{shown_text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = len(frame) - len(shown)
    foot = f'<p class="gne-note">{more} more rows not shown.</p>' if more > 0 else ""
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (
        f'<div class="gne-table-wrap"><table class="gne-table">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>{foot}"
    )


def change_tone(delta: pd.Series, direction: str, significant: pd.Series | None = None) -> pd.Series:
    """`good`/`bad` per row from the sign of a change and the metric's direction; blank when not significant."""
    if direction == "neutral":
        return pd.Series("", index=delta.index)
    worse = delta > 0 if direction == "lower_is_better" else delta < 0
    better = delta < 0 if direction == "lower_is_better" else delta > 0
    out = pd.Series("", index=delta.index).mask(worse, "bad").mask(better, "good")
    if significant is not None:
        out = out.where(significant.astype(bool), "")
    return out


def tone_icon(tone: str) -> str:
    """The ▲ (better) / ▼ (worse) icon of a tone, with its word for screen readers and on hover; blank otherwise."""
    if tone not in TONE_ICONS:
        return ""
    icon, word = TONE_ICONS[tone]
    return f'<span class="gne-icon" role="img" aria-label="{word}" title="{word}">{icon}</span>'


def _cell_text(text: str) -> str:
    """Escaped cell text; a long text is clamped to two lines with the whole of it in `title`."""
    escaped = html.escape(text)
    if len(text) <= LONG_TEXT:
        return escaped
    return f'<span class="gne-trunc" title="{escaped}">{escaped}</span>'


def _numeric(values: pd.Series, texts: list[str]) -> bool:
    """A column of numbers: numeric values, or formatted text of which at least half reads as numbers (blanks
    aside; a progress column of "44%" and "went back" is still a column of numbers)."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return True
    filled = [text.strip() for text in texts if text.strip() not in ("", "–", "—", "-")]
    return bool(filled) and 2 * sum(bool(NUMBER.match(text)) for text in filled) >= len(filled)


def _plain(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
