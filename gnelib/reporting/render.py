"""Executed notebook → one self-contained stakeholder HTML page (nbconvert, the project's `gne` template)."""

import html
import re
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor

from gnelib.config import grain_label

TEMPLATES_DIR = Path(__file__).parent / "templates"
CSS = (TEMPLATES_DIR / "gne" / "gne.css").read_text(encoding="utf-8")
TOC_MARKER = "<!-- gne:toc -->"
_TITLE = re.compile(r"^#\s+(.+?)\s*#*\s*$", flags=re.MULTILINE)
_SECTION = re.compile(r"^##\s", flags=re.MULTILINE)
REMOVED_CELL_TAGS = {"parameters", "injected-parameters", "remove-cell", "papermill-error-cell-tag"}
# C0/C1 control characters (but tab, newline, carriage return) and the bidirectional marks, embeddings, overrides
# and isolates: in seller text they hide or reorder what a reader sees.
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# "market" / "Markets" as a word of prose (not `market_share`, `marketplace`).
_MARKET_WORD = re.compile(r"\b([Mm])arket(s?)\b")


@dataclass(frozen=True)
class ReportHeader:
    """What the page header says about the report; every field is escaped when rendered. `market` is a value of
    the report grain, `grain` the grain's dimension (the project config's `grain`), which the header names."""

    title: str
    market: str
    week: str
    as_of: str
    generated: str
    version: str
    input_hash: str = ""
    grain: str = "market"

    @property
    def grain_label(self) -> str:
        """`Market`, `Region`: the header's name for the report grain."""
        return grain_label(self.grain).capitalize()


class StripStderrPreprocessor(Preprocessor):
    """Drop stderr streams (warnings, logging) and error outputs: stakeholders never see them."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code":
            cell.outputs = [
                output
                for output in cell.outputs
                if not (output.output_type == "stream" and output.get("name") == "stderr")
                and output.output_type != "error"
            ]
        return cell, resources


class StripParameterMetadataPreprocessor(Preprocessor):
    """Remove `metadata.papermill.parameters` so no parameter value is published in the page source."""

    def preprocess(self, nb, resources):
        nb.metadata.get("papermill", {}).pop("parameters", None)
        return nb, resources


class DropTitleHeadingPreprocessor(Preprocessor):
    """Remove the notebook's first `# heading`: the page header already shows it as the title."""

    def preprocess(self, nb, resources):
        for cell in nb.cells:
            if cell.cell_type == "markdown" and _TITLE.search(cell.source):
                cell.source = _TITLE.sub("", cell.source, count=1).strip()
                break
        return nb, resources


class PurposeAfterFindingPreprocessor(Preprocessor):
    """Move the markdown above the first `## section` (the purpose line under the title) to the end of that first
    section (Key insights), so the first screen opens on the finding; it is shown as a muted "About this report"."""

    def preprocess(self, nb, resources):
        sections = [
            i for i, cell in enumerate(nb.cells) if cell.cell_type == "markdown" and _SECTION.search(cell.source)
        ]
        if not sections:
            return nb, resources
        intro = [cell for cell in nb.cells[: sections[0]] if cell.cell_type == "markdown" and cell.source.strip()]
        if not intro:
            return nb, resources
        text = "\n\n".join(cell.source.strip() for cell in intro)
        purpose = nbformat.v4.new_markdown_cell(f'<div class="gne-purpose">\n\n**About this report.** {text}\n\n</div>')
        end = sections[1] if len(sections) > 1 else len(nb.cells)
        kept = [cell for cell in nb.cells[:end] if not any(cell is moved for moved in intro)]
        nb.cells = [*kept, purpose, *nb.cells[end:]]
        return nb, resources


class GrainWordsPreprocessor(Preprocessor):
    """Templates are written for the default grain: the words "market"/"markets" of their markdown cells are shown
    as the report's grain (`resources["gne"]["grain"]`: "region"/"regions"); metric names are left as they are."""

    def preprocess(self, nb, resources):
        grain = resources.get("gne", {}).get("grain", "market")
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = in_grain_words(cell.source, grain)
        return nb, resources


def in_grain_words(text: str, grain: str) -> str:
    """`text` with each word "market"/"markets" (capitalised or not) written as `grain`'s label."""
    if grain == "market":
        return text

    def word(found: re.Match) -> str:
        label = grain_label(grain, plural=bool(found.group(2)))
        return label.capitalize() if found.group(1) == "M" else label

    return _MARKET_WORD.sub(word, text)


