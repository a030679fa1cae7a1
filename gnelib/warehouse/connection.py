"""Connecting to the warehouse: `connect()` returns a Connection whose `sql()` gives pandas frames.

Every engine-backed connection has the same small shape (`dialect`, `sql`, `meta`, `close`), so notebooks run
unchanged on the embedded DuckDB file or on another engine. User values always travel as bound parameters.
`connect()` reads the warehouse through the project config (gne.yaml): its source, and `meta()` from its calendar
and metadata query.
"""

import difflib
import os
import re
import weakref
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import duckdb
import pandas as pd

from gnelib.config import mask_url
from gnelib.warehouse.errors import WarehouseError
from gnelib.warehouse.postgres import open_postgresql
from gnelib.warehouse.spark import open_spark, open_spark_connect

WAREHOUSE_ENV_VAR = "GNE_WAREHOUSE"
SPILL_DIR_ENV_VAR = "GNE_DUCKDB_SPILL_DIR"  # where DuckDB writes what does not fit in its memory limit
MEMORY_LIMIT_ENV_VAR = "GNE_DUCKDB_MEMORY_LIMIT"  # e.g. "2GB": DuckDB spills to disk beyond it (slower, bounded)
_MEMORY_LIMIT = re.compile(r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")
DEFAULT_WAREHOUSE_PATH = Path("data") / "gne.duckdb"
BUILD_HINT = "Build it with `gne warehouse build` (or `make report`, which builds it when missing)"

if TYPE_CHECKING:
    from gnelib.config import Project

Params = Sequence[object] | Mapping[str, object] | None


def default_warehouse_path() -> Path:
    """Where `gne warehouse build` writes the demo warehouse: $GNE_WAREHOUSE, else data/gne.duckdb."""
    return Path(os.environ.get(WAREHOUSE_ENV_VAR) or DEFAULT_WAREHOUSE_PATH)


class Connection(Protocol):
    """What every warehouse connection offers, whatever the engine."""

    dialect: str

    def sql(self, query: str, params: Params = None) -> pd.DataFrame: ...

    def meta(self) -> dict[str, str]: ...

    def close(self) -> None: ...

    def __enter__(self) -> "Connection": ...

    def __exit__(self, *exc: object) -> None: ...


_OPEN_DUCKDB: "weakref.WeakSet[DuckDBConnection]" = weakref.WeakSet()


def interrupt_queries() -> None:
    """Stop the queries running on this process's open DuckDB warehouse connections (safe from any thread; an
    idle connection is unaffected). DuckDB raises its interrupt error in the thread that ran each query. A stop
    signal alone is seen only between DuckDB's tasks, which on a large scan can be a minute apart."""
    for connection in list(_OPEN_DUCKDB):
        try:
            connection._con.interrupt()
        except duckdb.Error:  # closed meanwhile
            pass


class DuckDBConnection:
    """A read-only connection to a DuckDB warehouse file."""

    dialect = "duckdb"

    def __init__(self, path: Path):
        self.path = path
        self._con = duckdb.connect(str(path), read_only=True)
        _OPEN_DUCKDB.add(self)
        limit = os.environ.get(MEMORY_LIMIT_ENV_VAR, "").strip()
        if limit:
            if not _MEMORY_LIMIT.match(limit):
                self._con.close()
                raise WarehouseError(f"${MEMORY_LIMIT_ENV_VAR}={limit!r} is not a memory size; write it like 2GB "
                                     "or 512MB, or unset it to let DuckDB use most of the machine's memory.")
            self._con.execute(f"SET memory_limit = '{limit}'")  # validated above: digits and a unit only
        spill = os.environ.get(SPILL_DIR_ENV_VAR, "").strip()
        if spill:
            Path(spill).mkdir(parents=True, exist_ok=True)
            self._con.execute("SET temp_directory = ?", [spill])

    def sql(self, query: str, params: Params = None) -> pd.DataFrame:
        """Run `query` with `params` bound by DuckDB (`?` with a sequence, `$name` with a mapping)."""
        return self._con.execute(query, params).df()

    def meta(self) -> dict[str, str]:
        """No metadata of its own: `connect()` adds the project config's (see ProjectConnection)."""
        return {}

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
    "postgresql": open_postgresql,  # psycopg is imported only when a PostgreSQL URL is opened
    "spark": open_spark,  # pyspark itself is imported only when a Spark URL is opened
    "sc": open_spark_connect,
}


class ProjectConnection:
    """An engine connection read through the project config: `meta()` holds the config's metadata rows and the
    calendar's `as_of` (read once per connection); everything else is the engine's."""

    def __init__(self, engine: Connection, project: "Project"):
        self.engine = engine
        self.project = project
        self.dialect = engine.dialect
        self._meta: dict[str, str] | None = None

    def sql(self, query: str, params: Params = None) -> pd.DataFrame:
        return self.engine.sql(query, params)

    def meta(self) -> dict[str, str]:
        """The config's `metadata` key/value rows (if any) with `as_of` from its calendar, as strings."""
        if self._meta is None:
            meta = {str(key): str(value) for key, value in self._query("metadata", self.project.settings.metadata)}
            as_of = self._query("calendar.as_of", self.project.calendar.as_of.query())
            value = as_of[0][0] if as_of else None
            if value is None or pd.isna(value):
                raise WarehouseError(f"calendar.as_of in {self.project.origin} returned no timestamp on "
                                     f"{mask_url(self.project.source)}; point it at a query or column that has one.")
            meta["as_of"] = str(pd.Timestamp(value))
            self._meta = meta
        return dict(self._meta)

    def _query(self, field: str, query: str | None) -> list[tuple]:
        if query is None:
            return []
        try:
            return list(self.engine.sql(query).itertuples(index=False, name=None))
        except Exception as error:  # any engine's error: say which config field to fix
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise WarehouseError(f"{field} in {self.project.origin} fails on {mask_url(self.project.source)}: "
                                 f"{first_line}. Fix `{field}` (or check the warehouse with `gne check`).") from None

    def close(self) -> None:
        self.engine.close()

    def __getattr__(self, name: str) -> object:  # path, session, ...: the engine's
        return getattr(self.engine, name)

    def __enter__(self) -> "ProjectConnection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ProjectConnection({self.engine!r}, config={self.project.origin!r})"


def connect(url: str | os.PathLike | None = None, project: "Project | None" = None) -> ProjectConnection:
    """Open the warehouse at `url` (default: the project config's source) and read it through the config.

    `url`: a DuckDB file path, a DuckDB URL (SQLAlchemy style: `duckdb:///relative.duckdb`,
    `duckdb:////absolute.duckdb`), or another registered engine's URL.
    """
    from gnelib.config import load_project

    project = project or load_project()
    return ProjectConnection(open_engine(project.source if url is None else url), project)


def open_engine(url: str | os.PathLike) -> Connection:
    """The bare engine connection for `url` (no config applied)."""
    target = str(url)
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
