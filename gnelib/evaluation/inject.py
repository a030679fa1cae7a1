"""Inject random incidents into a COPY of a demo warehouse, for the detection power benchmark (issue 9).

The injector changes raw rows (reviews, after-sales requests, shipping and delivery times, duplicated orders; see
`gnelib.evaluation.levers`), so the whole pipeline — catalog SQL, metric frames, scan, deep dive — sees the
incident as it would see a real one. It lives apart from the generator (`gnelib.warehouse`) and from the analysis
(`gnelib.analysis`): it uses only the metric layer, pandas and numpy.

Incident kinds (`KINDS`):

- `cell_rate`: a bad-is-up rate rises in one market × dimension-value cell for one week;
- `pair_rate`: the same in one market × dim1=v1 × dim2=v2 cell;
- `volume_sale`: orders (and GMV) rise in a market × category or channel cell, per-cell rates unchanged (random
  orders of the cell duplicated with their after-sales requests and reviews);
- `sustained`: a cell rate rises by the same amount for 2-3 weeks;
- `drift`: a cell rate rises a little more each week over 3-5 weeks (week i of n: i/n of the final size);
- `improvement`: a good-news drop in a bad-is-up cell rate;
- `single_seller`: one large seller's orders take the defect (the unit is the market total's);
- `new_seller_burst`: a random group of sellers in seller_tenure_band `<30d` takes the defect at a high rate.

Effect size: every week's change in the carrying cell, in units of that cell's own standard error over the 12
weeks before the incident (`gnelib.evaluation.cells`: the larger of 1.4826 · MAD of the detrended weekly values
and the binomial / Poisson sampling error, computed with pandas from `gnelib.metrics.compute_many` frames — never
with `gnelib.analysis`). A ratio
cell with denominator n in week w gets k = round(size · se · n) flipped orders, so its value moves by exactly
k / n = size · se (up to rounding); a count cell gets round(size · se) duplicated orders. For `single_seller` the
carrying cell is the market total (seller is not a dimension). The manifest records the realised size.

Incident weeks are mature for every injected metric, have 12 weeks of history, and avoid the generator's own
planted incidents (`incidents` table: market × weeks); volume sales also avoid the mega-sale weeks and the week
after each. Incidents on one copy never share a market × metric family (`levers.FAMILY`), and a volume sale has
its market to itself, so no incident's cell, weeks or history is touched by another.
"""

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from gnelib.evaluation.cells import Cell, CellFrames, cell_unit, history_weeks
from gnelib.evaluation.levers import (
    FAMILY,
    RATE_METRICS,
    SIDE_EFFECTS,
    VOLUME_METRIC,
    IdAllocator,
    RowChange,
    apply_changes,
    candidates,
    changes,
)
from gnelib.periods import shift_week, week_of, weeks_between

KINDS = (
    "cell_rate",
    "pair_rate",
    "volume_sale",
    "sustained",
    "drift",
    "improvement",
    "single_seller",
    "new_seller_burst",
)
SIZE_BINS = ((1.0, 2.0), (2.0, 3.0), (3.0, 5.0), (5.0, 9.0))
"""Effect sizes (in cell units) are drawn from a uniformly chosen bin, then uniformly inside it."""
CELL_DIMENSIONS = ("category", "channel", "carrier", "seller_tenure_band", "seller_tier")
SALE_DIMENSIONS = ("category", "channel")
NEW_SELLER_CELL = ("seller_tenure_band", "<30d")
MAX_DOWN_SHARE = 0.9  # an improvement removes at most this share of a cell's events
MAX_SELLER_SHARE = 0.8  # a single seller going bad flips at most this share of its eligible orders
BURST_RATE = 0.5  # burst sellers are added until their events can be at most this share of their orders
LARGE_SELLERS = 10  # a single-seller incident picks among the market's this many largest sellers that week
MANIFEST_TABLE = "injected_incidents"


