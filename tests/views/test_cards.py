"""Headline cards (issue 17 items 2, 4, 5): a card table names the week each value belongs to (a late-arriving
metric reads an older week than the report's), the trailing-weeks card that stands in for the scan on market `all`
recomputed in pandas, and a per-1k deep dive shown in percent reads the scan the batch stored."""

import html
import re

import pandas as pd
import pytest
from statsmodels.stats.proportion import proportions_ztest

from gnelib import metrics
from gnelib.analysis.deep_dive import deep_dive
from gnelib.analysis.detection import scan_metric
from gnelib.analysis.headlines import in_page_unit
from gnelib.analysis.maturity import reading
from gnelib.formats import format_change, format_value
from gnelib.metrics.store import MANIFEST, STORE_ENV
from gnelib.notebook import ALL_MARKETS
from gnelib.views.common import cards_table, scan_card
from gnelib.warehouse import connect

WEEK = "2026-W47"
HEADERS = re.compile(r"<th[^>]*>(.*?)</th>", re.S)


def headers(table: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in HEADERS.findall(table)]


def test_a_late_arriving_metric_names_its_read_week(conn):
    """Refund rate (fixed horizon) reads an older week than the report's: alone its value header names that week;
    beside a metric read in the report week, each row names its own week in a Week column."""
    read_week = reading(conn, metrics.get("refund_rate"), WEEK).read_week
    assert read_week < WEEK  # the case this is about: the report week is too recent for refunds
    refund = scan_card(conn, "refund_rate", "TH", WEEK)
    removals = scan_card(conn, "listings_removed", "TH", WEEK)
    assert refund.week == read_week[5:] and removals.week == WEEK[5:]
    alone = headers(cards_table([refund]))
    assert alone[:3] == ["Metric", f"Value, {read_week[5:]}", "Change"]
    mixed = cards_table([refund, removals])
    assert headers(mixed) == ["Metric", "Value", "Change", "Week"]
    assert "this week" not in mixed
    cells = [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", mixed, re.S)]
    assert cells[3] == read_week[5:] and cells[7] == WEEK[5:]
    assert cells[1] == refund.value and f"{read_week[5:]} vs " in cells[2]


def test_the_all_markets_card_matches_a_pandas_recomputation(conn, raw):
    """No scan row for market `all`: the card compares the week with its 4 previous weeks pooled. Listing
    violation rate recomputed from the moderation rows: value, change against the pooled weeks, and its tone."""
    card = scan_card(conn, "listing_violation_rate", ALL_MARKETS, WEEK)
    reviews = raw["listing_moderation"]
    before_weeks = ["2026-W43", "2026-W44", "2026-W45", "2026-W46"]
    now = reviews[reviews["week"] == WEEK]
    before = reviews[reviews["week"].isin(before_weeks)]
    removed_now, removed_before = (now["decision"] == "removed").sum(), (before["decision"] == "removed").sum()
    current, baseline = removed_now / len(now), removed_before / len(before)
    assert card.value == format_value(current, "percent")
    assert card.week == "W47"
    assert card.change.startswith(f"{format_change(current - baseline, 'percent')} vs avg W43–W46")
    _, p_value = proportions_ztest([removed_before, removed_now], [len(before), len(now)])
    if p_value < 0.01:  # the warehouse's delta-method test agrees with a plain z test far from the line
        assert card.tone == ("bad" if current > baseline else "good")
    elif p_value > 0.2:
        assert card.tone == ""
    assert "provisional" not in card.change  # a moderation week is final once it ends


@pytest.fixture
def store(tmp_path, monkeypatch):
    """An empty batch aggregate store, active for this test."""
    (tmp_path / MANIFEST).write_text("[]")
    monkeypatch.setenv(STORE_ENV, str(tmp_path))
    return tmp_path


def test_a_per_1k_deep_dive_in_percent_reads_the_stored_scan(small_warehouse, store):
    """The scorecard deep-dives a per-1k rate as a percent copy of its definition: it must read the scan the batch
    stored for the catalog's definition. Mark the stored table to see it is read (a fresh connection: no
    in-process cache), and check no second scan was stored."""
    catalog_definition = metrics.get("seller_ban_rate")
    shown = in_page_unit(catalog_definition)
    assert catalog_definition.format != "percent" and shown.format == "percent"
    scan_metric(connect(small_warehouse), catalog_definition, WEEK)
    kept = sorted((store / "tables").glob(f"scan-seller_ban_rate-{WEEK}-*.parquet"))
    assert len(kept) == 1
    marked = pd.read_parquet(kept[0])
    marked["baseline_weeks"] = 99
    marked.to_parquet(kept[0], index=False)
    result = deep_dive(connect(small_warehouse), shown, "VN", WEEK)
    assert result.finding is not None and int(result.finding["baseline_weeks"]) == 99
    assert result.metric.format == "percent"  # the page still shows its own unit
    assert sorted((store / "tables").glob(f"scan-seller_ban_rate-{WEEK}-*.parquet")) == kept
