"""The first screen is the finding: the purpose line under a template's title moves to the end of its first
section (after the key insights); the rest of the page keeps its order."""

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from gnelib.reporting.render import ReportHeader, render_report

HEADER = ReportHeader("T", "US", "2026-W47", "2026-11-26", "2026-11-27 08:00 UTC", "9.9.9-test")
PURPOSE = "What moved this week, and why."


def html_output(text: str):
    return new_output("display_data", data={"text/html": text})


def notebook(*cells) -> nbformat.NotebookNode:
    return new_notebook(cells=list(cells))


def order(page: str, *needles: str) -> list[int]:
    return [page.index(needle) for needle in needles]


def test_the_purpose_line_follows_the_first_section():
    page = render_report(
        notebook(
            new_markdown_cell(f"# Title\n\n{PURPOSE}"),
            new_code_cell("", outputs=[html_output('<div class="gne-callout">Data quality: complete.</div>')]),
            new_markdown_cell("## Key insights"),
            new_code_cell("", outputs=[html_output('<ol class="gne-insights"><li>Refund rate rose.</li></ol>')]),
            new_markdown_cell("## Trend\n\nThe last 26 weeks."),
        ),
        HEADER,
    )
    positions = order(page, "Data quality: complete.", "Refund rate rose.", PURPOSE, "The last 26 weeks.")
    assert positions == sorted(positions)
    assert page.count(PURPOSE) == 1
    assert '<div class="gne-purpose">' in page and "About this report." in page


def test_with_one_section_the_purpose_line_ends_the_page_and_without_sections_it_stays():
    one = render_report(
        notebook(new_markdown_cell(f"# Title\n\n{PURPOSE}"), new_markdown_cell("## Key insights\n\nAll quiet.")),
        HEADER,
    )
    assert order(one, "All quiet.", PURPOSE) == sorted(order(one, "All quiet.", PURPOSE))
    none = render_report(notebook(new_markdown_cell(f"# Title\n\n{PURPOSE}"), new_markdown_cell("Plain text.")), HEADER)
    assert (
        order(none, PURPOSE, "Plain text.") == sorted(order(none, PURPOSE, "Plain text."))
        and '<div class="gne-purpose">' not in none
    )
