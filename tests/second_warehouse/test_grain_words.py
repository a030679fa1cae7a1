"""The report grain's own name on the second warehouse's pages (grain `region`): headers say "Region: east", the
templates' prose and the views' sentences say region(s), never market(s). The pages are the session's
`shop_weekly_run` (tests/second_warehouse/fixtures.py): no second `gne run`."""

import html
import re

import pytest

from gnelib.config import grain_label
from gnelib.reporting.execute import RunFailure
from gnelib.reporting.failure import render_failure_page
from gnelib.reporting.render import ReportHeader, in_grain_words
from second_warehouse.fixtures import GENERIC, REGIONS, WEEK

MARKET_WORD = re.compile(r"(?i)\bmarkets?\b")  # as a word: `market_share` (a metric name) would not count


def visible_text(page: str) -> str:
    """What a reader sees of a page: no style or script, no tags (so no attribute or embedded image), unescaped."""
    page = re.sub(r"(?is)<(style|script)\b.*?</\1>", " ", page)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.fixture(scope="module")
def pages(shop_weekly_run) -> dict[str, str]:
    """Every page of the run, by path under the reports directory: the generic reports, the digest, the index."""
    folder = shop_weekly_run.reports_dir
    found = {path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8") for path in folder.rglob("*.html")}
    expected = {f"{WEEK}/{region}/{template}.html" for region in REGIONS for template in GENERIC}
    assert expected | {"index.html", f"{WEEK}/digest.html"} <= set(found)
    return found


@pytest.mark.parametrize("template", GENERIC)
def test_report_headers_name_the_region(pages, template):
    for region in REGIONS:
        page = pages[f"{WEEK}/{region}/{template}.html"]
        assert f"<dt>Region</dt><dd>{region}</dd>" in page
        assert "<dt>Market</dt>" not in page


def test_no_page_says_market(pages):
    said = {path: MARKET_WORD.findall(visible_text(page)) for path, page in pages.items()}
    assert {path: words for path, words in said.items() if words} == {}
    scorecard = visible_text(pages[f"{WEEK}/east/weekly_scorecard.html"])
    assert "judged in every region and in every segment of this region" in " ".join(scorecard.split())
    assert "significant changes across regions" in " ".join(visible_text(pages["index.html"]).split())


def test_template_prose_takes_the_grains_words():
    text = "Every market; Markets of the marketplace; the market's market_share."
    assert in_grain_words(text, "customer_state") == (
        "Every customer state; Customer states of the marketplace; the customer state's market_share."
    )
    assert in_grain_words(text, "market") == text
    assert [grain_label(name, plural=True) for name in ("region", "country", "branch", "day")] == [
        "regions", "countries", "branches", "days"]


def test_a_failure_page_names_the_region():
    header = ReportHeader("Weekly GNE scorecard", "east", WEEK, "2025-03-30 12:00:00", "now", "1", grain="region")
    page = render_failure_page(header, rerun="gne run x", failure=RunFailure("error", "ValueError", "boom"),
                               notebook=None, log="x.log", previous_kept=None)
    assert "<dt>Region</dt><dd>east</dd>" in page and "for region <strong>east</strong>" in page
    assert MARKET_WORD.findall(visible_text(page)) == []
