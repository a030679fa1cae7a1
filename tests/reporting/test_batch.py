"""The real `gne run` on fixture templates: failure isolation and pages, skips, --force, locks, exit codes."""

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

from filelock import FileLock

from gnelib.reporting.lock import LOCK_NAME

STALE_BANNER = re.compile(r"<!-- gne:stale -->.*?<!-- /gne:stale -->", flags=re.DOTALL)


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


def test_a_previous_good_report_is_kept_with_a_stale_banner_when_its_rerun_fails(batch):
    kept = slot(batch, "US", "failing")
    page = batch["after_second"][kept].decode()
    assert STALE_BANNER.sub("", page, count=1).encode() == batch["after_first"][kept]  # only the banner added
    assert "reached the end" in page and "could not be produced" not in page
    generated = re.search(r"<dt>Generated</dt><dd>(.*?)</dd>", batch["after_first"][kept].decode()).group(1)
    started = runs(batch)[f"{batch['week']}/US/failing"]["started"]  # the third (forced) run's, as the page now
    banner = html.unescape(STALE_BANNER.search(kept.read_text()).group(0))
    assert f"stale: the latest run failed at {started[:10]} {started[11:16]} UTC, this is the report of {generated}" \
        in re.sub(r"<[^>]+>", "", banner)
    assert len(STALE_BANNER.findall(kept.read_text())) == 1  # the third run replaced the second run's banner
    failure_page = slot(batch, "US", "failing", ".failed.html")
    assert "planted failure for US" in failure_page.read_text()
    assert "failing.html" in links(failure_page).hrefs and "failing.failed.html" in links(kept).hrefs


def test_the_failed_runs_notebook_and_log_sit_beside_the_kept_reports_own(batch):
    def errors(notebook: Path) -> list[str]:
        cells = json.loads(notebook.read_text())["cells"]
        return [out["ename"] for cell in cells if cell["cell_type"] == "code" for out in cell["outputs"]
                if out["output_type"] == "error"]

    assert errors(slot(batch, "US", "failing", ".ipynb")) == []  # the kept report's own notebook and log
    assert "ValueError" not in slot(batch, "US", "failing", ".log").read_text()
    assert errors(slot(batch, "US", "failing", ".failed.ipynb")) == ["ValueError"]
    assert "ValueError" in slot(batch, "US", "failing", ".failed.log").read_text()
    record = runs(batch)[f"{batch['week']}/US/failing"]
    week = batch["week"]
    assert (record["notebook"], record["log"]) == (f"{week}/US/failing.failed.ipynb", f"{week}/US/failing.failed.log")
    assert (record["kept_notebook"], record["kept_log"]) == (f"{week}/US/failing.ipynb", f"{week}/US/failing.log")
    assert not slot(batch, "GB", "failing", ".failed.ipynb").exists()  # no kept report in GB: plain names
    assert set(links(slot(batch, "US", "failing", ".failed.html")).hrefs) >= {"failing.failed.ipynb",
                                                                              "failing.failed.log"}


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
    assert {f"{week}/US/failing.{kind}" for kind in ("ipynb", "log", "failed.ipynb", "failed.log")} <= set(targets)
    assert all(href[1:] in parser.ids for href in parser.hrefs if href.startswith("#"))
    text = index.read_text()
    assert "failed · previous kept" in text
    for run in runs(batch).values():  # the date with the time
        assert f"{run['started'][:10]} {run['started'][11:16]} UTC" in text


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


def test_a_batch_of_templates_that_compute_no_metric_fills_no_aggregate_store(batch):
    """The fixture templates import no gnelib layer that computes metrics: their batch starts its kernels at
    once (filling the store for them took 28 s on the small warehouse, most of a one-report batch)."""
    assert batch["first"].exit_code == 0, batch["first"].output
    assert "aggregates:" not in batch["first"].stderr
    assert not (batch["reports"] / ".aggregates").exists()
