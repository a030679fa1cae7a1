"""Insight sentences: numbers per metric format, good/bad per direction, HTML escaping, ranking."""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from analysis_cubes import CHANNELS, order_cube

from gnelib import metrics
from gnelib.analysis.concentration import seller_concentration
from gnelib.analysis.insights import (
    build_insights,
    confidence_of,
    describe_change,
    describe_immature,
    describe_no_change,
    judge,
)
from gnelib.analysis.root_cause import cube_frames, explain_change
from gnelib.analysis.significance import Change, two_proportion_test


@dataclass(frozen=True)
class Definition:
    """The catalog fields insights read (gnelib.metrics.Metric has them all)."""

    name: str = "refund_rate"
    title: str = "Refund rate"
    kind: str = "ratio"
    direction: str = "lower_is_better"
    format: str = "percent"
    unit: str = "seller"
    maturity_days: int = 30
    source: str = "orders"
    denominator: str = "COUNT(*)"
    thresholds: object = None


def test_change_sentence_reads_like_the_brief():
    change = two_proportion_test(210, 10_000, 340, 10_000)
    text = describe_change(Definition(), change, "ID")
    assert text == "Refund rate in ID rose from 2.1% to 3.4% week over week (+1.3 pp, p < 0.001)."


def test_non_percent_formats_carry_relative_change():
    change = Change(20.0, 23.0, 3.0, 0.15, 1.0, 5.0, 0.004, "test", True)
    text = describe_change(Definition(title="Hours to refund", format="hours", kind="duration"), change)
    assert text == "Hours to refund rose from 20.0 h to 23.0 h week over week (+3.0 h, +15%, p = 0.004)."


@pytest.mark.parametrize(
    ("direction", "movement", "verdict"),
    [
        ("lower_is_better", "up", "bad"),
        ("lower_is_better", "down", "good"),
        ("higher_is_better", "down", "bad"),
        ("higher_is_better", "up", "good"),
        ("neutral", "up", "neutral"),
        ("lower_is_better", "flat", "neutral"),
    ],
)
def test_judge(direction, movement, verdict):
    assert judge(direction, movement) == verdict


def test_confidence_levels():
    assert [confidence_of(p) for p in (0.0001, 0.01, 0.2, float("nan"))] == ["high", "medium", "low", "low"]


def test_no_change_and_immature_sentences():
    change = two_proportion_test(200, 10_000, 204, 10_000)
    text = describe_no_change(Definition(), change, "ID", "2026-W47")
    assert text.startswith(
        "Refund rate in ID was 2.0% in 2026-W47, in line with the previous week (2.0%; +0.04 pp"
    )
    assert "p = 0.8" in text
    caveat = describe_immature(Definition(), "2026-W47")
    assert "2026-W47 is not mature yet" in caveat and "30 days" in caveat and "provisional" in caveat


def test_significant_rise_with_driver(rng):
    before = order_cube(rng, "W1", 100_000, lambda cat, ch, ca: 0.02)
    after = order_cube(rng, "W2", 100_000, lambda cat, ch, ca: 0.06 if cat == "books" else 0.02)
    cube = pd.concat([before, after])
    root = explain_change(cube_frames(cube, ["category", "channel"]), "W1", "W2")
    totals = cube.groupby("period")[["numerator", "denominator"]].sum()
    change = two_proportion_test(*totals.loc["W1"], *totals.loc["W2"])
    insights = build_insights(Definition(), change, market="ID", week="W2", root_cause=root)
    headline = insights[0]
    assert headline.kind == "change" and headline.direction == "bad" and headline.severity == "alert"
    share = root.segments.iloc[0]["explained_share"]
    assert f"{share * 100:.0f}% of the rise comes from category books" in headline.text
    assert list(headline.evidence["value"][:1]) == ["books"]


def test_pure_mix_shift_sentence(rng):
    even = dict.fromkeys(CHANNELS, 0.25)
    shifted = {"live": 0.45, "short_video": 0.2, "mall": 0.17, "search": 0.18}
    rate = {"live": 0.06, "short_video": 0.03, "mall": 0.015, "search": 0.02}
    before = order_cube(rng, "W1", 200_000, lambda cat, ch, ca: rate[ch], even)
    after = order_cube(rng, "W2", 200_000, lambda cat, ch, ca: rate[ch], shifted)
    cube = pd.concat([before, after])
    root = explain_change(cube_frames(cube, ["category", "channel"]), "W1", "W2")
    totals = cube.groupby("period")[["numerator", "denominator"]].sum()
    change = two_proportion_test(*totals.loc["W1"], *totals.loc["W2"])
    headline = build_insights(Definition(), change, market="ID", root_cause=root)[0]
    assert headline.kind == "mix_shift"
    assert "because orders moved to channel live" in headline.text
    assert "where the rate is higher; each channel's own rate was flat." in headline.text


