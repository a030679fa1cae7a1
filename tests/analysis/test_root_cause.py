"""Root cause: Adtributor properties (DOMAIN.md §5.4), planted causes ranked first, mix vs rate labels."""

import numpy as np
import pandas as pd
import pytest
from analysis_cubes import CATEGORIES, CHANNELS, order_cube
from scipy import stats

from gnelib.analysis.errors import AnalysisError
from gnelib.analysis.root_cause import (
    PairSearch,
    cube_frames,
    derived_explanatory_power,
    explain_change,
    explanatory_power,
    js_surprise,
    pairs_to_search,
    proportional_fit,
)

BASE_RATE = {"live": 0.06, "short_video": 0.04, "mall": 0.015, "search": 0.02}
DIMENSIONS = ["category", "channel", "carrier"]


def baseline_rate(category, channel, carrier):
    return BASE_RATE[channel] * (1.3 if category in ("beauty", "shoes") else 1.0)


def test_explanatory_power_sums_to_one_per_dimension(rng):
    forecast, actual = rng.uniform(10, 100, 12), rng.uniform(10, 100, 12)
    assert explanatory_power(forecast, actual).sum() == pytest.approx(1.0)
    ep = derived_explanatory_power(*rng.uniform(1, 10, (2, 12)), *rng.uniform(100, 1000, (2, 12)))
    assert ep.sum() == pytest.approx(1.0)


def test_derived_explanatory_power_is_the_ratio_change_from_one_element():
    f1, a1, f2, a2 = (
        np.array(values, dtype=float) for values in ([5, 20, 8], [9, 21, 8], [100, 400, 300], [120, 380, 300])
    )
    direct = [
        ((f1.sum() - f1[j] + a1[j]) / (f2.sum() - f2[j] + a2[j])) - f1.sum() / f2.sum() for j in range(3)
    ]
    expected = np.array(direct) / np.sum(direct)
    assert derived_explanatory_power(f1, a1, f2, a2) == pytest.approx(expected, rel=1e-12)


def test_surprise_is_zero_without_change_and_js_is_at_most_one_bit(rng):
    p = rng.dirichlet(np.ones(10))
    assert js_surprise(p, p) == pytest.approx(np.zeros(10), abs=1e-15)
    q = rng.dirichlet(np.ones(10))
    assert 0 < js_surprise(p, q).sum() <= 1
    disjoint = js_surprise(np.array([0.5, 0.5, 0, 0]), np.array([0, 0, 0.5, 0.5]))
    assert disjoint.sum() == pytest.approx(1.0)  # the log2 bound is reached for disjoint shares


def test_planted_rate_drop_in_one_category_ranks_first(rng):
    before = order_cube(rng, "W1", 200_000, baseline_rate)
    after = order_cube(
        rng, "W2", 200_000, lambda cat, ch, ca: baseline_rate(cat, ch, ca) * (0.5 if cat == "phones" else 1.0)
    )
    result = explain_change(cube_frames(pd.concat([before, after]), DIMENSIONS), "W1", "W2")
    top = result.segments.iloc[0]
    assert (top["dimension"], top["value"], top["effect"]) == ("category", "phones", "rate")
    assert top["candidate"] and top["significant"] and top["current_rate"] < top["baseline_rate"]
    x0, n0, x1, n1 = (
        frame.groupby("category")[column].sum()
        for frame in (before, after)
        for column in ("numerator", "denominator")
    )
    r0, r1, w0, w1 = x0 / n0, x1 / n1, n0 / n0.sum(), n1 / n1.sum()
    big_r0, big_r1 = x0.sum() / n0.sum(), x1.sum() / n1.sum()
    shapley = (r1 - r0) * (w0 + w1) / 2 + (w1 - w0) * ((r0 + r1) / 2 - (big_r0 + big_r1) / 2)
    assert top["explained_share"] == pytest.approx(shapley["phones"] / (big_r1 - big_r0), rel=1e-9)
    assert top["explained_share"] > 0.5
    assert result.mix_shift_dimension() is None
    assert result.dimensions.iloc[0]["dimension"] == "category"


def test_planted_count_drop_ranks_first_for_additive_metric(rng):
    before = order_cube(rng, "W1", 200_000, baseline_rate)
    after = order_cube(
        rng, "W2", 200_000, lambda cat, ch, ca: baseline_rate(cat, ch, ca) * (0.5 if ch == "mall" else 1.0)
    )
    result = explain_change(cube_frames(pd.concat([before, after]), DIMENSIONS), "W1", "W2", kind="count")
    top = result.segments.iloc[0]
    assert (top["dimension"], top["value"], top["effect"]) == ("channel", "mall", "additive")
    delta = after["numerator"].sum() - before["numerator"].sum()
    mall = (
        after.loc[after.channel == "mall", "numerator"].sum()
        - before.loc[before.channel == "mall", "numerator"].sum()
    )
    assert top["explained_share"] == pytest.approx(mall / delta)


