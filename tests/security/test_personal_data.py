"""Published reports never show buyer ids (personal data), in any generated page or executed notebook output."""

import datetime as dt
import re
from pathlib import Path

import duckdb
import nbformat
import pytest
from browser.report_build import BuiltReports

# 1,000,000,001 or 1000000001, not part of a longer number or a decimal.
_NUMBER = re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?![\d,])|(?<![\d.,])\d+(?![\d])")
_DATA_URI = re.compile(r"data:[a-z]+/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=]+")
OTHER_ID_QUERIES = {
    "order_id": "SELECT order_id FROM orders",
    "seller_id": "SELECT seller_id FROM sellers",
    "listing_id": "SELECT listing_id FROM listings",
    "request_id": "SELECT request_id FROM after_sales",
    "review_id": "SELECT review_id FROM listing_moderation",
    "action_id": "SELECT action_id FROM enforcement",
}


def numbers_in(text: str) -> set[int]:
    """Every whole number written in `text` (thousands separators allowed), ignoring embedded images."""
    return {int(token.replace(",", "")) for token in _NUMBER.findall(_DATA_URI.sub(" ", text))}


@pytest.fixture(scope="module")
def ids(built_reports: BuiltReports) -> dict[str, set[int]]:
    con = duckdb.connect(str(built_reports.warehouse), read_only=True)
    try:
        found = {"buyer_id": {row[0] for row in con.execute("SELECT DISTINCT buyer_id FROM orders").fetchall()}}
        for name, query in OTHER_ID_QUERIES.items():
            found[name] = {row[0] for row in con.execute(query).fetchall()}
    finally:
        con.close()
    return found


def published_text(reports_dir: Path) -> dict[str, str]:
    """Every HTML page, and the outputs (not the code) of every executed notebook, by relative path."""
    texts = {path.relative_to(reports_dir).as_posix(): path.read_text(encoding="utf-8") for path in
             reports_dir.rglob("*.html")}
    for path in reports_dir.rglob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        outputs = [str(output) for cell in notebook.cells for output in cell.get("outputs", [])]
        texts[path.relative_to(reports_dir).as_posix()] = "\n".join(outputs)
    return texts


def test_scanner_reads_formatted_numbers_and_skips_images():
    assert numbers_in("buyer 1,000,000,001 and 8000005363; 2.5% of 1,234") == {1000000001, 8000005363, 2, 1234}
    assert numbers_in('<img src="data:image/png;base64,AAAA1000000001BBBB==">') == set()


def test_buyer_ids_are_distinct_from_every_other_id(ids):
    """Otherwise a seller or order id in a report could look like a leaked buyer id (or hide one)."""
    clashes = {name: len(ids["buyer_id"] & values) for name, values in ids.items() if name != "buyer_id"}
    assert all(count == 0 for count in clashes.values()), clashes


def test_the_scan_reads_numbers_the_reports_do_show(built_reports: BuiltReports):
    """The data-quality line states the week's order count ("2,503 orders"): the same scan must find it."""
    con = duckdb.connect(str(built_reports.warehouse), read_only=True)
    try:
        orders = con.execute(
            "SELECT count(*) FROM orders WHERE market = 'ID' AND ordered_at >= ? AND ordered_at < ?",
            [dt.datetime(2026, 11, 16), dt.datetime(2026, 11, 23)],
        ).fetchone()[0]
    finally:
        con.close()
    assert built_reports.week == "2026-W47"
    page = built_reports.html("weekly_scorecard", "ID").read_text(encoding="utf-8")
    assert f"{orders:,}" in page and orders in numbers_in(page)


def test_no_buyer_id_in_any_published_file(built_reports: BuiltReports, ids):
    texts = published_text(built_reports.reports_dir)
    assert len([name for name in texts if name.endswith(".html")]) >= 3
    leaks = {name: sorted(numbers_in(text) & ids["buyer_id"])[:5] for name, text in texts.items()}
    assert {name: found for name, found in leaks.items() if found} == {}


def test_no_buyer_column_in_any_page(built_reports: BuiltReports):
    pages = {path.name: path.read_text(encoding="utf-8").lower() for path in built_reports.reports_dir.rglob("*.html")}
    assert [name for name, page in pages.items() if "buyer_id" in page or "buyer id" in page] == []
