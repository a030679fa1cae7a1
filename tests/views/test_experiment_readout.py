"""Experiment readout: SRM against scipy, verdicts on the two planted designs, unknown names."""

import pytest
from scipy import stats

from gnelib.views import experiment_readout


def test_srm_invalidates_refund_fast_track_and_withholds_the_lift(conn, raw):
    units = conn.sql("SELECT variant FROM experiments WHERE experiment_id = 2")["variant"].value_counts()
    expected = stats.chisquare([units["control"], units["treatment"]])
    result = experiment_readout.readout(conn, "refund_fast_track")
    assert result.srm.p_value == pytest.approx(expected.pvalue)
    assert result.srm.p_value < 0.0005
    assert result.verdict == "invalid" and result.primary is None and result.guardrails == {}
    assert experiment_readout.effects_table(result).empty
    table = experiment_readout.srm_table(result.srm).set_index("arm")
    assert table.loc["treatment", "units"] == units["treatment"]
    assert table.loc["treatment", "expected_units"] == pytest.approx(units.sum() / 2)


def test_dispatch_nudge_effect_covers_the_planted_effect(conn):
    result = experiment_readout.readout(conn, "dispatch_sla_nudge")
    raw = conn.sql("SELECT variant, SUM(defects) / SUM(orders) AS rate FROM experiments WHERE experiment_id = 1 "
                   "GROUP BY variant").set_index("variant")["rate"]
    assert not result.srm.mismatch
    assert result.primary.relative_ci_low <= -0.10 <= result.primary.relative_ci_high
    assert result.primary.relative < 0
    assert result.primary.control == pytest.approx(raw["control"], rel=0.1)
    assert 0 < result.primary.variance_reduction < 1
    assert set(result.guardrails) == {"gmv_per_seller", "orders_per_seller"}
    assert result.verdict in {"ship", "inconclusive"}
    assert result.verdict == ("ship" if result.primary.significant else "inconclusive")


def test_unknown_experiment_lists_the_names(conn):
    with pytest.raises(experiment_readout.ExperimentError, match="dispatch_sla_nudge"):
        experiment_readout.readout(conn, "dispatch_sla_nudg")
