"""The number a report shows for each metric × market in a week, read as the weekly scan reads it (its read week
and fixed horizon, `maturity.reading`), and the same number computed again later: what a data restatement compares.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from gnelib.analysis.detection import grain_of
from gnelib.analysis.maturity import reading

READING_COLUMNS = ["metric", "read_week", "horizon_days"]
HEADLINE_COLUMNS = ["metric", "market", "read_week", "horizon_days", "value"]


def week_headlines(conn, week: str, names: Sequence[str]) -> pd.DataFrame:
    """The value of each metric in `names` for every market in `week`, at the scan's read week and horizon.
    Columns: `HEADLINE_COLUMNS` (`market` holds the grain's values)."""
    from gnelib import metrics

    readings = [(name, read.read_week, read.horizon_days)
                for name in names for read in [reading(conn, metrics.get(name), week)]]
    return values_at(conn, pd.DataFrame(readings, columns=READING_COLUMNS))


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
