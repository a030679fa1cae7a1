"""Pages that fit, triage and print (issue 17, items 6–10), measured in headless Chromium on every template's report
and the landing page: the first screen opens on the finding, tables fit 1366 px at one width with numbers
right-aligned, good/bad survive a deuteranopia simulation, and each page prints to a PDF whose pages (rendered by
poppler's pdftoppm, kept under test-artifacts/print/) are neither blank nor cut at the right margin."""

import re
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Browser

from browser import layout
from browser.report_build import BuiltReports, report_slots
from browser.test_reports_in_browser import INDEX, page_id
from gnelib.reporting.render import CSS
from gnelib.viz.blocks import Card, cards
from gnelib.viz.tables import html_table

pytestmark = pytest.mark.browser

PAGES = [*report_slots(), INDEX]
FIRST_SCREEN_LIMIT = 700
MAX_PRINTED_PAGES = 30
MIN_INK = 0.002  # a page with less than 0.2 % non-white pixels is blank
RIGHT_MARGIN_PX = 15  # the CSS margin is 10 mm ≈ 20 px at 50 dpi: nothing may be drawn in the last 15 px
LONG_WORD = re.compile(r"\b[A-Za-z]{9,}\b")
TABLE_HEADERS = """[...document.querySelectorAll("main table")].map(t =>
  [...t.querySelectorAll("thead th, tr:first-child th")].map(th => th.innerText.trim()))"""
# The columns a lead needs first, per kind of table (issue 17 item 8): what the row is (metric, segment, unit, week),
# its value, its change, the p-value or verdict; the context (baselines, counts, notes) after them. One order per
# kind on every page; a table of no known kind fails, so a new table is placed in a kind (or a new kind is added).
LEADING_COLUMNS = {
    "metrics": [r"Metric \| Value(, W\d\d[^|]*)? \| Change( \| Confidence \| Status)?( \||$)"],
    "goals": [r"Goal \| Market \| Now \| Target \| Progress \| Status \|",
              r"market \| level \(last 4 weeks\) \| part of the gap \| share of the drag \|"],
    "root cause": [r"Segment \| (Rate now|Now) \| Share of change \| Adjusted p \| Driven by \|"],
    "breakdown": [r"[A-Z][\w ]* \| Rate now \| Change \| Mix effect \| Rate effect \|",
                  r"[A-Z][\w ]* \| Now \| Change \| Share of change \|"],
    "units": [r"Seller( \| Name)? \| Now \| Share of change \| p \(own change\) \|",
              r"seller id \| seller-fault cancellations \| cancellations above the market rate \| "
              r"seller-fault cancel rate \| latest enforcement",
              r"creator id \| defective orders \| defects above the market rate \| defect rate \| latest enforcement"],
    "segments": [r"segment \| read week \| change \| before \|",
                 r"policy \| share of reviews removed \| removals this week \|",
                 r"detection source \| overturn rate, this week \| change \| p-value \|",
                 r"action \| reason \| this week \| change \|",
                 r"request type \| reason \| requests this week \| share of requests \| change in share \|"],
    "weeks": [r"week \| share of seller-fault cancellations \| share of enforcement actions \|",
              r"week \| prevalence \| 95% CI low \| 95% CI high \|"],
    "experiment": [r"(measure|estimate) \| treatment \| absolute change \| relative change \| 95% CI \(relative\) \| "
                   r"p-value \|",
                   r"arm \| observed share \| designed share \|"],
    "checks": [r"check \| result \| verdict$"],
    "money": [r" \| per year \| 95% CI \|", r"assumption \| value \| meaning$"],
    "definition": [r" \| Definition$"],
}


def page_file(reports: BuiltReports, key: tuple[str, str]) -> Path:
    """The page of a (template, market): the index, or the report the run published for that slot (a template
    that publishes one report per subject, `experiment_readout-<name>`, by the slot's prefix)."""
    if key == INDEX:
        return reports.reports_dir / "index.html"
    slot = f"{reports.week}/{key[1]}/{key[0]}"
    found = sorted(
        record["html"]
        for name, record in reports.records.items()
        if (name == slot or name.startswith(f"{slot}-")) and record.get("html")
    )
    assert found, f"no published report for {slot}; gne run said:\n{reports.output}"
    return reports.reports_dir / found[0]


@pytest.fixture(scope="module")
def seen(built_reports: BuiltReports, browser: Browser, artifacts_dir: Path, tmp_path_factory):
    """`seen(page)`: the page's layout at 1366×768, its words, headings and printed pages (each visit once)."""
    visited: dict[tuple[str, str], dict] = {}
    print_dir = artifacts_dir / "print"
    print_dir.mkdir(exist_ok=True)
    pdfs = tmp_path_factory.mktemp("pdf")

    def visit(key: tuple[str, str]) -> dict:
        if key not in visited:
            width, height = layout.FIRST_SCREEN
            context = browser.new_context(viewport={"width": width, "height": height})
            page = context.new_page()
            try:
                page.goto(page_file(built_reports, key).resolve().as_uri(), wait_until="load")
                page.screenshot(path=artifacts_dir / f"first-screen-{page_id(key)}.png")
                visited[key] = {
                    "layout": layout.measure(page),
                    "words": set(LONG_WORD.findall(page.evaluate("document.querySelector('main').innerText"))),
                    "headings": [h.strip() for h in page.locator("main h2, main h3").all_inner_texts()],
                    "tables": page.evaluate(TABLE_HEADERS),
                    "printed": layout.print_pages(page, pdfs / f"{page_id(key)}.pdf", print_dir / page_id(key)),
                }
            finally:
                context.close()
        return visited[key]

    return visit


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_the_first_screen_opens_on_the_finding(seen, page):
    measured = seen(page)["layout"]
    assert measured.finding_top is not None, "no finding (key insight or triage row) on the page"
    assert measured.finding_top < FIRST_SCREEN_LIMIT
    if measured.purpose_top is not None:
        assert measured.purpose_top > measured.finding_top, "the purpose line comes before the finding"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_tables_fit_at_one_width(seen, page):
    measured = seen(page)["layout"]
    assert measured.overflowing_tables == []
    if measured.table_widths:
        assert max(measured.table_widths) - min(measured.table_widths) <= 1, measured.table_widths