def test_pure_mix_shift_is_labelled_mix(rng):
    even = dict.fromkeys(CHANNELS, 0.25)
    shifted = {"live": 0.45, "short_video": 0.2, "mall": 0.17, "search": 0.18}
    before = order_cube(rng, "W1", 200_000, baseline_rate, even)
    after = order_cube(rng, "W2", 200_000, baseline_rate, shifted)
    result = explain_change(cube_frames(pd.concat([before, after]), DIMENSIONS), "W1", "W2")
    findings = result.segments[(result.segments["dimension"] == "channel") & result.segments["candidate"]]
    assert set(findings["value"]) >= {"live"} and set(findings["effect"]) == {"mix"}
    top = result.segments.iloc[0]
    assert (top["dimension"], top["value"], top["effect"]) == ("channel", "live", "mix")
    assert result.mix_shift_dimension() == "channel"
    summary = result.dimensions.set_index("dimension").loc["channel"]
    assert summary["mix_share"] > 0.75 and abs(summary["rate"]) < 0.25 * abs(summary["mix"])


def test_rate_change_is_not_mistaken_for_mix_shift(rng):
    before = order_cube(rng, "W1", 200_000, baseline_rate)
    after = order_cube(
        rng, "W2", 200_000, lambda cat, ch, ca: baseline_rate(cat, ch, ca) * (1.6 if ch == "live" else 1.0)
    )
    result = explain_change(cube_frames(pd.concat([before, after]), DIMENSIONS), "W1", "W2")
    top = result.segments.iloc[0]
    assert (top["dimension"], top["value"], top["effect"]) == ("channel", "live", "rate")
    assert result.mix_shift_dimension() is None


def test_pair_is_reported_when_one_intersection_explains_the_change(rng):
    def planted(category, channel, carrier):
        bump = 4.0 if (category, carrier) == ("beauty", "carrier_b") else 1.0
        return baseline_rate(category, channel, carrier) * bump

    before = order_cube(rng, "W1", 300_000, baseline_rate)
    after = order_cube(rng, "W2", 300_000, planted)
    frames = cube_frames(pd.concat([before, after]), DIMENSIONS, pairs=[("carrier", "category")])
    top = explain_change(frames, "W1", "W2").segments.iloc[0]
    assert (top["dimension"], top["value"]) == ("carrier × category", "carrier_b × beauty")


def test_pairs_are_left_out_when_a_single_dimension_explains(rng):
    before = order_cube(rng, "W1", 200_000, baseline_rate)
    after = order_cube(
        rng, "W2", 200_000, lambda cat, ch, ca: baseline_rate(cat, ch, ca) * (2.0 if cat == "toys" else 1.0)
    )
    frames = cube_frames(pd.concat([before, after]), DIMENSIONS, pairs=[("carrier", "category")])
    result = explain_change(frames, "W1", "W2")
    assert "carrier × category" not in set(result.segments["dimension"])
    assert result.segments.iloc[0]["value"] == "toys"


def test_small_segments_are_filtered_out(rng):
    before = order_cube(rng, "W1", 20_000, baseline_rate)
    after = order_cube(rng, "W2", 20_000, baseline_rate)
    frames = cube_frames(pd.concat([before, after]), DIMENSIONS)
    tiny = pd.DataFrame(
        {
            "period": ["W1", "W2"],
            "category": "collectibles",
            "numerator": [1.0, 5.0],
            "denominator": [10.0, 12.0],
            "units": [10.0, 12.0],
            "sum_x2": [1.0, 5.0],
            "sum_y2": [10.0, 12.0],
            "sum_xy": [1.0, 5.0],
        }
    )
    frames["category"] = pd.concat([frames["category"], tiny], ignore_index=True)
    result = explain_change(frames, "W1", "W2", min_volume=30)
    assert "collectibles" not in set(result.segments["value"])
    assert set(CATEGORIES) <= set(result.segments["value"])


def test_root_cause_rejects_medians():
    with pytest.raises(AnalysisError, match="ratio, count or sum"):
        explain_change({"category": pd.DataFrame()}, "W1", "W2", kind="duration")


def proportional_cube(rng, factor=1.2, live_share=0.7):
    """Every cell's rate × `factor`, with channel live carrying `live_share` of the orders (a dominant segment)."""
    shares = {"live": live_share, **dict.fromkeys(["short_video", "mall", "search"], (1 - live_share) / 3)}
    before = order_cube(rng, "W1", 300_000, baseline_rate, shares)
    after = order_cube(rng, "W2", 300_000, lambda *cell: baseline_rate(*cell) * factor, shares)
    return pd.concat([before, after])


