"""Turn the generator's numpy columns into Arrow tables that DuckDB appends without copying row by row.

Conventions: timestamps are int64 microseconds with `NULL_TIME` for NULL; nullable booleans are int8 with -1
for NULL; low-cardinality text is a `Coded` (integer codes into a tuple of labels, -1 for NULL).
"""

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

from gnelib.warehouse.schema import TABLES

NULL_TIME = np.iinfo(np.int64).min


@dataclass(frozen=True)
class Coded:
    """A text column stored as integer codes into `labels` (-1 = NULL)."""

    codes: np.ndarray
    labels: tuple[str, ...]


def _arrow_column(values: object, kind: str) -> pa.Array:
    if isinstance(values, Coded):
        codes = values.codes.astype(np.int32)
        return pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), pa.array(values.labels))
    if isinstance(values, list):
        return pa.array(values, type=pa.string())
    if kind == "TIMESTAMP":
        return pa.array(values, type=pa.timestamp("us"), mask=values == NULL_TIME)
    if kind == "BOOLEAN":
        return pa.array(values > 0, mask=values < 0)
    if kind == "DATE":
        return pa.array(values, type=pa.date32())
    return pa.array(values)


def arrow_table(table: str, columns: dict[str, object]) -> pa.Table:
    """An Arrow table in the documented column order of `table`."""
    schema = TABLES[table]
    missing = {name for name, _ in schema} ^ set(columns)
    if missing:
        raise ValueError(f"{table}: columns do not match the schema: {sorted(missing)}")
    return pa.table({name: _arrow_column(columns[name], kind) for name, kind in schema})


def append(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, object]) -> int:
    """Append numpy columns to a warehouse table; returns the number of rows appended."""
    frame = arrow_table(table, columns)
    con.register("_gne_chunk", frame)
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM _gne_chunk")
    finally:
        con.unregister("_gne_chunk")
    return frame.num_rows
