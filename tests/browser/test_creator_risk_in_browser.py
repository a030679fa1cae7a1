"""The creator-risk report as a stakeholder sees it in Chromium: its sections, charts, headline numbers and the
riskiest-creators table (creators by id only)."""

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from browser import chromium as cr
from browser.report_build import MARKETS, BuiltReports
from gnelib import metrics
from gnelib.views.creator_risk import HEALTH_METRICS, RISKY_CREATOR_COLUMNS

pytestmark = pytest.mark.browser

SECTIONS = (
    "Key insights",
    "Orders creators drive",
    "Creator content and strikes",
    "Acting on reported creators",
    "Riskiest creators this week",
)
CHARTS = 6  # two tier charts and four trends


@pytest.fixture(scope="module", params=MARKETS)
def creator_page(request, built_reports: BuiltReports, browser: Browser, artifacts_dir: Path) -> dict:
    path = built_reports.html("creator_risk", request.param)
    assert path.is_file(), built_reports.output
    with cr.open_page(browser, path) as (page, log):
        page.screenshot(path=artifacts_dir / f"creator_risk-{request.param}-page.png", full_page=True)
        return {
            "log": log,
            "headings": page.locator("h2").all_inner_texts(),
            "images": cr.image_count(page),
            "broken": cr.broken_images(page),
            "text": cr.visible_text(page),
            "headers": page.locator("table.gne-table th").all_inner_texts(),
        }


def test_sections_and_charts_render(creator_page):
    headings = " | ".join(creator_page["headings"])
    assert all(section in headings for section in SECTIONS), headings
    assert creator_page["images"] >= CHARTS and creator_page["broken"] == []
    assert creator_page["log"].console_errors == []


def test_headline_numbers_and_risky_creators_table(creator_page):
    text = creator_page["text"]
    for name in HEALTH_METRICS:
        assert metrics.get(name).title in text
    headers = [header.strip() for header in creator_page["headers"]]
    assert [label for label, _ in RISKY_CREATOR_COLUMNS.values()] == [
        header for header in headers if header in {label for label, _ in RISKY_CREATOR_COLUMNS.values()}
    ]
    assert "buyer" not in " ".join(headers).lower(), "creators are shown by id only, never buyers"