@dataclass
class Incident:
    """One injected incident: what the benchmark expects the scan to find, and the row changes that make it."""

    incident_id: int
    kind: str
    metric: str
    cell: Cell
    weeks: tuple[str, ...]
    sizes_se: tuple[float, ...]
    se: float
    baseline: float
    rows: tuple[int, ...]
    direction: str
    seller_id: int | None = None
    sellers: tuple[int, ...] = ()
    changes: list[RowChange] = field(default_factory=list, repr=False)

    @property
    def market(self) -> str:
        return self.cell.market

    @property
    def family(self) -> str:
        return FAMILY[self.metric]

    @property
    def verdict(self) -> str:
        """'neutral' for volume (orders have no good direction), else 'bad' up and 'good' down (every injected
        rate is lower-is-better)."""
        if self.metric == VOLUME_METRIC:
            return "neutral"
        return "bad" if self.direction == "up" else "good"

    @property
    def size_se(self) -> float:
        """The largest weekly size (a drift's last week)."""
        return float(max(self.sizes_se))

    @property
    def side_metrics(self) -> tuple[str, ...]:
        if self.metric == VOLUME_METRIC:
            return ("*",)
        return SIDE_EFFECTS[(self.metric, self.direction)]

    def to_row(self) -> dict:
        """The manifest row."""
        return {
            "incident_id": self.incident_id,
            "kind": self.kind,
            "metric": self.metric,
            "family": self.family,
            "market": self.market,
            "dimension": self.cell.dimension,
            "value": self.cell.value,
            "segment": self.cell.label,
            "seller_id": self.seller_id,
            "n_sellers": len(self.sellers) if self.sellers else (1 if self.seller_id is not None else 0),
            "weeks": ",".join(self.weeks),
            "first_week": self.weeks[0],
            "last_week": self.weeks[-1],
            "size_se": self.size_se,
            "sizes_se": ",".join(f"{size:.3f}" for size in self.sizes_se),
            "se": self.se,
            "baseline": self.baseline,
            "rows_changed": int(sum(self.rows)),
            "direction": self.direction,
            "verdict": self.verdict,
            "side_metrics": ",".join(self.side_metrics),
        }


def manifest(incidents: Sequence[Incident]) -> pd.DataFrame:
    """One row per incident (columns of `Incident.to_row`)."""
    return pd.DataFrame([incident.to_row() for incident in incidents])


