"""Seller-written text (hostile shop names and listing titles) is shown as text, never run as markup."""

from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import Browser

from browser import chromium as cr
from browser.report_build import SELLER_TEXT_MARKET, SELLER_TEXT_TEMPLATE, BuiltReports
from gnelib.warehouse.hostile_text import HOSTILE_STRINGS, LONG_TEXT_CHARS

pytestmark = pytest.mark.browser

SCRIPT_TEXT = "<script>alert(1)</script>"
IMG_TEXT = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def hostile_in_market(built_reports: BuiltReports) -> set[str]:
    """The hostile strings present among the market's listing titles or shop names, read straight from DuckDB."""
    con = duckdb.connect(str(built_reports.warehouse), read_only=True)
    try:
        rows = con.execute(
            "SELECT title FROM listings WHERE market = $m UNION SELECT display_name FROM sellers WHERE market = $m",
            {"m": SELLER_TEXT_MARKET},
        ).fetchall()
    finally:
        con.close()
    present = {row[0] for row in rows} & set(HOSTILE_STRINGS)
    assert {SCRIPT_TEXT, IMG_TEXT} <= present, "the demo warehouse no longer plants markup in seller text"
    return present


@pytest.fixture(scope="module")
def seller_text_page(built_reports: BuiltReports, browser: Browser, artifacts_dir: Path):
    """(visible text, marker/DOM facts, page log) of the fixture report that shows seller-written text."""
    path = built_reports.html(SELLER_TEXT_TEMPLATE, SELLER_TEXT_MARKET)
    assert path.is_file(), built_reports.output
    with cr.open_page(browser, path) as (page, log):
        page.wait_for_timeout(300)  # give an injected onerror handler time to fire
        facts = page.evaluate(
            """() => ({
              pwned: window.__pwned || null,
              imgX: [...document.images].filter(i => i.getAttribute('src') === 'x').length,
              onerror: document.querySelectorAll('[onerror]').length,
              alertScripts: [...document.scripts].filter(s => s.textContent.includes('alert(')).length,
              cells: document.querySelectorAll('table.gne-table td').length,
            })"""
        )
        facts["width"] = cr.page_width(page)
        facts["clipped"] = cr.clipped_elements(page)
        facts["broken_words"] = cr.broken_short_words(page)
        text = cr.visible_text(page)
        page.screenshot(path=artifacts_dir / f"{SELLER_TEXT_TEMPLATE}-{SELLER_TEXT_MARKET}.png", full_page=True)
    return text, facts, log


def test_no_injected_script_runs(seller_text_page):
    _, facts, log = seller_text_page
    assert facts["cells"] > 0, "the fixture report shows no table"
    assert log.dialogs == []
    assert facts["pwned"] is None
    assert facts["imgX"] == 0
    assert facts["onerror"] == 0
    assert facts["alertScripts"] == 0
    assert log.page_errors == [] and log.console_errors == []


def test_markup_is_shown_as_literal_text(seller_text_page, hostile_in_market):
    text, _, _ = seller_text_page
    assert SCRIPT_TEXT in text
    assert IMG_TEXT in text


def test_every_hostile_string_in_the_market_is_shown_intact(seller_text_page, hostile_in_market):
    text, _, _ = seller_text_page
    missing = [value[:60] for value in hostile_in_market if value not in text]
    assert missing == []
    assert any(len(value) == LONG_TEXT_CHARS for value in hostile_in_market)


def test_long_and_right_to_left_text_keep_the_page_readable(seller_text_page):
    _, facts, _ = seller_text_page
    assert facts["width"] <= cr.LAPTOP_WIDTH
    assert facts["clipped"] == []
    assert facts["broken_words"] == [], "a 5,000-character title squeezes the other columns to a letter's width"
