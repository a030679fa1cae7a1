"""The real `gne run` on fixture templates: failure isolation and pages, skips, --force, locks, exit codes."""

import html
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from filelock import FileLock

from gnelib.reporting.lock import LOCK_NAME

FIXTURES = Path(__file__).parent / "fixtures"

PLAN_GOOD = """
markets: [US, GB]
weeks: latest
templates:
  chart_and_table: {}
  failing:
    parameters: {fail: false}
    markets: [US]
"""
PLAN_FAILING = """
markets: [US, GB]
weeks: latest
templates:
  chart_and_table: {}
  failing:
    parameters: {fail: true}
"""


class Links(HTMLParser):
    """Collects href targets and element ids of a page."""

    def __init__(self):
        super().__init__()
        self.hrefs, self.ids = [], []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.append(attributes["id"])
        if tag == "a" and "href" in attributes:
            self.hrefs.append(attributes["href"])


def links(page: Path) -> Links:
    parser = Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def batch(tmp_path_factory, small_warehouse, gne):
    """Three runs in one project: all good; then a failing plan; then the failing plan with --force."""
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(FIXTURES, root / "notebooks")
    (root / "good.yaml").write_text(PLAN_GOOD)
    (root / "failing.yaml").write_text(PLAN_FAILING)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setenv("GNE_WAREHOUSE", str(small_warehouse))
        reports = root / "reports"
        first = gne("run", "good.yaml", "--workers", "2")
        after_first = {path: path.read_bytes() for path in reports.rglob("*.html")}
        inodes_first = {path: path.stat().st_ino for path in reports.rglob("*.html")}
        dry = gne("run", "failing.yaml", "--dry-run")
        manifest_before_second = (reports / "runs.json").read_bytes()
        second = gne("run", "failing.yaml", "--workers", "2")
        after_second = {path: path.read_bytes() for path in reports.rglob("*.html")}
        inodes_second = {path: path.stat().st_ino for path in reports.rglob("*.html")}
        third = gne("run", "failing.yaml", "--workers", "2", "--force")
        inodes_third = {path: path.stat().st_ino for path in reports.rglob("*.html")}
    return {
        "root": root,
        "reports": reports,
        "first": first,
        "dry": dry,
        "second": second,
        "third": third,
        "after_first": after_first,
        "after_second": after_second,
        "manifest_before_second": manifest_before_second,
        "inodes": (inodes_first, inodes_second, inodes_third),
        "week": _week(small_warehouse),
    }


def _week(warehouse: Path) -> str:
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("SELECT value FROM warehouse_meta WHERE key = 'last_complete_week'").fetchone()[0]
    finally:
        con.close()


def slot(batch, market: str, name: str, suffix: str = ".html") -> Path:
    return batch["reports"] / batch["week"] / market / f"{name}{suffix}"


def runs(batch) -> dict:
    return {run["slot"]: run for run in json.loads((batch["reports"] / "runs.json").read_text())["runs"]}


def test_a_clean_batch_exits_0_and_prints_the_index_path(batch):
    assert batch["first"].exit_code == 0, batch["first"].output
    assert batch["first"].stdout.strip().splitlines()[-1] == "reports/index.html"
    assert len(batch["after_first"]) == 4  # 3 reports + index.html


def test_one_failing_run_does_not_stop_the_others_and_exits_1(batch):
    second = batch["second"]
    assert second.exit_code == 1
    assert "failed runs (2)" in second.stdout and f"{batch['week']}/GB/failing" in second.stdout
    recorded = runs(batch)
    week = batch["week"]
    assert recorded[f"{week}/GB/failing"]["status"] == "failed"
    assert recorded[f"{week}/US/failing"]["status"] == "stale-previous-kept"
    assert recorded[f"{week}/US/chart_and_table"]["status"] == "ok"
    assert recorded[f"{week}/GB/failing"]["error"]["ename"] == "ValueError"


def test_the_failure_page_says_what_failed_escaped_and_links_notebook_and_log(batch):
    page_path = slot(batch, "GB", "failing")
    page = page_path.read_text()
    assert '<meta name="gne-status" content="failed">' in page
    assert "planted failure for GB &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page
    assert re.search(r"code cell\s*<strong>\[\d+\]</strong>", page)
    targets = [href for href in links(page_path).hrefs if not href.startswith("#")]
    assert set(targets) == {"failing.ipynb", "failing.log"}
    assert all((page_path.parent / target).is_file() for target in targets)


