"""The standard report charts, drawn on metric frames (see docs/metric-frames.md).

Labels, ticks and titles come from data (categories, sellers' channels, metric titles) and are shown as written:
`plain_text` turns off matplotlib's mathtext (`$...$`) and TeX on every text of a chart, so a category named
`$\\href{x}{y}$` is a label, not a formula that fails to render. The report theme sets the same in rcParams.
"""

import base64
import io
from collections.abc import Sequence

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter

from gnelib.formats import axis_formatter
from gnelib.viz.theme import PALETTE


def trend_chart(
    frame: pd.DataFrame,
    *,
    title: str,
    fmt: str,
    highlight: str | None = None,
    anomalies: Sequence[str] = (),
    ax: Axes | None = None,
) -> Axes:
    """Weekly trend of `value`: immature periods hollow, the `anomalies` marked (the weeks the weekly scan flagged:
    `DeepDiveResult.series["flag"]`), the report's week highlighted. Ticks are ISO weeks (`W47`, the year on the
    first tick and at a new year); the legend, below the axes, names every line and marker."""
    data = frame.sort_values("period_start")
    ax = ax or plt.subplots()[1]
    ax.plot(
        data["period_start"],
        data["value"],
        color=PALETTE["primary"],
        linewidth=2,
        zorder=2,
        marker="o",
        markersize=4,
        label="weekly value",
    )
    mature = data["is_mature"].astype(bool) if "is_mature" in data else pd.Series(True, index=data.index)
    if (~mature).any():
        ax.scatter(
            data.loc[~mature, "period_start"],
            data.loc[~mature, "value"],
            facecolors="white",
            edgecolors=PALETTE["primary"],
            s=30,
            zorder=3,
            label="still maturing",
        )
    flagged = data[data["period"].isin(list(anomalies))]
    if not flagged.empty:
        ax.scatter(
            flagged["period_start"],
            flagged["value"],
            color=PALETTE["bad"],
            marker="D",
            s=60,
            zorder=4,
            label="flagged by the weekly scan",
        )
    if highlight is not None:
        current = data[data["period"] == highlight]
        if not current.empty:
            ax.axvline(
                current["period_start"].iloc[0],
                color=PALETTE["highlight"],
                linestyle="--",
                linewidth=1.2,
                label=f"report week ({highlight})",
            )
    low, high = ax.get_ylim()
    ax.yaxis.set_major_formatter(FuncFormatter(axis_formatter(fmt, span=high - low)))
    week_axis(ax.xaxis, data["period_start"])
    ax.set_title(title)
    ax.set_xlabel("")
    ax.set_ylabel("")
    legend_below(ax)
    return plain_text(ax)


