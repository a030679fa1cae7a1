"""Mix/rate and additive decomposition: hand-worked examples and the exact sum identity on random data."""

import numpy as np
import pandas as pd
import pytest

from gnelib.analysis.decomposition import decompose, decompose_additive, decompose_ratio
from gnelib.analysis.errors import AnalysisError


def segments(values: dict[str, tuple[float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"channel": key, "numerator": x, "denominator": n} for key, (x, n) in values.items()]
    )


def test_hand_worked_two_segments():
    # A: 10/100 → 30/200 (10% → 15%); B: 90/900 → 40/800 (10% → 5%). Shares 0.1 → 0.2 and 0.9 → 0.8.
    # R0 = 100/1000 = 10%, R1 = 70/1000 = 7%, ΔR = −3 pp.
    # Shapley, uncentred: mix_A = 0.1 × 12.5% = 1.25 pp, rate_A = 5% × 0.15 = 0.75 pp;
    #                     mix_B = −0.1 × 7.5% = −0.75 pp, rate_B = −5% × 0.85 = −4.25 pp.
    before = segments({"A": (10, 100), "B": (90, 900)})
    after = segments({"A": (30, 200), "B": (40, 800)})
    table = decompose_ratio(before, after, "channel", centred=False).set_index("channel")
    assert table.loc["A", "mix"] == pytest.approx(0.0125) and table.loc["A", "rate"] == pytest.approx(0.0075)
    assert table.loc["B", "mix"] == pytest.approx(-0.0075) and table.loc["B", "rate"] == pytest.approx(
        -0.0425
    )
    assert table.attrs["delta"] == pytest.approx(-0.03)
    # centred: subtract (R0 + R1)/2 = 8.5% from each segment's mean rate → mix_A = 0.1 × 4% = 0.4 pp,
    # mix_B = −0.1 × (−1%) = 0.1 pp.
    centred = decompose_ratio(before, after, "channel").set_index("channel")
    assert centred.loc["A", "mix"] == pytest.approx(0.004) and centred.loc["B", "mix"] == pytest.approx(0.001)
    assert centred["rate"].to_dict() == pytest.approx(table["rate"].to_dict())
    assert list(centred.index) == ["B", "A"]  # ranked by |mix + rate|


def test_pure_mix_shift_has_zero_rate_effect():
    before = segments({"live": (50, 1000), "search": (20, 1000)})
    after = segments({"live": (75, 1500), "search": (10, 500)})
    table = decompose_ratio(before, after, "channel")
    assert table["rate"].abs().max() == 0
    assert table["mix"].sum() == pytest.approx(table.attrs["delta"]) and table.attrs["delta"] > 0
    assert (table["mix"] > 0).all()  # live gained share at an above-average rate; search lost share below it


def test_segment_missing_in_one_period_is_all_mix():
    before = segments({"A": (10, 100), "B": (5, 100)})
    after = segments({"A": (12, 100), "C": (30, 100)})
    table = decompose_ratio(before, after, "channel").set_index("channel")
    assert table.loc[["B", "C"], "rate"].abs().max() == 0
    assert np.isnan(table.loc["C", "baseline_rate"]) and table.loc["C", "current_rate"] == 0.3
    assert table["total"].sum() == pytest.approx(42 / 200 - 15 / 200, abs=1e-15)


@pytest.mark.parametrize("seed", range(20))
def test_sum_identity_on_random_data(seed):
    rng = np.random.default_rng(seed)
    keys = [f"s{i}" for i in range(rng.integers(2, 30))]
    before, after = (
        pd.DataFrame({"seg": keys, "denominator": rng.integers(1, 10_000, len(keys)).astype(float)})
        for _ in range(2)
    )
    for frame in (before, after):
        frame["numerator"] = frame["denominator"] * rng.uniform(0, 0.2, len(keys))
    after = after.sample(frac=0.8, random_state=seed)  # some segments retire
    for centred in (True, False):
        table = decompose_ratio(before, after, "seg", centred)
        expected = (
            after["numerator"].sum() / after["denominator"].sum()
            - before["numerator"].sum() / before["denominator"].sum()
        )
        assert table["mix"].sum() + table["rate"].sum() == pytest.approx(expected, abs=1e-12)
        assert table["share_of_change"].sum() == pytest.approx(1.0, abs=1e-9)


def test_additive_contribution_is_the_segment_delta():
    before = pd.DataFrame({"category": ["a", "b", "c"], "numerator": [100.0, 50.0, 10.0]})
    after = pd.DataFrame({"category": ["a", "b", "d"], "numerator": [90.0, 80.0, 5.0]})
    table = decompose_additive(before, after, "category").set_index("category")
    assert table["total"].to_dict() == {"a": -10.0, "b": 30.0, "c": -10.0, "d": 5.0}
    assert table["share_of_change"].sum() == pytest.approx(1.0)


def test_decompose_metric_frame_with_trailing_baseline():
    frame = pd.DataFrame(
        {
            "period": ["W1", "W1", "W2", "W2", "W3", "W3"],
            "channel": ["live", "mall"] * 3,
            "numerator": [10.0, 5.0, 14.0, 7.0, 30.0, 6.0],
            "denominator": [100.0, 100.0, 100.0, 100.0, 200.0, 100.0],
        }
    )
    table = decompose(frame, "channel", ["W1", "W2"], "W3", kind="ratio")
    assert table.attrs["baseline_value"] == pytest.approx(36 / 400)
    assert table.attrs["current_value"] == pytest.approx(36 / 300)
    counts = decompose(frame, "channel", ["W1", "W2"], "W3", kind="count").set_index("channel")
    assert counts.loc["live", "total"] == pytest.approx(30 - 12)


def test_decompose_names_the_missing_dimension():
    frame = pd.DataFrame({"period": ["W1"], "numerator": [1.0], "denominator": [2.0]})
    with pytest.raises(AnalysisError, match="'carrier'.*by=\\['carrier'\\]"):
        decompose(frame, "carrier", "W0", "W1")
