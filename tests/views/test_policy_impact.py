"""Policy impact on the small warehouse: the planted launches recovered within their intervals, the panel
recomputed from raw orders, the honest sentence when the design does not hold, and the template run as gne runs
it."""

from pathlib import Path

import pandas as pd
import pytest
from template_runs import execute_warm, html_of

from gnelib.analysis.value import Assumptions
from gnelib.reporting.errors import ParameterError
from gnelib.reporting.params import DeclaredParameter, ValidationContext, validate_policy
from gnelib.reporting.requirements import Available, template_requirements, unmet
from gnelib.views import policy_impact
from gnelib.warehouse import dimensions

WEEK = "2026-W47"
TEMPLATE = Path(__file__).resolve().parents[2] / "notebooks" / "policy_impact.ipynb"
ASSUMED = Assumptions(
    refunds_per_defect=0.85,
    cost_per_refund_usd=18.0,
    gmv_at_risk_per_defect_usd=0.0,
    cost_per_defect_usd=2.5,
    horizon_weeks=52,
)


@pytest.fixture(scope="module")
def launches(conn) -> pd.DataFrame:
    return conn.sql("SELECT * FROM policy_launches ORDER BY policy_id, market")


@pytest.fixture(scope="module")
def tracking(conn):
    return policy_impact.impact(conn, "tracking_verification", WEEK)


@pytest.fixture(scope="module")
def packaging(conn):
    return policy_impact.impact(conn, "packaging_standard", WEEK)


def test_the_launch_table_plants_a_staggered_and_a_single_market_launch(launches):
    staggered = launches[launches["policy"] == "tracking_verification"]
    assert sorted(staggered["market"]) == ["ID", "MY", "PH", "TH", "VN"]
    assert staggered["launch_date"].nunique() == 3  # three launch cohorts
    single = launches[launches["policy"] == "packaging_standard"]
    assert single["market"].tolist() == ["ID"] and single["true_effect"].tolist() == [-0.4]
    # every launch is a Monday well before the weeks the weekly scan judges (its baselines start in 2026-W28)
    dates = pd.to_datetime(launches["launch_date"])
    assert (dates.dt.day_of_week == 0).all() and (dates < pd.Timestamp("2026-07-06")).all()
    assert not set(launches["market"]) & {"US", "GB", "SG"}


def test_panel_is_the_catalog_metric_recomputed_from_raw_orders(tracking, raw):
    orders = raw["orders"]
    shipped = orders[orders["shipped_at"].notna()]
    valid = shipped.groupby(["market", "week"])["tracking_valid"].mean()
    panel = tracking.panel.set_index(["market", "period"])["value"]
    assert len(panel) > 200
    assert panel.to_numpy() == pytest.approx(valid.reindex(panel.index).to_numpy(), abs=1e-12)


def test_staggered_launch_recovers_the_planted_effect(tracking, launches):
    did = tracking.did
    assert tracking.method == "staggered difference-in-differences" and not tracking.problems
    # The planted effect per market in percentage points: true_effect is relative to the market's valid-tracking
    # probability, which the generator sets per market (dimensions.MARKETS), so the truth is known exactly.
    valid = {market.code: market.tracking_valid for market in dimensions.MARKETS}
    rows = launches[launches["policy"] == "tracking_verification"]
    planted = {row.market: row.true_effect * valid[row.market] for row in rows.itertuples()}
    cohorts = rows.assign(t=rows["market"].map(lambda m: tracking.panel.query("market == @m")["first_treated"].iloc[0]))
    post = did.group_time[did.group_time["event_time"] >= 0]
    cell_truth = post["group"].map(lambda g: cohorts[cohorts["t"] == g]["market"].map(planted).mean())
    truth = float((cell_truth * post["treated"]).sum() / post["treated"].sum())  # cohort-size weights
    assert did.overall.low < truth < did.overall.high
    assert did.overall.low > 0  # the effect is clearly there on the small warehouse
    assert did.pre_trend_p > 0.05 and tracking.placebo.low < 0 < tracking.placebo.high
    sentence = policy_impact.headline(tracking)
    assert sentence.startswith("The tracking_verification policy raised valid tracking rate by ")
    assert "in the 5 markets that launched it (ID, MY, PH, TH, VN)" in sentence


def test_single_market_launch_recovers_the_planted_effect(packaging):
    synthetic = packaging.synthetic
    assert packaging.method == "synthetic control" and not packaging.problems
    assert synthetic.weights.sum() == pytest.approx(1.0) and (synthetic.weights >= 0).all()
    assert "ID" not in synthetic.weights.index and len(synthetic.weights) == 7
    # 40 % of ID's damaged-item claims are prevented from the launch: the counterfactual level is the observed
    # post-launch level / 0.6, the planted effect 40 % of it.
    observed = packaging.panel.query("market == 'ID' and t >= first_treated")["value"].mean()
    truth = -0.4 * observed / 0.6
    assert synthetic.low < truth < synthetic.high < 0
    assert synthetic.conformal_p < 0.01
    assert synthetic.smallest_placebo_p == pytest.approx(1 / 8)
    assert policy_impact.headline(packaging).startswith("The packaging_standard policy cut damaged item claim rate")