def week_axis(axis, starts: pd.Series, max_ticks: int = 9) -> None:
    """Label a date axis with ISO weeks (`W47`; `2026-W01` on the first tick and at each new year), one tick
    every n-th week so that at most `max_ticks` show."""
    interval = max(1, -(-len(starts) // max_ticks))
    axis.set_major_locator(mdates.WeekdayLocator(byweekday=mdates.MO, interval=interval))

    def label(value: float, position: int | None) -> str:
        year, week, _ = mdates.num2date(value).isocalendar()
        new_year = mdates.num2date(value - 7 * interval).isocalendar()[0] != year
        return f"{year}-W{week:02d}" if position == 0 or new_year else f"W{week:02d}"

    axis.set_major_formatter(FuncFormatter(label))


def legend_below(ax: Axes, columns: int = 4) -> None:
    """The legend under the axes, clear of the data (nothing drawn if nothing is labelled)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=columns, frameon=False, fontsize=9)


def segment_rate_chart(
    frame: pd.DataFrame,
    *,
    dimension: str,
    baseline: str,
    current: str,
    title: str,
    fmt: str,
    top: int = 12,
    ax: Axes | None = None,
) -> Axes:
    """Baseline vs current `value` per segment of one dimension, largest current volume first."""
    data = frame[frame["period"].isin([baseline, current])].copy()
    order = data[data["period"] == current].sort_values("denominator", ascending=False)[dimension].head(top).tolist()
    data = data[data[dimension].isin(order)]
    data[dimension] = data[dimension].astype(str)
    ax = ax or plt.subplots(figsize=(9.0, 0.35 * len(order) + 1.2))[1]
    sns.barplot(
        data=data,
        y=dimension,
        x="value",
        hue="period",
        order=[str(o) for o in order],
        hue_order=[baseline, current],
        palette=[PALETTE["muted"], PALETTE["primary"]],
        ax=ax,
    )
    low, high = ax.get_xlim()
    ax.xaxis.set_major_formatter(FuncFormatter(axis_formatter(fmt, span=high - low)))
    ax.set_title(title)
    ax.set_xlabel("")
    ax.set_ylabel("")
    legend_below(ax)
    return plain_text(ax)


def contribution_chart(
    table: pd.DataFrame,
    *,
    label: str,
    parts: Sequence[str],
    title: str,
    fmt: str,
    top: int = 10,
    ax: Axes | None = None,
) -> Axes:
    """Horizontal stacked bars of each segment's contribution to the change (e.g. mix and rate parts)."""
    data = table.assign(_total=table[list(parts)].sum(axis=1))
    data = data.reindex(data["_total"].abs().sort_values(ascending=False).index).head(top)
    ax = ax or plt.subplots(figsize=(9.0, 0.38 * len(data) + 1.2))[1]
    left_pos = pd.Series(0.0, index=data.index)
    left_neg = pd.Series(0.0, index=data.index)
    colors = [PALETTE["primary"], PALETTE["highlight"], PALETTE["muted"]]
    labels = data[label].astype(str)
    for part, color in zip(parts, colors, strict=False):
        values = data[part]
        left = left_pos.where(values >= 0, left_neg)
        ax.barh(labels, values, left=left, color=color, label=part.replace("_", " "))
        left_pos = left_pos + values.clip(lower=0)
        left_neg = left_neg + values.clip(upper=0)
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.invert_yaxis()
    low, high = ax.get_xlim()
    ax.xaxis.set_major_formatter(FuncFormatter(axis_formatter(fmt, change=True, span=high - low)))
    ax.set_title(title)
    ax.set_ylabel("")
    legend_below(ax)
    return plain_text(ax)


def plain_text(ax: Axes) -> Axes:
    """Show every text of `ax` as written: no mathtext, no TeX (titles, axis labels, tick labels, legend).

    The ticks are created first, so category labels set from data are covered; ticks matplotlib adds later at
    draw time follow `rcParams["text.parse_math"]`, which the report theme sets to False."""
    for axis in (ax.xaxis, ax.yaxis):
        axis.get_majorticklabels()
        axis.get_minorticklabels()
    for text in ax.findobj(Text):
        text.set_parse_math(False)
        text.set_usetex(False)
    return ax


def sparkline(values: Sequence[float], *, tone: str = "", width: float = 1.6, height: float = 0.35) -> str:
    """A tiny trend line as an embedded PNG `<img>` (for table cells); the last point is marked in its tone."""
    color = PALETTE.get(tone, PALETTE["primary"])
    fig, ax = plt.subplots(figsize=(width, height))
    series = pd.Series(list(values), dtype=float)
    ax.plot(range(len(series)), series, color=PALETTE["muted"], linewidth=1.2)
    if len(series):
        ax.scatter([len(series) - 1], [series.iloc[-1]], color=color, s=10, zorder=3)
    ax.axis("off")
    ax.margins(x=0.04, y=0.15)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96, transparent=True, bbox_inches="tight", pad_inches=0.01)
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img class="gne-sparkline" alt="trend" src="data:image/png;base64,{data}">'
