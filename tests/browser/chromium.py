"""Drive Debian's headless Chromium (/usr/bin/chromium) with Playwright, and look at a report page the way a reader
does: what it logs, whether its images and links work, whether it fits a laptop screen, whether it prints."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, Dialog, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAPTOP_WIDTH = 1366
LAPTOP_HEIGHT = 900

# Runs before any page script: a script that calls alert/confirm/prompt marks the page as compromised.
PWNED_MARKER_SCRIPT = """
for (const name of ["alert", "confirm", "prompt"]) {
  const original = window[name].bind(window);
  window[name] = (...args) => { window.__pwned = (window.__pwned || []).concat([name]); return original(...args); };
}
"""


@contextmanager
def chromium() -> Iterator[Browser]:
    """Launch /usr/bin/chromium headless (never a downloaded browser); closed on exit."""
    if not CHROMIUM.is_file():
        raise RuntimeError(f"{CHROMIUM} is missing: run `make browser` (installs Debian's chromium) first.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageLog:
    """What a page reported while it loaded: console errors, uncaught exceptions, and dialogs it opened."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def listen(self, page: Page) -> None:
        page.on("console", lambda message: message.type == "error" and self.console_errors.append(message.text))
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("dialog", self._dismiss)

    def _dismiss(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()


@contextmanager
def open_page(browser: Browser, path: Path) -> Iterator[tuple[Page, PageLog]]:
    """Open a local HTML file in a fresh 1366-px-wide tab, with its log and the injected-script marker."""
    context = browser.new_context(viewport={"width": LAPTOP_WIDTH, "height": LAPTOP_HEIGHT})
    context.add_init_script(PWNED_MARKER_SCRIPT)
    page = context.new_page()
    log = PageLog()
    log.listen(page)
    try:
        page.goto(path.resolve().as_uri(), wait_until="load")
        yield page, log
    finally:
        context.close()


@dataclass(frozen=True)
class Link:
    """An `<a href>` of a page, as written and as the browser resolved it."""

    text: str
    href: str
    resolved: str


def broken_images(page: Page) -> list[str]:
    """`src` (shortened) of every `<img>` that did not load (`naturalWidth` 0 once the page is loaded)."""
    return page.evaluate(
        "[...document.images].filter(img => !img.complete || img.naturalWidth === 0).map(img => img.src.slice(0, 80))"
    )


def image_count(page: Page) -> int:
    return page.evaluate("document.images.length")


def links(page: Page, selector: str = "a[href]") -> list[Link]:
    """The links matched by `selector` (default: every link on the page)."""
    rows = page.evaluate(
        "(selector) => [...document.querySelectorAll(selector)]"
        ".map(a => [a.innerText.trim(), a.getAttribute('href'), a.href])",
        selector,
    )
    return [Link(*row) for row in rows]


def missing_anchors(page: Page, hrefs: list[str]) -> list[str]:
    """The `#fragment` hrefs whose target id does not exist in the page."""
    return page.evaluate(
        "(hrefs) => hrefs.filter(h => !document.getElementById(decodeURIComponent(h.slice(1))))",
        hrefs,
    )


def page_width(page: Page) -> int:
    """The widest scrollable extent of the document (html or body), in CSS pixels."""
    return page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")


def clipped_elements(page: Page, limit: int = 5) -> list[str]:
    """Elements whose right edge lies beyond the viewport and that no scrollable box contains: content a reader
    cannot see (the page hides horizontal overflow, so scrollWidth alone does not reveal it)."""
    return page.evaluate(
        """([width, limit]) => {
          const scrolls = el => { for (let p = el.parentElement; p; p = p.parentElement) {
              if (p === document.body || p === document.documentElement) return false;
              const s = getComputedStyle(p);
              if (["auto", "scroll", "hidden"].includes(s.overflowX) && p.getBoundingClientRect().right <= width)
                return true; }
            return false; };
          const out = [];
          for (const el of document.body.querySelectorAll("*")) {
            const box = el.getBoundingClientRect();
            if (box.width > 0 && box.right > width + 1 && !scrolls(el)) {
              out.push(`${el.tagName.toLowerCase()}.${el.className} right=${Math.round(box.right)}`);
              if (out.length >= limit) break; } }
          return out; }""",
        [LAPTOP_WIDTH, limit],
    )


def visible_text(page: Page) -> str:
    """The page's `innerText`: what a reader sees (escaped markup shows as literal text)."""
    return page.evaluate("document.body.innerText")


def broken_short_words(page: Page, limit: int = 5) -> list[str]:
    """Table cells holding one short ASCII word or number (`Rows`, `11`, `2.5%`) that the browser broke over
    several lines: columns squeezed to a letter's width are unreadable."""
    return page.evaluate(
        """(limit) => {
          const out = [];
          for (const cell of document.querySelectorAll("main td, main th")) {
            const text = cell.innerText.trim();
            if (!text || text.length > 20 || /\\s/.test(text) || !/^[\\x21-\\x7e]+$/.test(text)) continue;
            const range = document.createRange();
            range.selectNodeContents(cell);
            const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
            if (lines.size > 1) { out.push(`${text} (${lines.size} lines)`); if (out.length >= limit) break; }
          }
          return out; }""",
        limit,
    )


STYLED_SELECTORS = (".gne-callout-warning", ".gne-callout-error", ".gne-good", ".gne-bad", ".gne-card")


def unstyled_elements(page: Page) -> list[str]:
    """Elements whose class promises a look (a warning box, a red/green value, a headline card) that render like
    plain body text: same colour, no background, no border."""
    return page.evaluate(
        """(selectors) => {
          const plain = getComputedStyle(document.querySelector("main p") || document.body);
          const out = [];
          for (const selector of selectors) {
            for (const el of document.querySelectorAll(selector)) {
              const s = getComputedStyle(el);
              const marked = s.color !== plain.color || !["rgba(0, 0, 0, 0)", "transparent"].includes(s.backgroundColor)
                || (s.borderLeftStyle !== "none" && parseFloat(s.borderLeftWidth) > 0)
                || (s.borderTopStyle !== "none" && parseFloat(s.borderTopWidth) > 0);
              if (!marked) { out.push(`${selector}: ${el.innerText.trim().slice(0, 50)}`); break; }
            }
          }
          return out; }""",
        list(STYLED_SELECTORS),
    )


def toc_numbering_gaps(page: Page) -> list[str]:
    """Top-level table-of-contents entries whose list number is not their rank (1, 2, 3, 4, 8 ...): sub-entries
    sharing the top-level `<ol>` take numbers even when drawn as bullets."""
    return page.evaluate(
        """() => {
          const top = [...document.querySelectorAll(".gne-toc li.gne-toc-h2")];
          return top.flatMap((li, rank) => {
            const shown = [...li.parentElement.children].filter(c => c.tagName === "LI").indexOf(li) + 1;
            return shown === rank + 1 ? [] : [`${shown}. ${li.innerText.trim()} (entry ${rank + 1})`];
          }); }"""
    )
