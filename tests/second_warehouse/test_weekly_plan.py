"""The weekly plan end to end on the second warehouse (grain region, its own catalog, no experiments, no
after-sales): domain templates are not run, each with its reason in the plan output and the index; the generic
templates run for every region."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gnelib.cli import app

REPO = Path(__file__).parents[2]
REGIONS = ["east", "north", "south", "west"]
GENERIC = ["weekly_scorecard", "metric_deep_dive"]
DOMAIN = {
    "seller_risk": "the catalog has no metric enforcement_actions",
    "listing_compliance": "the catalog has no metric listing_violation_rate",
    "after_sales": "the catalog has no metric refund_rate",
    "experiment_readout": "the project config names no experiments source",
}


@pytest.fixture(scope="module")
def run(shop, tmp_path_factory):
    """`gne run` of the weekly plan's templates (the deep dive on one of this catalog's metrics), once."""
    plan = shop / "weekly.yaml"
    plan.write_text(
        f"templates_dir: {REPO / 'notebooks'}\nmarkets: all\nweeks: latest\ntemplates:\n"
        "  weekly_scorecard: {}\n  metric_deep_dive: {parameters: {metric: late_shipment_rate}}\n"
        "  seller_risk: {}\n  listing_compliance: {}\n  after_sales: {}\n  experiment_readout: {markets: [all]}\n"
    )
    reports = tmp_path_factory.mktemp("shop-reports")
    with pytest.MonkeyPatch.context() as patch:
        for name in ("GNE_WAREHOUSE", "GNE_CATALOG", "GNE_CONFIG", "GNE_UNAVAILABLE_METRICS"):
            patch.delenv(name, raising=False)
        patch.chdir(shop)
        done = CliRunner().invoke(app, ["run", str(plan), "--workers", "2", "--reports-dir", str(reports)],
                                  catch_exceptions=False)
    runs = {record["slot"]: record for record in json.loads((reports / "runs.json").read_text())["runs"]}
    return done, runs, (reports / "index.html").read_text()


def test_domain_templates_are_skipped_with_their_reason(run):
    done, runs, index = run
    for template, reason in DOMAIN.items():
        assert f"skipped {template}: {reason}" in done.stderr
        markets = ["all"] if template == "experiment_readout" else REGIONS
        for market in markets:
            record = runs[f"2025-W12/{market}/{template}"]
            assert record["status"] == "not-applicable" and record["reason"].startswith(reason)
            assert record["html"] is None
        assert f"not run on this warehouse: {reason}" in index
    assert "Traceback" not in done.output


def test_the_plan_covers_every_region_of_the_last_complete_week(run):
    _, runs, _ = run
    assert {slot.split("/")[0] for slot in runs} == {"2025-W12"}
    assert {record["market"] for record in runs.values() if record["template"] in GENERIC} == set(REGIONS)


def test_generic_templates_run_green_on_a_region_grain(run):
    done, runs, _ = run
    statuses = {slot: record["status"] for slot, record in runs.items() if record["template"] in GENERIC}
    assert statuses and set(statuses.values()) == {"ok"}, statuses
    assert done.exit_code == 0
