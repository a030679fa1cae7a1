"""Measurements of a report page's layout in Chromium (first screen, tables, numbers, charts, colour) and of its
printed PDF (rendered by Debian's poppler-utils: `pdftoppm`, `pdftotext`)."""

import html
import io
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageStat
from playwright.sync_api import Page

FIRST_SCREEN = (1366, 768)
# The finding: the first key insight (or the triage's first row); else the first output of the first section.
FINDING_SELECTOR = "main .gne-insights > li, main .gne-insights-empty, .gne-triage tbody tr"
# The same reading of "a number" as gnelib.viz.tables.NUMBER.
NUMBER_PATTERN = r"^(p\s*[<=>]\s*)?[+\-−]?[$€£]?\d[\d,.\s]*\s?(%|pp|×|x|k|M|bn|h|d|per 1k|per 1,000)?$"
# Deuteranopia (Machado, Oliveira & Fernandes 2009, severity 1), on linear RGB: feColorMatrix's default space.
DEUTERANOPIA = (
    "0.367322 0.860646 -0.227968 0 0  0.280085 0.672501 0.047413 0 0  -0.011820 0.042940 0.968881 0 0  0 0 0 1 0"
)
PRINT_DPI = 50
WHITE = 245  # a pixel at least this light on every channel counts as paper


def poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise RuntimeError(f"{tool} is missing: run `make poppler` (installs Debian's poppler-utils) first.")
    return path


@dataclass(frozen=True)
class Layout:
    """What the first screen and the tables of a page look like at 1366 px."""

    finding_top: float | None
    purpose_top: float | None
    overflowing_tables: list[str]
    table_widths: list[float]
    left_aligned_numbers: list[str]
    off_centre_charts: list[str]
    toned_without_icon: list[str]


def measure(page: Page) -> Layout:
    data = page.evaluate(
        """([finding, number]) => {
          const top = sel => {
            const el = document.querySelector(sel);
            return el ? el.getBoundingClientRect().top : null; };
          const firstOutput = () => {  // a template without an insight list: the first output of its first section
            const section = document.querySelector("main h2");
            const after = o => section && section.compareDocumentPosition(o) & Node.DOCUMENT_POSITION_FOLLOWING;
            const found = [...document.querySelectorAll("main .jp-OutputArea-output")]
              .find(o => after(o) && o.innerText.trim());
            return found ? found.getBoundingClientRect().top : null; };
          const numeric = new RegExp(number);
          const tables = [...document.querySelectorAll("main table, .gne-page table")];
          const overflowing = tables.filter(t => t.parentElement.scrollWidth > t.parentElement.clientWidth + 1
                                              || t.scrollWidth > t.clientWidth + 1)
            .map(t => `${t.className}: ${t.parentElement.scrollWidth} > ${t.parentElement.clientWidth}`);
          const widths = [...document.querySelectorAll("main table.gne-table")]
            .map(t => t.getBoundingClientRect().width);
          const left = [...document.querySelectorAll("main td, main th, .gne-page td")]
            .filter(c => numeric.test(c.innerText.replace(/[▲▼]/g, "").trim()))
            .filter(c => !["right", "end"].includes(getComputedStyle(c).textAlign))
            .map(c => c.innerText.trim()).slice(0, 5);
          const charts = [...document.querySelectorAll("main .jp-OutputArea-output > img")].filter(img => {
              const box = img.getBoundingClientRect(), area = img.parentElement.getBoundingClientRect();
              return Math.abs((box.left - area.left) - (area.right - box.right)) > 2; })
            .map(img => img.alt || img.src.slice(0, 40));
          const chips = "td.gne-good, td.gne-bad, .gne-card-change.gne-good, .gne-card-change.gne-bad";
          const toned = [...document.querySelectorAll(chips)]
            .filter(el => !/^[▲▼]$/.test((el.querySelector(".gne-icon") || {}).textContent || ""))
            .concat([...document.querySelectorAll(".gne-insight.gne-good, .gne-insight.gne-bad")]
              .filter(el => !/[▲▼]/.test(getComputedStyle(el, "::before").content)))
            .map(el => el.innerText.trim().slice(0, 40));
          return [top(finding) ?? firstOutput(), top(".gne-purpose"), overflowing, widths, left, charts, toned]; }""",
        [FINDING_SELECTOR, NUMBER_PATTERN],
    )
    return Layout(*data)