def test_proportional_fit_matches_a_hand_computation(rng):
    observed, expected = rng.uniform(50, 500, 6), rng.uniform(50, 500, 6)
    variance = rng.uniform(20, 200, 6)
    fit = proportional_fit(observed, expected, variance)
    theta = observed.sum() / expected.sum()
    chi2 = sum((o - theta * e) ** 2 / v for o, e, v in zip(observed, expected, variance, strict=True))
    assert fit.common_factor == pytest.approx(theta) and fit.chi2 == pytest.approx(chi2) and fit.df == 5
    assert fit.p_value == pytest.approx(stats.chi2.sf(chi2, 5))
    alone = [
        sum((o - e) ** 2 / v for i, (o, e, v) in enumerate(zip(observed, expected, variance, strict=True)) if i != j)
        for j in range(6)
    ]
    assert fit.best_single_chi2 == pytest.approx(min(alone))
    ripple = 1 - np.linalg.norm(observed - theta * expected) / np.linalg.norm(observed - expected)
    assert fit.potential == pytest.approx(ripple)
    exact = proportional_fit(expected * 1.3, expected, variance)
    assert exact.chi2 == pytest.approx(0, abs=1e-9) and exact.potential == pytest.approx(1.0)


def test_change_spread_in_proportion_names_no_segment(rng):
    cube = proportional_cube(rng)
    result = explain_change(cube_frames(cube, DIMENSIONS), "W1", "W2")
    assert result.broad_based
    assert not result.segments["candidate"].any()
    summary = result.dimensions.set_index("dimension")
    assert summary["broad_based"].all()
    before, after = (cube[cube.period == period].groupby("channel")[["numerator", "denominator"]].sum()
                     for period in ("W1", "W2"))
    expected = (after["denominator"] * before["numerator"] / before["denominator"]).sum()
    assert summary.loc["channel", "common_factor"] == pytest.approx(after["numerator"].sum() / expected)
    assert summary.loc["channel", "common_factor"] == pytest.approx(1.2, rel=0.05)
    assert pairs_to_search(cube_frames(cube, DIMENSIONS), "W1", "W2") == []


def test_change_in_the_dominant_segment_alone_is_not_broad_based(rng):
    shares = {"live": 0.7, **dict.fromkeys(["short_video", "mall", "search"], 0.1)}
    before = order_cube(rng, "W1", 300_000, baseline_rate, shares)
    after = order_cube(
        rng, "W2", 300_000, lambda cat, ch, ca: baseline_rate(cat, ch, ca) * (1.2 if ch == "live" else 1.0), shares
    )
    result = explain_change(cube_frames(pd.concat([before, after]), DIMENSIONS), "W1", "W2")
    assert not result.broad_based
    assert not result.dimensions.set_index("dimension").loc["channel", "broad_based"]
    assert result.segments.iloc[0][["dimension", "value"]].tolist() == ["channel", "live"]


def test_count_rise_spread_in_proportion_is_broad_based(rng):
    cube = proportional_cube(rng, factor=1.0)
    after = cube["period"] == "W2"
    cube.loc[after, "numerator"] = rng.poisson(cube.loc[after, "numerator"] * 1.25).astype(float)
    cube["sum_x2"] = cube["sum_xy"] = cube["numerator"]
    result = explain_change(cube_frames(cube, DIMENSIONS), "W1", "W2", kind="count")
    assert result.broad_based and not result.segments["candidate"].any()


def pair_cause_cube(rng, factor=2.5):
    before = order_cube(rng, "W1", 300_000, baseline_rate)
    after = order_cube(
        rng,
        "W2",
        300_000,
        lambda cat, ch, ca: baseline_rate(cat, ch, ca) * (factor if (cat, ch) == ("beauty", "live") else 1.0),
    )
    return pd.concat([before, after])


def test_a_cause_in_one_pair_cell_is_named_as_the_pair(rng):
    cube = pair_cause_cube(rng)
    singles = cube_frames(cube, DIMENSIONS)
    pairs = pairs_to_search(singles, "W1", "W2")
    assert pairs[0] == ("category", "channel")
    result = explain_change(cube_frames(cube, DIMENSIONS, pairs=pairs), "W1", "W2")
    top = result.segments.iloc[0]
    assert (top["dimension"], top["value"]) == ("category × channel", "beauty × live")
    assert top["succinct"] and top["candidate"] and top["significant"] and top["effect"] == "rate"
    assert not result.broad_based
    cell = (cube["category"] == "beauty") & (cube["channel"] == "live")
    x0, n0, x1, n1 = (
        cube.loc[(cube.period == p) & cell, c].sum() for p in ("W1", "W2") for c in ("numerator", "denominator")
    )
    assert (top["baseline_rate"], top["current_rate"]) == pytest.approx((x0 / n0, x1 / n1))
    singles_ranked = result.segments[result.segments["dimension"].isin(["channel", "category"])]
    assert set(singles_ranked.head(2)["value"]) <= {"live", "beauty"}
    assert not result.segments.loc[result.segments["dimension"] != "category × channel", "succinct"].any()


