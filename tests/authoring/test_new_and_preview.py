"""`gne new template|metric` in a copy of the project's files, and `gne preview --watch` on the new template."""

import ast
import datetime as dt
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import jupytext
import nbformat
import pytest
from typer.testing import CliRunner

from gnelib.cli import app
from gnelib.metrics import compute
from gnelib.metrics.catalog import PACKAGED_CATALOG, load_catalog
from gnelib.reporting.plan import load_plan
from gnelib.warehouse import connect

ROOT = Path(__file__).resolve().parents[2]
WEEK = "2026-W47"


@pytest.fixture(scope="module")
def project(tmp_path_factory, small_warehouse) -> Path:
    """A project folder with the templates, the weekly plan, the nbval reference parameters and the catalog, and a
    template scaffolded by `gne new template watch_orders --metric orders`."""
    folder = tmp_path_factory.mktemp("project")
    shutil.copytree(ROOT / "notebooks", folder / "notebooks")
    (folder / "parameters").mkdir()
    shutil.copy(ROOT / "parameters/weekly.yaml", folder / "parameters")
    (folder / "tests/notebooks").mkdir(parents=True)
    shutil.copy(ROOT / "tests/notebooks/refresh.py", folder / "tests/notebooks")
    (folder / "tests/metrics").mkdir()
    shutil.copy(ROOT / "tests/metrics/metric_reference.py", folder / "tests/metrics")
    shutil.copytree(PACKAGED_CATALOG, folder / "catalog")
    (folder / "gne.yaml").write_text((ROOT / "gne.yaml").read_text().replace("catalog: packaged", "catalog: catalog"))
    done = run_gne(folder, small_warehouse, "new", "template", "watch_orders", "--metric", "orders")
    assert done.exit_code == 0, done.output
    return folder


def run_gne(folder: Path, warehouse: Path, *arguments: str):
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        return CliRunner().invoke(app, list(arguments), env={"GNE_WAREHOUSE": str(warehouse)})
    finally:
        os.chdir(cwd)


def test_the_new_template_is_thin_paired_planned_and_has_reference_parameters(project):
    notebook = nbformat.read(project / "notebooks/watch_orders.ipynb", as_version=4)
    sources = [cell.source for cell in notebook.cells]
    assert sources[0].startswith("# Watch orders\n")
    assert notebook.cells[1].metadata["tags"] == ["parameters"] and 'metric: str = "orders"' in sources[1]
    assert "notebook.start(market, week)" in sources[2] and "## Key insights" in sources
    assert "charts.trend_chart(" in sources[-1]
    assert all(not cell.get("outputs") for cell in notebook.cells)
    script = jupytext.read(project / "notebooks/watch_orders.py")
    assert [cell.source for cell in script.cells] == sources
    assert load_plan(project / "parameters/weekly.yaml").templates["watch_orders"].parameters == {}
    tree = ast.parse((project / "tests/notebooks/refresh.py").read_text())
    references = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "REFERENCE_PARAMETERS"
    )
    assert references["watch_orders"] == {**references["weekly_scorecard"], "metric": "orders"}


def test_from_copies_a_template_without_outputs_and_its_reference_parameters(project, small_warehouse):
    done = run_gne(project, small_warehouse, "new", "template", "late_delivery_dive", "--from", "metric_deep_dive")
    assert done.exit_code == 0, done.output
    source = nbformat.read(project / "notebooks/metric_deep_dive.ipynb", as_version=4)
    copy = nbformat.read(project / "notebooks/late_delivery_dive.ipynb", as_version=4)
    assert copy.cells[0].source.splitlines()[0] == "# Late delivery dive"
    assert [cell.source for cell in copy.cells[1:]] == [cell.source for cell in source.cells[1:]]
    assert {cell.id for cell in copy.cells}.isdisjoint(cell.id for cell in source.cells)
    refresh = (project / "tests/notebooks/refresh.py").read_text()
    assert re.search(
        r'"late_delivery_dive": \{"market": "TH", "metric": "late_delivery_rate", "week": "2026-W46"\}', refresh
    )
    assert "gne preview notebooks/late_delivery_dive.ipynb -p market TH" in done.output
    assert "make nbval-refresh" in done.output