def table_kind(headers: list[str]) -> str | None:
    """The kind of table whose leading columns `headers` start with (`LEADING_COLUMNS`), or None."""
    joined = " | ".join(headers) + " |"
    return next((kind for kind, patterns in LEADING_COLUMNS.items()
                 if any(re.match(pattern, joined) or re.match(pattern, joined[:-2]) for pattern in patterns)), None)


@pytest.mark.parametrize("page", report_slots(), ids=page_id)
def test_tables_lead_with_the_columns_a_lead_needs(seen, page):
    tables = [headers for headers in seen(page)["tables"] if headers]
    assert tables, "no table on the page"
    unplaced = [headers for headers in tables if table_kind(headers) is None]
    assert unplaced == [], "tables whose leading columns match no kind of LEADING_COLUMNS"


def test_the_leading_column_kinds_are_not_vacuous():
    """Each kind's patterns accept its own order and reject the old context-first orders they replaced."""
    assert table_kind(["Metric", "Value", "Change", "Confidence", "Status", "Usual level", "Trend (13 weeks)"])
    assert table_kind(["Metric", "Value, W46", "Change", "Week"]) == "metrics"
    assert table_kind(["Metric", "Value", "Usual level", "Change", "Confidence", "Status"]) is None
    assert table_kind(["measure", "this week", "change"]) is None
    assert table_kind(["Segment", "Share of change", "Driven by", "Rate before", "Rate now", "Adjusted p"]) is None
    assert table_kind(["Carrier", "Share before", "Share now", "Rate before", "Rate now", "Mix effect"]) is None
    assert table_kind(["Carrier", "Rate now", "Change", "Mix effect", "Rate effect", "Rate before"]) == "breakdown"
    assert table_kind(["", "control", "treatment", "absolute change"]) is None
    assert table_kind(["check", "result", "verdict"]) == "checks"
    assert table_kind(["Goal", "Market", "Term", "Owner", "Deadline", "Start", "Now", "Target"]) is None


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_numbers_are_right_aligned_and_charts_centred(seen, page):
    measured = seen(page)["layout"]
    assert measured.left_aligned_numbers == []
    assert measured.off_centre_charts == []


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_good_and_bad_carry_an_icon(seen, page):
    assert seen(page)["layout"].toned_without_icon == []


def test_good_and_bad_stay_apart_for_a_deuteranope(browser: Browser, tmp_path: Path):
    """The report CSS's good and bad chips, seen through a deuteranopia filter, differ clearly; the same filter
    makes a plain red/green pair nearly alike (so the simulation is real)."""
    frame = html_table(
        pd.DataFrame({"Metric": ["refund rate", "late delivery"], "Change": ["+1.2 pp", "-0.8 pp"]}),
        tone={"Change": pd.Series(["bad", "good"])},
    )
    chips = cards([Card("Refund rate", "1.3%", "+16%", "bad"), Card("Late delivery", "4.1%", "-9%", "good")]).data
    page_file = tmp_path / "chips.html"
    page_file.write_text(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>{CSS}</style></head><body class='gne-report'>"
        f"<main>{frame}{chips}<span id='red' style='background:#d62728'>&#8195;&#8195;</span>"
        f"<span id='green' style='background:#2ca02c'>&#8195;&#8195;</span></main></body></html>",
        encoding="utf-8",
    )
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    try:
        page.goto(page_file.as_uri())
        colours = {
            name: layout.simulated_colour(page, selector)
            for name, selector in {
                "bad cell": "td.gne-bad",
                "good cell": "td.gne-good",
                "bad card": ".gne-card-change.gne-bad",
                "good card": ".gne-card-change.gne-good",
                "red": "#red",
                "green": "#green",
            }.items()
        }
        icons = page.locator(".gne-icon").all_inner_texts()
    finally:
        context.close()
    assert layout.delta_e(colours["red"], colours["green"]) < 12, "the filter does not simulate deuteranopia"
    assert layout.delta_e(colours["bad cell"], colours["good cell"]) > 15
    assert layout.delta_e(colours["bad card"], colours["good card"]) > 15
    assert icons == ["▼", "▲", "▼", "▲"]


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_prints_whole_pages(seen, page):
    printed = seen(page)["printed"]
    assert 1 <= len(printed) <= MAX_PRINTED_PAGES
    assert [p.png.name for p in printed if p.ink < MIN_INK] == [], "blank printed pages"
    cut = [p.png.name for p in printed if p.rightmost_ink > p.width - RIGHT_MARGIN_PX]
    assert cut == [], "something printed into the right margin (a clipped table or chart)"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_printed_words_are_whole_and_headings_keep_their_content(seen, page):
    visit = seen(page)
    text = "\n".join(p.text for p in visit["printed"])
    printed_words = set(LONG_WORD.findall(text))
    assert sorted(visit["words"] - printed_words) == [], "words split over two lines in print"
    stranded = [
        p.last_line
        for p in visit["printed"][:-1]
        if p.last_line in visit["headings"] and p.ink_below_last_line < MIN_INK
    ]
    assert stranded == [], "a heading ends a printed page, its content on the next"
