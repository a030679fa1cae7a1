"""Value in money against a hand-worked example, and every assumption validated with a message naming it."""

import math

import pytest

from gnelib.analysis.value import Assumptions, RateChange, ValueAssumptionError, money_value

# Hand-worked: a 0.4 pp cut (95% CI 0.2 to 0.6 pp) over 10,000 orders a week is 0.004 × 10,000 × 52 = 2,080
# defects a year (1,040 to 3,120). A quarter end in a $20 refund: 520 refunds, $10,400 ($5,200 to $15,600).
# $40 of GMV at risk per defect: $83,200 ($41,600 to $124,800). $3 handling: $6,240 ($3,120 to $9,360).
# Total $48 per defect: $99,840 ($49,920 to $149,760) a year; half of it over a 26-week horizon.
CUT = RateChange(
    metric="late_dispatch_rate",
    direction="lower_is_better",
    absolute=-0.004,
    ci_low=-0.006,
    ci_high=-0.002,
    relative=-0.1,
    relative_ci_low=-0.15,
    relative_ci_high=-0.05,
)
ASSUMED = Assumptions(
    refunds_per_defect=0.25,
    cost_per_refund_usd=20.0,
    gmv_at_risk_per_defect_usd=40.0,
    cost_per_defect_usd=3.0,
    horizon_weeks=26,
)
EXPECTED = {
    "defects_avoided": (2_080, 1_040, 3_120),
    "refunds_avoided": (520, 260, 780),
    "refund_cost_usd": (10_400, 5_200, 15_600),
    "gmv_protected_usd": (83_200, 41_600, 124_800),
    "defect_cost_usd": (6_240, 3_120, 9_360),
    "total_usd": (99_840, 49_920, 149_760),
}


def test_hand_worked_example_line_by_line():
    money = money_value(CUT, 10_000, ASSUMED)
    for key, (estimate, low, high) in EXPECTED.items():
        line = money.lines[key]
        assert (line.estimate, line.low, line.high) == pytest.approx((estimate, low, high)), key
    assert money.over_horizon("total_usd").estimate == pytest.approx(49_920)
    table = money.table().set_index("key")
    assert table.loc["total_usd", "per_year"] == "$99,840"
    assert table.loc["total_usd", "per_year_ci"] == "$49,920 to $149,760"
    assert table.loc["refunds_avoided", "per_year"] == "520"
    sentence = money.sentence("The nudge")
    assert sentence.startswith("The nudge is worth about $99,840 a year (95% CI $49,920 to $149,760)")
    assert "-0.40 pp (-10%)" in sentence and "zero" not in sentence
    assumed = money.assumptions_table().set_index("parameter")["value"]
    assert assumed.to_dict() == {
        "orders_per_week": "10,000",
        "refunds_per_defect": "0.25",
        "cost_per_refund_usd": "20",
        "gmv_at_risk_per_defect_usd": "40",
        "cost_per_defect_usd": "3",
        "horizon_weeks": "26",
    }


def test_higher_is_better_rise_is_a_saving_and_an_interval_across_zero_says_so():
    rise = RateChange(
        metric="on_time_rate",
        direction="higher_is_better",
        absolute=0.01,
        ci_low=-0.002,
        ci_high=0.022,
        relative=0.012,
        relative_ci_low=-0.002,
        relative_ci_high=0.026,
    )
    money = money_value(rise, 1_000, Assumptions(1.0, 10.0, 0.0, 0.0))
    total = money.total
    assert (total.estimate, total.low, total.high) == pytest.approx((5_200, -1_040, 11_440))
    assert "a loss cannot be ruled out" in money.sentence()


def test_a_harmful_change_is_a_cost():
    harm = RateChange(
        metric="refund_rate",
        direction="lower_is_better",
        absolute=0.002,
        ci_low=0.001,
        ci_high=0.003,
        relative=0.05,
        relative_ci_low=0.025,
        relative_ci_high=0.075,
    )
    money = money_value(harm, 1_000, Assumptions(1.0, 10.0, 0.0, 0.0))
    assert (money.total.estimate, money.total.low, money.total.high) == pytest.approx((-1_040, -1_560, -520))
    assert money.sentence().startswith("The change costs about $1,040 a year")


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"cost_per_refund_usd": -1.0}, "cost_per_refund_usd"),
        ({"refunds_per_defect": 1.5}, "refunds_per_defect"),
        ({"horizon_weeks": 0}, "horizon_weeks"),
        ({"horizon_weeks": 600}, "horizon_weeks"),
        ({"gmv_at_risk_per_defect_usd": math.nan}, "gmv_at_risk_per_defect_usd"),
        ({"cost_per_defect_usd": "3"}, "cost_per_defect_usd"),
    ],
)
def test_bad_assumptions_name_the_parameter_and_the_fix(overrides, named):
    values = {
        "refunds_per_defect": 0.2,
        "cost_per_refund_usd": 18.0,
        "gmv_at_risk_per_defect_usd": 0.0,
        "cost_per_defect_usd": 2.5,
        "horizon_weeks": 52,
        **overrides,
    }
    with pytest.raises(ValueAssumptionError, match=f"Parameter {named} = .*e\\.g\\.|Parameter {named} = .*use"):
        Assumptions(**values)


def test_bad_volume_direction_and_interval_are_refused():
    with pytest.raises(ValueAssumptionError, match="orders_per_week = 0 must be positive"):
        money_value(CUT, 0, ASSUMED)
    with pytest.raises(ValueAssumptionError, match="direction = 'down'"):
        RateChange("x", "down", -0.1, -0.2, 0.0, 0, 0, 0)
    with pytest.raises(ValueAssumptionError, match="outside its interval"):
        RateChange("x", "lower_is_better", -0.3, -0.2, 0.0, 0, 0, 0)