def simulated_colour(page: Page, selector: str) -> tuple[float, float, float]:
    """Mean RGB (0–255) of the first element matching `selector` as a deuteranope sees it: the page is drawn
    through an SVG feColorMatrix filter, then the element's pixels are averaged."""
    page.evaluate(
        """(matrix) => {
          if (!document.getElementById("gne-deuteranopia")) {
            document.body.insertAdjacentHTML("beforeend", `<svg width="0" height="0" style="position:absolute">
              <filter id="gne-deuteranopia"><feColorMatrix type="matrix" values="${matrix}"/></filter></svg>`);
          }
          document.documentElement.style.filter = "url(#gne-deuteranopia)"; }""",
        DEUTERANOPIA,
    )
    try:
        image = Image.open(io.BytesIO(page.locator(selector).first.screenshot())).convert("RGB")
    finally:
        page.evaluate("document.documentElement.style.filter = ''")
    return tuple(ImageStat.Stat(image).mean)


def delta_e(first: tuple[float, float, float], second: tuple[float, float, float]) -> float:
    """CIE76 colour difference of two sRGB colours (≈2.3 is just noticeable)."""
    a, b = _lab(first), _lab(second)
    return sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5


def _lab(rgb: tuple[float, float, float]) -> tuple[float, float, float]:
    linear = [(c / 255 / 12.92) if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
    r, g, b = linear
    xyz = (
        (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047,
        0.2126 * r + 0.7152 * g + 0.0722 * b,
        (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883,
    )
    f = [t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in xyz]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


@dataclass(frozen=True)
class PrintedPage:
    """One page of a printed PDF: its image (saved as a PNG) and its text."""

    png: Path
    text: str
    ink: float  # share of pixels that are not paper
    rightmost_ink: int  # x of the rightmost non-paper pixel
    width: int
    last_line: str  # the lowest line of text on the page
    ink_below_last_line: float  # share of non-paper pixels below it (a chart under a heading is ink, not text)


def print_pages(page: Page, pdf_path: Path, png_prefix: Path) -> list[PrintedPage]:
    """Print `page` as the browser does (CSS @page size, backgrounds), render each PDF page to
    `<png_prefix>-<n>.png` at PRINT_DPI with pdftoppm, and read each page's text with pdftotext."""
    pdf_path.write_bytes(page.pdf(print_background=True, prefer_css_page_size=True))
    for old in png_prefix.parent.glob(f"{png_prefix.name}-*.png"):
        old.unlink()
    subprocess.run([poppler("pdftoppm"), "-r", str(PRINT_DPI), "-png", pdf_path, png_prefix], check=True)
    printed = []
    for number, png in enumerate(sorted(png_prefix.parent.glob(f"{png_prefix.name}-*.png")), start=1):
        text = _pdftotext(pdf_path, number, "-layout")
        image = Image.open(png).convert("L")
        width, height = image.size
        dark = image.point(lambda value: 255 if value < WHITE else 0)
        box = dark.getbbox()
        last_line, bottom_pt = _last_line(_pdftotext(pdf_path, number, "-bbox"))
        below = dark.crop((0, min(height, round(bottom_pt * PRINT_DPI / 72) + 2), width, height))
        printed.append(PrintedPage(png, text, _ink(dark), box[2] if box else 0, width, last_line, _ink(below)))
    return printed


_WORD = re.compile(r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="[\d.]+" yMax="([\d.]+)">(.*?)</word>')


def _pdftotext(pdf_path: Path, page_number: int, mode: str) -> str:
    command = [poppler("pdftotext"), "-f", str(page_number), "-l", str(page_number), mode, pdf_path, "-"]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def _last_line(bbox_page: str) -> tuple[str, float]:
    """The words of the lowest text line of a `pdftotext -bbox` page, and its bottom in points."""
    words = [(float(bottom), html.unescape(word)) for bottom, word in _WORD.findall(bbox_page)]
    if not words:
        return "", 0.0
    bottom = max(y for y, _ in words)
    return " ".join(word for y, word in words if abs(y - bottom) < 2), bottom


def _ink(image: Image.Image) -> float:
    """Share of non-zero pixels of a one-band image (counted from its histogram, not pixel by pixel in Python)."""
    width, height = image.size
    return sum(image.histogram()[1:]) / (width * height) if width * height else 0.0