def test_explain_change_searching_pairs_itself_equals_computing_the_pairs_first(rng):
    cube = pair_cause_cube(rng)
    singles = cube_frames(cube, DIMENSIONS)
    asked = []

    def pair_frame(pair):
        asked.append(pair)
        return cube_frames(cube, [], pairs=[pair])[pair]

    searched = explain_change(singles, "W1", "W2", pair_search=PairSearch(pair_frame))
    expected = explain_change(cube_frames(cube, DIMENSIONS, pairs=pairs_to_search(singles, "W1", "W2")), "W1", "W2")
    assert asked == pairs_to_search(singles, "W1", "W2")
    pd.testing.assert_frame_equal(searched.segments, expected.segments)
    pd.testing.assert_frame_equal(searched.dimensions, expected.dimensions)


def test_a_cause_in_one_dimension_is_not_named_as_a_pair(rng):
    before = order_cube(rng, "W1", 300_000, baseline_rate)
    after = order_cube(
        rng, "W2", 300_000, lambda cat, ch, ca: baseline_rate(cat, ch, ca) * (1.6 if ch == "live" else 1.0)
    )
    cube = pd.concat([before, after])
    pairs = pairs_to_search(cube_frames(cube, DIMENSIONS), "W1", "W2")
    assert pairs and all("channel" in pair for pair in pairs[:2])
    result = explain_change(cube_frames(cube, DIMENSIONS, pairs=pairs), "W1", "W2")
    assert result.segments.iloc[0][["dimension", "value"]].tolist() == ["channel", "live"]
    assert not result.segments["succinct"].any()


def test_pairs_to_search_prunes_and_caps(rng):
    cube = pair_cause_cube(rng)
    singles = cube_frames(cube, DIMENSIONS)
    assert pairs_to_search(singles, "W1", "W2", max_pairs=1) == [("category", "channel")]
    assert ("category", "channel") not in pairs_to_search(singles, "W1", "W2", max_cells=16)
    assert pairs_to_search(singles, "W1", "W2", depth=1) == []
    deeper = pairs_to_search(singles, "W1", "W2", depth=3, max_pairs=10)
    assert ("category", "channel", "carrier") in deeper and len(deeper) == 4


def test_a_segment_expected_at_zero_that_has_events_is_not_proportional(rng):
    before = order_cube(rng, "W1", 200_000, baseline_rate)
    after = order_cube(rng, "W2", 200_000, baseline_rate)
    frames = cube_frames(pd.concat([before, after]), DIMENSIONS)
    ring = pd.DataFrame({"period": ["W1", "W2"], "category": "gift_cards", "numerator": [0.0, 400.0],
                         "denominator": [500.0, 1_000.0], "units": [500.0, 1_000.0], "sum_x2": [0.0, 400.0],
                         "sum_y2": [500.0, 1_000.0], "sum_xy": [0.0, 400.0]})
    frames["category"] = pd.concat([frames["category"], ring], ignore_index=True)
    result = explain_change(frames, "W1", "W2")
    summary = result.dimensions.set_index("dimension")
    assert not summary.loc["category", "broad_based"] and summary.loc["category", "heterogeneity_p"] < 1e-6
    assert result.segments.iloc[0][["dimension", "value"]].tolist() == ["category", "gift_cards"]
    assert not result.broad_based


def test_a_mix_shift_among_segments_too_small_to_keep_names_nothing():
    """dispute seller win rate in ID, W47 (small warehouse): the category mix moved, but no category kept a row;
    the sentence must not name one (it used to fail with 'argmax of an empty sequence')."""
    from gnelib.analysis.root_cause import RootCause, carried

    dimensions = pd.DataFrame({"dimension": ["category"], "pure_mix_shift": [True], "surprise": [0.2]})
    segments = pd.DataFrame({"dimension": pd.Series([], dtype=str), "value": pd.Series([], dtype=str)})
    root_cause = RootCause(segments, dimensions, baseline_value=0.45, current_value=0.50)
    assert root_cause.mix_shift_dimension() is None
    assert not carried(root_cause).mix_shift
