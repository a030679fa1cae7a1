"""The GNE warehouse: `connect()` to query it, `build_warehouse()` to generate the seeded demo warehouse."""

from gnelib.warehouse.connection import Connection, DuckDBConnection, connect, default_warehouse_path
from gnelib.warehouse.errors import WarehouseError
from gnelib.warehouse.generator import Summary, build_warehouse

__all__ = [
    "Connection",
    "DuckDBConnection",
    "Summary",
    "WarehouseError",
    "build_warehouse",
    "connect",
    "default_warehouse_path",
]
