"""Experiment readout on the small warehouse: the primary metric recomputed with pandas from raw orders (the
catalog's definition), the delta-method interval against a seller-level bootstrap, CUPED against a statsmodels
regression, the design's guardrails, SRM wording at the threshold, the data-quality line, the money section, and
experiment ids accepted alike by parameter validation and the loader."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from gnelib.analysis.experiments import sample_ratio_check
from gnelib.analysis.value import Assumptions, money_value
from gnelib.reporting.errors import ParameterError
from gnelib.reporting.params import DeclaredParameter, ValidationContext, validate_experiment, validate_parameters
from gnelib.reporting.plan import build_spec, expand_plan, load_plan
from gnelib.views import experiment_readout

REPO = Path(__file__).resolve().parents[2]
ASSUMED = Assumptions(
    refunds_per_defect=0.2,
    cost_per_refund_usd=18.0,
    gmv_at_risk_per_defect_usd=5.0,
    cost_per_defect_usd=2.5,
    horizon_weeks=26,
)


@pytest.fixture(scope="module")
def nudge(conn):
    return experiment_readout.readout(conn, "dispatch_sla_nudge", margin=0.05, assumptions=ASSUMED)


@pytest.fixture(scope="module")
def late_dispatch(conn, raw) -> pd.DataFrame:
    """Per seller of experiment 1: the catalog's late dispatch numerator and denominator in the test and in the
    4 weeks before, recomputed with pandas from the raw orders (late = shipped after promised_ship_by, or never
    shipped; orders cancelled before shipping are left out)."""
    design = conn.sql("SELECT start_date, end_date FROM experiment_designs WHERE experiment_id = 1").iloc[0]
    start, end = pd.Timestamp(design["start_date"]), pd.Timestamp(design["end_date"]) + pd.Timedelta(days=1)
    orders = raw["orders"]
    counted = orders[orders["shipped_at"].notna() | orders["cancelled_at"].isna()].copy()
    counted["late"] = counted["shipped_at"].isna() | (counted["shipped_at"] > counted["promised_ship_by"])
    counted["phase"] = np.select(
        [
            counted["ordered_at"].between(start - pd.Timedelta(weeks=4), start, inclusive="left"),
            counted["ordered_at"].between(start, end, inclusive="left"),
        ],
        ["pre", "test"],
        "",
    )
    sums = counted[counted["phase"] != ""].groupby(["seller_id", "phase"])["late"].agg(["sum", "count"])
    wide = sums.unstack("phase", fill_value=0)
    units = conn.sql("SELECT seller_id, variant FROM experiments WHERE experiment_id = 1").set_index("seller_id")
    for phase, prefix in (("test", ""), ("pre", "pre_")):
        units[f"{prefix}x"] = wide[("sum", phase)].reindex(units.index, fill_value=0)
        units[f"{prefix}y"] = wide[("count", phase)].reindex(units.index, fill_value=0)
    return units


def test_primary_is_the_catalog_late_dispatch_rate_recomputed_from_raw_orders(nudge, late_dispatch):
    sums = late_dispatch.groupby("variant")[["x", "y"]].sum()
    rates = sums["x"] / sums["y"]
    assert nudge.raw.control == pytest.approx(rates["control"], rel=1e-12)
    assert nudge.raw.treatment == pytest.approx(rates["treatment"], rel=1e-12)
    assert nudge.raw.absolute == pytest.approx(rates["treatment"] - rates["control"], rel=1e-9)
    pre = late_dispatch.groupby("variant")[["pre_x", "pre_y"]].sum()
    assert nudge.pre_rates["treatment"] == pytest.approx(pre.loc["treatment", "pre_x"] / pre.loc["treatment", "pre_y"])
    assert nudge.primary.relative_ci_low <= -0.10 <= nudge.primary.relative_ci_high  # the planted effect


def test_raw_interval_matches_a_seller_level_bootstrap(nudge, late_dispatch):
    rng = np.random.default_rng(5)
    arms = {arm: group[["x", "y"]].to_numpy(float) for arm, group in late_dispatch.groupby("variant")}
    draws = []
    for _ in range(400):
        rate = {arm: rows[rng.integers(0, len(rows), len(rows))].sum(axis=0) for arm, rows in arms.items()}
        draws.append(rate["treatment"][0] / rate["treatment"][1] - rate["control"][0] / rate["control"][1])
    delta_se = (nudge.raw.ci_high - nudge.raw.ci_low) / (2 * stats.norm.ppf(0.975))
    assert np.std(draws, ddof=1) == pytest.approx(delta_se, rel=0.12)


def test_cuped_matches_a_regression_on_the_pre_period_and_the_page_says_why_it_moved(nudge, late_dispatch):
    """CUPED's Δ = raw Δ − θ·(pre-period gap) with θ the regression slope of the linearised outcome on the
    linearised pre-period rate (statsmodels OLS with a treatment dummy; θ pooled vs within-arm differ slightly)."""
    frame = late_dispatch.copy()
    rate = frame.groupby("variant").apply(lambda g: g.x.sum() / g.y.sum(), include_groups=False)
    mean_y = frame.groupby("variant")["y"].transform("mean")
    outcome = (frame["x"] - frame["variant"].map(rate) * frame["y"]) / mean_y
    pre_rate = frame["pre_x"].sum() / frame["pre_y"].sum()
    covariate = (frame["pre_x"] - pre_rate * frame["pre_y"]) / frame["pre_y"].mean()
    design = sm.add_constant(
        pd.DataFrame({"treated": (frame["variant"] == "treatment").astype(float), "covariate": covariate})
    )
    theta = sm.OLS(outcome, design).fit().params["covariate"]
    gap = covariate[frame["variant"] == "treatment"].mean() - covariate[frame["variant"] == "control"].mean()
    se = (nudge.primary.ci_high - nudge.primary.ci_low) / (2 * stats.norm.ppf(0.975))
    assert nudge.primary.absolute == pytest.approx(nudge.raw.absolute - theta * gap, abs=0.05 * se)
    assert abs(nudge.primary.absolute - nudge.raw.absolute) > 0.3 * se  # it moved on the demo data
    sentence = experiment_readout.adjustment_sentence(nudge)
    assert sentence.startswith(f"CUPED moved the estimate from {nudge.raw.relative * 100:+.1f}% (raw)")
    assert "treatment units started worse" in sentence and "without moving" not in sentence
    table = experiment_readout.adjustment_table(nudge)
    assert table["estimate"].tolist() == ["raw", "CUPED-adjusted"]
    assert table["absolute_text"].str.endswith(" pp").all()


def test_guardrails_are_the_designs_own_judged_against_the_margin(conn, nudge):
    design = conn.sql("SELECT guardrail_metrics FROM experiment_designs WHERE experiment_id = 1").iloc[0, 0]
    assert list(nudge.guardrails) == design.split(",")
    judged = experiment_readout.effects_table(nudge).set_index("label")["judgement"]
    for check in nudge.guardrails.values():
        title = experiment_readout.metrics.get(check.effect.metric).title
        worst = check.effect.relative_ci_high  # lower is better: an increase is the loss
        if check.effect.relative_ci_low > 0:
            assert judged[title].startswith("got worse")
        elif worst < 0.05:
            assert judged[title].startswith("held steady")
        else:
            shown = f"{worst * 100:.1f}" if worst < 0.1 else f"{worst * 100:.0f}"
            assert judged[title] == f"cannot rule out a loss of up to {shown}% (margin 5%)"
    assert {check.status for check in nudge.guardrails.values()} == {"unclear"}  # the small warehouse's intervals
    assert nudge.verdict == "inconclusive"
    wide = experiment_readout.readout(conn, "dispatch_sla_nudge", margin=0.9)
    assert {check.status for check in wide.guardrails.values()} == {"held"}
    assert wide.verdict == ("ship" if wide.primary.significant else "inconclusive")


def test_money_section_is_value_py_on_the_primary_effect(nudge, late_dispatch):
    weekly = late_dispatch["y"].sum() / 6  # six test weeks
    expected = money_value(experiment_readout.rate_change(nudge.primary, nudge.primary_metric), weekly, ASSUMED)
    assert nudge.money.orders_per_week == pytest.approx(weekly)
    assert nudge.money.total == expected.total
    per_defect = 0.2 * 18.0 + 5.0 + 2.5
    assert nudge.money.total.estimate == pytest.approx(-nudge.primary.absolute * weekly * 52 * per_defect)
    assert any(
        i.text.startswith("If shipped to every unit in the test") for i in experiment_readout.key_insights(nudge)
    )


def test_data_quality_line_on_the_all_markets_readout(nudge):
    assert nudge.quality_level == "info"
    assert nudge.quality.startswith("Complete and final (refund rate, the slowest metric, final since 2026-11-11)")
    assert "10 weeks (2026-W32 to 2026-W41)" in nudge.quality


def test_srm_invalidates_refund_fast_track_and_withholds_the_lift(conn):
    units = conn.sql("SELECT variant FROM experiments WHERE experiment_id = 2")["variant"].value_counts()
    expected = stats.chisquare([units["control"], units["treatment"]])
    result = experiment_readout.readout(conn, "refund_fast_track", assumptions=ASSUMED)
    assert result.srm.p_value == pytest.approx(expected.pvalue)
    assert result.verdict == "invalid" and result.primary is None and result.guardrails == {}
    assert result.money is None and experiment_readout.effects_table(result).empty
    assert experiment_readout.verdict_title(result).startswith("Sample-ratio mismatch in refund_fast_track")
    assert experiment_readout.key_insights(result)[0].text.startswith("Sample-ratio check FAILED")
    table = experiment_readout.srm_table(result.srm).set_index("arm")
    assert table.loc["treatment", "units"] == units["treatment"]
    assert table.loc["treatment", "expected_units"] == pytest.approx(units.sum() / 2)


@pytest.mark.parametrize(
    ("treatment", "passed", "shown"),
    [
        (5_170, True, "p = 0.0007"),
        (5_180, False, "p = 0.0003"),
        (5_400, False, "p < 0.0001"),
        (5_140, True, "p = 0.0051"),
    ],
)
def test_srm_wording_at_the_threshold(treatment, passed, shown):
    control = 10_000 - treatment
    check = sample_ratio_check(control, treatment)
    assert check.p_value == pytest.approx(stats.chisquare([control, treatment]).pvalue)
    sentence = experiment_readout.srm_sentence(check, "seller")
    assert sentence.startswith("Sample-ratio check passed" if passed else "Sample-ratio check FAILED")
    assert shown in sentence and "p < 0.001," not in sentence
    assert ("above the 0.0005 threshold" if passed else "below the 0.0005 threshold") in sentence


def test_experiment_ids_that_pass_validation_are_the_ones_the_loader_accepts(conn, small_warehouse):
    facts = ValidationContext(small_warehouse).facts
    declared = DeclaredParameter("experiment", "str", "dispatch_sla_nudge", "")
    context = ValidationContext(facts=facts)
    for value in [*facts.experiments, *facts.experiment_ids]:
        assert validate_experiment(value, declared, context) == value
        design = experiment_readout.load_design(conn, value)
        assert value in (design["name"], str(design["experiment_id"]))
    for value in ["3", "dispatch_sla_nudg", "0"]:
        with pytest.raises(ParameterError):
            validate_experiment(value, declared, context)
        with pytest.raises(experiment_readout.ExperimentError, match="dispatch_sla_nudge"):
            experiment_readout.load_design(conn, value)


def test_weekly_plan_publishes_one_readout_per_recent_experiment(small_warehouse, tmp_path):
    """The weekly plan's `experiment: recent`: W30 has no experiment yet, W38 only the dispatch nudge (W36-W41),
    the last week both (the refund fast track, W40-W43, and its sample-ratio mismatch too), each in its own slot;
    a single run by id lands in the same slot as by name."""
    plan = load_plan(REPO / "parameters" / "weekly.yaml")
    plan.templates = {"experiment_readout": plan.templates["experiment_readout"]}
    plan.weeks = ["2026-W30", "2026-W38", "latest"]
    plan.templates_dir = str(REPO / "notebooks")
    context = ValidationContext(small_warehouse)
    specs = expand_plan(plan, REPO / "parameters" / "weekly.yaml", tmp_path, context, follow_flags=False)
    assert [spec.slot for spec in specs] == [
        "2026-W38/all/experiment_readout-dispatch_sla_nudge",
        "2026-W47/all/experiment_readout-dispatch_sla_nudge",
        "2026-W47/all/experiment_readout-refund_fast_track",
    ]
    assert specs[-1].paths.html == tmp_path / "2026-W47/all/experiment_readout-refund_fast_track.html"
    assert [spec.parameters["experiment"] for spec in specs] == [
        "dispatch_sla_nudge",
        "dispatch_sla_nudge",
        "refund_fast_track",
    ]
    by_id = build_spec(REPO / "notebooks" / "experiment_readout.ipynb", {"experiment": "2"}, tmp_path, context)
    assert by_id.slot == specs[-1].slot


def test_money_assumptions_are_checked_before_any_kernel_starts(small_warehouse):
    template = REPO / "notebooks" / "experiment_readout.ipynb"
    context = ValidationContext(small_warehouse)
    defaults = validate_parameters(template, {}, context)
    assert defaults["refunds_per_defect"] == 0.2 and defaults["horizon_weeks"] == 52.0
    with pytest.raises(ParameterError) as raised:
        validate_parameters(template, {"cost_per_refund_usd": -3, "refunds_per_defect": 2, "horizon_weeks": 0}, context)
    message = str(raised.value)
    assert "Parameter cost_per_refund_usd = -3.0 is negative: use 0 or more" in message
    assert "Parameter refunds_per_defect = 2.0 is above 1" in message
    assert "Parameter horizon_weeks = 0.0 is out of range" in message


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2026-11-02", "2026-11-29", "2026-W48 looks incomplete (fewer than 60% of the median"),  # and W48 is partial
        ("2026-10-19", "2026-11-15", "Refund rate is not final until 2026-12-16 (30 days after the end)"),
        ("2026-05-04", "2026-05-31", "2026-W15, 2026-W16, 2026-W17 look incomplete"),  # pre-period before the data
    ],
)
def test_data_quality_warns_on_an_unfinished_test_unfinal_metrics_and_thin_weeks(conn, start, end, expected):
    design = pd.Series({"start_date": pd.Timestamp(start), "end_date": pd.Timestamp(end)})
    frame = pd.DataFrame({"late_dispatch_rate.y": [3.0, 0.0]})
    line, level = experiment_readout.data_quality(conn, design, frame, ["late_dispatch_rate", "refund_rate"])
    assert level == "warning" and line.startswith(expected), line
    if end == "2026-11-29":
        assert "; the test has not ended (it ends 2026-11-29): this is an interim read." in line
    assert "2 units, 1 of them with no orders in the test" in line
