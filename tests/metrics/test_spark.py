"""The same metrics on Spark (local mode, over the small warehouse exported to Parquet) equal DuckDB's."""

import numpy as np
import pandas as pd
import pytest

from gnelib import metrics
from gnelib.config import load_project
from gnelib.warehouse import WarehouseError
from gnelib.warehouse.connection import ProjectConnection
from gnelib.warehouse.spark import SparkConnection, export_parquet, local_session, open_spark

pytestmark = pytest.mark.spark

CASES = [
    ("order_defect_rate", {"by": ["channel"], "where": {"market": ["ID", "VN"]}}),
    ("order_defect_rate", {"horizon_days": 7}),
    ("median_hours_to_refund", {"by": ["market"]}),
    ("hours_to_listing_removal", {"by": ["detection_source"], "period": "day"}),
    ("seller_ban_rate", {"by": ["seller_tenure_band"], "where": {"market": "VN"}}),
    ("repeat_offender_rate", {"by": ["reason"]}),
    ("bad_actor_gmv_share", {"by": ["market"]}),
    ("struck_creator_gmv_share", {"by": ["creator_tier"]}),
    ("repeat_purchase_after_bad_experience", {"by": ["market"]}),
    ("cs_contacts_per_order", {"by": ["market"]}),
]


@pytest.fixture(scope="module")
def spark(metric_warehouse, tmp_path_factory):
    """The test session's SparkSession (started once, shared with tests/spark_e2e), with the small warehouse
    registered from Parquet, read through the project config (its calendar gives the as-of time)."""
    directory = tmp_path_factory.mktemp("parquet")
    written = export_parquet(metric_warehouse, directory)
    assert {path.stem for path in written} >= {
        "orders",
        "after_sales",
        "reviews",
        "enforcement",
        "warehouse_meta",
    }
    return ProjectConnection(SparkConnection(local_session(), directory), load_project())


@pytest.mark.parametrize("name, options", CASES, ids=[f"{n}-{'-'.join(o)}" for n, o in CASES])
def test_spark_equals_duckdb(spark, conn, name, options):
    on_spark = metrics.compute(spark, name, weeks=("2026-W45", "2026-W47"), **options)
    on_duckdb = metrics.compute(conn, name, weeks=("2026-W45", "2026-W47"), **options)
    assert len(on_duckdb) > 0
    keys = [
        c
        for c in on_duckdb.columns
        if c in ("metric", "period", "period_start", "is_mature", "units") or c in options.get("by", [])
    ]
    pd.testing.assert_frame_equal(on_spark[keys], on_duckdb[keys])
    for column in ["numerator", "denominator", "value", "sum_x2", "sum_y2", "sum_xy"]:
        np.testing.assert_allclose(
            on_spark[column].to_numpy(float), on_duckdb[column].to_numpy(float), rtol=1e-9, err_msg=column
        )


def test_spark_samples_and_value_checks(spark, conn):
    on_spark = metrics.samples(spark, "median_hours_to_refund", weeks="2026-W46", by=["market"])
    on_duckdb = metrics.samples(conn, "median_hours_to_refund", weeks="2026-W46", by=["market"])
    np.testing.assert_allclose(np.sort(on_spark["value"]), np.sort(on_duckdb["value"]), rtol=1e-9)
    with pytest.raises(metrics.UnknownChoiceError, match="closest first"):
        metrics.compute(spark, "refund_rate", where={"market": "US' OR 1=1 --"})
    assert spark.meta()["as_of"] == conn.meta()["as_of"]


def test_spark_url_and_export_errors(tmp_path):
    with pytest.raises(WarehouseError, match="only option is \\?parquet=DIR"):
        open_spark("local?tables=/tmp")
    with pytest.raises(WarehouseError, match="gne warehouse build"):
        export_parquet(tmp_path / "missing.duckdb", tmp_path / "out")


def test_domain_views_read_the_same_rows_on_spark(spark, conn):
    """The domain templates' row reads (`metrics.records`, config-named experiment tables) transpile to Spark."""
    from gnelib.views import after_sales, experiment_readout, seller_risk

    risky = seller_risk.top_risky_sellers(conn, "VN", "2026-W47")
    pd.testing.assert_frame_equal(seller_risk.top_risky_sellers(spark, "VN", "2026-W47"), risky)
    mix = after_sales.request_mix(conn, "ID", "2026-W47")
    pd.testing.assert_frame_equal(after_sales.request_mix(spark, "ID", "2026-W47"), mix, check_dtype=False)
    assert len(risky) and risky["enforcement"].ne("none").any() and len(mix)
    on_spark, on_duckdb = (experiment_readout.readout(c, "dispatch_sla_nudge") for c in (spark, conn))
    assert (on_spark.verdict, on_spark.srm) == (on_duckdb.verdict, on_duckdb.srm)
    assert on_spark.primary.relative == pytest.approx(on_duckdb.primary.relative, rel=1e-9)
