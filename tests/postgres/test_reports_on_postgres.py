"""Every template runs through `gne run --warehouse postgresql://…` and says what the DuckDB run on the same data
says: the same key numbers, insight sentences, cards and tables. The PostgreSQL URL carries a password, which no
output and no file under the reports directory shows (a planted failing run puts the URL on its failure page).

One batch per engine, side by side: the generic templates, the domain templates and the failing fixture."""

import json
import shutil

import pytest
from engine_reports import REPO, assert_same_digest, assert_same_report, start_run, write_plan

MARKET, WEEK = "ID", "2026-W47"
SECRET = "s3cret-pg-7f2c"  # the trust-auth test server accepts and ignores it; only its absence in output matters
TEMPLATES = {
    "weekly_scorecard": {},
    "metric_deep_dive": {"parameters": {"metric": "counterfeit_claim_rate"}},
    "seller_risk": {},
    "listing_compliance": {},
    "after_sales": {},
    "experiment_readout": {"markets": ["all"], "parameters": {"experiment": "dispatch_sla_nudge"}},
}
FAILING = "failing"  # tests/reporting/fixtures/failing.ipynb: raises in its third cell
# One report per experiment: experiment_readout-<experiment>.
REPORTS = {**{name: name for name in TEMPLATES}, "experiment_readout": "experiment_readout-dispatch_sla_nudge"}
PAGES = {
    name: f"{WEEK}/{'all' if 'markets' in plan else MARKET}/{REPORTS[name]}.html" for name, plan in TEMPLATES.items()
}


def with_password(url: str) -> str:
    """`postgresql://gne@host…` → `postgresql://gne:SECRET@host…`."""
    scheme, _, rest = url.partition("://")
    user, _, host = rest.partition("@")
    return f"{scheme}://{user}:{SECRET}@{host}"


@pytest.fixture(scope="module")
def runs(postgres_url, small_warehouse, tmp_path_factory):
    """The same plan on PostgreSQL (URL with a password) and on the DuckDB file, run side by side: their reports
    directories and outputs. Each exits 1 (the failing fixture) with every other run ok."""
    folder = tmp_path_factory.mktemp("postgres-reports")
    templates = folder / "templates"
    templates.mkdir()
    for name in TEMPLATES:
        shutil.copy(REPO / "notebooks" / f"{name}.ipynb", templates)
    shutil.copy(REPO / "tests" / "reporting" / "fixtures" / f"{FAILING}.ipynb", templates)
    plan = write_plan(folder / "plan.yaml", MARKET, WEEK, {**TEMPLATES, FAILING: {}}, templates)
    started = {name: start_run(plan, warehouse, folder / name)
               for name, warehouse in (("postgres", with_password(postgres_url)), ("duckdb", str(small_warehouse)))}
    outputs = {name: process.communicate(timeout=900)[0] for name, process in started.items()}
    for name, process in started.items():
        records = json.loads((folder / name / "runs.json").read_text())["runs"]
        statuses = {record["template"]: record["status"] for record in records}
        assert process.returncode == 1, f"{name}: gne run exited {process.returncode}:\n{outputs[name]}"
        assert statuses == {**dict.fromkeys(REPORTS.values(), "ok"), FAILING: "failed"}, (statuses, outputs[name])
    assert "aggregates: 0 metric frames computed" not in outputs["postgres"], outputs["postgres"]
    return {"reports": {name: folder / name for name in started}, "outputs": outputs}


@pytest.mark.parametrize("template", TEMPLATES)
def test_report_says_what_the_duckdb_report_says(runs, template):
    reports = runs["reports"]
    facts = assert_same_report(reports["postgres"] / PAGES[template], reports["duckdb"] / PAGES[template])
    assert f"Week {WEEK}" in facts["header"]


def test_weekly_digest_says_what_the_duckdb_digest_says(runs):
    assert_same_digest(runs["reports"]["postgres"], runs["reports"]["duckdb"], WEEK)


def test_the_url_password_is_in_no_output_and_no_file(runs):
    reports = runs["reports"]["postgres"]
    failure = (reports / f"{WEEK}/{MARKET}/{FAILING}.html").read_text(encoding="utf-8")
    assert "gne:***@127.0.0.1" in failure  # the re-run command names the warehouse, masked
    assert SECRET not in runs["outputs"]["postgres"]
    leaks = [path for path in reports.rglob("*") if path.is_file() and SECRET.encode() in path.read_bytes()]
    assert not leaks, f"the password is written in {leaks}"
    assert len(list(reports.rglob("*.log"))) == len(TEMPLATES) + 1  # every run's log was searched

