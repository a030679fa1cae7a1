"""One comparison, one number: a metric × market × week reads the same value, usual level, change and p-value on the
scorecard, the deep dive, the digest and an alert, and every sentence names the weeks it compares."""

import html
import re

import pytest

from gnelib import metrics
from gnelib.analysis.deep_dive import deep_dive
from gnelib.analysis.detection import findings, scan
from gnelib.config import Alerts
from gnelib.formats import format_change, format_p_value, format_value
from gnelib.reporting.alerts import chat_payload
from gnelib.reporting.digest import build_digest
from gnelib.views import deep_dive as dive_view
from gnelib.views import scorecard

WEEK = "2026-W47"
CELLS = [("late_delivery_rate", "TH"), ("appeal_overturn_rate", "MY")]
NAMES_WEEKS = re.compile(r"W\d\d(–W\d\d average)? vs W\d\d–W\d\d")


@pytest.fixture(scope="module")
def digest(conn):
    return build_digest(findings(scan(conn, WEEK)), findings(scan(conn, WEEK)).iloc[0:0], WEEK)


@pytest.fixture(scope="module")
def cards(conn):
    return {market: scorecard.build_scorecard(conn, market, WEEK) for market in {market for _, market in CELLS}}


@pytest.mark.parametrize(("metric", "market"), CELLS)
def test_the_same_cell_reads_the_same_on_every_page(conn, digest, cards, metric, market):
    definition = metrics.get(metric)
    card = cards[market]
    row = card.rows.set_index("metric").loc[metric]
    assert row["flag"] and row["verdict"] == "bad"
    shown = [
        format_value(row["current"], definition.format),
        format_value(row["baseline"], definition.format),
        format_change(row["abs_change"], definition.format),
        format_p_value(row["p_adjusted"]),
    ]
    table = scorecard.pillar_table(card, definition.pillar)
    assert all(text in html.unescape(table) for text in shown)
    result = deep_dive(conn, metric, market, WEEK)
    change = result.change
    assert (change.current, change.baseline, change.abs_change, change.p_value) == pytest.approx(
        (row["current"], row["baseline"], row["abs_change"], row["p_adjusted"])
    )
    assert all(text in result.insights[0].text for text in shown)
    assert [c.value for c in dive_view.headline_cards(result)[:2]] == shown[0:3:2]
    summary = next(i.text for i in card.insights if i.metric == metric and i.kind in ("change", "mix_shift"))
    assert all(text in summary for text in shown)
    entry = next(e for e in digest.entries if (e.metric, e.market) == (metric, market))
    assert entry.p_adjusted == row["p_adjusted"] and all(text in entry.sentence for text in shown)
    chat = chat_payload(
        [digest.only(lambda e: e == entry)],
        Alerts.model_validate({"webhook": {"url": "https://chat.example.com/hook"}}),
    )["blocks"][0]["text"]["text"]
    assert entry.sentence.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in chat
    for sentence in (summary, result.insights[0].text, entry.sentence):
        assert NAMES_WEEKS.search(sentence), sentence


def test_every_scorecard_sentence_names_its_weeks(cards):
    for card in cards.values():
        for insight in card.insights:
            assert re.search(r"\bW\d\d\b", insight.text), insight.text


def test_every_unusual_or_breaching_row_is_in_the_summary(cards):
    """A scorecard never says "no metric moved" beside a flagged or past-threshold row: each such row has its own
    key-insight sentence (MY's appeal-overturn collapse, which the listing-compliance report also raises, included)."""
    for card in cards.values():
        named = {insight.metric for insight in card.insights}
        loud = card.rows[card.rows["flag"] | card.rows["threshold_status"].isin(scorecard.BREACHES)]
        assert set(loud["metric"]) <= named
    assert "appeal_overturn_rate" in {insight.metric for insight in cards["MY"].insights}


def test_a_finding_says_how_many_orders_it_touches(conn, cards):
    """TH's late-delivery sentence names the week's shipped orders, counted here from the raw orders table."""
    shipped = conn.sql(
        "SELECT COUNT(*) AS n FROM orders WHERE market = 'TH' AND shipped_at IS NOT NULL "
        "AND ordered_at >= TIMESTAMP '2026-11-09' AND ordered_at < TIMESTAMP '2026-11-16'"
    )["n"].iloc[0]
    summary = next(i.text for i in cards["TH"].insights if i.metric == "late_delivery_rate" and i.kind == "change")
    assert f"it touches {shipped:,} orders in W46" in summary


def test_sibling_rates_share_one_unit_on_the_scorecard_and_the_digest(cards, digest):
    """The catalog keeps counterfeit and damaged claim rates per 1k; beside the percent rates of their pillar (and in
    the digest) they read in percent: 3.26 per 1k is 0.33%."""
    card = cards["TH"]
    table = scorecard.pillar_table(card, "authentic_products")
    counterfeit = card.rows.set_index("metric").loc["counterfeit_claim_rate", "current"]
    assert metrics.get("counterfeit_claim_rate").format == "per_1k"
    assert "per 1k" not in table and format_value(counterfeit, "percent") in table
    assert not [entry.sentence for entry in digest.entries if "per 1k" in entry.sentence]


def test_a_domain_page_card_reads_the_scorecard_row(conn, cards):
    """Listing compliance's appeal-overturn card for MY shows the scorecard row's value, change, weeks, p-value and
    verdict (it once compared the raw week with the trailing weeks: 20.9 %, in line, beside the scorecard's 42.9 %
    at p < 0.001)."""
    from gnelib.views import listing_compliance

    definition = metrics.get("appeal_overturn_rate")
    row = cards["MY"].rows.set_index("metric").loc["appeal_overturn_rate"]
    card = next(c for c in listing_compliance.headline_cards(conn, "MY", WEEK) if c.label == definition.title)
    assert card.value == format_value(row["current"], definition.format)
    assert format_change(row["abs_change"], definition.format) in card.change
    assert format_p_value(row["p_adjusted"]) in card.change and NAMES_WEEKS.search(card.change)
    assert card.tone == row["verdict"] == "bad"