class Planner:
    """Plans incidents on one source warehouse (read-only `conn`): explicit ones with `plan`, random ones with
    `draw`. Tracks which market × family slots are taken, so one planner's incidents can share one copy."""

    def __init__(
        self,
        conn: object,
        rng: np.random.Generator,
        weeks: Sequence[str] | None = None,
        min_denominator: float = 150,
        min_events: float = 8,
        first_id: int = 1,
    ):
        self.conn, self.rng = conn, rng
        meta = conn.meta()
        self.as_of = pd.Timestamp(meta["as_of"])
        self.frames = CellFrames(conn, [*RATE_METRICS, VOLUME_METRIC], meta["first_week"],
                                 meta["last_complete_week"])
        self.markets = sorted(self.frames.frame(VOLUME_METRIC)["market"].unique())
        allowed = set(self.frames.mature_weeks([*RATE_METRICS, VOLUME_METRIC]))
        allowed &= set(self.frames.weeks[len(history_weeks(self.frames.weeks[-1])) + 1:])
        self.weeks = [week for week in (weeks or self.frames.weeks) if week in allowed]
        self.min_denominator, self.min_events = min_denominator, min_events
        self.ids = IdAllocator(conn)
        self.next_id = first_id
        self.taken: dict[str, set[str]] = {market: set() for market in self.markets}
        self.blocked = _planted_weeks(conn)
        self.sale_weeks = _sale_weeks(self.frames.weeks)

    # explicit plans --------------------------------------------------------------------------------------

    def plan(
        self,
        kind: str,
        metric: str,
        cell: Cell,
        weeks: Sequence[str],
        sizes_se: Sequence[float],
        seller_id: int | None = None,
    ) -> Incident | None:
        """The incident `kind` on `metric` in `cell` with the given weekly sizes, or None when the cell cannot
        carry it (missing history, no spread, too few eligible orders). `single_seller` picks a large seller
        unless `seller_id` is given; `new_seller_burst` picks its sellers."""
        direction = "down" if kind == "improvement" else "up"
        unit_cell = Cell(cell.market) if kind == "single_seller" else cell
        series = self.frames.series(metric, unit_cell)
        kind_of_metric = "count" if metric == VOLUME_METRIC else "ratio"
        se = cell_unit(series, weeks[0], kind_of_metric)
        if not np.isfinite(se) or se <= 0 or not set(weeks) <= set(series.index):
            return None
        baseline = float(series.loc[history_weeks(weeks[0]), "value"].median())
        picked: list[pd.DataFrame] = []
        rows, sizes, sellers = [], [], ()
        for week, size in zip(weeks, sizes_se, strict=True):
            denominator = float(series.loc[week, "denominator"]) if metric != VOLUME_METRIC else 1.0
            count = int(round(size * se * denominator))
            if count < 1:
                return None
            pool = candidates(self.conn, metric, direction, cell, week, self.as_of)
            if kind == "single_seller":
                pool, seller_id = self._seller_pool(pool, count, seller_id)
            elif kind == "new_seller_burst":
                pool, sellers = self._burst_pool(pool, count)
            chosen = self._choose(pool, count, direction, replace=metric == VOLUME_METRIC)
            if chosen is None:
                return None
            picked.append(chosen)
            rows.append(count)
            sizes.append(count / denominator / se)
        incident = Incident(self.next_id, kind, metric, cell, tuple(weeks), tuple(sizes), se, baseline,
                            tuple(rows), direction, seller_id, tuple(sellers))
        incident.changes = changes(self.conn, metric, direction, pd.concat(picked, ignore_index=True), self.rng,
                                   self.as_of, self.ids)
        self.next_id += 1
        self._take(incident)
        return incident

    def _choose(self, pool: pd.DataFrame, count: int, direction: str, replace: bool) -> pd.DataFrame | None:
        limit = len(pool) * (MAX_DOWN_SHARE if direction == "down" else 1.0)
        if len(pool) == 0 or (count > limit and not replace):
            return None
        index = self.rng.choice(len(pool), count, replace=replace and count > len(pool))
        return pool.iloc[np.sort(index)]

    def _seller_pool(self, pool: pd.DataFrame, count: int, seller_id: int | None):
        per_seller = pool.groupby("seller_id").size().sort_values(ascending=False, kind="stable")
        if seller_id is None:
            large = per_seller.head(LARGE_SELLERS)
            feasible = large[large * MAX_SELLER_SHARE >= count]
            if feasible.empty:
                return pool.iloc[:0], None
            seller_id = int(self.rng.choice(feasible.index.to_numpy()))
        return pool[pool["seller_id"] == seller_id], seller_id

    def _burst_pool(self, pool: pd.DataFrame, count: int):
        per_seller = pool.groupby("seller_id").size()
        order = self.rng.permutation(per_seller.index.to_numpy())
        reach = np.cumsum(per_seller.loc[order].to_numpy())
        enough = np.searchsorted(reach, count / BURST_RATE) + 1
        sellers = tuple(int(seller) for seller in order[:enough])
        return pool[pool["seller_id"].isin(sellers)], sellers

    def _take(self, incident: Incident) -> None:
        self.taken[incident.market].add(incident.family)

    # random draws --------------------------------------------------------------------------------------

    def free(self, market: str, family: str) -> bool:
        """Whether `market` can take an incident of `family` (a volume sale needs an untouched market)."""
        taken = self.taken[market]
        return "volume" not in taken and family not in taken and (family != "volume" or not taken)

    def draw(
        self, kind: str | None = None, size_se: float | None = None, metric: str | None = None, attempts: int = 30
    ) -> Incident | None:
        """A random incident of `kind` (random when None) and final size (drawn from `SIZE_BINS` when None) on
        `metric` (random rate metric when None), in a random free market, cell and weeks; None when `attempts`
        placements all fail."""
        kind = kind or str(self.rng.choice(KINDS))
        if size_se is None:
            low, high = SIZE_BINS[self.rng.integers(len(SIZE_BINS))]
            size_se = float(self.rng.uniform(low, high))
        chosen_metric = metric
        for _ in range(attempts):
            metric = chosen_metric or (VOLUME_METRIC if kind == "volume_sale" else str(self.rng.choice(RATE_METRICS)))
            markets = [market for market in self.markets if self.free(market, FAMILY[metric])]
            if not markets:
                continue
            market = str(self.rng.choice(markets))
            weeks = self._draw_weeks(kind, market)
            cell = self._draw_cell(kind, metric, market, weeks) if weeks else None
            if cell is None:
                continue
            incident = self.plan(kind, metric, cell, weeks, _weekly_sizes(kind, size_se, len(weeks)))
            if incident is not None:
                return incident
        return None

    def _draw_weeks(self, kind: str, market: str) -> list[str] | None:
        length = {"sustained": int(self.rng.integers(2, 4)), "drift": int(self.rng.integers(3, 6))}.get(kind, 1)
        allowed = set(self.weeks)
        spans = [weeks_between(week, shift_week(week, length - 1)) for week in self.weeks]
        spans = [
            span for span in spans
            if set(span) <= allowed
            and not any((market, week) in self.blocked for week in span)
            and not (kind == "volume_sale" and set(span) & self.sale_weeks)
        ]
        return spans[self.rng.integers(len(spans))] if spans else None

    def _draw_cell(self, kind: str, metric: str, market: str, weeks: list[str]) -> Cell | None:
        if kind == "single_seller":
            return Cell(market)
        if kind == "new_seller_burst":
            cell = Cell(market, (NEW_SELLER_CELL,))
            return cell if self._eligible(metric, cell, weeks) else None
        pool = SALE_DIMENSIONS if kind == "volume_sale" else CELL_DIMENSIONS
        count = 2 if kind == "pair_rate" else 1
        dimensions = [str(d) for d in sorted(self.rng.choice(pool, count, replace=False), key=pool.index)]
        options = [cell for cell in self.frames.cells(metric, market, dimensions)
                   if self._eligible(metric, cell, weeks)]
        return options[self.rng.integers(len(options))] if options else None

    def _eligible(self, metric: str, cell: Cell, weeks: list[str]) -> bool:
        """Enough volume in every history and incident week, and enough events for a spread."""
        series = self.frames.series(metric, cell)
        span = [*history_weeks(weeks[0]), *weeks]
        if not set(span) <= set(series.index):
            return False
        if metric == VOLUME_METRIC:
            return bool(series.loc[span, "numerator"].min() >= self.min_denominator)
        return bool(series.loc[span, "denominator"].min() >= self.min_denominator
                    and series.loc[span, "numerator"].mean() >= self.min_events)


