"""The index's triage table: one row per market from the digest's entries and the run manifest."""

import json

from gnelib.reporting.index import write_index
from gnelib.reporting.triage import DIGEST_DATA_NAME, triage_rows

WEEK = "2026-W47"


def entry(market: str, metric: str, verdict: str, href: str | None, label: str = "deep dive") -> dict:
    return {
        "metric": metric,
        "market": market,
        "title": metric.replace("_", " ").capitalize(),
        "pillar": "p",
        "owner": "",
        "verdict": verdict,
        "status": "new",
        "sentence": f"{metric} in {market} moved.",
        "p_adjusted": 0.001,
        "href": href,
        "link_label": label if href else "",
    }


def run(market: str, template: str, status: str = "ok", **extra) -> dict:
    html = f"{WEEK}/{market}/{template}.html"
    return {
        "slot": f"{WEEK}/{market}/{template}",
        "week": WEEK,
        "market": market,
        "template": template,
        "status": status,
        "html": html,
        "started": "2026-12-02T08:00:00+00:00",
        "action": "ran",
        **extra,
    }


def write(tmp_path, entries: list[dict], runs: list[dict]) -> dict[str, dict]:
    (tmp_path / WEEK).mkdir()
    (tmp_path / WEEK / DIGEST_DATA_NAME).write_text(json.dumps({"week": WEEK, "entries": entries}))
    (tmp_path / WEEK / "digest.html").write_text("<html></html>")
    return {record["slot"]: record for record in runs}


def test_one_row_per_market_most_alerts_first_with_the_top_headline_and_its_page(tmp_path):
    entries = [  # ranked as the digest ranks them: bad first
        entry("VN", "late_delivery_rate", "bad", "VN/metric_deep_dive-late_delivery_rate.html"),
        entry("VN", "refund_rate", "bad", None),
        entry("ID", "counterfeit_claim_rate", "bad", "ID/weekly_scorecard.html", "scorecard"),
        entry("ID", "orders", "good", None),
        entry("ID", "gmv_usd", "neutral", None),
    ]
    runs = write(
        tmp_path,
        entries,
        [
            run("ID", "weekly_scorecard"),
            run("VN", "weekly_scorecard"),
            run("TH", "weekly_scorecard"),
            run("TH", "seller_risk", status="failed"),
            run("all", "experiment_readout"),
            run("VN", "seller_risk", status="not-applicable"),
        ],
    )
    rows = triage_rows(tmp_path, WEEK, runs)
    assert [(r.market, r.alerts, r.changes) for r in rows] == [("VN", 2, 2), ("ID", 1, 3), ("TH", 0, 0)]
    vn, identifier, th = rows
    assert vn.headline == "late_delivery_rate in VN moved."
    assert (vn.href, vn.link_label) == (
        f"{WEEK}/VN/metric_deep_dive-late_delivery_rate.html",
        "Late delivery rate deep dive",
    )
    assert identifier.link_label == "Counterfeit claim rate in the scorecard"
    assert identifier.href == f"{WEEK}/ID/weekly_scorecard.html"
    assert (th.headline, th.href, th.link_label) == ("", f"{WEEK}/TH/weekly_scorecard.html", "scorecard")
    assert (vn.ran_ok, vn.failed, th.ran_ok, th.failed) == (1, 0, 1, 1)


def test_no_digest_data_no_triage(tmp_path):
    assert triage_rows(tmp_path, WEEK, {}) is None
    (tmp_path / WEEK).mkdir()
    (tmp_path / WEEK / DIGEST_DATA_NAME).write_text("{not json")
    assert triage_rows(tmp_path, WEEK, {}) is None


def test_the_index_shows_the_triage_ran_ok_badges_and_the_deep_dive_metric(tmp_path):
    entries = [entry("ID", "refund_rate", "bad", "ID/metric_deep_dive.html"), entry("MY", "orders", "good", None)]
    runs = write(
        tmp_path,
        entries,
        [
            run("ID", "weekly_scorecard"),
            run("ID", "metric_deep_dive", parameters={"market": "ID", "week": WEEK, "metric": "refund_rate"}),
        ],
    )
    page = write_index(tmp_path, runs).read_text()
    triage = page[page.index('class="gne-grid gne-triage"') : page.index("</table>")]
    assert "refund_rate in ID moved." in triage and f'href="{WEEK}/ID/metric_deep_dive.html"' in triage
    assert ">ran ok<" in page and ">ok<" not in page
    assert ">refund rate deep dive</a>" in page
    my_row = triage[triage.index('<th scope="row">MY</th>') :]
    assert ">no report<" in my_row and "none planned this week" in my_row
