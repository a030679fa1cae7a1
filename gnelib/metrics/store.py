"""The batch aggregate store: metric frames computed once per batch and read by every kernel of it.

A batch of reports asks the warehouse the same questions many times (every scorecard scans every metric in
every market). The runner fills a store folder before the kernels start (`fill`) and points the kernels at it
with the environment variable `GNE_AGGREGATES`; `metrics.compute` then answers from the store whenever a stored
frame covers the request, and from the warehouse otherwise, with identical numbers.

A stored frame is one metric at one level (a tuple of dimensions, e.g. ("market", "category")), one horizon and
one period over a range of weeks, as Parquet. It answers a request whose `by` and single-valued `where` keys
together make up that level: the per-unit sums inside a cell do not depend on how many other cells are asked for,
so filtering the stored rows gives exactly what the engine would compute. The folder's name carries the
fingerprint of the data, the catalog and gnelib's code (chosen by the runner), so a stale store is never read.

The store also keeps named result tables (`put_table` / `get_table`) that a layer above derives from the frames
and every kernel would otherwise derive again — the weekly scan of a metric, for example. A name must spell out
everything the table depends on besides the store's own fingerprint.
"""

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from gnelib import periods
from gnelib.atomic import atomic_path, atomic_write_text

STORE_ENV = "GNE_AGGREGATES"
MANIFEST = "manifest.json"
TABLES = "tables"


@dataclass(frozen=True)
class Request:
    """What one stored frame holds: metric, level, horizon and period over the weeks first..last."""

    metric: str
    level: tuple[str, ...]
    horizon_days: int | None
    period: str
    first: str
    last: str

    @property
    def file(self) -> str:
        level = "+".join(self.level) or "total"
        horizon = "asis" if self.horizon_days is None else f"h{self.horizon_days}"
        return f"{self.metric}/{level}.{horizon}.{self.period}.{self.first}.{self.last}.parquet"


class AggregateStore:
    """A folder of stored metric frames and the manifest that lists them."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self._requests: list[Request] | None = None

    @classmethod
    def active(cls) -> "AggregateStore | None":
        """The store named by `GNE_AGGREGATES`, if it is set and exists."""
        folder = os.environ.get(STORE_ENV)
        return cls(folder) if folder and (Path(folder) / MANIFEST).is_file() else None

    @property
    def requests(self) -> list[Request]:
        if self._requests is None:
            path = self.folder / MANIFEST
            raw = json.loads(path.read_text()) if path.is_file() else []
            self._requests = [Request(r["metric"], tuple(r["level"]), r["horizon_days"], r["period"], r["first"],
                                      r["last"]) for r in raw]
        return self._requests

    def put(self, request: Request, frame: pd.DataFrame) -> None:
        """Store `frame` (a metric frame at `request.level`) and list it in the manifest, atomically."""
        with atomic_path(self.folder / request.file) as temporary:
            frame.to_parquet(temporary, index=False)
        requests = [r for r in self.requests if r != request] + [request]
        atomic_write_text(self.folder / MANIFEST, json.dumps(
            [{**r.__dict__, "level": list(r.level)} for r in requests], indent=1))
        self._requests = requests

    def get(self, metric: str, by: Sequence[str], where: Mapping[str, list[object]], weeks: Iterable[str] | None,
            horizon_days: int | None, period: str) -> pd.DataFrame | None:
        """The frame `compute` would return, from a stored frame that covers the request and holds every `where`
        value; None when none does.

        `weeks`: the ISO week labels asked for (None: every week the caller's range holds — not answerable)."""
        if weeks is None:
            return None
        wanted = sorted(set(weeks))
        singles = {key: values[0] for key, values in where.items() if len(values) == 1}
        if any(key not in by and key not in singles for key in where):
            return None
        level = set(by) | set(where)
        for request in self.requests:
            if (request.metric, request.horizon_days, request.period) != (metric, horizon_days, period):
                continue
            if set(request.level) != level or not (request.first <= wanted[0] and wanted[-1] <= request.last):
                continue
            frame = pd.read_parquet(self.folder / request.file)
            keep = frame["period"].isin(wanted)
            for key, values in where.items():
                text = frame[key].astype(str)
                if set(map(str, values)) - set(text):
                    return None  # a value with no stored rows: let the warehouse validate it
                keep &= text.isin([str(value) for value in values])
            columns = [c for c in frame.columns if c not in set(request.level) - set(by)]
            ordered = ["metric", "period", "period_start", *by]
            columns = ordered + [c for c in columns if c not in ordered]
            return frame.loc[keep, columns].sort_values(["period_start", *by]).reset_index(drop=True)
        return None


    def put_table(self, name: str, frame: pd.DataFrame) -> None:
        """Keep a derived table under `name` (a file name: letters, digits, `-`, `_`, `.`), atomically."""
        folder = self.folder / TABLES
        folder.mkdir(exist_ok=True)
        with atomic_path(folder / f"{name}.parquet") as temporary:
            frame.to_parquet(temporary, index=False)

    def get_table(self, name: str) -> pd.DataFrame | None:
        """The table kept under `name`, or None."""
        path = self.folder / TABLES / f"{name}.parquet"
        return pd.read_parquet(path) if path.is_file() else None


def week_labels(weeks) -> list[str] | None:
    """The ISO week labels a `weeks=` argument selects (None for "all weeks": not answerable from a store)."""
    if weeks is None:
        return None
    if isinstance(weeks, str):
        return [weeks]
    if isinstance(weeks, tuple) and len(weeks) == 2:
        return periods.weeks_between(*weeks)
    return list(weeks)


def fill(conn, store: AggregateStore, requests: Iterable[Request]) -> int:
    """Compute every request's frame from the warehouse and store it: requests that share level, weeks, period and
    horizon go through `compute_many`, one pass per source. Returns the count."""
    from gnelib.metrics.query import compute_many

    todo = [request for request in dict.fromkeys(requests) if request not in store.requests]
    shared: dict[tuple, list[Request]] = {}
    for request in todo:
        key = (request.level, request.first, request.last, request.period, request.horizon_days)
        shared.setdefault(key, []).append(request)
    for (level, first, last, period, horizon_days), group in shared.items():
        frames = compute_many(conn, [r.metric for r in group], weeks=(first, last), by=list(level), period=period,
                              horizon_days=horizon_days)
        for request in group:
            store.put(request, frames[request.metric])
    return len(todo)
