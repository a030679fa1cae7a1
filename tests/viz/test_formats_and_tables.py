import pandas as pd

from gnelib.formats import format_change, format_p_value, format_relative, format_value
from gnelib.viz.tables import change_tone, html_table


def test_values_are_written_in_the_metric_format():
    assert format_value(0.0213, "percent") == "2.1%"
    assert format_value(0.134, "percent") == "13.4%"
    assert format_value(0.0042, "per_1k") == "4.20 per 1k"
    assert format_value(18.46, "hours") == "18.5 h"
    assert format_value(12345.6, "currency") == "$12,346"
    assert format_value(4512, "count") == "4,512"
    assert format_value(float("nan"), "percent") == "–"


def test_changes_use_percentage_points_and_signs():
    assert format_change(0.013, "percent") == "+1.3 pp"
    assert format_change(-0.0042, "percent") == "-0.42 pp"
    assert format_change(-2.0, "hours") == "-2.0 h"
    assert format_relative(0.62) == "+62%"
    assert format_relative(-0.034) == "-3.4%"
    assert format_p_value(0.0002) == "p < 0.001"
    assert format_p_value(0.2345) == "p = 0.23"


def test_table_escapes_data_and_colours_by_direction():
    frame = pd.DataFrame({"seller": ["<script>alert(1)</script>", "ok"], "delta": [0.02, -0.01]})
    tone = change_tone(frame["delta"], "lower_is_better")
    assert tone.tolist() == ["bad", "good"]
    out = html_table(frame, tone={"delta": tone})
    assert "<script>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert 'class="gne-bad gne-num gne-nowrap"' in out and 'class="gne-good gne-num gne-nowrap"' in out


def test_tone_is_blank_when_not_significant_or_neutral():
    delta = pd.Series([0.02, -0.01])
    assert change_tone(delta, "higher_is_better", pd.Series([True, False])).tolist() == ["good", ""]
    assert change_tone(delta, "neutral").tolist() == ["", ""]
