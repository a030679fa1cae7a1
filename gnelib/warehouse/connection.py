"""Connecting to the warehouse: `connect()` returns a Connection whose `sql()` gives pandas frames.

Every engine-backed connection has the same small shape (`dialect`, `sql`, `meta`, `close`), so notebooks run
unchanged on the embedded DuckDB file or on another engine. User values always travel as bound parameters.
"""

import difflib
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

import duckdb
import pandas as pd

from gnelib.warehouse.errors import WarehouseError
from gnelib.warehouse.spark import open_spark, open_spark_connect

WAREHOUSE_ENV_VAR = "GNE_WAREHOUSE"
MEMORY_LIMIT_ENV_VAR = "GNE_DUCKDB_MEMORY_LIMIT"  # e.g. "2GB": DuckDB spills to disk beyond it (slower, bounded)
_MEMORY_LIMIT = re.compile(r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")
DEFAULT_WAREHOUSE_PATH = Path("data") / "gne.duckdb"
BUILD_HINT = "Build it with `gne warehouse build` (or `make report`, which builds it when missing)"

Params = Sequence[object] | Mapping[str, object] | None


def default_warehouse_path() -> Path:
    """The warehouse used when none is named: $GNE_WAREHOUSE, else data/gne.duckdb under the current dir."""
    return Path(os.environ.get(WAREHOUSE_ENV_VAR) or DEFAULT_WAREHOUSE_PATH)


class Connection(Protocol):
    """What every warehouse connection offers, whatever the engine."""

    dialect: str

    def sql(self, query: str, params: Params = None) -> pd.DataFrame: ...

    def meta(self) -> dict[str, str]: ...

    def close(self) -> None: ...

    def __enter__(self) -> "Connection": ...

    def __exit__(self, *exc: object) -> None: ...


class DuckDBConnection:
    """A read-only connection to a DuckDB warehouse file."""

    dialect = "duckdb"

    def __init__(self, path: Path):
        self.path = path
        self._con = duckdb.connect(str(path), read_only=True)
        limit = os.environ.get(MEMORY_LIMIT_ENV_VAR, "").strip()
        if limit:
            if not _MEMORY_LIMIT.match(limit):
                self._con.close()
                raise WarehouseError(f"${MEMORY_LIMIT_ENV_VAR}={limit!r} is not a memory size; write it like 2GB "
                                     "or 512MB, or unset it to let DuckDB use most of the machine's memory.")
            self._con.execute(f"SET memory_limit = '{limit}'")  # validated above: digits and a unit only

    def sql(self, query: str, params: Params = None) -> pd.DataFrame:
        """Run `query` with `params` bound by DuckDB (`?` with a sequence, `$name` with a mapping)."""
        return self._con.execute(query, params).df()

    def meta(self) -> dict[str, str]:
        """The warehouse_meta key/value rows (seed, scale, as_of, first_week, last_complete_week, ...)."""
        return dict(self._con.execute("SELECT key, value FROM warehouse_meta ORDER BY key").fetchall())

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> "DuckDBConnection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"DuckDBConnection({str(self.path)!r})"


def _open_duckdb(location: str) -> DuckDBConnection:
    path = Path(location).expanduser()
    if not path.is_file():
        raise WarehouseError(
            f"No warehouse at {path.resolve()}. {BUILD_HINT}, or point ${WAREHOUSE_ENV_VAR} or "
            "connect(url) at an existing warehouse file."
        )
    try:
        return DuckDBConnection(path)
    except duckdb.Error as error:
        raise WarehouseError(
            f"Cannot open the warehouse at {path.resolve()} ({error}). If it is half-written or "
            f"from another DuckDB version, rebuild it: gne warehouse build --path {path}"
        ) from error


# URL scheme → opener. Other engines register themselves here.
ENGINES: dict[str, Callable[[str], Connection]] = {
    "duckdb": _open_duckdb,
    "spark": open_spark,  # pyspark itself is imported only when a Spark URL is opened
    "sc": open_spark_connect,
}


def connect(url: str | os.PathLike | None = None) -> Connection:
    """Open the warehouse at `url`: a DuckDB file path, a DuckDB URL (SQLAlchemy style: `duckdb:///relative.duckdb`,
    `duckdb:////absolute.duckdb`), or another registered engine's URL.

    Without a URL: $GNE_WAREHOUSE, else data/gne.duckdb relative to the current directory.
    """
    target = str(default_warehouse_path() if url is None else url)
    scheme, separator, rest = target.partition("://")
    if not separator:
        return _open_duckdb(target)
    if scheme not in ENGINES:
        ranked = difflib.get_close_matches(scheme, ENGINES, n=len(ENGINES), cutoff=0.0)
        raise WarehouseError(
            f"Unknown warehouse engine {scheme!r} in {target!r}. Known engines: "
            f"{', '.join(ranked)} (e.g. duckdb:///data/gne.duckdb or a plain file path)."
        )
    return ENGINES[scheme](rest.removeprefix("/") if scheme == "duckdb" else rest)