class ReportExporter(HTMLExporter):
    """HTMLExporter with the `gne` template, no code or prompts, and a server-side table of contents."""

    def __init__(self, **kwargs):
        super().__init__(
            template_name="gne",
            extra_template_basedirs=[str(TEMPLATES_DIR)],
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
            **kwargs,
        )
        self.register_preprocessor(TagRemovePreprocessor(remove_cell_tags=REMOVED_CELL_TAGS), enabled=True)
        self.register_preprocessor(StripStderrPreprocessor(), enabled=True)
        self.register_preprocessor(StripParameterMetadataPreprocessor(), enabled=True)
        self.register_preprocessor(DropTitleHeadingPreprocessor(), enabled=True)
        self.register_preprocessor(PurposeAfterFindingPreprocessor(), enabled=True)
        self.register_preprocessor(GrainWordsPreprocessor(), enabled=True)

    def from_notebook_node(self, nb, resources=None, **kwargs):
        body, resources = super().from_notebook_node(nb, resources, **kwargs)
        return add_table_of_contents(body), resources


def render_report(notebook: nbformat.NotebookNode, header: ReportHeader) -> str:
    """The HTML page of an executed notebook."""
    nb = nbformat.from_dict(notebook)
    nb.metadata["title"] = header.title
    resources = {"gne": {**asdict(header), "grain_label": header.grain_label, "css": CSS, "toc_marker": TOC_MARKER}}
    body, _ = _exporter().from_notebook_node(nb, resources=resources)
    return show_invisible(body)


def show_invisible(page: str) -> str:
    """Every control or bidirectional-override character of a page written visibly as its escape (`\\u202e`):
    the last step of every page built from data (reports, failure pages), after the HTML escaping of data text."""
    return _INVISIBLE.sub(lambda found: f"\\u{ord(found.group()):04x}", page)


@cache
def _exporter() -> ReportExporter:
    """One exporter per process: building it compiles the Jinja templates, which costs more than a render."""
    return ReportExporter()


def notebook_title(notebook: nbformat.NotebookNode, fallback: str) -> str:
    """The first markdown `# heading` of the notebook, else the template name in words."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            match = _TITLE.search(cell.source)
            if match:
                return match.group(1)
    return fallback.replace("_", " ").capitalize()


_HEADING = re.compile(r'<h([23]) id="([^"]+)">(.*?)</h\1>', flags=re.DOTALL)
_ANCHOR_LINK = re.compile(r'<a class="anchor-link"[^>]*>.*?</a>', flags=re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def add_table_of_contents(page: str) -> str:
    """Fill the TOC marker with links to the page's h2/h3 headings, making duplicate heading ids unique."""
    start = page.find("<main>")
    if start < 0 or TOC_MARKER not in page:
        return page
    seen: dict[str, int] = {}
    entries: list[tuple[str, str, str]] = []

    def unique(match: re.Match) -> str:
        level, anchor, inner = match.groups()
        seen[anchor] = seen.get(anchor, 0) + 1
        if seen[anchor] > 1:
            new_anchor = f"{anchor}-{seen[anchor]}"
            inner = inner.replace(f'href="#{anchor}"', f'href="#{new_anchor}"')
            anchor = new_anchor
        text = html.unescape(_TAG.sub("", _ANCHOR_LINK.sub("", inner))).strip()
        entries.append((level, anchor, text))
        return f'<h{level} id="{anchor}">{inner}</h{level}>'

    body = _HEADING.sub(unique, page[start:])
    if not entries:
        return page[:start].replace(TOC_MARKER, "") + body
    toc = f"<strong>Contents</strong><ol>{_toc_items(entries)}</ol>"
    return page[:start].replace(TOC_MARKER, toc) + body


def _toc_items(entries: list[tuple[str, str, str]]) -> str:
    """h2 entries as a numbered list, each h3 nested under the h2 before it (so numbering has no gaps)."""
    groups: list[tuple[str, list[str]]] = []
    for level, anchor, text in entries:
        link = f'<a href="#{anchor}">{html.escape(text)}</a>'
        if level == "3" and groups and groups[-1][0].startswith('<li class="gne-toc-h2">'):
            groups[-1][1].append(f'<li class="gne-toc-h3">{link}</li>')
        else:
            groups.append((f'<li class="gne-toc-h{level}">{link}', []))
    return "".join(head + (f"<ol>{''.join(subs)}</ol>" if subs else "") + "</li>" for head, subs in groups)
