"""The stakeholder HTML: no code, prompts or stderr; a header; a TOC whose links resolve; self-contained."""

import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from gnelib.reporting.execute import execute_run
from gnelib.reporting.kernel_pool import KernelSource
from gnelib.reporting.render import ReportHeader, render_report

FIXTURES = Path(__file__).parent / "fixtures"
HEADER = ReportHeader(
    title="Chart and table fixture",
    market="US",
    week="2026-W47",
    as_of="2026-11-26 00:00:00",
    generated="2026-11-27 08:00 UTC",
    version="9.9.9-test",
)


class Page(HTMLParser):
    """Headings, ids, TOC links, scripts and images of a page."""

    def __init__(self):
        super().__init__()
        self.ids, self.toc_links, self.scripts, self.images = [], [], [], []
        self.headings: list[tuple[str, str]] = []
        self._in_toc = False
        self._heading = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.append(attributes["id"])
        if tag == "nav" and "gne-toc" in attributes.get("class", ""):
            self._in_toc = True
        if tag == "a" and self._in_toc:
            self.toc_links.append(attributes["href"])
        if tag == "script":
            self.scripts.append(attributes)
        if tag == "img":
            self.images.append(attributes.get("src", ""))
        if tag in ("h2", "h3") and not self._in_toc:
            self._heading = [tag, ""]

    def handle_endtag(self, tag):
        if tag == "nav":
            self._in_toc = False
        if self._heading and tag == self._heading[0]:
            self.headings.append((self._heading[0], self._heading[1].replace("¶", "").strip()))
            self._heading = None

    def handle_data(self, data):
        if self._heading:
            self._heading[1] += data


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("render")
    execution = execute_run(
        FIXTURES / "chart_and_table.ipynb",
        {"market": "US", "week": "2026-W47"},
        out / "nb.ipynb",
        KernelSource("fresh"),
        120,
    )
    assert execution.ok
    return render_report(execution.notebook, HEADER)


@pytest.fixture(scope="module")
def parsed(page) -> Page:
    parser = Page()
    parser.feed(page)
    return parser


def test_no_code_no_parameters_and_no_prompts(page):
    for code in (
        "sns.barplot",
        "import seaborn",
        "pd.DataFrame(",
        "leak_marker = 1",
        "scale: int = 1",
        "# Parameters",
    ):
        assert code not in page
    assert not re.search(r'<div class="jp-InputPrompt', page) and not re.search(
        r"In\s*(&nbsp;)?\[\d+\]", page
    )
    assert "market=US week=2026-W47 total=275" in page  # stdout of the last cell stays (120+80+45+30)


def test_stderr_and_warnings_are_stripped(page):
    assert "stakeholders must not see" not in page and "UserWarning" not in page


def test_header_shows_title_market_week_as_of_generation_and_version(page):
    header = page[page.index('<header class="gne-header">') : page.index("</header>")]
    for value in (
        "Chart and table fixture",
        "US",
        "2026-W47",
        "2026-11-26 00:00:00",
        "2026-11-27 08:00 UTC",
        "9.9.9-test",
    ):
        assert value in header
    assert page.count("Chart and table fixture</h1>") == 1  # the notebook's own H1 is not repeated


def test_toc_lists_h2_h3_and_every_link_resolves_to_a_unique_id(parsed):
    assert [text for _, text in parsed.headings] == ["Orders by channel", "Table", "Orders by channel"]
    assert len(parsed.toc_links) == 3
    assert all(link.startswith("#") and link[1:] in parsed.ids for link in parsed.toc_links)
    assert len(set(parsed.toc_links)) == 3 and len(set(parsed.ids)) == len(parsed.ids)


def test_self_contained_without_cdn_scripts(parsed, page):
    assert parsed.images and all(src.startswith("data:image/png;base64,") for src in parsed.images)
    assert not [script for script in parsed.scripts if "src" in script]
    assert "require.js" not in page and "mathjax" not in page.lower()


def test_layout_css_keeps_wide_tables_and_images_inside_the_page(page):
    assert "main table { display: block; max-width: 100%; overflow-x: auto;" in page
    assert "main img, main svg { max-width: 100% !important;" in page
    assert "@media print" in page


def test_header_values_are_escaped():
    hostile = ReportHeader("<script>alert('x')</script>", "US&GB", "2026-W47", "now", "now", "1")
    html = render_report(nbformat.v4.new_notebook(), hostile)
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html and "US&amp;GB" in html
