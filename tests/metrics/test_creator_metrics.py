"""Hand-worked examples for the edges of the creator and experience metrics: which strikes are active at order
time, repeat purchase within 30 days of an experience, contacts within 30 days of the order."""

from pathlib import Path

import duckdb
import pytest

from gnelib import metrics
from gnelib.warehouse import connect
from gnelib.warehouse.schema import create_statements

ROWS = {
    "warehouse_meta": [("as_of", "2026-11-26 00:00:00"), ("last_complete_week", "2026-W47")],
    "sellers": [(1, "TH", "2025-01-01", "gold", "business", "verified", "shop")],
    "creators": [
        (1, "TH", "rising", "<10k", "2026-01-01"),
        (2, "TH", "top", "1m+", "2026-01-01"),
        (3, "TH", "established", "10k-100k", "2026-01-01"),
    ],
    # creator 1: a standing strike; creator 2: a strike overturned on an appeal decided 2026-11-05; creator 3: a
    # strike expired after 90 days and a warning (warnings never count).
    "creator_enforcement": [
        (1, 1, "TH", "strike", "counterfeit", "2026-09-30", "2026-10-01 10:00", False, None, None),
        (2, 2, "TH", "strike", "counterfeit", "2026-09-30", "2026-10-01 10:00", True, "2026-11-05", True),
        (3, 3, "TH", "strike", "counterfeit", "2026-06-30", "2026-07-01 10:00", False, None, None),
        (4, 3, "TH", "warning", "misleading_claims", "2026-10-30", "2026-11-01 10:00", False, None, None),
    ],
}
ORDER_COLUMNS = (
    "order_id",
    "ordered_at",
    "market",
    "buyer_id",
    "seller_id",
    "creator_id",
    "channel",
    "gmv_usd",
    "delivered_at",
    "cancelled_at",
    "cancel_fault",
)
ORDERS = [
    (1, "2026-11-03 09:00", "TH", 10, 1, 1, "live", 100.0, None, None, None),  # struck
    (2, "2026-11-03 09:00", "TH", 11, 1, 2, "live", 50.0, None, None, None),  # struck: overturned only later
    (3, "2026-11-06 09:00", "TH", 11, 1, 2, "live", 30.0, None, None, None),  # overturn decided before it
    (4, "2026-11-04 09:00", "TH", 11, 1, 3, "live", 20.0, None, None, None),  # strike expired
    (5, "2026-11-04 09:00", "TH", 11, 1, None, "search", 1000.0, None, None, None),  # not creator-driven
    # buyer 20: bad experience 2026-11-06 (negative review), orders again 2026-11-20 (14 days later), which is a
    # good experience when delivered 2026-11-22 (W47) with no order after it.
    (20, "2026-11-02 09:00", "TH", 20, 1, None, "search", 10.0, "2026-11-05 09:00", None, None),
    (21, "2026-11-20 09:00", "TH", 20, 1, None, "search", 10.0, "2026-11-22 09:00", None, None),
    # buyer 30: good experience 2026-10-04, next order 37 days later (no repeat); that order's seller-fault cancel
    # at 2026-11-10 12:00 is a bad experience followed by an order at that very moment (a repeat).
    (30, "2026-10-01 09:00", "TH", 30, 1, None, "search", 10.0, "2026-10-04 09:00", None, None),
    (31, "2026-11-10 09:00", "TH", 30, 1, None, "search", 10.0, None, "2026-11-10 12:00", "seller"),
    (32, "2026-11-10 12:00", "TH", 30, 1, None, "search", 10.0, None, None, None),
]
REVIEWS = [(20, 1, "2026-11-06 09:00")]
# order 1: one contact within 30 days, one on day 31; order 2: a where-is-my-order contact.
CONTACTS = [
    (1, 1, 10, "TH", "2026-11-04 09:00", "item_problem", None, None),
    (2, 1, 10, "TH", "2026-12-04 09:00", "item_problem", None, None),
    (3, 2, 11, "TH", "2026-11-10 09:00", "where_is_my_order", None, None),
]


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory):
    path = Path(tmp_path_factory.mktemp("hand")) / "hand.duckdb"
    with duckdb.connect(str(path)) as con:
        for statement in create_statements():
            con.execute(statement)
        for table, rows in ROWS.items():
            con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
        full = [
            (
                *row[:6],
                None,
                None,
                row[6],
                None,
                None,
                None,
                row[7],
                None,
                None,
                None,
                row[8],
                None,
                row[9],
                None,
                row[10],
            )
            for row in ORDERS
        ]
        con.executemany(
            "INSERT INTO orders (order_id, ordered_at, market, buyer_id, seller_id, creator_id, "
            "listing_id, category, channel, seller_tenure_band, carrier, gmv_local, gmv_usd, "
            "promised_ship_by, shipped_at, promised_delivery_by, delivered_at, tracking_valid, "
            "cancelled_at, cancel_reason, cancel_fault) VALUES (" + ", ".join("?" * 21) + ")",
            full,
        )
        con.executemany("INSERT INTO reviews VALUES (?, ?, ?)", REVIEWS)
        con.executemany("INSERT INTO cs_contacts VALUES (?, ?, ?, ?, ?, ?, ?, ?)", CONTACTS)
    with connect(path) as connection:
        yield connection


def values(conn, name: str, weeks: tuple[str, str]) -> dict[str, tuple[float, float]]:
    frame = metrics.compute(conn, name, weeks=weeks)
    return {row.period: (row.numerator, row.denominator) for row in frame.itertuples()}


def test_struck_creator_gmv_share_counts_strikes_active_at_order_time(conn):
    assert values(conn, "struck_creator_gmv_share", ("2026-W45", "2026-W45")) == {"2026-W45": (150.0, 200.0)}


def test_repeat_purchase_after_bad_and_good_experiences(conn):
    assert values(conn, "repeat_purchase_after_bad_experience", ("2026-W40", "2026-W47")) == {
        "2026-W45": (1.0, 1.0),
        "2026-W46": (1.0, 1.0),
    }
    assert values(conn, "repeat_purchase_after_good_experience", ("2026-W40", "2026-W47")) == {
        "2026-W40": (0.0, 1.0),
        "2026-W47": (0.0, 1.0),
    }


def test_contacts_per_order_count_the_first_30_days(conn):
    orders_w45 = sum(1 for row in ORDERS if "2026-11-02" <= row[1] < "2026-11-09")
    assert values(conn, "cs_contacts_per_order", ("2026-W45", "2026-W45")) == {"2026-W45": (2.0, orders_w45)}
    assert values(conn, "where_is_my_order_contacts_per_order", ("2026-W45", "2026-W45")) == {
        "2026-W45": (1.0, orders_w45)
    }
