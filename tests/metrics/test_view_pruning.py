"""Views with to-one joins: a query leaves out the joins it does not need, and the numbers do not change."""

import shutil
from pathlib import Path

import pandas as pd
import pytest

from gnelib import metrics
from gnelib.warehouse import connect

PACKAGED = Path(metrics.__file__).parent / "catalog"


@pytest.fixture
def unpruned_catalog(tmp_path: Path) -> Path:
    """The packaged catalog with `to_one_joins` switched off."""
    target = tmp_path / "catalog"
    shutil.copytree(PACKAGED, target)
    common = target / "common.yaml"
    text = common.read_text()
    assert "to_one_joins: true" in text
    common.write_text(text.replace("to_one_joins: true", "to_one_joins: false"))
    return target


def test_order_only_metric_skips_after_sales_and_review_joins():
    sql = metrics.sql("late_dispatch_rate", by=["market"])
    assert "after_sales" not in sql and "reviews" not in sql and "JOIN" not in sql


def test_joins_a_metric_needs_are_kept():
    sql = metrics.sql("refund_rate", by=["seller_tier"])
    assert "after_sales" in sql and "sellers" in sql
    assert "reviews" not in sql


def test_without_the_flag_every_join_stays(unpruned_catalog):
    sql = metrics.sql("late_dispatch_rate", by=["market"], catalog=unpruned_catalog)
    assert "after_sales" in sql and "reviews" in sql


@pytest.mark.parametrize("name", ["late_dispatch_rate", "order_defect_rate", "refund_rate"])
def test_pruned_and_unpruned_queries_give_the_same_numbers(small_warehouse, unpruned_catalog, name):
    with connect(small_warehouse) as conn:
        weeks = ("2026-W40", "2026-W47")
        pruned = metrics.compute(conn, name, weeks=weeks, by=["channel"])
        full = metrics.compute(conn, name, weeks=weeks, by=["channel"], catalog=unpruned_catalog)
    pd.testing.assert_frame_equal(pruned, full)
