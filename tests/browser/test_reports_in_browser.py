"""Open every generated report and the landing page in headless Chromium, as a stakeholder would."""

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser

from browser import chromium as cr
from browser.report_build import SELLER_TEXT_MARKET, SELLER_TEXT_TEMPLATE, BuiltReports, report_slots

pytestmark = pytest.mark.browser

INDEX = ("index", "")
PAGES = [*report_slots(), INDEX]
MIN_PDF_BYTES = 10_000
CODE_SELECTOR = ".jp-CodeCell .jp-InputArea, .jp-CodeMirrorEditor, .jp-InputPrompt, .jp-OutputPrompt"
TRACEBACK_SELECTOR = ".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr'], .ansi-red-fg"


@dataclass
class PageInspection:
    """Everything the checks need from one page, gathered in one visit."""

    log: cr.PageLog
    image_count: int
    broken_images: list[str]
    toc: list[cr.Link]
    missing_toc_anchors: list[str]
    toc_gaps: list[str]
    width: int
    clipped: list[str]
    pdf: bytes
    text: str
    code_elements: int
    traceback_elements: int
    broken_words: list[str]
    unstyled: list[str]


def page_id(page: tuple[str, str]) -> str:
    return "-".join(part for part in page if part)


def page_path(reports: BuiltReports, page: tuple[str, str]) -> Path:
    return reports.reports_dir / "index.html" if page == INDEX else reports.html(*page)


@pytest.fixture(scope="module")
def inspect(built_reports: BuiltReports, browser: Browser, artifacts_dir: Path):
    """`inspect(page)` visits a page once (screenshot saved under test-artifacts/) and returns its inspection."""
    seen: dict[tuple[str, str], PageInspection] = {}

    def visit(page_key: tuple[str, str]) -> PageInspection:
        if page_key not in seen:
            path = page_path(built_reports, page_key)
            assert path.is_file(), (
                f"{path} was not generated; rejected templates: {built_reports.rejected}; gne run said:\n"
                f"{built_reports.output}"
            )
            with cr.open_page(browser, path) as (page, log):
                toc = cr.links(page, ".gne-toc a[href]")
                page.screenshot(path=artifacts_dir / f"{page_id(page_key)}.png", full_page=True)
                seen[page_key] = PageInspection(
                    log=log,
                    image_count=cr.image_count(page),
                    broken_images=cr.broken_images(page),
                    toc=toc,
                    missing_toc_anchors=cr.missing_anchors(page, [link.href for link in toc]),
                    toc_gaps=cr.toc_numbering_gaps(page),
                    width=cr.page_width(page),
                    clipped=cr.clipped_elements(page),
                    pdf=page.pdf(format="A4", print_background=True),
                    text=cr.visible_text(page),
                    code_elements=page.locator(CODE_SELECTOR).count(),
                    traceback_elements=page.locator(TRACEBACK_SELECTOR).count(),
                    broken_words=cr.broken_short_words(page),
                    unstyled=cr.unstyled_elements(page),
                )
        return seen[page_key]

    return visit


def test_every_report_ran_ok(built_reports: BuiltReports):
    assert built_reports.rejected == {}, "gne run rejects these templates' parameters"
    expected = {f"{built_reports.week}/{market}/{template}" for template, market in report_slots()}
    expected.add(f"{built_reports.week}/{SELLER_TEXT_MARKET}/{SELLER_TEXT_TEMPLATE}")
    statuses = {slot: record["status"] for slot, record in built_reports.records.items()}
    # a template that names its reports (experiment_readout-<experiment>) fills its template's slot
    assert {slot.rsplit("/", 1)[0] + "/" + slot.rsplit("/", 1)[1].split("-")[0] for slot in statuses} == expected
    failed = {slot: built_reports.records[slot]["error"] for slot, status in statuses.items() if status != "ok"}
    assert not failed, f"runs failed: {failed}\n{built_reports.output}"
    assert built_reports.returncode == 0, built_reports.output


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_no_console_errors(inspect, page):
    seen = inspect(page)
    assert seen.log.console_errors == []
    assert seen.log.page_errors == []
    assert seen.log.dialogs == []


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_image_loads(inspect, page):
    seen = inspect(page)
    assert seen.broken_images == []
    if page != INDEX:
        assert seen.image_count > 0, "a report without a single chart or sparkline"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_table_of_contents_links_resolve(inspect, page):
    seen = inspect(page)
    assert seen.toc, "the page has no table of contents"
    assert all(link.href.startswith("#") for link in seen.toc)
    assert seen.missing_toc_anchors == []
    assert all(link.text for link in seen.toc), "an empty table-of-contents entry"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_table_of_contents_numbers_follow_each_other(inspect, page):
    assert inspect(page).toc_gaps == []


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_fits_a_laptop_screen(inspect, page):
    seen = inspect(page)
    assert seen.width <= cr.LAPTOP_WIDTH
    assert seen.clipped == [], "content cut off at the right edge (the page hides horizontal overflow)"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_table_cells_keep_short_words_whole(inspect, page):
    assert inspect(page).broken_words == []


@pytest.mark.parametrize("page", report_slots(), ids=page_id)
def test_warnings_colours_and_cards_are_styled(inspect, page):
    """Data-quality warnings, red/green changes and headline cards must look different from body text."""
    assert inspect(page).unstyled == []


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_prints_to_pdf(inspect, page):
    pdf = inspect(page).pdf
    assert pdf.startswith(b"%PDF-")
    assert len(pdf) > MIN_PDF_BYTES
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") >= 1


@pytest.mark.parametrize("page", report_slots(), ids=page_id)
def test_report_shows_no_code_and_no_traceback(inspect, page):
    seen = inspect(page)
    assert seen.code_elements == 0
    assert seen.traceback_elements == 0
    assert "Traceback" not in seen.text
    assert "Key insights" in seen.text, "the report does not lead with key insights"


def test_index_links_resolve(built_reports: BuiltReports, browser: Browser):
    index = built_reports.reports_dir / "index.html"
    with cr.open_page(browser, index) as (page, log):
        links = cr.links(page)
        fragments = [link.href for link in links if link.href.startswith("#")]
        assert cr.missing_anchors(page, fragments) == []
    files = [link for link in links if not link.href.startswith("#")]
    targets = [Path(urlsplit(link.resolved).path) for link in files]
    missing = [link.href for link, target in zip(files, targets, strict=True) if not target.is_file()]
    assert missing == []
    outside = [str(target) for target in targets if not target.is_relative_to(built_reports.reports_dir.resolve())]
    assert outside == []
    reports = {target for target in targets if target.suffix == ".html"}
    published = {built_reports.reports_dir.resolve() / record["html"] for record in built_reports.records.values()}
    digests = set(built_reports.reports_dir.resolve().glob("*/digest.html"))
    assert digests and reports == published | digests
    for target in sorted(reports):
        with cr.open_page(browser, target) as (report, report_log):
            assert report.title(), f"{target} has no title"
            assert report_log.page_errors == [], target
    assert log.console_errors == [] and log.page_errors == []
