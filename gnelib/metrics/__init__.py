"""The metric catalog and its query API: one definition per metric, compiled to SQL for DuckDB or Spark.

    from gnelib import metrics
    frame = metrics.compute(conn, "refund_rate", weeks=("2026-W40", "2026-W47"), by=["category"],
                            where={"market": "ID"})

See docs/metric-frames.md for the frame's columns and docs/metrics.md for the catalog.
"""

import os

from gnelib.metrics.catalog import Catalog, load_catalog
from gnelib.metrics.compiler import CompiledQuery, compile_frames
from gnelib.metrics.errors import CatalogError, MetricError, UnknownChoiceError
from gnelib.metrics.model import Metric
from gnelib.metrics.query import compile_query, compute, compute_many, records, samples, sql


def get(name: str, catalog: Catalog | str | os.PathLike | None = None) -> Metric:
    """The definition of metric `name` (from `catalog`, else $GNE_CATALOG, else the packaged catalog)."""
    source = catalog if isinstance(catalog, Catalog) else load_catalog(catalog)
    return source.get(name)


__all__ = [
    "Catalog",
    "CatalogError",
    "CompiledQuery",
    "Metric",
    "MetricError",
    "UnknownChoiceError",
    "compile_frames",
    "compile_query",
    "compute",
    "compute_many",
    "get",
    "load_catalog",
    "records",
    "samples",
    "sql",
]
