"""A warehouse connection over Apache Spark: the same `dialect` / `sql()` / `meta()` shape as the DuckDB one.

- `spark://local` (or `spark://local[4]`) starts a local SparkSession; `spark://HOST:7077` joins a cluster;
  `sc://HOST:15002` uses Spark Connect. Add `?parquet=DIR` to register every `DIR/<table>.parquet` as a
  temporary view named after the table (without it, the tables must already be in the session's catalog).
- `export_parquet(duckdb_file, DIR)` writes a DuckDB warehouse as one Parquet file per table, for Spark.
- Queries take named parameters (`:p0`) bound by Spark (`spark.sql(query, args=...)`), never pasted into SQL.
"""

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import parse_qs

import duckdb
import pandas as pd

from gnelib.warehouse.errors import WarehouseError

LOCAL_MASTER = "local[2]"
SESSION_CONFIG = {
    "spark.sql.session.timeZone": "UTC",  # warehouse timestamps are naive UTC
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}


class SparkConnection:
    """Query a SparkSession like the DuckDB warehouse: `.sql(query, params) -> DataFrame`, `.meta()`."""

    dialect = "spark"

    def __init__(self, session: object, parquet_dir: str | Path | None = None, owns_session: bool = False):
        self.session = session
        self._owns_session = owns_session
        if parquet_dir is not None:
            register_parquet(session, parquet_dir)

    def sql(self, query: str, params: Sequence[object] | Mapping[str, object] | None = None) -> pd.DataFrame:
        """Run `query` with `params` bound by Spark (`:name` with a mapping, `?` with a sequence)."""
        args = dict(params) if isinstance(params, Mapping) else list(params or [])
        frame = self.session.sql(query, args=args or None)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"pyspark\.")  # pyspark's own pandas-version notices
            return frame.toPandas()

    def meta(self) -> dict[str, str]:
        """No metadata of its own: `connect()` adds the project config's (see ProjectConnection)."""
        return {}

    def close(self) -> None:
        """Stop the SparkSession if this connection started it."""
        if self._owns_session:
            self.session.stop()

    def __enter__(self) -> "SparkConnection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SparkConnection({self.session!r})"


def local_session(master: str = LOCAL_MASTER, app_name: str = "gne") -> object:
    """A SparkSession for `master` with the settings the warehouse needs (UTC, Arrow, no UI)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise WarehouseError(
            "Spark is not installed: pip install 'gnelib[spark]' (needs Java 17)."
        ) from error
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in SESSION_CONFIG.items():
        builder = builder.config(key, value)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*does not yet fully support pandas.*")
        session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def open_spark(location: str) -> SparkConnection:
    """Open `spark://LOCATION`: `local`, `local[4]` or `HOST:PORT`, optionally `?parquet=DIR`."""
    target, parquet_dir = _split_query(location)
    master = (
        LOCAL_MASTER
        if target in ("", "local")
        else target
        if target.startswith("local")
        else f"spark://{target}"
    )
    return SparkConnection(local_session(master), parquet_dir, owns_session=True)


def open_spark_connect(location: str) -> SparkConnection:
    """Open `sc://LOCATION` through Spark Connect (`HOST:PORT`, optional `?parquet=DIR`)."""
    from pyspark.sql import SparkSession

    target, parquet_dir = _split_query(location)
    session = SparkSession.builder.remote(f"sc://{target}").getOrCreate()
    return SparkConnection(session, parquet_dir, owns_session=True)


def register_parquet(session: object, directory: str | Path) -> list[str]:
    """Register each `<table>.parquet` in `directory` as a temporary view `<table>`; return the names."""
    folder = Path(directory).expanduser()
    files = sorted(folder.glob("*.parquet"))
    if not files:
        raise WarehouseError(
            f"No *.parquet tables in {folder}. Write them with "
            "gnelib.warehouse.spark.export_parquet(<warehouse.duckdb>, <dir>)."
        )
    for file in files:
        session.read.parquet(str(file)).createOrReplaceTempView(file.stem)
    return [file.stem for file in files]


def export_parquet(warehouse: str | Path, directory: str | Path) -> list[Path]:
    """Write every table of a DuckDB warehouse file to `directory/<table>.parquet` (DuckDB COPY)."""
    source, folder = Path(warehouse), Path(directory)
    if not source.is_file():
        raise WarehouseError(
            f"No warehouse at {source}; build one with `gne warehouse build --path {source}`."
        )
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with duckdb.connect(str(source), read_only=True) as con:
        tables = [
            row[0]
            for row in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1"
            ).fetchall()
        ]
        for table in tables:
            target = folder / f"{table}.parquet"
            con.execute(f"COPY \"{table}\" TO '{_quote(str(target))}' (FORMAT parquet)")
            written.append(target)
    return written


def _split_query(location: str) -> tuple[str, str | None]:
    target, _, query = location.partition("?")
    options = parse_qs(query)
    unknown = set(options) - {"parquet"}
    if unknown:
        raise WarehouseError(
            f"Unknown Spark URL option(s) {sorted(unknown)}; the only option is ?parquet=DIR."
        )
    return target.strip("/"), options["parquet"][0] if "parquet" in options else None


def _quote(text: str) -> str:
    return text.replace("'", "''")
