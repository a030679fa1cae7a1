"""The weekly plan end to end on the second warehouse (grain region, its own catalog, no experiments, no
after-sales): domain templates are not run, each with its reason in the plan output and the index; the generic
templates run for every region. The run is the session's `shop_weekly_run` (also opened in Chromium by
tests/browser/test_second_warehouse_in_browser.py)."""

import pytest

from second_warehouse.fixtures import GENERIC, REGIONS, SKIPPED, WEEK


@pytest.fixture(scope="module")
def run(shop_weekly_run):
    return shop_weekly_run.done, shop_weekly_run.runs, shop_weekly_run.index


def test_domain_templates_are_skipped_with_their_reason(run):
    done, runs, index = run
    for template, reason in SKIPPED.items():
        assert f"skipped {template}: {reason}" in done.stderr
        markets = ["all"] if template == "experiment_readout" else list(REGIONS)
        for market in markets:
            record = runs[f"{WEEK}/{market}/{template}"]
            assert record["status"] == "not-applicable" and record["reason"].startswith(reason)
            assert record["html"] is None
        assert f"not run on this warehouse: {reason}" in index
    assert "Traceback" not in done.output


def test_the_plan_covers_every_region_of_the_last_complete_week(run):
    _, runs, _ = run
    assert {slot.split("/")[0] for slot in runs} == {WEEK}
    assert {record["market"] for record in runs.values() if record["template"] in GENERIC} == set(REGIONS)


def test_generic_templates_run_green_on_a_region_grain(run):
    done, runs, _ = run
    statuses = {slot: record["status"] for slot, record in runs.items() if record["template"] in GENERIC}
    assert statuses and set(statuses.values()) == {"ok"}, statuses
    assert done.exit_code == 0