def test_the_failure_page_gives_the_full_rerun_command_and_no_source_or_server_path(batch):
    page = html.unescape(slot(batch, "GB", "failing").read_text())
    week, root = batch["week"], str(batch["root"])
    command = (f"gne run notebooks/failing.ipynb -p market GB -p week {week} -p fail True --reports-dir reports "
               '--warehouse "$GNE_WAREHOUSE" --force')  # the run took the warehouse from $GNE_WAREHOUSE
    assert command in page
    assert "raise ValueError" not in page and "if fail:" not in page  # the cell source stays in the notebook
    assert root not in page and str(Path(root).parent) not in page


def test_paths_in_error_messages_are_shortened():
    from gnelib.reporting.rerun import redact_paths

    text = "No warehouse at /srv/gne/data/gne.duckdb; see https://example.org/a/b and ./data/x"
    assert redact_paths(text) == "No warehouse at …/gne.duckdb; see https://example.org/a/b and ./data/x"


def test_the_executed_notebook_with_its_error_is_kept(batch):
    notebook = json.loads(slot(batch, "GB", "failing", ".ipynb").read_text())
    errors = [
        output
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
        for output in cell["outputs"]
        if output["output_type"] == "error"
    ]
    assert [error["ename"] for error in errors] == ["ValueError"]
    assert "ValueError" in slot(batch, "GB", "failing", ".log").read_text()


def test_a_previous_good_report_is_kept_byte_identical_when_its_rerun_fails(batch):
    kept = slot(batch, "US", "failing")
    assert batch["after_second"][kept] == batch["after_first"][kept]
    assert "reached the end" in kept.read_text() and "could not be produced" not in kept.read_text()
    failure_page = slot(batch, "US", "failing", ".failed.html")
    assert "planted failure for US" in failure_page.read_text()
    assert "failing.html" in links(failure_page).hrefs


def test_unchanged_runs_are_skipped_and_force_reruns_them(batch):
    first, second, third = batch["inodes"]
    chart = slot(batch, "US", "chart_and_table")
    assert second[chart] == first[chart] and batch["after_second"][chart] == batch["after_first"][chart]
    assert third[chart] != second[chart]
    assert "2 skipped" in batch["second"].stdout
    assert "skipped" not in batch["third"].stdout


def test_dry_run_lists_runs_and_skips_and_writes_nothing(batch):
    dry = batch["dry"]
    assert dry.exit_code == 0
    assert "2 to run, 2 to skip" in dry.stdout
    assert (
        batch["manifest_before_second"]
        == json.dumps(json.loads(batch["manifest_before_second"]), indent=2, sort_keys=True).encode() + b"\n"
    )


def test_the_index_lists_every_slot_with_working_relative_links(batch):
    index = batch["reports"] / "index.html"
    parser = links(index)
    targets = [href for href in parser.hrefs if not href.startswith("#")]
    assert all((index.parent / target).is_file() for target in targets), targets
    week = batch["week"]
    for market, name in (
        ("US", "chart_and_table"),
        ("GB", "chart_and_table"),
        ("US", "failing"),
        ("GB", "failing"),
    ):
        assert f"{week}/{market}/{name}.html" in targets
    assert f"{week}/US/failing.failed.html" in targets and "runs.json" in targets
    assert all(href[1:] in parser.ids for href in parser.hrefs if href.startswith("#"))
    assert "failed · previous kept" in index.read_text()


def test_bad_input_exits_2_before_anything_runs(project, gne):
    result = gne("run", "notebooks/chart_and_table.ipynb", "-p", "market", "US'; DROP TABLE orders;--")
    assert result.exit_code == 2
    assert "not a market in the warehouse" in result.stderr
    assert not (project / "reports").exists()
    assert gne("run", "notebooks/chart_and_table.ipynb", "-p", "colour", "red").exit_code == 2
    assert gne("run", "notebooks/chart_and_table.ipynb", "-p", "week", "../../etc").exit_code == 2


def test_a_second_run_on_a_locked_reports_directory_exits_3(project, gne):
    (project / "reports").mkdir()
    with FileLock(project / "reports" / LOCK_NAME):
        result = gne("run", "notebooks/chart_and_table.ipynb", "-p", "market", "US")
    assert result.exit_code == 3
    assert "Another `gne run`" in result.stderr and "--wait" in result.stderr