def _weekly_sizes(kind: str, size_se: float, length: int) -> list[float]:
    if kind == "drift":
        return [size_se * (index + 1) / length for index in range(length)]
    return [size_se] * length


def _planted_weeks(conn: object) -> set[tuple[str, str]]:
    """(market, week) pairs of the generator's own planted incidents."""
    table = conn.sql("SELECT market, start_week, end_week FROM incidents")
    return {(row.market, week) for row in table.itertuples() for week in weeks_between(row.start_week, row.end_week)}


def _sale_weeks(weeks: Sequence[str]) -> set[str]:
    """The mega-sale weeks (docs/warehouse.md: 9.9, 10.10, 11.11) and the week after each."""
    year = weeks[0][:4]
    sale_days = [pd.Timestamp(f"{year}-{month:02d}-{month:02d}") for month in (9, 10, 11)]
    return {week for day in sale_days for week in (week_of(day), shift_week(week_of(day), 1))}


def draw_incidents(planner: Planner, kinds: Sequence[str]) -> tuple[list[Incident], list[str]]:
    """Random incidents of `kinds` (one per entry, in order) on one copy; returns the incidents and the kinds that
    found no room (no free market × family, cell or size that fits), to be drawn on another copy."""
    incidents: list[Incident] = []
    left: list[str] = []
    for kind in kinds:
        incident = planner.draw(kind)
        if incident is None:
            left.append(kind)
        else:
            incidents.append(incident)
    return incidents, left


def inject(source: str | PathLike, target: str | PathLike, incidents: Sequence[Incident]) -> pd.DataFrame:
    """Copy the warehouse `source` to `target`, apply every incident's row changes there, store the manifest in
    the copy's `injected_incidents` table, and return it. `source` is never written."""
    source, target = Path(source), Path(target)
    if source.resolve() == target.resolve():
        raise ValueError("inject writes a copy: the target must differ from the source.")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    table = manifest(incidents)
    con = duckdb.connect(str(target))
    try:
        con.execute("SET enable_progress_bar = false")
        for incident in incidents:
            apply_changes(con, incident.changes)
        if len(table):
            con.register("_manifest", table)
            con.execute(f"CREATE OR REPLACE TABLE {MANIFEST_TABLE} AS SELECT * FROM _manifest")
            con.unregister("_manifest")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return table