def test_money_is_value_py_on_the_effect_over_the_launched_volume(packaging, raw):
    money = policy_impact.money(packaging, ASSUMED)
    value, low, high = packaging.effect
    orders = raw["orders"]
    delivered = orders[orders["delivered_at"].notna() & (orders["market"] == "ID")]
    weeks = packaging.panel.query("market == 'ID' and t >= first_treated")["period"]
    per_week = delivered[delivered["week"].isin(weeks)].groupby("week").size().mean()
    assert money.orders_per_week == pytest.approx(per_week)
    assert money.lines["defects_avoided"].estimate == pytest.approx(-value * per_week * 52)
    assert money.total.low == pytest.approx(-high * per_week * 52 * (0.85 * 18.0 + 2.5))


def test_diverging_pre_trends_give_the_honest_sentence(tracking, launches):
    panel = tracking.panel.copy()
    before = panel["t"] < panel["first_treated"]
    panel.loc[before, "value"] += 0.01 * (panel.loc[before, "t"] - panel.loc[before, "first_treated"])
    rows = launches[launches["policy"] == "tracking_verification"]
    result = policy_impact.estimate("tracking_verification", tracking.metric, panel, rows)
    sentence = policy_impact.headline(result)
    assert sentence.startswith("The design does not hold for tracking_verification:")
    assert "trend differed" in sentence and "cannot be read as the policy's effect" in sentence
    assert policy_impact.money(result, ASSUMED) is None
    checks = policy_impact.checks_table(result).set_index("verdict")
    assert "failed" in checks.index


def test_too_few_control_markets_give_the_honest_sentence(tracking, packaging, launches):
    staggered = tracking.panel[~tracking.panel["market"].isin(["GB", "SG"])]
    rows = launches[launches["policy"] == "tracking_verification"]
    result = policy_impact.estimate("tracking_verification", tracking.metric, staggered, rows)
    assert "too few control markets" in policy_impact.headline(result)

    single = packaging.panel[packaging.panel["market"].isin(["ID", "US", "GB", "SG"])]
    rows = launches[launches["policy"] == "packaging_standard"]
    result = policy_impact.estimate("packaging_standard", packaging.metric, single, rows)
    assert "too few control markets: only 3" in policy_impact.headline(result)


def test_launches_the_data_cannot_support_give_the_honest_sentence(tracking, launches):
    rows = launches[launches["policy"] == "tracking_verification"]
    late = rows.assign(launch_date=pd.Timestamp("2026-11-23"))  # after the last mature week
    result = policy_impact.estimate("tracking_verification", tracking.metric, tracking.panel, late)
    assert not result.estimated and policy_impact.money(result, ASSUMED) is None
    assert "needs at least two mature weeks of valid tracking rate before a launch" in policy_impact.headline(result)
    everywhere = pd.DataFrame({"market": sorted(tracking.panel["market"].unique())}).assign(
        policy="tracking_verification", launch_date=pd.Timestamp("2026-06-22")
    )
    result = policy_impact.estimate("tracking_verification", tracking.metric, tracking.panel, everywhere)
    assert "too few control markets" in policy_impact.headline(result)
    assert policy_impact.checks_table(result)["verdict"].tolist() == ["failed"]


def test_policies_that_pass_validation_are_the_ones_the_view_accepts(conn, small_warehouse, launches):
    context = ValidationContext(facts=ValidationContext(small_warehouse).facts)
    declared = DeclaredParameter("policy", "str", "all", "")
    assert sorted(context.facts.policies) == sorted(set(launches["policy"]))
    for value in ["all", *context.facts.policies]:
        assert validate_policy(value, declared, context) == value
    with pytest.raises(ParameterError, match="tracking_verification"):
        validate_policy("tracking_verificaton", declared, context)
    with pytest.raises(policy_impact.PolicyError, match="tracking_verification"):
        policy_impact.impact(conn, "tracking_verificaton", WEEK)


def test_template_runs_and_leads_with_the_effects(small_warehouse, tmp_path_factory):
    out = tmp_path_factory.mktemp("policy_run")
    run = execute_warm({"all": (TEMPLATE, {"policy": "all", "market": "all", "week": WEEK})}, small_warehouse, out)
    execution = run["all"]
    assert execution.ok, execution
    html = html_of(execution.notebook)
    assert "The tracking_verification policy raised valid tracking rate by" in html
    assert "The packaging_standard policy cut damaged item claim rate by" in html
    assert "Design checks for packaging_standard" in html and "value per year" in html


def test_the_template_is_left_out_where_the_config_names_no_policy_launches():
    needs = template_requirements(TEMPLATE)
    assert needs.policies
    here = Available(metrics=[], groups=[], experiments=True, policies=True)
    elsewhere = Available(metrics=[], groups=[], experiments=True, policies=False)
    assert unmet(needs, here) is None
    assert unmet(needs, elsewhere) == "the project config names no policy launches (`policies:`)"
