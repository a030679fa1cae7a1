"""The number a report shows for each metric × market in a week, read as the weekly scan reads it (its read week
and fixed horizon, `maturity.reading`), and the same number computed again later: what a data restatement compares.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from gnelib.analysis.detection import HISTORY, finding_comparison, grain_of
from gnelib.analysis.insights import volume_noun, week_label
from gnelib.analysis.maturity import reading
from gnelib.formats import format_value
from gnelib.periods import shift_week, trailing_weeks

READING_COLUMNS = ["metric", "read_week", "horizon_days"]
SMALL_RATE_FORMATS = ("per_1k", "per_1m")
HEADLINE_COLUMNS = ["metric", "market", "read_week", "horizon_days", "value"]


def week_headlines(conn, week: str, names: Sequence[str]) -> pd.DataFrame:
    """The value of each metric in `names` for every market in `week`, at the scan's read week and horizon.
    Columns: `HEADLINE_COLUMNS` (`market` holds the grain's values)."""
    from gnelib import metrics

    readings = [(name, read.read_week, read.horizon_days)
                for name in names for read in [reading(conn, metrics.get(name), week)]]
    return values_at(conn, pd.DataFrame(readings, columns=READING_COLUMNS))


def in_page_unit(definition):
    """The definition as a page of several metrics shows it (scorecard, digest): a rate the catalog writes per 1k or
    per 1m is shown in percent, so sibling rates side by side share one unit. One-metric pages keep the catalog's."""
    if definition.kind == "ratio" and definition.format in SMALL_RATE_FORMATS:
        return definition.model_copy(update={"format": "percent"})
    return definition


def compared_weeks(row: pd.Series) -> str:
    """The weeks a scan row compares, for a sentence: `W46 vs W34–W45` (the read week against the weeks its usual
    level comes from), `W45–W46 average vs W33–W44` for a drift window."""
    read = row["read_week"]
    span = int(row["window_weeks"]) if row["comparison"] == "window" else 1
    start = shift_week(read, 1 - span)
    base = trailing_weeks(start, HISTORY)
    now = week_label(read) if span == 1 else f"{week_label(start)}–{week_label(read)} average"
    return f"{now} vs {week_label(base[0])}–{week_label(base[-1])}"


def comparison_words(row: pd.Series) -> str:
    """How a scan row compared and which weeks, for every sentence that shows its numbers:
    `against its usual level, W46 vs W34–W45`."""
    return f"{finding_comparison(row)}, {compared_weeks(row)}"


def finding_size(row: pd.Series, definition) -> str:
    """How much of the business a scan row touches in its read week, for a sentence: `it touches 1,848 orders in
    W46, about 115 more counted than at the usual rate` (the change × the week's volume); GMV-weighted rates in
    money; "" for counts and sums, whose value is already the size."""
    volume = row.get("volume")
    if definition.kind not in ("ratio", "duration") or volume is None or pd.isna(volume):
        return ""
    when = week_label(row["read_week"])
    if definition.kind == "duration":
        return f"measured over {volume:,.0f} events in {when}"
    noun = volume_noun(definition)
    excess = row["abs_change"] * volume
    more = "more" if excess > 0 else "fewer"
    if noun == "GMV":
        money = lambda value: format_value(value, "currency")  # noqa: E731
        return f"it touches {money(volume)} of GMV in {when}, about {money(abs(excess))} {more} than at the usual rate"
    return f"it touches {volume:,.0f} {noun} in {when}, about {abs(excess):,.0f} {more} counted than at the usual rate"


def values_at(conn, readings: pd.DataFrame, market: str | None = None) -> pd.DataFrame:
    """The value of each (`metric`, `read_week`, `horizon_days`) row per market on the data as it is now (one market
    when given); a metric with no row in its read week is left out. Columns: `HEADLINE_COLUMNS`."""
    from gnelib import metrics

    grain = grain_of(conn)
    where = {grain: market} if market is not None else None
    frames = []
    for (read_week, horizon), rows in readings.groupby(
            [readings["read_week"], readings["horizon_days"].astype("Int64")], dropna=False, sort=True):
        names = list(dict.fromkeys(rows["metric"]))
        if pd.isna(horizon):
            computed = metrics.compute_many(conn, names, weeks=(read_week, read_week), by=[grain], where=where)
        else:
            computed = {name: metrics.compute(conn, name, weeks=(read_week, read_week), by=[grain], where=where,
                                              horizon_days=int(horizon)) for name in names}
        for name, frame in computed.items():
            frames.append(pd.DataFrame({"metric": name, "market": frame[grain].astype(str), "read_week": read_week,
                                        "horizon_days": None if pd.isna(horizon) else int(horizon),
                                        "value": frame["value"].astype(float)}))
    if not frames:
        return pd.DataFrame(columns=HEADLINE_COLUMNS)
    return pd.concat(frames, ignore_index=True)[HEADLINE_COLUMNS]


@dataclass(frozen=True)
class Published:
    """What a week's run published: the weekly scan's findings (`detection.findings` rows) and every metric ×
    market's headline number (`HEADLINE_COLUMNS`), as saved then."""

    week: str
    findings: pd.DataFrame
    headlines: pd.DataFrame
