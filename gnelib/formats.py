"""How metric values and changes are written for people, per the catalog's `format` of a metric.

Formats: `percent`, `per_1k`, `per_1m`, `hours`, `days` (a duration held in hours, written in days), `count`,
`currency` (US dollars, `$12,300`) and `currency:XYZ` (another ISO 4217 code: `IDR 12,300`, `BRL 1,250`)."""

import math
from collections.abc import Callable

SCALES = {"percent": 100.0, "per_1k": 1_000.0, "per_1m": 1_000_000.0, "days": 1 / 24}
CURRENCY_SYMBOLS = {"USD": "$"}


def currency_prefix(fmt: str) -> str | None:
    """`$` for `currency` / `currency:USD`, `IDR ` for `currency:IDR`; None for other formats."""
    if not fmt.startswith("currency"):
        return None
    code = fmt.partition(":")[2] or "USD"
    return CURRENCY_SYMBOLS.get(code, f"{code} ")


def format_value(value: float | None, fmt: str) -> str:
    """A metric value as text: `2.1%`, `3.4 per 1k`, `18.5 h`, `$12,300`, `4,512`; `–` when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if fmt == "percent":
        return f"{value * 100:.{_decimals(value * 100)}f}%"
    if fmt == "per_1k":
        return f"{value * 1_000:.2f} per 1k"
    if fmt == "per_1m":
        return f"{value * 1_000_000:,.0f} per 1M"
    if fmt == "hours":
        return f"{value:,.1f} h"
    if fmt == "days":
        return f"{value / 24:,.1f} d"
    prefix = currency_prefix(fmt)
    if prefix is not None:
        sign = "-" if value < 0 else ""
        return f"{sign}{prefix}{abs(value):,.0f}"
    return f"{value:,.0f}"


def format_change(delta: float | None, fmt: str) -> str:
    """An absolute change with its sign: `+1.3 pp` for percentages, `-0.4 per 1k`, `+2.0 h`, `+$1,200`."""
    if delta is None or (isinstance(delta, float) and math.isnan(delta)):
        return "–"
    sign = "+" if delta >= 0 else "-"
    size = abs(delta)
    if fmt == "percent":
        return f"{sign}{size * 100:.{_decimals(size * 100)}f} pp"
    return sign + format_value(size, fmt)


def format_relative(ratio: float | None) -> str:
    """A relative change as `+12%` (one decimal below 10%)."""
    if ratio is None or (isinstance(ratio, float) and (math.isnan(ratio) or math.isinf(ratio))):
        return "–"
    pct = ratio * 100
    return f"{pct:+.1f}%" if abs(pct) < 10 else f"{pct:+.0f}%"


def format_p_value(p: float | None) -> str:
    """`p < 0.001`, `p = 0.03`, or `p = 0.41`."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "p = n/a"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"


def axis_formatter(fmt: str, change: bool = False, span: float | None = None) -> Callable[[float, int], str]:
    """A matplotlib tick formatter for a metric format (compact: no units beyond % / pp / h).

    `span` (the axis range in metric units) fixes one number of decimals for every tick of the axis.
    """
    scale = SCALES.get(fmt, 1.0)
    suffix = {"percent": " pp" if change else "%", "hours": " h", "days": " d"}.get(fmt, "")
    fixed = None if span is None else 0 if span * scale >= 5 else 1 if span * scale >= 0.5 else 2

    def tick(value: float, _position: int) -> str:
        shown = value * scale
        decimals = fixed if fixed is not None else 0 if abs(shown) >= 10 or shown == 0 else 1 if abs(shown) >= 1 else 2
        return f"{shown:,.{decimals}f}{suffix}"

    return tick


def _decimals(shown: float) -> int:
    return 1 if abs(shown) >= 1 else 2
