"""The digest: sentences carry the scan row's verdict, numbers and p-value (checked against a fresh scan and a
pandas recomputation), ranking, new / ongoing / resolved against the previous week, links, and the index."""

import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from gnelib import metrics
from gnelib.analysis.deep_dive import explain_findings
from gnelib.analysis.detection import findings, scan
from gnelib.analysis.headlines import in_page_unit
from gnelib.analysis.insights import segment_label
from gnelib.formats import format_change, format_p_value, format_value
from gnelib.periods import shift_week, weeks_between
from gnelib.reporting.digest import build_digest, finding_sentence, render_text
from gnelib.reporting.flagged import capped, deep_dive_anchors, deep_dive_links, rank, report_name
from gnelib.warehouse import connect

WEEK = "2026-W47"


@pytest.fixture(scope="module")
def fresh_findings(flagged_run, monkeypatch_module):
    """`findings(scan(conn, WEEK))` computed here, in the test process, from the warehouse the run read (the run's
    aggregate store makes it faster; it answers exactly as the warehouse, see tests/metrics/test_store.py)."""
    store = next((flagged_run.reports / ".aggregates").glob("*/manifest.json")).parent
    monkeypatch_module.setenv("GNE_WAREHOUSE", str(flagged_run.warehouse))
    monkeypatch_module.setenv("GNE_AGGREGATES", str(store))
    with connect() as conn:
        return explain_findings(conn, findings(scan(conn, WEEK)))


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def digest_lines(flagged_run) -> list[str]:
    text = (flagged_run.reports / WEEK / "digest.md").read_text()
    return [line for line in text.splitlines() if re.match(r"^\d+\. ", line)]


def test_each_sentence_has_the_scan_rows_verdict_numbers_and_p_value(flagged_run, fresh_findings):
    lines = digest_lines(flagged_run)
    assert len(lines) == len(fresh_findings) > 0
    ranked = rank(fresh_findings)
    for line, (_, row) in zip(lines, ranked.iterrows(), strict=True):
        fmt = in_page_unit(metrics.get(row["metric"])).format  # the digest's one unit for rates
        title = metrics.get(row["metric"]).title
        assert f"{title} in {row['market']}" in line
        for number in (format_value(row["baseline"], fmt), format_value(row["current"], fmt),
                       format_change(row["abs_change"], fmt), format_p_value(row["p_adjusted"])):
            assert number in line, (number, line)
        assert ("rose" in line) == (row["abs_change"] > 0)
        if row["verdict"] == "bad":
            assert "worse than usual" in line and "improvement" not in line and line.startswith(f"{line[0]}")
        for segment in row["carried_by"]:  # what its deep dive names (tests/digest/test_one_root_cause.py)
            assert segment_label(*segment.split("=", 1)) in line
        assert ("broad-based" in line) == bool(row["broad_based"])


def test_ranking_puts_worse_moves_first_then_by_confidence(fresh_findings):
    ranked = rank(fresh_findings)
    order = {"bad": 0, "good": 1, "neutral": 2}
    keys = [(order[v], p) for v, p in zip(ranked["verdict"], ranked["p_adjusted"], strict=True)]
    assert keys == sorted(keys)
    assert ranked.iloc[0]["verdict"] == "bad"


def test_a_segment_sum_matches_a_pandas_recomputation(flagged_run, fresh_findings):
    """GMV in PH's live channel (the planted mix shift): the finding's current value — its read week, or the mean
    over its window of weeks — equals a sum over the raw orders; the digest line says the same number."""
    row = fresh_findings[(fresh_findings["metric"] == "gmv_usd") & (fresh_findings["market"] == "PH")].iloc[0]
    assert (row["dimension"], row["segment"]) == ("channel", "live")
    window_weeks = int(row["window_weeks"]) if row["comparison"] == "window" else 1
    with duckdb.connect(str(flagged_run.warehouse), read_only=True) as con:
        orders = con.execute("SELECT ordered_at, gmv_usd FROM orders WHERE market = 'PH' AND channel = 'live'").df()
    iso = orders["ordered_at"].dt.isocalendar()
    orders["week"] = iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    window = weeks_between(shift_week(row["read_week"], 1 - window_weeks), row["read_week"])
    expected = orders.groupby("week")["gmv_usd"].sum().reindex(window).fillna(0).mean()
    assert row["current"] == pytest.approx(expected, rel=1e-9)
    line = next(line for line in digest_lines(flagged_run) if "GMV (USD) in PH, channel live" in line)
    assert f"to {format_value(expected, 'currency')}" in line


