"""What the metric layer needs from a warehouse connection, and adapters for raw engine handles.

A connection is anything with `.dialect` (a sqlglot dialect name), `.sql(query, params) -> DataFrame` taking
named parameters, and `.meta() -> dict` (the warehouse's key/value metadata, e.g. `as_of`).
`gnelib.warehouse.connect()` returns one; a bare `duckdb` connection or a `SparkSession` is wrapped here.
"""

from typing import Protocol, runtime_checkable

import duckdb
import pandas as pd


@runtime_checkable
class Connection(Protocol):
    """The shape of a warehouse connection the metric layer can query."""

    dialect: str

    def sql(self, query: str, params: dict | None = None) -> pd.DataFrame: ...

    def meta(self) -> dict: ...


class DuckDBHandle:
    """A bare `duckdb` connection (e.g. your own warehouse file) seen as a metric-layer connection."""

    dialect = "duckdb"

    def __init__(self, connection: duckdb.DuckDBPyConnection):
        self.connection = connection

    def sql(self, query: str, params: dict | None = None) -> pd.DataFrame:
        """Run a query with named parameters; return a DataFrame."""
        return self.connection.execute(query, params or {}).df()

    def meta(self) -> dict:
        """No metadata: the as-of time falls back to the newest time in the metric's source
        (`gnelib.warehouse.connect()` reads it from the project config instead)."""
        return {}


def as_connection(conn: object) -> Connection:
    """Accept a gnelib connection, a duckdb connection or a SparkSession."""
    if isinstance(conn, duckdb.DuckDBPyConnection):
        return DuckDBHandle(conn)
    if isinstance(conn, Connection):
        return conn
    if type(conn).__name__ == "SparkSession":
        from gnelib.warehouse.spark import SparkConnection

        return SparkConnection(conn)
    raise TypeError(
        f"expected a warehouse connection (gnelib.warehouse.connect()), a duckdb connection or a "
        f"SparkSession, got {type(conn).__name__}"
    )


def connection_meta(conn: Connection) -> dict:
    """The connection's metadata as a dict (accepts a dict or a key/value DataFrame from `.meta()`)."""
    try:
        meta = conn.meta()
    except Exception:  # a warehouse without metadata is allowed; callers fall back
        return {}
    if isinstance(meta, pd.DataFrame):
        return dict(zip(meta["key"].astype(str), meta["value"], strict=True))
    return dict(meta or {})
