"""Labels from data are plain text: a category, channel or title with `$...$` or TeX is drawn as written.

Real matplotlib rendering (Agg, PNG) with matplotlib's default rcParams (mathtext on) and with the report theme.
"""

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from gnelib.views.experiment_readout import effect_chart  # noqa: E402
from gnelib.viz import charts, use_theme  # noqa: E402

HOSTILE = [
    r"$\href{https://evil.example}{x}$",  # the reported crash: \href is not a mathtext command
    r"$x^$",  # malformed formula
    r"$\frac{1}{$",
    "refund $5 and $10",  # two dollars make a formula
    r"\$",
    "$$",
    "$",
    "plain category",
]


@pytest.fixture(params=["matplotlib defaults", "report theme"])
def style(request):
    """Render under matplotlib's defaults (mathtext on) and under the report theme."""
    with matplotlib.rc_context():
        if request.param == "matplotlib defaults":
            matplotlib.rcdefaults()
        else:
            use_theme()
        yield request.param
    plt.close("all")


def render(ax) -> bytes:
    """Draw the figure to PNG, as the notebook's inline backend does."""
    buffer = io.BytesIO()
    ax.figure.savefig(buffer, format="png")
    return buffer.getvalue()


def shown_labels(ax, axis: str) -> list[str]:
    ax.figure.canvas.draw()
    labels = ax.get_yticklabels() if axis == "y" else ax.get_xticklabels()
    return [label.get_text() for label in labels]


def segment_frame(labels: list[str]) -> pd.DataFrame:
    rows = []
    for position, label in enumerate(labels):
        for period, rate in (("2026-W46", 0.1), ("2026-W47", 0.12)):
            rows.append({"category": label, "period": period, "value": rate + position / 100,
                         "denominator": 100 - position})
    return pd.DataFrame(rows)


def test_the_hostile_labels_really_break_mathtext():
    """Control: without plain text, matplotlib fails on the reported label (so the tests below can fail)."""
    figure = plt.figure()
    figure.text(0.5, 0.5, HOSTILE[0], parse_math=True)
    with pytest.raises(ValueError):
        figure.savefig(io.BytesIO(), format="png")
    plt.close(figure)


def test_segment_rate_chart_draws_hostile_categories_as_written(style):
    ax = charts.segment_rate_chart(segment_frame(HOSTILE), dimension="category", baseline="2026-W46",
                                   current="2026-W47", title=HOSTILE[0], fmt="percent")
    assert render(ax).startswith(b"\x89PNG")
    assert shown_labels(ax, "y") == HOSTILE
    assert ax.get_title() == HOSTILE[0]
    assert not any(text.get_parse_math() for text in ax.findobj(Text) if text.get_text())


def test_contribution_chart_draws_hostile_segments_as_written(style):
    table = pd.DataFrame({"channel": HOSTILE, "rate_part": [0.01 * (i + 1) for i in range(len(HOSTILE))],
                          "mix_part": [-0.002 * i for i in range(len(HOSTILE))]})
    ax = charts.contribution_chart(table, label="channel", parts=["rate_part", "mix_part"], title=HOSTILE[3],
                                   fmt="pp", top=len(HOSTILE))
    assert render(ax).startswith(b"\x89PNG")
    assert sorted(shown_labels(ax, "y")) == sorted(HOSTILE)


def test_trend_chart_title_is_plain_text(style):
    weeks = pd.date_range("2026-09-07", periods=6, freq="W-MON")
    frame = pd.DataFrame({"period": [f"2026-W{37 + i}" for i in range(6)], "period_start": weeks,
                          "value": [0.1, 0.11, 0.12, 0.1, 0.13, 0.12], "is_mature": True})
    ax = charts.trend_chart(frame, title=HOSTILE[1], fmt="percent", highlight="2026-W42")
    assert render(ax).startswith(b"\x89PNG")
    assert ax.get_title() == HOSTILE[1]


def test_the_experiment_effect_chart_draws_hostile_measure_labels(style):
    table = pd.DataFrame({"label": HOSTILE[:3], "role": ["primary", "guardrail", "guardrail"],
                          "relative": [0.05, -0.01, 0.0], "relative_ci_low": [0.01, -0.03, -0.02],
                          "relative_ci_high": [0.09, 0.01, 0.02]})
    ax = effect_chart(table)
    assert render(ax).startswith(b"\x89PNG")
    assert shown_labels(ax, "y") == HOSTILE[:3][::-1]


def test_the_report_theme_turns_mathtext_off_for_every_new_text():
    with matplotlib.rc_context():
        use_theme()
        assert matplotlib.rcParams["text.parse_math"] is False
        assert matplotlib.rcParams["text.usetex"] is False
        figure, ax = plt.subplots()
        ax.set_xticks([0, 1], [HOSTILE[0], HOSTILE[2]])  # a chart a template builds itself
        render(ax)
    plt.close("all")
