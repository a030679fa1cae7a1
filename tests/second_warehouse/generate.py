"""A second, small warehouse with a schema unlike the demo's: a regional shop selling in IDR.

Tables `sales_orders` (order_no, created_ts, region, store_code, product_line, price_idr, promised_ts, shipped_ts,
delivered_ts, is_cancelled), `stores` (store_code, region, store_type, opened_ts) and `ratings` (order_no, stars,
rated_ts). Report grain `region`; no experiments, no after-sales. Twelve ISO weeks, 2025-W02 … 2025-W13; the data
runs to 2025-03-30 12:00, so 2025-W13 is still open and 2025-W12 is the last complete week.

    python tests/second_warehouse/generate.py /tmp/shop.duckdb
"""

import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

FIRST_MONDAY = pd.Timestamp("2025-01-06")  # 2025-W02
AS_OF = pd.Timestamp("2025-03-30 12:00:00")
REGIONS = {"north": 260, "south": 180, "east": 120, "west": 90}  # orders per week
PRODUCT_LINES = ["apparel", "home", "electronics", "grocery"]
STORE_TYPES = ["flagship", "partner"]
STORES_PER_REGION = 6
HERE = Path(__file__).parent
CATALOG = HERE / "catalog"


def build(path: Path, seed: int = 11) -> Path:
    """Write the warehouse to `path` (replaced if it exists) and return it."""
    rng = np.random.default_rng(seed)
    stores = pd.DataFrame(
        [
            (f"{region[:1].upper()}{number:02d}", region, STORE_TYPES[number % 2],
             FIRST_MONDAY - pd.Timedelta(days=int(rng.integers(30, 900))))
            for region in REGIONS for number in range(STORES_PER_REGION)
        ],
        columns=["store_code", "region", "store_type", "opened_ts"],
    )
    orders = pd.concat([_region_orders(rng, region, weekly, stores) for region, weekly in REGIONS.items()])
    orders = orders[orders["created_ts"] < AS_OF].sort_values("created_ts").reset_index(drop=True)
    orders.insert(0, "order_no", np.arange(100_000, 100_000 + len(orders)))
    ratings = _ratings(rng, orders)
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        for name, frame in (("sales_orders", orders), ("stores", stores), ("ratings", ratings)):
            con.register("frame", frame)
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
            con.unregister("frame")
    finally:
        con.close()
    return path


def _region_orders(rng: np.random.Generator, region: str, weekly: int, stores: pd.DataFrame) -> pd.DataFrame:
    weeks = int((AS_OF - FIRST_MONDAY).days // 7) + 1
    count = weekly * weeks
    created = FIRST_MONDAY + pd.to_timedelta(rng.uniform(0, weeks * 7 * 86_400, count), unit="s")
    codes = stores.loc[stores["region"] == region, "store_code"].to_numpy()
    late_share = 0.08 + (0.10 if region == "east" else 0.0)  # east ships late more often
    promised = created + pd.Timedelta(hours=48)
    ship_hours = np.where(rng.random(count) < late_share, rng.uniform(49, 120, count), rng.uniform(4, 47, count))
    shipped = created + pd.to_timedelta(ship_hours, unit="h")
    delivered = shipped + pd.to_timedelta(rng.gamma(3.0, 20.0, count), unit="h")
    cancelled = rng.random(count) < 0.04
    frame = pd.DataFrame({
        "created_ts": created,
        "region": region,
        "store_code": rng.choice(codes, count),
        "product_line": rng.choice(PRODUCT_LINES, count, p=[0.4, 0.25, 0.15, 0.2]),
        "price_idr": np.round(rng.lognormal(12.0, 0.6, count), -2),
        "promised_ts": promised,
        "shipped_ts": pd.Series(shipped).where(~cancelled).to_numpy(),
        "delivered_ts": pd.Series(delivered).where(~cancelled & (delivered < AS_OF)).to_numpy(),
        "is_cancelled": cancelled,
    })
    frame.loc[frame["shipped_ts"] > AS_OF, "shipped_ts"] = pd.NaT
    return frame


def _ratings(rng: np.random.Generator, orders: pd.DataFrame) -> pd.DataFrame:
    rated = orders[orders["delivered_ts"].notna()].sample(frac=0.5, random_state=int(rng.integers(1 << 30)))
    late = rated["shipped_ts"] > rated["promised_ts"]
    stars = np.where(late, rng.choice([1, 2, 3, 4, 5], len(rated), p=[0.2, 0.2, 0.2, 0.2, 0.2]),
                     rng.choice([1, 2, 3, 4, 5], len(rated), p=[0.03, 0.05, 0.12, 0.3, 0.5]))
    when = rated["delivered_ts"] + pd.to_timedelta(rng.exponential(72, len(rated)), unit="h")
    frame = pd.DataFrame({"order_no": rated["order_no"].to_numpy(), "stars": stars, "rated_ts": when.to_numpy()})
    return frame[frame["rated_ts"] < AS_OF].reset_index(drop=True)


def write_config(directory: Path, warehouse: Path) -> Path:
    """A gne.yaml for the second warehouse (grain region, as-of from the orders table, its own catalog)."""
    path = directory / "gne.yaml"
    path.write_text(
        f"source: duckdb:///{warehouse}\n"
        f"catalog: {CATALOG}\n"
        "grain: region\n"
        "calendar:\n"
        "  as_of: {table: sales_orders, column: created_ts}\n"
        "  time_zone: Asia/Jakarta\n"
        "completeness: {metric: orders_placed}\n",
        encoding="utf-8",
    )
    return path


if __name__ == "__main__":
    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "shop.duckdb")))
