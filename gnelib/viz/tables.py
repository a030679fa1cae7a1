"""Readable HTML tables for reports: formatted numbers, good/bad colouring, every cell escaped."""

import html
from collections.abc import Callable, Mapping

import pandas as pd

CellFormatter = Callable[[object], str]
SHORT_TEXT = 24


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
    of `"good"`, `"bad"` or `""` that colours those cells. All text, including data values, is HTML-escaped,
    except the columns named in `trusted_html`, which hold markup gnelib made itself (e.g. sparkline images).
    """
    formatters = formatters or {}
    tone = tone or {}
    shown = frame.head(max_rows)
    head = "".join(f"<th>{html.escape(str(col))}</th>" for col in shown.columns)
    rows = []
    for index, row in shown.iterrows():
        cells = []
        for col in shown.columns:
            text = formatters[col](row[col]) if col in formatters else _plain(row[col])
            classes = [f"gne-{tone[col].get(index, '')}"] if tone.get(col) is not None and tone[col].get(index) else []
            if pd.api.types.is_number(row[col]):
                classes.append("gne-num")
            if len(text) <= SHORT_TEXT and not any(char.isspace() for char in text):
                classes.append("gne-nowrap")  # keep short tokens like 2026-W47 on one line
            klass = f' class="{" ".join(classes)}"' if classes else ""
            cells.append(f"<td{klass}>{text if col in trusted_html else html.escape(text)}</td>")
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


def _plain(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
