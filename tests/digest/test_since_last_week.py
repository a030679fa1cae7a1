"""Since last week's report, for real (the shared run of conftest.py): 2026-W46 was published on the small warehouse,
late refunds for W46 orders in ID were inserted into a copy, and the W47 run on the copy must list refund rate as
restated with both numbers equal to DuckDB's, compare its findings with W46's, and link each flagged scorecard row
to a deep dive that exists after the batch. Also: the flagged scan waits for the lock, and a flagged deep dive's
re-run command reproduces its slot."""

import re
import shlex
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from gnelib import metrics
from gnelib.cli import app
from gnelib.formats import format_value
from gnelib.reporting.digest import digest_for_week
from gnelib.reporting.flagged import (
    as_flagged,
    capped,
    fingerprint,
    last_weeks_report,
    load_week,
    report_name,
    save_week,
)
from gnelib.reporting.lock import run_lock
from gnelib.reporting.params import ValidationContext
from gnelib.reporting.paths import report_paths
from gnelib.reporting.rerun import rerun_command
from gnelib.reporting.spec import RunSpec
from gnelib.views.since_last_week import TOLERANCE, section, since_last_week
from gnelib.warehouse import connect

REPO = Path(__file__).parents[2]
WEEK, PREVIOUS, MARKET = "2026-W47", "2026-W46", "ID"
CLEAN_ENV = ("GNE_CATALOG", "GNE_CONFIG", "GNE_UNAVAILABLE_METRICS", "GNE_AGGREGATES", "GNE_REPORTS_DIR")
REFUND_RATE_SQL = """
    SELECT COUNT(*) FILTER (WHERE a.status = 'approved'
                              AND a.resolved_at <= o.ordered_at + to_days(CAST($horizon AS INTEGER))) / COUNT(*)
    FROM orders AS o LEFT JOIN after_sales AS a USING (order_id)
    WHERE o.market = 'ID' AND o.cancelled_at IS NULL AND o.ordered_at >= '2026-11-09' AND o.ordered_at < '2026-11-16'
"""


def refund_rate(path: Path, horizon: int) -> float:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(REFUND_RATE_SQL, {"horizon": horizon}).fetchone()[0]


def cells(row_html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row_html)]


def restated_rows(page: str) -> dict[str, list[str]]:
    """{metric title: cells} of the restated table of a page."""
    table = re.search(r"<caption>Restated:.*?</table>", page, re.S)
    assert table, "no restated table"
    return {row[0]: row for row in map(cells, re.findall(r"<tr>(.*?)</tr>", table.group(0), re.S)) if row}


def test_w46_published_its_headline_numbers_at_its_horizon(flagged_run):
    saved = load_week(flagged_run.reports, PREVIOUS)
    assert saved.published and len(saved.headlines)
    row = saved.headlines[(saved.headlines["metric"] == "refund_rate")
                          & (saved.headlines["market"] == MARKET)].iloc[0]
    assert (row["read_week"], row["horizon_days"]) == (PREVIOUS, 10)  # as-of Thu 2026-11-26, W46 ended Mon 11-16
    assert row["value"] == pytest.approx(refund_rate(flagged_run.original, 10), rel=1e-12)


def test_the_restated_refund_rate_has_both_numbers_equal_to_duckdb(flagged_run):
    published, now = refund_rate(flagged_run.original, 10), refund_rate(flagged_run.warehouse, 10)
    assert now > published * (1 + TOLERANCE)
    for template in ("weekly_scorecard", "after_sales"):
        row = restated_rows(flagged_run.page(template))["Refund rate"]
        assert row[1:4] == [f"{PREVIOUS}, events within 10 days of the order", format_value(published, "percent"),
                            format_value(now, "percent")], (template, row)
    # only metrics of after-sales requests can move: the late refunds touched nothing else
    touched = {metrics.get(name).title for name in ("refund_rate", "dispute_escalation_rate", "median_hours_to_refund")}
    assert set(restated_rows(flagged_run.page("weekly_scorecard"))) <= touched


def test_the_view_compares_exact_numbers_and_says_when_there_is_no_earlier_report(flagged_run, monkeypatch):
    for name in CLEAN_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GNE_WAREHOUSE", str(flagged_run.warehouse))
    names = ["refund_rate", "orders", "counterfeit_claim_rate"]
    with connect() as conn:
        result = since_last_week(conn, MARKET, WEEK, last_weeks_report(WEEK, flagged_run.reports), names)
        alone = section(conn, MARKET, WEEK, last_weeks_report(WEEK, flagged_run.reports / "elsewhere"), names)
    restated = result.restated.set_index("metric")
    assert list(restated.index) == ["refund_rate"] and result.checked == len(names)
    assert restated.loc["refund_rate", "published"] == pytest.approx(refund_rate(flagged_run.original, 10), rel=1e-12)
    assert restated.loc["refund_rate", "now"] == pytest.approx(refund_rate(flagged_run.warehouse, 10), rel=1e-12)
    assert alone.count("<p>") == 1 and f"No report of {PREVIOUS} was published" in alone
    assert last_weeks_report(WEEK, None) is None  # no $GNE_REPORTS_DIR: nothing to compare with


