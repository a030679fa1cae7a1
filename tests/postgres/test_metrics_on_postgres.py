"""Every catalog metric computed on PostgreSQL (the catalog's DuckDB SQL transpiled by sqlglot, bound parameters)
equals the same metric computed by DuckDB on the same data."""

import numpy as np
import pandas as pd
import pytest

from gnelib import metrics
from gnelib.metrics.catalog import load_catalog
from gnelib.warehouse import connect

WEEKS = ("2026-W44", "2026-W47")
MARKETS = ["ID", "VN"]
KEYS = ("metric", "period", "period_start", "is_mature", "units")
STATS = ("numerator", "denominator", "value", "sum_x2", "sum_y2", "sum_xy")
CATALOG = load_catalog(None)


@pytest.fixture(scope="module")
def engines(postgres_url, small_warehouse):
    with connect(postgres_url) as postgres, connect(small_warehouse) as duck:
        assert postgres.dialect == "postgres" and duck.dialect == "duckdb"
        yield postgres, duck


def assert_same_frame(on_postgres: pd.DataFrame, on_duckdb: pd.DataFrame, by: list[str]) -> None:
    assert len(on_duckdb) > 0
    keys = [column for column in on_duckdb.columns if column in KEYS or column in by]
    pd.testing.assert_frame_equal(on_postgres[keys], on_duckdb[keys])
    for column in STATS:
        np.testing.assert_allclose(on_postgres[column].to_numpy(float), on_duckdb[column].to_numpy(float),
                                   rtol=1e-9, err_msg=column)


def test_metadata_and_as_of_read_through_the_config(engines):
    postgres, duck = engines
    assert postgres.meta() == duck.meta()


def test_every_metric_by_market(engines):
    postgres, duck = engines
    names = CATALOG.names()
    on_postgres = metrics.compute_many(postgres, names, weeks=WEEKS, by=["market"])
    on_duckdb = metrics.compute_many(duck, names, weeks=WEEKS, by=["market"])
    for name in names:
        assert_same_frame(on_postgres[name], on_duckdb[name], ["market"])


@pytest.mark.parametrize("name", CATALOG.names())
def test_each_metric_in_markets_by_a_segment(engines, name):
    """One query per metric: filtered to two markets (bound IN list), split by its first non-market dimension,
    at the fixed horizon for late-event metrics."""
    postgres, duck = engines
    definition = CATALOG.get(name)
    by = [dimension for dimension in definition.dimensions if dimension != "market"][:1]
    options = {"weeks": WEEKS, "by": by, "where": {"market": MARKETS},
               "horizon_days": 7 if definition.event_time_column else None}
    assert_same_frame(metrics.compute(postgres, name, **options), metrics.compute(duck, name, **options), by)


def test_samples_days_and_bound_values(engines):
    postgres, duck = engines
    for name in ("median_hours_to_refund", "order_defect_rate"):
        on_postgres = metrics.samples(postgres, name, weeks="2026-W46", where={"market": "VN"})
        on_duckdb = metrics.samples(duck, name, weeks="2026-W46", where={"market": "VN"})
        assert len(on_postgres) == len(on_duckdb) > 0
        np.testing.assert_allclose(np.sort(on_postgres["value"].to_numpy(float)),
                                   np.sort(on_duckdb["value"].to_numpy(float)), rtol=1e-9)
    daily = {"weeks": "2026-W46", "period": "day", "by": ["detection_source"]}
    assert_same_frame(metrics.compute(postgres, "hours_to_listing_removal", **daily),
                      metrics.compute(duck, "hours_to_listing_removal", **daily), ["detection_source"])
    with pytest.raises(metrics.UnknownChoiceError, match="closest first"):
        metrics.compute(postgres, "refund_rate", where={"market": "ID' OR 1=1 --"})
    literal = postgres.sql("SELECT 'a%%b' AS text, %(p0)s::text AS bound", {"p0": "100% ' --"})
    assert literal.iloc[0].tolist() == ["a%b", "100% ' --"]


def test_postgres_sql_keeps_percent_signs_and_placeholders():
    compiled = metrics.compile_query("refund_rate", weeks="2026-W46", where={"market": "ID"}, dialect="postgres")
    assert "%(p0)s" in compiled.sql and "%(p2)s" in compiled.sql and "$p" not in compiled.sql
    assert set(compiled.params) == {"p0", "p1", "p2"}
