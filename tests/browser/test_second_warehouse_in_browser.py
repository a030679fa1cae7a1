"""The second warehouse's weekly plan in headless Chromium, as a stakeholder of that shop would read it: the generic
reports, one per region (the shop's grain), with sales in IDR; the index says why each domain template did not run.

The batch is the session's `shop_weekly_run` (tests/second_warehouse/fixtures.py), also checked by
tests/second_warehouse/test_weekly_plan.py: no second `gne run`.
"""

import duckdb
import pytest
from playwright.sync_api import Browser
from second_warehouse.fixtures import GENERIC, REGIONS, SKIPPED, WEEK, ShopRun

from browser import chromium as cr
from gnelib.periods import week_range

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def pages(shop_weekly_run: ShopRun, browser: Browser, artifacts_dir) -> dict[tuple[str, str], dict]:
    """Every generic report and the index, each visited once: visible text, header facts, log, broken images."""
    seen = {}
    slots = [(template, region) for template in GENERIC for region in REGIONS] + [("index", "")]
    for template, region in slots:
        path = (shop_weekly_run.reports_dir / "index.html" if template == "index"
                else shop_weekly_run.reports_dir / WEEK / region / f"{template}.html")
        with cr.open_page(browser, path) as (page, log):
            page.screenshot(path=artifacts_dir / f"shop-{template}-{region}.png".replace("-.png", ".png"),
                            full_page=True)
            seen[template, region] = {
                "text": cr.visible_text(page),
                "facts": dict(zip(page.locator(".gne-facts dt").all_inner_texts(),
                                  page.locator(".gne-facts dd").all_inner_texts(), strict=True)),
                "skipped": {name: page.locator(f'tr:has(th[title="{name}"]) td.gne-skipped').all_inner_texts()
                            for name in SKIPPED},
                "log": log,
                "broken_images": cr.broken_images(page),
                "images": cr.image_count(page),
            }
    return seen


def sales_idr(shop, region: str) -> float:
    """Sales of `region` in the report week, straight from the shop's table (the catalog's `sales_idr`)."""
    start, end = week_range(WEEK)
    with duckdb.connect(str(shop / "shop.duckdb"), read_only=True) as con:
        return con.execute("SELECT SUM(price_idr) FROM sales_orders WHERE region = ? AND NOT is_cancelled "
                           "AND created_ts >= ? AND created_ts < ?", [region, start, end]).fetchone()[0]


@pytest.mark.parametrize("template", GENERIC)
@pytest.mark.parametrize("region", REGIONS)
def test_generic_report_reads_per_region_without_errors(pages, template, region):
    seen = pages[template, region]
    assert region in seen["facts"].values() and WEEK in seen["facts"].values(), seen["facts"]
    assert seen["log"].console_errors == [] and seen["log"].page_errors == [] and seen["log"].dialogs == []
    assert seen["images"] > 0 and seen["broken_images"] == []
    assert "Traceback" not in seen["text"] and "$" not in seen["text"]  # no code, no US-dollar amounts


@pytest.mark.parametrize("region", REGIONS)
def test_scorecard_shows_the_regions_sales_in_idr(pages, shop, region):
    text = pages["weekly_scorecard", region]["text"]
    assert f"IDR {sales_idr(shop, region):,.0f}" in text


def test_index_says_why_each_domain_template_did_not_run(pages):
    index = pages["index", ""]
    for template, reason in SKIPPED.items():
        cells = index["skipped"][template]
        assert len(cells) == 1 and f"skipped — not run on this warehouse: {reason}" in " ".join(cells[0].split()), cells
    for region in REGIONS:
        assert region in index["text"]
    assert index["log"].console_errors == [] and index["log"].page_errors == []
