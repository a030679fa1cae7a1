"""Independent pandas helpers for the warehouse tests: raw tables as frames, ISO weeks computed by pandas."""

from pathlib import Path

import duckdb
import pandas as pd

AS_OF = pd.Timestamp("2026-11-26")


def iso_week(times: pd.Series) -> pd.Series:
    """ISO week labels ('2026-W46') of timestamps, computed by pandas."""
    parts = times.dt.isocalendar()
    return parts["year"].astype(str) + "-W" + parts["week"].astype(str).str.zfill(2)


class Tables:
    """Lazy pandas copies of the warehouse tables, with an ISO `week` column added to the timed ones."""

    WEEK_COLUMN = {"orders": "ordered_at", "listing_moderation": "reviewed_at", "enforcement": "actioned_at"}

    def __init__(self, path: Path):
        self.path = path
        self._frames: dict[str, pd.DataFrame] = {}

    def __getitem__(self, table: str) -> pd.DataFrame:
        if table not in self._frames:
            with duckdb.connect(str(self.path), read_only=True) as con:
                frame = con.execute(f"SELECT * FROM {table}").df()
            if table in self.WEEK_COLUMN:
                frame["week"] = iso_week(frame[self.WEEK_COLUMN[table]])
            self._frames[table] = frame
        return self._frames[table]
