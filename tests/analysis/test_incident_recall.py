"""The scan and deep dive against the small warehouse's planted incidents (a reduced `bench/insight_quality.py`:
weeks W46..W47 only, which hold a week of every incident)."""

import duckdb
import pandas as pd
import pytest

from gnelib.analysis.evaluation import evaluate
from gnelib.warehouse import connect

INCIDENT_FREE_MARKETS = ["US", "GB", "SG"]  # docs/warehouse.md: no incident touches these markets


@pytest.fixture(scope="module")
def evaluation(small_warehouse):
    return evaluate(connect(small_warehouse), "2026-W46", "2026-W47")


@pytest.fixture(scope="module")
def manifest(small_warehouse) -> pd.DataFrame:
    with duckdb.connect(str(small_warehouse), read_only=True) as raw:
        return raw.sql("SELECT * FROM incidents").df().set_index("name")


@pytest.mark.parametrize(
    "incident", ["counterfeit_wave", "logistics_delay", "fraud_ring", "moderation_regression", "creator_ring"]
)
def test_incident_is_flagged_with_its_carrying_segment_first(evaluation, manifest, incident):
    planted = manifest.loc[incident]
    cells = evaluation.cells[evaluation.cells["incident"] == incident]
    assert set(cells["metric"]) == set(planted["metrics"].split(","))
    flagged = cells[cells["flag"]]
    assert len(flagged), f"{incident} not flagged in any of its weeks"
    assert (flagged["segment_rank"] == 1).any()
    scan_rows = evaluation.scan.set_index(["metric", "market", "week"])
    for _, cell in flagged.iterrows():
        row = scan_rows.loc[(cell["metric"], planted["market"], cell["week"])]
        assert row["verdict"] == "bad" and row["p_adjusted"] <= 0.05


def test_mix_shift_is_labelled_mix_with_live_first(evaluation, manifest):
    planted = manifest.loc["mix_shift"]
    cell = evaluation.cells[evaluation.cells["incident"] == "mix_shift"].iloc[0]
    assert (cell["segment_rank"], cell["effect"], cell["mix_insight"]) == (1, "mix", True)
    assert planted["dimension_value"] == "live"


def test_false_alarms_on_quiet_cells_stay_under_five_percent(evaluation):
    table = evaluation.scan
    assert table["quiet"].sum() > 0.6 * len(table)
    assert evaluation.false_alarm_rate <= 0.05
    untouched = table[table["market"].isin(INCIDENT_FREE_MARKETS)]
    assert set(untouched["market"]) == set(INCIDENT_FREE_MARKETS) and len(untouched) > len(table) / 4
    assert untouched["flag"].mean() <= 0.05
    incident_cells = table[table["incident"].notna()]
    assert not incident_cells["quiet"].any()