def test_new_ongoing_and_resolved_against_the_previous_weeks_findings(flagged_run):
    current, previous = flagged_run.findings(WEEK), flagged_run.findings(shift_week(WEEK, -1))
    before = set(zip(previous["metric"], previous["market"], strict=True))
    now = set(zip(current["metric"], current["market"], strict=True))
    digest = build_digest(current, previous, WEEK, flagged_run.runs)
    assert {(e.metric, e.market) for e in digest.entries if e.status == "ongoing"} == now & before
    assert {(e.metric, e.market) for e in digest.entries if e.status == "new"} == now - before
    assert {(e.metric, e.market) for e in digest.resolved} == before - now
    assert before - now and now - before and now & before  # this week has all three kinds
    text = (flagged_run.reports / WEEK / "digest.md").read_text()
    assert "against 2026-W46, as its own run found it" in text  # W46 was published before (see conftest)
    assert text.split("## Significant")[1] == render_text(digest).split("## Significant")[1]  # the file is this digest
    for entry in digest.resolved:
        assert f"- {entry.sentence}" in text and "no longer flagged" in entry.sentence


def test_flagged_deep_dives_ran_ranked_and_capped_and_the_digest_links_them(flagged_run):
    current = flagged_run.findings(WEEK)
    chosen = capped(current[current["market"].isin(["ID", "VN"])])
    slots = {f"{WEEK}/{row.market}/{report_name(row.metric)}" for row in chosen.itertuples()}
    ran = {slot for slot, run in flagged_run.runs.items() if run["template"].startswith("metric_deep_dive-")}
    assert ran == slots and all(flagged_run.runs[slot]["status"] == "ok" for slot in slots)
    assert flagged_run.runs[next(iter(slots))]["parameters"]["metric"] in set(chosen["metric"])
    page = (flagged_run.reports / WEEK / "digest.html").read_text()
    for row in chosen.itertuples():
        href = f"{row.market}/{report_name(row.metric)}.html"
        assert f'href="{href}"' in page and (flagged_run.reports / WEEK / href).is_file()
        assert deep_dive_links(row.market, WEEK, flagged_run.reports)[row.metric] == f"{report_name(row.metric)}.html"
    assert 'href="PH/' not in page  # no report of PH in this run: its findings are listed without a link
    assert deep_dive_links("VN", WEEK, None) == {}  # no $GNE_REPORTS_DIR: no links
    anchors = deep_dive_anchors("VN", WEEK, flagged_run.reports)
    assert set(anchors) == set(chosen[chosen["market"] == "VN"]["metric"]) and anchors
    assert all(a == f'<a href="{report_name(m)}.html">deep dive</a>' for m, a in anchors.items())


def test_the_digest_is_the_first_link_of_the_index(flagged_run):
    index = (flagged_run.reports / "index.html").read_text()
    assert re.findall(r'href="([^"#]+)"', index)[0] == f"{WEEK}/digest.html"
    assert "Metric deep dive: " in index


def test_only_a_good_verdict_reads_as_an_improvement(fresh_findings):
    row = fresh_findings[fresh_findings["verdict"] == "bad"].iloc[0]
    definition = metrics.get(row["metric"])
    assert "improvement" not in finding_sentence(row, definition)
    # (a scan row read back from the batch's store holds arrays, which Series.replace cannot compare: set the field)
    assert "an improvement" in finding_sentence(pd.Series({**row, "verdict": "good"}), definition)
    assert "improvement" not in finding_sentence(pd.Series({**row, "verdict": "neutral"}), definition)


def test_html_escapes_and_renders_from_the_same_entries(flagged_run):
    page = (flagged_run.reports / WEEK / "digest.html").read_text()
    assert "&lt;30d" in page and "<30d" not in page  # segment values are escaped
    assert page.count('class="gne-insight ') == len(digest_lines(flagged_run))
    assert Path(flagged_run.reports / WEEK / "findings.json").is_file()
    assert pd.notna(flagged_run.findings()["p_adjusted"]).all()