def test_bad_names_and_existing_templates_are_refused_without_writing(project, small_warehouse):
    plan_before = (project / "parameters/weekly.yaml").read_text()
    for arguments, message in (
        (["Bad-Name"], "is not valid"),
        (["watch_orders"], "already exists"),
        (["other", "--from", "no_such_template"], "choose one of: after_sales"),
    ):
        done = run_gne(project, small_warehouse, "new", "template", *arguments)
        assert done.exit_code == 2 and message in done.output, done.output
    assert (project / "parameters/weekly.yaml").read_text() == plan_before


def test_new_metric_is_accepted_by_the_catalog_and_computes(project, small_warehouse):
    done = run_gne(
        project,
        small_warehouse,
        "new",
        "metric",
        "all_orders_share",
        "--group",
        "make_it_right",
        "--catalog",
        "catalog",
        "--references",
        "tests/metrics/metric_reference.py",
    )
    assert done.exit_code == 0, done.output
    definition = load_catalog(project / "catalog").get("all_orders_share")
    assert (definition.kind, definition.pillar, definition.format) == ("ratio", "make_it_right", "percent")
    frame = compute(
        connect(str(small_warehouse)), definition, weeks=WEEK, by=["market"], catalog=load_catalog(project / "catalog")
    )
    assert len(frame) == 8 and (frame["value"] == 1.0).all()  # the placeholder COUNT(*) / COUNT(*)
    references = (project / "tests/metrics/metric_reference.py").read_text()
    assert "def all_orders_share(t: Tables) -> pd.DataFrame:" in references
    assert re.search(r"\n        all_orders_share,\n    \]", references)
    ast.parse(references)
    refused = run_gne(
        project, small_warehouse, "new", "metric", "x_rate", "--group", "no_group", "--catalog", "catalog"
    )
    assert refused.exit_code == 2 and "choose one of: " in refused.output and "make_it_right" in refused.output


def orders_in_week(warehouse: Path, market: str, week: str) -> int:
    """Orders placed in the ISO week, counted straight from the table."""
    year, number = week.split("-W")
    start = dt.date.fromisocalendar(int(year), int(number), 1)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "SELECT count(*) FROM orders WHERE market = ? AND ordered_at >= ? AND ordered_at < ?",
            [market, start, start + dt.timedelta(days=7)],
        ).fetchone()[0]


def test_preview_renders_then_renders_again_when_the_py_pair_changes(project, small_warehouse):
    command = [
        sys.executable,
        "-c",
        "from gnelib.cli import app; app(prog_name='gne')",
        "preview",
        "notebooks/watch_orders.ipynb",
        "-p",
        "market",
        "ID",
        "-p",
        "week",
        WEEK,
        "--watch",
        "--interval",
        "0.5",
    ]
    process = subprocess.Popen(
        command,
        cwd=project,
        env={**os.environ, "GNE_WAREHOUSE": str(small_warehouse)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Ctrl-C as at a terminal: a suite started in the background (`make test &`) has SIGINT ignored, and a
        # child that inherits that never sees the Ctrl-C this test sends
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()

    def next_line(pattern: str, seconds: float = 240) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            if re.search(pattern, line):
                return line
        raise AssertionError(f"no line matching {pattern!r} within {seconds} s")

    page = project / "build/preview" / WEEK / "ID" / "watch_orders.html"
    try:
        assert next_line(r"^ok  ").startswith(f"ok  build/preview/{WEEK}/ID/watch_orders.html")
        first = page.read_text()
        expected = f"{orders_in_week(small_warehouse, 'ID', WEEK):,}"
        assert f"Orders</strong> in ID, {WEEK}: {expected}." in first
        script = project / "notebooks/watch_orders.py"
        script.write_text(
            script.read_text().replace(
                "One line on the question this report answers.", "How many orders did the market take?"
            )
        )
        assert "notebooks/watch_orders.py" in next_line(r"^changed: .*rendering again")
        assert next_line(r"^ok  ")
        assert "How many orders did the market take?" in page.read_text()
        synced = nbformat.read(project / "notebooks/watch_orders.ipynb", as_version=4)
        assert "How many orders did the market take?" in synced.cells[0].source
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            said = "".join(lines.get_nowait() for _ in range(lines.qsize()))
            raise AssertionError(f"gne preview --watch did not stop within 60 s of Ctrl-C; it said:\n{said}") from None
        assert code == 0
