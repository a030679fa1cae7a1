"""The weekly scan's statistics on simulated series with known truth, the two-level FDR against a hand-worked
example, and one answer per cell on the small warehouse."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from gnelib.analysis.baseline import (
    CellSeries,
    assess,
    fit_skewed_tails,
    fit_tails,
    normal_score,
    rolling_baseline,
    window_family_p,
)
from gnelib.analysis.detection import family_adjust, scan
from gnelib.periods import weeks_between
from gnelib.warehouse import connect

WEEKS = weeks_between("2026-W18", "2026-W42")


def binary_ratio_frame(rates: np.ndarray, orders: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Cells × weeks of a 0/1 order-level rate: events drawn binomially at `rates` (cells × weeks)."""
    events = rng.binomial(orders, rates)
    rows = []
    for cell in range(rates.shape[0]):
        for week, period in enumerate(WEEKS):
            x, n = float(events[cell, week]), float(orders[cell, week])
            rows.append({"market": f"M{cell}", "period": period, "numerator": x, "denominator": n, "units": n,
                         "sum_x2": x, "sum_y2": n, "sum_xy": x, "value": x / n})
    return pd.DataFrame(rows)


def count_frame(means: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    counts = rng.poisson(means).astype(float)
    rows = [{"market": f"M{cell}", "period": period, "numerator": counts[cell, week], "denominator": 1.0,
             "units": counts[cell, week], "sum_x2": counts[cell, week] * 25, "sum_y2": 1.0, "sum_xy": 0.0,
             "value": counts[cell, week]}
            for cell in range(means.shape[0]) for week, period in enumerate(WEEKS)]
    return pd.DataFrame(rows)


def judged(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    return assess(CellSeries.from_frame(frame, ["market"], WEEKS, kind), history=12)


def test_p_values_are_uniform_on_quiet_overdispersed_rates():
    rng = np.random.default_rng(1)
    cells = 400
    orders = rng.integers(200, 20_000, size=(cells, 1)) * np.ones((1, len(WEEKS)), dtype=int)
    drift = np.exp(rng.normal(0, 0.08, size=(cells, len(WEEKS))))  # real week-to-week swing beyond sampling
    table = judged(binary_ratio_frame(0.03 * drift, orders, rng), "ratio")
    p = table["p_value"].to_numpy()
    assert np.mean(p == 1) < 0.01
    assert stats.kstest(p, stats.uniform(0, 1).cdf).pvalue > 0.001
    assert 0.02 < np.mean(p < 0.05) < 0.08
    assert table["tau2"].iloc[0] == pytest.approx(0.08**2, rel=0.5)


def test_counts_are_judged_by_their_spread_not_by_clustered_sums_of_squares():
    rng = np.random.default_rng(2)
    cells = 300
    means = np.full((cells, len(WEEKS)), 2000.0)
    table = judged(count_frame(means, rng), "count")  # Σx² would say variance 25× the true (Poisson) one
    assert 0.02 < np.mean(table["p_value"] < 0.05) < 0.08
    assert table["phi"].iloc[0] == pytest.approx(1.0, rel=0.2)
    assert table["tau2"].iloc[0] < 0.1 / 2000
    jumped = means.copy()
    jumped[:, -1] *= 1.12  # +12 %: about 5 Poisson SDs at 2,000
    found = judged(count_frame(jumped, np.random.default_rng(3)), "count")
    assert np.mean(found["p_value"] < 0.01) > 0.9


def test_a_sustained_rise_stays_a_rise_in_its_second_week():
    rng = np.random.default_rng(4)
    rates = np.full((50, len(WEEKS)), 0.02)
    rates[:, -2:] *= 1.6
    table = judged(binary_ratio_frame(rates, np.full(rates.shape, 20_000), rng), "ratio")
    assert (table["current"] > table["baseline"]).all()
    assert (table["pattern"] == "sustained").mean() > 0.9
    assert (table["weeks_running"] >= 2).mean() > 0.9
    assert table["baseline"].to_numpy() == pytest.approx(0.02, rel=0.05)


def test_a_slow_drift_is_seen_over_a_window():
    rng = np.random.default_rng(5)
    rates = np.full((50, len(WEEKS)), 0.02)
    rates[:, -4:] *= np.array([1.06, 1.12, 1.18, 1.24])
    table = judged(binary_ratio_frame(rates, np.full(rates.shape, 10_000), rng), "ratio")
    assert (table["comparison"] == "window").mean() > 0.5
    assert np.mean(table["p_value"] < 0.05) > 0.8
    windowed = table[table["comparison"] == "window"]
    assert (windowed["window_weeks"] >= 3).mean() > 0.5


def test_family_adjustment_matches_a_hand_worked_example():
    pair = "x × y"
    table = pd.DataFrame({
        "market": ["A"] * 5 + ["B"] * 5,
        "dimension": ["", "x", "x", pair, pair] * 2,
        "p_value": [0.001, 0.02, 0.5, 0.004, 0.6, 0.3, 0.04, 0.9, 0.5, 0.7],
    })
    adjusted, rejected = family_adjust(table, 0.05)
    # Looks weighted 0.4 (total), 0.4 (single cells), 0.2 (pair cells); Simes inside a look.
    # A: total 0.001/0.4 = 0.0025; singles Simes(0.02, 0.5) = 0.04 → 0.1; pairs Simes(0.004, 0.6) = 0.008 → 0.04
    #    → family p 0.0025.  B: 0.3/0.4 = 0.75; Simes(0.04, 0.9) = 0.08 → 0.2; Simes(0.5, 0.7) = 0.7 → 3.5 → 0.2.
    # BH over (0.0025, 0.2): (0.005, 0.2) → A selected alone, R/m = 1/2, inner level 0.025.
    # Inside A, BH of (0.001, 0.02, 0.5, 0.004, 0.6), m = 5: 0.005, 0.0333, 0.6, 0.01, 0.6 → the total and the
    # first pair pass 0.025; reported ×2 (alpha / level), capped at 1.
    assert list(rejected) == [True, False, False, True, False] + [False] * 5
    assert adjusted[:5] == pytest.approx([0.01, 0.0666667, 1.0, 0.02, 1.0], rel=1e-5)
    assert adjusted[5:] == pytest.approx([0.3, 0.2, 0.9, 0.5, 0.7])  # B not selected: max(family 0.2, own p)


@pytest.fixture(scope="module")
def small(small_warehouse):
    return small_warehouse


def test_one_answer_per_cell_whichever_report_asks(small):
    names = ["late_delivery_rate", "orders"]
    everywhere = scan(connect(small), "2026-W45", metrics=names)
    one_market = scan(connect(small), "2026-W45", metrics=names, markets=["TH"])
    keys = ["metric", "market", "dimension", "segment"]
    mine = everywhere[everywhere["market"] == "TH"].sort_values(keys, ignore_index=True)
    pd.testing.assert_frame_equal(mine, one_market.sort_values(keys, ignore_index=True))
    assert set(everywhere["market"]) == {"US", "GB", "ID", "TH", "VN", "MY", "PH", "SG"}


@pytest.mark.parametrize("df", [3.0, 8.0, 1e6])
def test_tail_fit_is_scipys_maximum_likelihood_t_fit(df):
    values = stats.t.rvs(df, scale=1.3, size=4000, random_state=np.random.default_rng(int(df) % 97))
    tails = fit_tails(values)
    reference_df, _, reference_scale = stats.t.fit(values, floc=0)
    assert tails.scale == pytest.approx(reference_scale, rel=2e-3)
    if reference_df < 1000:  # beyond that the likelihood is flat in df: both are "a normal"
        assert tails.df == pytest.approx(reference_df, rel=2e-2)
    else:
        assert tails.df > 200


def _two_piece(rng: np.random.Generator, size: int) -> np.ndarray:
    """Residuals that swing further up than down: rises |t(3)|·1.6 (3/8 of weeks), falls −|N(0, 0.9)|."""
    rises = rng.random(size) < 3 / 8
    up = np.abs(stats.t.rvs(3, scale=1.6, size=size, random_state=rng))
    down = -np.abs(stats.norm.rvs(scale=0.9, size=size, random_state=rng))
    return np.where(rises, up, down)


def test_skewed_tails_fit_each_side_as_scipy_fits_its_mirror_image():
    values = _two_piece(np.random.default_rng(5), 6000)
    tails = fit_skewed_tails(values)
    rises, falls = values[values > 0], values[values < 0]
    for side, fitted in ((rises, tails.up), (falls, tails.down)):
        reference_df, _, reference_scale = stats.t.fit(np.concatenate([side, -side]), floc=0)
        assert fitted.scale == pytest.approx(reference_scale, rel=5e-3)
        if reference_df < 1000:
            assert fitted.df == pytest.approx(reference_df, rel=5e-2)
    assert tails.up_share == pytest.approx(rises.size / values.size)


def test_symmetric_residuals_keep_one_t_for_both_sides():
    rng = np.random.default_rng(6)
    symmetric = stats.t.rvs(5, scale=1.2, size=6000, random_state=rng)
    tails = fit_skewed_tails(symmetric)
    assert tails.up == tails.down and tails.up_share == 0.5
    reference_df, _, reference_scale = stats.t.fit(symmetric, floc=0)
    assert tails.up.scale == pytest.approx(reference_scale, rel=5e-3)
    # skew that only the newest weeks show (a drift under way) is judged on the reference weeks: no skew there
    skewed_now = np.concatenate([symmetric, np.abs(stats.t.rvs(2, scale=3, size=1500, random_state=rng))])
    judged_on_all, judged_on_reference = fit_skewed_tails(skewed_now), fit_skewed_tails(skewed_now, symmetric)
    assert judged_on_all.up != judged_on_all.down
    assert judged_on_reference.up == judged_on_reference.down


def test_skewed_tails_give_each_side_its_share_of_small_p_values_where_a_symmetric_fit_does_not():
    rng = np.random.default_rng(8)
    history, fresh = _two_piece(rng, 20_000), _two_piece(rng, 400_000)
    skewed = fit_skewed_tails(history).p_value(fresh)
    symmetric = fit_tails(history).p_value(fresh)
    for level in (0.01, 0.001):  # calibrated: each side holds level / 2 of the draws (give or take the fit)
        for side in (fresh > 0, fresh < 0):
            assert 0.6 < np.mean((skewed < level) & side) / (level / 2) < 1.35
        assert np.mean((symmetric < level) & (fresh > 0)) / (level / 2) > 1.4  # quiet rises flagged too often


@pytest.mark.parametrize(("shape", "lower_tail"), [(1.0, False), (4.0, False), (25.0, True)])
def test_normal_score_gives_a_skewed_variables_tail_probability(shape, lower_tail):
    # a gamma variable with skewness 2/√shape, standardised: the normal score's tail is scipy's gamma tail
    # (Wilson–Hilferty is a little conservative far out in the long tail, and only good in the short one when
    # the skew is mild: a small cell's falls are never material)
    gamma, skewness = stats.gamma(shape), 2 / np.sqrt(shape)
    for p in (1e-2, 1e-4) if shape < 4 else (1e-2, 1e-4, 1e-6):
        upper = (gamma.isf(p) - shape) / np.sqrt(shape)
        assert 0.9 < stats.norm.sf(normal_score(upper, skewness)) / p < 2.0
        if lower_tail:
            lower = (gamma.ppf(p) - shape) / np.sqrt(shape)
            assert stats.norm.cdf(normal_score(lower, skewness)) == pytest.approx(p, rel=0.3)
    # 9 events where 2 were expected: Poisson mid-p 1.9e-4 (exact 2.4e-4), not the normal 1e-6
    score = normal_score((9 - 2) / np.sqrt(2), 1 / np.sqrt(2))
    assert 1e-4 < stats.norm.sf(score) < 3e-4
    assert normal_score(np.array([-0.05, 0.0, 2.0]), 0.0).tolist() == [-0.05, 0.0, 2.0]
    assert normal_score(-0.05, 1.5) <= 0  # the shift γ/6 never flips a move's sign


def test_a_small_cells_noise_is_taken_at_its_usual_level_not_a_line_that_came_out_low():
    values = np.array([[6.0, 5, 7, 6, 5, 6, 7, 6, 2, 1, 1, 0]])
    frame = pd.DataFrame({"market": "M0", "period": WEEKS[:12], "numerator": values[0], "denominator": 1.0,
                          "units": values[0], "sum_x2": values[0], "sum_y2": 1.0, "sum_xy": 0.0,
                          "value": values[0]})
    series = CellSeries.from_frame(frame, ["market"], WEEKS[:12], "count")
    baseline = rolling_baseline(series, 11, history=12, end=11)
    assert baseline.level[0] < 2  # the line through the last weeks' fall
    assert baseline.noise_level[0] == pytest.approx(values[0, :11].mean())


def test_small_count_cells_leave_out_few_usual_weeks_from_their_baselines():
    # Poisson cells of mean 4 and 8 with nothing happening: a week stands |z| ≥ 3 out about 0.3 % of the time
    # (a little more, being discrete); with the variance taken at a line that came out low it was 5–7 times that
    rng = np.random.default_rng(23)
    means = np.repeat(rng.choice([4.0, 8.0], size=(4000, 1)), len(WEEKS), axis=1)
    table = judged(count_frame(means, rng), "count")
    judged_weeks = len(WEEKS) - 1 - 4  # weeks before the newest with a baseline (≥ 4 weeks of history)
    left_out = table["flagged_weeks"].map(len).mean() / judged_weeks
    assert left_out < 2 * 2 * stats.norm.sf(3)


def test_depth_two_scans_pair_cells_with_the_metric_layers_numbers(small):
    from gnelib import metrics

    table = scan(connect(small), "2026-W45", metrics=["refund_rate"], markets=["ID"], depth=2)
    pairs = table[table["dimension"] == "channel × carrier"]
    single = scan(connect(small), "2026-W45", metrics=["refund_rate"], markets=["ID"])
    assert not single["dimension"].str.contains("×").any() and len(pairs) > 0
    read_week = pairs["read_week"].iloc[0]
    frame = metrics.compute(connect(small), "refund_rate", weeks=read_week, by=["channel", "carrier"],
                            where={"market": "ID"}, horizon_days=int(pairs["horizon_days"].iloc[0]))
    expected = {f"{row.channel} × {row.carrier}": row.value for row in frame.itertuples(index=False)}
    week_rows = pairs[pairs["comparison"] == "week"]
    assert len(week_rows) > 0
    for row in week_rows.itertuples(index=False):
        assert row.current == pytest.approx(expected[row.segment])


def clustered_ratio_frame(rate: float, sellers: int, orders_per_seller: int, cells: int,
                          rng: np.random.Generator) -> pd.DataFrame:
    """A 0/1 order-level share whose rows are clustered by seller, as the metric layer reports them: units are
    sellers (not orders), Σx², Σy², Σxy per seller, and some sellers' unshipped orders left out by a filter."""
    rows = []
    for cell in range(cells):
        for period in WEEKS:
            n = rng.poisson(orders_per_seller, size=sellers) + 1
            x = rng.binomial(n, rate)
            rows.append({"market": f"M{cell}", "period": period, "numerator": float(x.sum()),
                         "denominator": float(n.sum()), "units": float(sellers), "sum_x2": float((x**2).sum()),
                         "sum_y2": float((n**2).sum()), "sum_xy": float((x * n).sum()),
                         "value": x.sum() / n.sum()})
    return pd.DataFrame(rows)


def test_a_clustered_share_near_one_is_judged_by_its_binomial_spread():
    # 98 % valid tracking: b(1 − b) = 0.0196, while a Poisson floor b = 0.98 would make the variance 50× too
    # large (the scan called nothing there and its p-values bunched towards 1, KS D = 0.3 on real warehouses)
    rng = np.random.default_rng(11)
    series = CellSeries.from_frame(clustered_ratio_frame(0.98, 150, 8, 300, rng), ["market"], WEEKS, "ratio")
    assert not series.binary.any() and series.proportion.all()
    table = assess(series, history=12)
    p = table["p_value"].to_numpy()
    assert stats.kstest(p, stats.uniform(0, 1).cdf).pvalue > 0.001
    assert 0.02 < np.mean(p < 0.05) < 0.08
    expected = 0.98 * 0.02 / (150 * 9)  # binomial variance of the week's share (≈ 9 orders per seller)
    assert table["phi"].iloc[0] * 0.98 * 0.02 / (150 * 9) + table["tau2"].iloc[0] * 0.98**2 == pytest.approx(
        expected, rel=0.25)


def test_a_drift_window_never_holds_a_week_already_flagged():
    # every cell's count jumps 20 % three weeks ago (a mega-sale): that week is flagged and left out of baselines,
    # and no window reaching back to it may report it again as a "drift" of the newest week
    rng = np.random.default_rng(12)
    means = np.full((300, len(WEEKS)), 2000.0)
    means[:, -3] *= 1.2
    table = judged(count_frame(means, rng), "count")
    windows = table[table["comparison"] == "window"]
    assert (windows["window_weeks"] < 3).all()
    assert np.mean([WEEKS[-3] in weeks for weeks in table["flagged_weeks"]]) > 0.9


@pytest.mark.parametrize("windows", [(2, 3), (2, 3, 4), (2, 3, 4, 5)])
@pytest.mark.parametrize("z", [2.0, 3.0, 3.5])
def test_window_correction_is_the_chance_that_any_nested_window_goes_as_far(windows, z):
    """Independent check: the nested window means of iid N(0, 1) weeks are jointly normal with correlation
    √(shorter/longer); scipy's multivariate normal gives P(some |z_m| ≥ z) directly."""
    corr = np.sqrt(np.minimum.outer(windows, windows) / np.maximum.outer(windows, windows))
    joint = stats.multivariate_normal(np.zeros(len(windows)), corr, abseps=1e-12, releps=1e-8, maxpts=1_000_000)
    any_beyond = 1 - joint.cdf(np.full(len(windows), z), lower_limit=np.full(len(windows), -z))
    one_window = 2 * stats.norm.sf(z)
    corrected = window_family_p(np.array([one_window]), windows)[0]
    assert corrected == pytest.approx(any_beyond, rel=0.01)
    assert one_window < corrected < len(windows) * one_window


def test_window_correction_never_exceeds_bonferroni_nor_one():
    p = np.array([1.0, 0.3, 1e-3, 1e-12, 1e-30, 0.0])
    corrected = window_family_p(p, (2, 3, 4, 5))
    assert np.all(corrected <= np.minimum(1.0, 4 * p)) and np.all(corrected >= p)
    assert corrected[0] == 1.0 and corrected[-1] == 0.0
    np.testing.assert_array_equal(window_family_p(p, (2,)), p)
