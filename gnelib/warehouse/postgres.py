"""A warehouse connection over PostgreSQL (psycopg 3): the same `dialect` / `sql()` / `meta()` shape as DuckDB's.

- `postgresql://user:password@host:port/dbname` (any libpq connection URI) opens a read-only session in UTC.
- Queries take named parameters (`%(p0)s`, psycopg's style: the compiler writes them so for `postgres`) or
  positional `%s` with a sequence, bound by psycopg, never pasted into SQL.
- `load_duckdb(duckdb_file, url)` copies every table of a DuckDB warehouse into PostgreSQL (COPY), for tests
  and trials.
"""

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from gnelib.config import mask_url
from gnelib.warehouse.errors import WarehouseError

INSTALL_HINT = "PostgreSQL support is not installed: pip install 'gnelib[postgres]' (psycopg 3)."
# DuckDB column type → PostgreSQL column type, for load_duckdb (the demo warehouse's types; others fail clearly).
PG_TYPES = {
    "BOOLEAN": "boolean",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "VARCHAR": "text",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
}
COPY_BATCH_ROWS = 50_000


def _psycopg():
    try:
        import psycopg
    except ImportError as error:
        raise WarehouseError(INSTALL_HINT) from error
    return psycopg


class PostgresConnection:
    """Query a PostgreSQL database like the DuckDB warehouse: `.sql(query, params) -> DataFrame`, `.meta()`."""

    dialect = "postgres"

    def __init__(self, url: str, read_only: bool = True):
        psycopg = _psycopg()
        from psycopg.types.numeric import FloatLoader

        self.url = url
        try:
            self._con = psycopg.connect(url, autocommit=True)
        except psycopg.Error as error:
            raise WarehouseError(f"Cannot connect to PostgreSQL at {mask_url(url)}: {_first_line(error)}") from None
        self._con.adapters.register_loader("numeric", FloatLoader)  # NUMERIC → float, as DuckDB's DOUBLE
        self._con.execute("SET TIME ZONE 'UTC'")  # warehouse timestamps are naive UTC; DATE_TRUNC on dates too
        if read_only:
            self._con.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")

    def sql(self, query: str, params: Sequence[object] | Mapping[str, object] | None = None) -> pd.DataFrame:
        """Run `query` with `params` bound by psycopg (`%(name)s` with a mapping, `%s` with a sequence)."""
        bound = dict(params) if isinstance(params, Mapping) else list(params) if params is not None else None
        with self._con.cursor() as cursor:
            cursor.execute(query, bound or None)
            if cursor.description is None:
                return pd.DataFrame()
            names = [column.name for column in cursor.description]
            return _frame(cursor.fetchall(), names)

    def meta(self) -> dict[str, str]:
        """No metadata of its own: `connect()` adds the project config's (see ProjectConnection)."""
        return {}

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> "PostgresConnection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PostgresConnection({mask_url(self.url)!r})"


def open_postgresql(location: str) -> PostgresConnection:
    """Open `postgresql://LOCATION` (a libpq URI: user:password@host:port/dbname?options)."""
    return PostgresConnection(f"postgresql://{location}")


def load_duckdb(warehouse: str | Path, url: str, tables: Sequence[str] | None = None) -> dict[str, int]:
    """Copy the tables of a DuckDB warehouse file (all, or `tables`) into the PostgreSQL database at `url`,
    replacing tables of the same name; return {table: rows}."""
    source = Path(warehouse)
    if not source.is_file():
        raise WarehouseError(f"No warehouse at {source}; build one with `gne warehouse build --path {source}`.")
    psycopg = _psycopg()
    counts: dict[str, int] = {}
    with duckdb.connect(str(source), read_only=True) as duck, psycopg.connect(url) as pg:
        names = tables or [row[0] for row in duck.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1").fetchall()]
        for table in names:
            columns = _columns(duck, table)
            pg.execute(f'DROP TABLE IF EXISTS "{table}"')
            pg.execute(f'CREATE TABLE "{table}" ({", ".join(f"{_quoted(n)} {t}" for n, t in columns)})')
            with pg.cursor().copy(f'COPY "{table}" FROM STDIN (FORMAT BINARY)') as copy:
                copy.set_types([pg_type for _, pg_type in columns])
                counts[table] = 0
                for rows in _batches(duck.execute(f'SELECT * FROM "{table}"')):
                    for row in rows:
                        copy.write_row(row)
                    counts[table] += len(rows)
            pg.execute(f'ANALYZE "{table}"')
    return counts


def _columns(duck: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    rows = duck.execute("SELECT column_name, data_type FROM information_schema.columns "
                        "WHERE table_name = ? ORDER BY ordinal_position", [table]).fetchall()
    unknown = sorted({kind for _, kind in rows if kind not in PG_TYPES})
    if unknown:
        raise WarehouseError(f"table {table}: no PostgreSQL type for DuckDB type(s) {', '.join(unknown)}.")
    return [(name, PG_TYPES[kind]) for name, kind in rows]


def _batches(result: duckdb.DuckDBPyConnection) -> Iterator[list[tuple]]:
    while rows := result.fetchmany(COPY_BATCH_ROWS):
        yield rows


def _frame(rows: list[tuple], names: list[str]) -> pd.DataFrame:
    """Rows as a frame typed like DuckDB's `.df()`: dates and timestamps as datetime64."""
    frame = pd.DataFrame.from_records(rows, columns=names)
    for name in frame.columns[[dtype == object for dtype in frame.dtypes]]:  # noqa: E721 — exactly object
        sample = frame[name].dropna()
        if len(sample) and isinstance(sample.iloc[0], date):  # datetime is a date too
            frame[name] = pd.to_datetime(frame[name])
    return frame


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
