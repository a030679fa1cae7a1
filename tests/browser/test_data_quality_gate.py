"""An empty week gives a clear "no data" report and a short week a visible warning, never a traceback.

A copy of the small warehouse loses every SG order of 2026-W47 and half of GB's; the real `gne run` then renders the
templates for those slots, and Chromium shows what a reader would see.
"""

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml
from playwright.sync_api import Browser

from browser import chromium as cr
from browser.report_build import NOTEBOOKS, BuiltReports, report_templates, run_gne, template_markets

pytestmark = pytest.mark.browser

WEEK = "2026-W47"
WEEK_START, WEEK_END = dt.datetime(2026, 11, 16), dt.datetime(2026, 11, 23)
EMPTY_MARKET, SHORT_MARKET = "SG", "GB"
TRAILING_WEEKS = 4


def per_market_templates() -> list[str]:
    """Templates that report on one market (not the cross-market ones)."""
    return [name for name in report_templates() if template_markets(NOTEBOOKS / f"{name}.ipynb") != ["all"]]


@pytest.fixture(scope="module")
def gappy_reports(tmp_path_factory: pytest.TempPathFactory, small_warehouse: Path) -> dict:
    """Reports on a warehouse copy where SG has no orders in 2026-W47 and GB lost every other one."""
    root = tmp_path_factory.mktemp("quality-gate")
    warehouse = root / "gappy.duckdb"
    shutil.copy(small_warehouse, warehouse)
    con = duckdb.connect(str(warehouse))
    try:
        in_week = "ordered_at >= $start AND ordered_at < $end"
        bounds = {"start": WEEK_START, "end": WEEK_END}
        con.execute(f"DELETE FROM orders WHERE market = '{EMPTY_MARKET}' AND {in_week}", bounds)
        con.execute(f"DELETE FROM orders WHERE market = '{SHORT_MARKET}' AND {in_week} AND order_id % 2 = 0", bounds)
        left = con.execute(
            f"SELECT count(*) FROM orders WHERE market = '{SHORT_MARKET}' AND {in_week}", bounds
        ).fetchone()[0]
        before = con.execute(
            f"SELECT date_trunc('week', ordered_at) AS week, count(*) AS n FROM orders WHERE market = '{SHORT_MARKET}'"
            " AND ordered_at >= $first AND ordered_at < $start GROUP BY 1",
            {"first": WEEK_START - dt.timedelta(weeks=TRAILING_WEEKS), "start": WEEK_START},
        ).df()
        assert con.execute(
            f"SELECT count(*) FROM orders WHERE market = '{EMPTY_MARKET}' AND {in_week}", bounds
        ).fetchone()[0] == 0
    finally:
        con.close()
    assert len(before) == TRAILING_WEEKS
    plan = {
        "templates_dir": str(NOTEBOOKS),
        "weeks": [WEEK],
        "markets": [EMPTY_MARKET],
        "templates": {name: {} for name in per_market_templates()},
    }
    plan["templates"]["weekly_scorecard"] = {"markets": [EMPTY_MARKET, SHORT_MARKET]}
    plan_path = root / "plan.yaml"
    plan_path.write_text(yaml.safe_dump(plan), encoding="utf-8")
    reports = root / "reports"
    done = run_gne("run", plan_path, "--warehouse", warehouse, "--reports-dir", reports, "--workers", 2)
    return {
        "reports": reports,
        "returncode": done.returncode,
        "output": done.stdout + done.stderr,
        "short_week_orders": int(left),
        "short_week_median": float(before["n"].median()),
    }


def read_page(browser: Browser, path: Path, artifacts: Path | None = None) -> tuple[str, dict, cr.PageLog]:
    assert path.is_file(), f"{path} was not written"
    with cr.open_page(browser, path) as (page, log):
        text = cr.visible_text(page)
        callouts = page.evaluate(
            "[...document.querySelectorAll('.gne-callout')].map(c => [c.className, c.innerText, c.offsetHeight > 0])"
        )
        facts = {"callouts": callouts, "unstyled": cr.unstyled_elements(page), "status": page.evaluate(
            "document.querySelector('meta[name=gne-status]')?.content ?? null")}
        if artifacts is not None:
            page.screenshot(path=artifacts, full_page=True)
    return text, facts, log


def test_the_run_succeeds(gappy_reports):
    assert gappy_reports["returncode"] == 0, gappy_reports["output"]


@pytest.mark.parametrize("template", per_market_templates())
def test_empty_week_says_no_data_without_a_traceback(gappy_reports, browser: Browser, artifacts_dir: Path, template):
    path = gappy_reports["reports"] / WEEK / EMPTY_MARKET / f"{template}.html"
    text, facts, log = read_page(browser, path, artifacts_dir / f"no-data-{template}-{EMPTY_MARKET}.png")
    assert facts["status"] == "ok", f"a failure page instead of a no-data report:\n{text[:2000]}"
    assert f"No orders for {EMPTY_MARKET} in {WEEK}" in text
    assert "no data" in text.lower()
    assert "Traceback" not in text and "Error:" not in text
    assert any("gne-callout-error" in cls and shown for cls, _, shown in facts["callouts"])
    assert log.page_errors == [] and log.console_errors == []


def test_short_week_shows_a_visible_warning_with_the_counts(gappy_reports, browser: Browser, artifacts_dir: Path):
    path = gappy_reports["reports"] / WEEK / SHORT_MARKET / "weekly_scorecard.html"
    text, facts, _ = read_page(browser, path, artifacts_dir / f"partial-weekly_scorecard-{SHORT_MARKET}.png")
    orders, median = gappy_reports["short_week_orders"], gappy_reports["short_week_median"]
    assert orders < 0.6 * median, "the deletion did not make the week short enough to test the gate"
    warnings = [message for cls, message, shown in facts["callouts"] if "gne-callout-warning" in cls and shown]
    assert len(warnings) == 1
    assert "looks incomplete" in warnings[0]
    assert f"{orders:,} orders against a median of {median:,.0f}" in warnings[0]
    assert facts["unstyled"] == [], "the warning looks like ordinary body text"
    assert "Traceback" not in text


def test_complete_week_says_complete(built_reports: BuiltReports, browser: Browser):
    text, facts, _ = read_page(browser, built_reports.html("weekly_scorecard", "ID"))
    quality = [message for _, message, _ in facts["callouts"] if "Data quality" in message]
    assert len(quality) == 1 and "Data complete" in quality[0]
    assert not any("warning" in cls or "error" in cls for cls, _, _ in facts["callouts"])