def test_findings_are_new_still_flagged_or_gone_against_w46s_report(flagged_run):
    before = load_week(flagged_run.reports, PREVIOUS).findings
    now = load_week(flagged_run.reports, WEEK).findings  # the batch's own scan, saved before its kernels ran
    before, now = (set(frame.loc[frame["market"] == MARKET, "metric"]) for frame in (before, now))
    page = flagged_run.page("weekly_scorecard")
    table = re.search(r"<caption>Findings, new / still flagged / gone.*?</table>", page, re.S).group(0)
    shown = {row[0]: row[1] for row in map(cells, re.findall(r"<tr>(.*?)</tr>", table, re.S)) if row}
    expected = {metrics.get(m).title: "new" for m in now - before}
    expected |= {metrics.get(m).title: "still flagged" for m in now & before}
    expected |= {metrics.get(m).title: "gone" for m in before - now}
    assert shown == expected and "still flagged" in shown.values()


def test_flagged_scorecard_rows_link_to_deep_dives_that_exist_after_the_batch(flagged_run):
    findings = load_week(flagged_run.reports, WEEK).findings
    chosen = capped(findings[findings["market"] == MARKET])
    page = flagged_run.page("weekly_scorecard")
    linked = re.findall(r'<a href="(metric_deep_dive-[\w-]+\.html)">deep dive</a>', page)
    assert sorted(linked) == sorted(f"{report_name(metric)}.html" for metric in chosen["metric"]) and linked
    for href in linked:
        assert (flagged_run.reports / WEEK / MARKET / href).is_file()
        assert flagged_run.runs[f"{WEEK}/{MARKET}/{href.removesuffix('.html')}"]["status"] == "ok"


def test_a_flagged_deep_dives_rerun_command_names_its_metric_and_reproduces_its_slot(flagged_run, monkeypatch):
    findings = load_week(flagged_run.reports, WEEK).findings
    metric = capped(findings[findings["market"] == MARKET])["metric"].iloc[0]
    template = REPO / "notebooks" / "metric_deep_dive.ipynb"
    parameters = {"market": MARKET, "metric": metric, "week": WEEK}
    spec = as_flagged(RunSpec(template, WEEK, MARKET, parameters,
                              report_paths(flagged_run.reports, WEEK, MARKET, template.stem), "v"), flagged_run.reports)
    facts = ValidationContext(warehouse=str(flagged_run.warehouse)).facts
    words = shlex.split(rerun_command(spec, flagged_run.reports, facts, REPO))
    assert words[words.index("metric") - 1] == "-p" and words[words.index("metric") + 1] == metric
    assert "--flagged" in words
    for name in CLEAN_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(REPO)
    done = CliRunner().invoke(app, [*words[1:-1], "--dry-run"])  # the command without --force
    assert done.exit_code == 0, done.output
    rows = [line.split("│")[1:-1] for line in done.stdout.splitlines() if line.startswith("│")]
    report, why, shown = ("".join(row[column].strip() for row in rows) for column in (1, 2, 3))
    assert report == f"{WEEK}/{MARKET}/{report_name(metric)}" and f"metric='{metric}'" in shown
    assert why.startswith(("unchanged", "inputs changed"))  # the batch's own slot, already in runs.json


def test_a_run_waiting_for_the_lock_has_not_scanned(small_warehouse, tmp_path, monkeypatch):
    for name in CLEAN_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GNE_WAREHOUSE", str(small_warehouse))
    monkeypatch.chdir(REPO)
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"templates_dir: {REPO / 'notebooks'}\nmarkets: [VN]\nweeks: latest\ndeep_dive: flagged\n"
                    "templates: {}\n")
    reports = tmp_path / "reports"
    with run_lock(reports, "another run"):
        done = CliRunner().invoke(app, ["run", str(plan), "--reports-dir", str(reports)])
    assert done.exit_code == 3, done.output
    assert not list(reports.glob("*/findings.json")) and not list(reports.glob("*/deep_dives.json"))
    assert not (reports / ".aggregates").exists()


def test_a_week_scanned_only_for_a_comparison_is_no_report_to_compare_with(flagged_run, small_warehouse, tmp_path):
    """The digest's fallback scan of the previous week saves no headline numbers and is not a published report."""
    facts = ValidationContext(warehouse=str(small_warehouse)).facts
    published = load_week(flagged_run.reports, WEEK)
    save_week(tmp_path, WEEK, published.findings, published.headlines, fingerprint(facts))
    save_week(tmp_path, PREVIOUS, flagged_run.findings(PREVIOUS), None, fingerprint(facts))
    assert last_weeks_report(WEEK, tmp_path) is None and not load_week(tmp_path, PREVIOUS).published
    digest = digest_for_week(tmp_path, facts, WEEK, {})
    assert digest.basis == "scanned by a later run (no run of it)" and digest.entries
    save_week(tmp_path, PREVIOUS, flagged_run.findings(PREVIOUS), published.headlines, fingerprint(facts))
    assert last_weeks_report(WEEK, tmp_path).week == PREVIOUS
    assert digest_for_week(tmp_path, facts, WEEK, {}).basis == "as its own run found it"
