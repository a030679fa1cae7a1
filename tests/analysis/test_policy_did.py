"""Callaway–Sant'Anna staggered DiD: a hand-worked panel, the csdid reference implementation, pre-trends, placebos."""

import numpy as np
import pandas as pd
import pytest

from gnelib.analysis.did import callaway_santanna, placebo_launches

OPTIONS = {"unit": "unit", "period": "period", "outcome": "y", "first_treated": "first_treated"}


def test_hand_worked_panel():
    # Units 1-2 launch in period 3, unit 3 in period 4, unit 4 never. Outcomes chosen so each 2x2 is easy by hand.
    y = {1: [1, 2, 6, 7], 2: [2, 3, 9, 10], 3: [0, 1, 2, 8], 4: [5, 6, 7, 8]}
    first = {1: 3, 2: 3, 3: 4, 4: np.nan}
    panel = pd.DataFrame(
        [(u, t + 1, first[u], v) for u, values in y.items() for t, v in enumerate(values)],
        columns=["unit", "period", "first_treated", "y"],
    )
    result = callaway_santanna(panel, **OPTIONS)
    cells = result.group_time.set_index(["group", "period"])["att"]
    # ATT(3,3): treated change 6-2=4, 9-3=6 -> 5; controls (not yet treated at 3: units 3, 4) 2-1=1, 7-6=1 -> 1.
    assert cells[(3, 3)] == pytest.approx(4.0)
    # ATT(3,4): base period 2; treated 7-2=5, 10-3=7 -> 6; control (only unit 4 is untreated at 4): 8-6=2.
    assert cells[(3, 4)] == pytest.approx(4.0)
    # ATT(4,4): base period 3; treated 8-2=6; controls never-treated unit 4: 8-7=1 (units 1-2 are treated).
    assert cells[(4, 4)] == pytest.approx(5.0)
    # ATT(4,2) (pre, varying base 1): 1-0=1 vs units 1, 2, 4 (untreated at 2): mean(1, 1, 1)=1 -> 0.
    assert cells[(4, 2)] == pytest.approx(0.0)
    # Overall ("simple"): post cells weighted by cohort size: (2*4 + 2*4 + 1*5) / 5 = 4.2.
    assert result.overall.value == pytest.approx(4.2)


def reference_panel() -> pd.DataFrame:
    """12 units over 10 periods: cohorts 4, 6, 8 (3, 3, 2 units) and 4 never-treated (0), growing effects."""
    rng = np.random.default_rng(20261202)
    first = np.array([4, 4, 4, 6, 6, 6, 8, 8, 0, 0, 0, 0])
    rows = []
    for unit, g in enumerate(first):
        level = rng.normal(0, 1)
        for t in range(1, 11):
            effect = (1.0 + 0.2 * (t - g)) if g and t >= g else 0.0
            rows.append((unit + 1, t, g, level + 0.3 * t + effect + rng.normal(0, 0.5)))
    return pd.DataFrame(rows, columns=["unit", "period", "first_treated", "y"])


# csdid 0.4.3 (the Python port of the R package did) on reference_panel():
# ATTgt(yname="y", gname="first_treated", idname="unit", tname="period", data=panel,
#       control_group="notyettreated").fit(est_method="reg"), then aggte(typec="simple" / "dynamic", bstrap=False).
CSDID_SIMPLE = (1.7023, 0.2651)
CSDID_DYNAMIC = {
    -6: (1.4460, 0.6820),
    -5: (-0.2112, 0.4687),
    -4: (-0.1505, 0.2920),
    -3: (-0.3676, 0.3164),
    -2: (0.2820, 0.3200),
    -1: (-0.3771, 0.3598),
    0: (1.1145, 0.2953),
    1: (1.5216, 0.3790),
    2: (1.6949, 0.3429),
    3: (1.8465, 0.3600),
    4: (2.1352, 0.2851),
    5: (2.3346, 0.3231),
    6: (1.9842, 0.7220),
}
CSDID_GROUP_TIME = {
    (4, 4): 1.2385,
    (4, 10): 1.9842,
    (6, 2): -0.4771,
    (6, 6): 1.1824,
    (8, 2): 1.4460,
    (8, 7): -1.1067,
    (8, 10): 1.5878,
}


def test_matches_the_csdid_reference_implementation():
    panel = reference_panel()
    panel["first_treated"] = panel["first_treated"].replace(0, np.nan)
    result = callaway_santanna(panel, **OPTIONS)
    cells = result.group_time.set_index(["group", "period"])["att"]
    for key, value in CSDID_GROUP_TIME.items():
        assert cells[key] == pytest.approx(value, abs=1e-4)
    assert (result.overall.value, result.overall.se) == pytest.approx(CSDID_SIMPLE, abs=1e-4)
    events = result.event_study.set_index("event_time")
    for event_time, (att, se) in CSDID_DYNAMIC.items():
        assert (events.loc[event_time, "att"], events.loc[event_time, "se"]) == pytest.approx((att, se), abs=1e-4)


def _trend_panel(pre_trend: float, seed: int = 3) -> pd.DataFrame:
    """8 markets, 20 weeks; 5 launch (weeks 8, 10, 12), effect 2; treated markets drift by `pre_trend` a week."""
    rng = np.random.default_rng(seed)
    first = [8, 8, 10, 10, 12, np.nan, np.nan, np.nan]
    rows = []
    for unit, g in enumerate(first):
        for t in range(20):
            treated = not np.isnan(g)
            drift = pre_trend * min(t, g) if treated else 0.0
            rows.append((unit, t, g, 10 + drift + (2.0 if treated and t >= g else 0.0) + rng.normal(0, 0.3)))
    return pd.DataFrame(rows, columns=["unit", "period", "first_treated", "y"])


def test_parallel_trends_pass_and_the_effect_is_recovered():
    result = callaway_santanna(_trend_panel(0.0), **OPTIONS)
    assert result.overall.low < 2.0 < result.overall.high
    assert result.pre_trend_p > 0.05
    assert not result.too_few_controls
    placebo = placebo_launches(_trend_panel(0.0), **OPTIONS)
    assert placebo.low < 0 < placebo.high


def test_diverging_pre_trends_are_detected():
    result = callaway_santanna(_trend_panel(0.4), **OPTIONS)
    assert result.pre_trend_p < 0.01
    assert result.pre_trend_t > 0  # the treated markets drift upwards before launch


def test_too_few_controls_is_reported():
    panel = _trend_panel(0.0)
    panel = panel[panel["unit"] <= 5]  # one never-treated market left
    result = callaway_santanna(panel, **OPTIONS)
    assert result.min_controls == 1 and result.too_few_controls