def test_html_escapes_text_and_evidence():
    hostile = "<script>alert('x')</script>"
    change = Change(0.02, 0.03, 0.01, 0.5, 0.005, 0.015, 1e-6, "test", True)
    insight = build_insights(Definition(title=hostile), change, market="ID")[0]
    insight.evidence = pd.DataFrame({"value": [hostile]})
    rendered = insight.to_html()
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered
    assert hostile in insight.text  # plain text stays as written


def test_the_finding_leads_and_the_maturity_note_follows_and_good_news_is_info():
    change = Change(0.03, 0.02, -0.01, -1 / 3, -0.012, -0.008, 1e-9, "test", True)
    insights = build_insights(Definition(), change, market="ID", week="2026-W47", is_mature=False)
    assert [insight.kind for insight in insights] == ["change", "maturity"]
    assert insights[0].direction == "good" and insights[0].severity == "info"
    quiet = build_insights(Definition(), two_proportion_test(200, 10_000, 204, 10_000), market="ID",
                           week="2026-W47", is_mature=False)
    assert [insight.kind for insight in quiet] == ["no_change", "maturity"]


def test_broad_based_rise_names_no_segment(rng):
    shares = {"live": 0.7, "short_video": 0.1, "mall": 0.1, "search": 0.1}
    before = order_cube(rng, "W1", 300_000, lambda cat, ch, ca: 0.03, shares)
    after = order_cube(rng, "W2", 300_000, lambda cat, ch, ca: 0.036, shares)
    cube = pd.concat([before, after])
    root = explain_change(cube_frames(cube, ["category", "channel"]), "W1", "W2")
    totals = cube.groupby("period")[["numerator", "denominator"]].sum()
    change = two_proportion_test(*totals.loc["W1"], *totals.loc["W2"])
    assert root.broad_based and change.significant
    insights = build_insights(Definition(), change, market="ID", week="W2", root_cause=root)
    assert [insight.kind for insight in insights] == ["change"]
    factor = root.dimensions["common_factor"].median()
    assert f"The rise is broad-based: every category and channel moved by about the same factor (×{factor:.2f})" \
        in insights[0].text
    assert "live" not in insights[0].text and "comes from" not in insights[0].text


def test_concentration_insight_follows_the_headline(rng):
    sellers = 200
    volumes = rng.lognormal(3.5, 0.8, sellers)
    rates = np.full(sellers, 0.02)
    bad = int(np.argmax(volumes))
    frames = []
    for period, factor in (("W1", 1.0), ("W2", 1.0)):
        orders = rng.poisson(volumes)
        period_rates = rates.copy()
        if period == "W2":
            period_rates[bad] = 0.3
        frames.append(pd.DataFrame({"period": period, "unit_id": np.arange(sellers),
                                    "numerator": rng.binomial(orders, period_rates * factor).astype(float),
                                    "denominator": orders.astype(float)}))
    samples = pd.concat(frames, ignore_index=True)
    found = seller_concentration(samples, "W1", "W2", "ratio")
    totals = samples.groupby("period")[["numerator", "denominator"]].sum()
    change = two_proportion_test(*totals.loc["W1"], *totals.loc["W2"])
    insights = build_insights(Definition(), change, market="ID", concentration=found)
    assert [insight.kind for insight in insights] == ["change", "concentration"]
    assert insights[1].text == found.describe() and f"seller {bad}" in insights[1].text
    assert list(insights[1].evidence["unit_id"]) == [bad]


def test_alert_threshold_from_the_catalog_metric():
    definition = metrics.get("late_dispatch_rate")
    change = Change(0.058, 0.062, 0.004, 0.069, 0.001, 0.007, 0.001, "test", True)
    assert definition.thresholds.alert < 0.062
    headline = build_insights(definition, change, market="GB")[0]
    assert headline.severity == "alert" and headline.text.startswith(f"{definition.title} in GB rose")


def test_no_change_sentence_names_the_comparison_the_headline_used():
    change = two_proportion_test(200, 10_000, 204, 10_000)
    text = build_insights(Definition(), change, market="ID", week="2026-W47",
                          comparison="against its usual level")[0].text
    assert "in line with its usual level (2.0%;" in text
    trailing = build_insights(Definition(), change, market="ID", comparison="against the 4-week average")[0]
    assert "in line with the 4-week average" in trailing.text
    assert "in line with the previous week" in build_insights(Definition(), change, market="ID")[0].text
