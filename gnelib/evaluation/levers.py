"""Row-level levers: which raw rows an injected incident may change, and the changes themselves.

Each lever moves one catalog metric by exactly one unit of its numerator per changed order, without changing the
metric's denominator (so a cell's rate moves by k / denominator for k orders):

- negative_review_rate: up, a delivered order's review set to 1-2 stars (a review added if it had none);
  down, a 1-2 star review set to 4.
- not_as_described_rate: up, a rejected `not_as_described` request added to a delivered order without one;
  down, such a request's reason set to `changed_mind`.
- counterfeit_claim_rate: up, a rejected `counterfeit` request added (also a NAD claim); down, reason
  `counterfeit` set to `changed_mind`.
- late_dispatch_rate: up, an on-time shipment moved 1-24 h past `promised_ship_by` (delivery unchanged);
  down, a late shipment moved before it.
- late_delivery_rate: up, an on-time delivery moved 6-48 h past `promised_delivery_by` (its claim and review stay
  after it); down, a late delivery moved before it.
- orders (volume): orders duplicated with their after-sales request and review (fresh ids).

Every change is a `RowChange` (an UPDATE by key or an INSERT of whole rows), built from a read-only look at the
source warehouse and applied to a writable copy.

Demo-specific by design: the levers read and write the demo warehouse's own tables (`orders`, `after_sales`,
`reviews`) in DuckDB SQL, since planting an incident means editing raw rows of a known schema. They serve the
detection benchmark on copies of the demo warehouse, not reports, which read only through the config and catalog.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gnelib.evaluation.cells import Cell
from gnelib.periods import week_range

RATE_METRICS = (
    "negative_review_rate",
    "not_as_described_rate",
    "counterfeit_claim_rate",
    "late_dispatch_rate",
    "late_delivery_rate",
)
VOLUME_METRIC = "orders"
FAMILY = {
    "negative_review_rate": "reviews",
    "not_as_described_rate": "claims",
    "counterfeit_claim_rate": "claims",
    "late_dispatch_rate": "dispatch",
    "late_delivery_rate": "delivery",
    VOLUME_METRIC: "volume",
}
"""Metric → family. Two incidents of one family never share a market in one copy; a volume incident takes the
whole market (duplicated orders carry every order metric's outcomes)."""

ORDER_METRICS = (
    "not_as_described_rate", "counterfeit_claim_rate", "damaged_claim_rate", "negative_review_rate",
    "late_dispatch_rate", "late_delivery_rate", "valid_tracking_rate", "seller_fault_cancel_rate",
    "order_defect_rate", "refund_rate", "refund_gmv_share", "orders", "gmv_usd",
)
SIDE_EFFECTS = {
    ("negative_review_rate", "up"): ("order_defect_rate",),
    ("negative_review_rate", "down"): ("order_defect_rate",),
    ("not_as_described_rate", "up"): ("order_defect_rate", "dispute_escalation_rate"),
    ("not_as_described_rate", "down"): ("order_defect_rate",),
    ("counterfeit_claim_rate", "up"): ("not_as_described_rate", "order_defect_rate", "dispute_escalation_rate"),
    ("counterfeit_claim_rate", "down"): ("not_as_described_rate", "order_defect_rate"),
    ("late_dispatch_rate", "up"): (),
    ("late_dispatch_rate", "down"): (),
    ("late_delivery_rate", "up"): (),
    ("late_delivery_rate", "down"): (),
}
"""Other catalog metrics a lever moves in the same market (the duplicated orders of a volume incident move every
order metric's counts; its per-cell rates only by the sampling noise of which orders were duplicated)."""

_SELECT = """
SELECT o.order_id, o.seller_id, o.ordered_at, o.shipped_at, o.promised_ship_by, o.delivered_at,
       o.promised_delivery_by, a.request_id, a.reason, a.requested_at, r.rating, r.created_at AS reviewed_at
FROM orders AS o
LEFT JOIN after_sales AS a ON a.order_id = o.order_id
LEFT JOIN reviews AS r ON r.order_id = o.order_id
LEFT JOIN sellers AS s ON s.seller_id = o.seller_id
WHERE o.market = $market AND o.ordered_at >= $start AND o.ordered_at < $end
"""
_LATER_EVENTS_OK = (
    "(a.requested_at IS NULL OR a.requested_at > o.promised_delivery_by + INTERVAL 2 DAY) AND "
    "(r.created_at IS NULL OR r.created_at > o.promised_delivery_by + INTERVAL 2 DAY)"
)
_CONDITIONS = {
    ("negative_review_rate", "up"): "o.delivered_at IS NOT NULL AND (r.rating IS NULL OR r.rating > 2)",
    ("negative_review_rate", "down"): "o.delivered_at IS NOT NULL AND r.rating <= 2",
    ("not_as_described_rate", "up"): "o.delivered_at IS NOT NULL AND a.order_id IS NULL",
    ("not_as_described_rate", "down"): "o.delivered_at IS NOT NULL AND a.reason = 'not_as_described'",
    ("counterfeit_claim_rate", "up"): "o.delivered_at IS NOT NULL AND a.order_id IS NULL",
    ("counterfeit_claim_rate", "down"): "o.delivered_at IS NOT NULL AND a.reason = 'counterfeit'",
    ("late_dispatch_rate", "up"): (
        "o.shipped_at IS NOT NULL AND o.shipped_at <= o.promised_ship_by AND "
        "(o.delivered_at IS NULL OR o.delivered_at > o.promised_ship_by + INTERVAL 2 DAY)"
    ),
    ("late_dispatch_rate", "down"): "o.shipped_at IS NOT NULL AND o.shipped_at > o.promised_ship_by",
    ("late_delivery_rate", "up"): (
        "o.delivered_at IS NOT NULL AND o.delivered_at <= o.promised_delivery_by AND "
        f"o.promised_delivery_by + INTERVAL 2 DAY < $as_of AND {_LATER_EVENTS_OK}"
    ),
    ("late_delivery_rate", "down"): (
        "o.delivered_at > o.promised_delivery_by AND o.shipped_at < o.promised_delivery_by - INTERVAL 2 HOUR"
    ),
    (VOLUME_METRIC, "up"): "TRUE",
}
_COLUMN = {"seller_tier": "s.tier"}  # cell dimensions that are not order columns
_ORDER_DIMENSIONS = ("category", "channel", "carrier", "seller_tenure_band")


@dataclass
class RowChange:
    """One statement on the copy: `update` sets `frame`'s other columns on rows matched by `key`; `insert` adds
    `frame`'s rows (all of the table's columns)."""

    table: str
    operation: str
    key: str
    frame: pd.DataFrame


class IdAllocator:
    """Fresh ids for inserted orders and after-sales requests (above the source warehouse's largest)."""

    def __init__(self, conn: object):
        row = conn.sql(
            "SELECT (SELECT MAX(order_id) FROM orders) AS o, (SELECT MAX(request_id) FROM after_sales) AS r"
        ).iloc[0]
        self.next = {"order_id": int(row["o"]) + 1, "request_id": int(row["r"]) + 1}

    def take(self, column: str, count: int) -> np.ndarray:
        start = self.next[column]
        self.next[column] += count
        return np.arange(start, start + count, dtype=np.int64)


def lever_exists(metric: str, direction: str) -> bool:
    return (metric, direction) in _CONDITIONS


def candidates(
    conn: object, metric: str, direction: str, cell: Cell, week: str, as_of: pd.Timestamp,
    sellers: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Orders of `cell` placed in ISO `week` (optionally only of `sellers`) whose outcome the lever can flip,
    sorted by order id."""
    start, end = week_range(week)
    params: dict[str, object] = {"market": cell.market, "start": start, "end": end}
    sql = _SELECT + " AND " + _CONDITIONS[(metric, direction)]
    if "$as_of" in sql:
        params["as_of"] = as_of
    for index, (dimension, value) in enumerate(cell.filters):
        if dimension not in _ORDER_DIMENSIONS and dimension not in _COLUMN:
            raise ValueError(f"Cannot narrow orders by {dimension!r}.")
        sql += f" AND {_COLUMN.get(dimension, 'o.' + dimension)} = $v{index}"
        params[f"v{index}"] = value
    if sellers is not None:
        sql += " AND list_contains($sellers, o.seller_id)"
        params["sellers"] = [int(seller) for seller in sellers]
    return conn.sql(sql + " ORDER BY o.order_id", params)


def changes(
    conn: object, metric: str, direction: str, chosen: pd.DataFrame, rng: np.random.Generator,
    as_of: pd.Timestamp, ids: IdAllocator,
) -> list[RowChange]:
    """The row changes that flip `chosen` candidate orders (a frame from `candidates`)."""
    if metric == VOLUME_METRIC:
        return _duplicate_orders(conn, chosen["order_id"].to_numpy(), ids)
    builders = {
        "negative_review_rate": _reviews,
        "not_as_described_rate": lambda *a: _claims(*a, reason="not_as_described"),
        "counterfeit_claim_rate": lambda *a: _claims(*a, reason="counterfeit"),
        "late_dispatch_rate": _dispatch,
        "late_delivery_rate": _delivery,
    }
    return builders[metric](chosen.reset_index(drop=True), direction, rng, as_of, ids)


def _hours(rng: np.random.Generator, count: int, low: float, high: float) -> np.ndarray:
    """`count` random durations between `low` and `high` hours, whole seconds (timedelta64 array)."""
    return np.round(rng.uniform(low, high, count) * 3600).astype("int64").astype("timedelta64[s]")


def _before_as_of(times: pd.Series, floor: pd.Series, as_of: pd.Timestamp) -> pd.Series:
    """`times`, but no later than a minute before the as-of time and no earlier than `floor`."""
    return times.clip(upper=as_of - pd.Timedelta(minutes=1)).where(lambda t: t >= floor, floor)


def _reviews(chosen, direction, rng, as_of, ids) -> list[RowChange]:
    if direction == "down":
        return [RowChange("reviews", "update", "order_id", chosen[["order_id"]].assign(rating=4))]
    ratings = rng.integers(1, 3, len(chosen))
    has_review = chosen["rating"].notna().to_numpy()
    update = chosen.loc[has_review, ["order_id"]].assign(rating=ratings[has_review])
    new = chosen.loc[~has_review, ["order_id", "delivered_at"]]
    created = _before_as_of(new["delivered_at"] + _hours(rng, len(new), 1, 120), new["delivered_at"], as_of)
    insert = pd.DataFrame({"order_id": new["order_id"], "rating": ratings[~has_review], "created_at": created})
    return [RowChange("reviews", "update", "order_id", update), RowChange("reviews", "insert", "order_id", insert)]


def _claims(chosen, direction, rng, as_of, ids, reason: str) -> list[RowChange]:
    if direction == "down":
        return [RowChange("after_sales", "update", "request_id",
                          chosen[["request_id"]].astype("int64").assign(reason="changed_mind"))]
    delivered = chosen["delivered_at"]
    requested = _before_as_of(delivered + _hours(rng, len(chosen), 6, 168), delivered, as_of)
    resolved = requested + _hours(rng, len(chosen), 24, 72)
    pending = resolved > as_of
    rows = pd.DataFrame({
        "request_id": ids.take("request_id", len(chosen)),
        "order_id": chosen["order_id"].to_numpy(),
        "requested_at": requested.to_numpy(),
        "type": "return_and_refund",
        "reason": reason,
        "status": np.where(pending, "pending", "rejected"),
        "refund_amount_usd": 0.0,
        "resolved_at": resolved.where(~pending).to_numpy(),
        "escalated_to_dispute": False,
        "dispute_outcome": None,
    })
    return [RowChange("after_sales", "insert", "request_id", rows)]


def _dispatch(chosen, direction, rng, as_of, ids) -> list[RowChange]:
    promised = chosen["promised_ship_by"]
    if direction == "up":
        shipped = _before_as_of(promised + _hours(rng, len(chosen), 1, 24), promised, as_of)
    else:
        floor = chosen["ordered_at"] + pd.Timedelta(minutes=30)
        shipped = (promised - _hours(rng, len(chosen), 1, 12)).where(lambda t: t >= floor, floor)
    return [RowChange("orders", "update", "order_id", pd.DataFrame({"order_id": chosen["order_id"],
                                                                     "shipped_at": shipped}))]


def _delivery(chosen, direction, rng, as_of, ids) -> list[RowChange]:
    promised = chosen["promised_delivery_by"]
    if direction == "up":
        delivered = promised + _hours(rng, len(chosen), 6, 48)
    else:
        floor = chosen["shipped_at"] + pd.Timedelta(hours=1)
        delivered = (promised - _hours(rng, len(chosen), 1, 24)).where(lambda t: t >= floor, floor)
    return [RowChange("orders", "update", "order_id", pd.DataFrame({"order_id": chosen["order_id"],
                                                                     "delivered_at": delivered}))]


def _duplicate_orders(conn: object, order_ids: np.ndarray, ids: IdAllocator) -> list[RowChange]:
    """Copies of `order_ids` (repeats allowed) with fresh order ids, plus copies of their after-sales requests
    (fresh request ids) and reviews."""
    unique = sorted({int(order_id) for order_id in order_ids})
    params = {"ids": unique}
    orders = conn.sql("SELECT * FROM orders WHERE list_contains($ids, order_id)", params).set_index("order_id")
    requests = conn.sql("SELECT * FROM after_sales WHERE list_contains($ids, order_id)", params)
    reviews = conn.sql("SELECT * FROM reviews WHERE list_contains($ids, order_id)", params)
    mapping = pd.DataFrame({"old": order_ids.astype(np.int64), "order_id": ids.take("order_id", len(order_ids))})
    new_orders = orders.loc[mapping["old"]].reset_index(drop=True)
    new_orders.insert(0, "order_id", mapping["order_id"].to_numpy())
    new_requests = mapping.merge(requests.rename(columns={"order_id": "old"}), on="old").drop(columns="old")
    new_requests["request_id"] = ids.take("request_id", len(new_requests))
    new_reviews = mapping.merge(reviews.rename(columns={"order_id": "old"}), on="old").drop(columns="old")
    return [
        RowChange("orders", "insert", "order_id", new_orders),
        RowChange("after_sales", "insert", "request_id", new_requests),
        RowChange("reviews", "insert", "order_id", new_reviews),
    ]


def apply_changes(con, row_changes: Sequence[RowChange]) -> None:
    """Run `row_changes` on a writable DuckDB connection `con` (one transaction per call)."""
    con.execute("BEGIN TRANSACTION")
    try:
        for index, change in enumerate(row_changes):
            if change.frame.empty:
                continue
            types = dict(con.execute(f"SELECT column_name, data_type FROM information_schema.columns "
                                     f"WHERE table_name = '{change.table}'").fetchall())
            view = f"_inject_{index}"
            con.register(view, change.frame)
            try:
                if change.operation == "insert":
                    columns = ", ".join(f"CAST(c.{name} AS {kind})" for name, kind in types.items())
                    con.execute(f"INSERT INTO {change.table} SELECT {columns} FROM {view} AS c")
                else:
                    assignments = ", ".join(
                        f"{name} = CAST(c.{name} AS {types[name]})" for name in change.frame.columns
                        if name != change.key
                    )
                    con.execute(f"UPDATE {change.table} SET {assignments} FROM {view} AS c "
                                f"WHERE {change.table}.{change.key} = c.{change.key}")
            finally:
                con.unregister(view)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
