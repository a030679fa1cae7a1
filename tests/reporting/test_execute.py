"""Execution in warm and fresh kernels: identical outputs, no state leaking between runs, deaths, timeouts."""

import ast
from pathlib import Path

import pytest

from gnelib.reporting.execute import execute_run
from gnelib.reporting.kernel_pool import KernelSource

FIXTURES = Path(__file__).parent / "fixtures"
PARAMS = {"market": "GB", "week": "2026-W47"}


def comparable_outputs(notebook) -> list:
    """Every code cell's outputs without the volatile parts (stderr paths, execution counts)."""
    return [
        [
            {key: value for key, value in output.items() if key != "execution_count"}
            for output in cell.outputs
            if output.get("name") != "stderr"
        ]
        for cell in notebook.cells
        if cell.cell_type == "code"
    ]


def probe(notebook) -> dict:
    """The state probe printed by chart_and_table's first code cell after the parameters."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.source.startswith("import matplotlib as mpl"):
            return ast.literal_eval(cell.outputs[0]["text"])
    raise AssertionError("probe cell not found")


@pytest.fixture(scope="module")
def warm_and_fresh(tmp_path_factory):
    """Run A then B in one warm kernel, and B alone in a fresh kernel."""
    out = tmp_path_factory.mktemp("executions")
    warm = KernelSource("warm")
    try:
        run_a = execute_run(
            FIXTURES / "chart_and_table.ipynb", {**PARAMS, "scale": 2}, out / "a.ipynb", warm, 120
        )
        run_b_warm = execute_run(FIXTURES / "chart_and_table.ipynb", PARAMS, out / "b_warm.ipynb", warm, 120)
    finally:
        warm.discard()
    run_b_fresh = execute_run(
        FIXTURES / "chart_and_table.ipynb", PARAMS, out / "b_fresh.ipynb", KernelSource("fresh"), 120
    )
    return run_a, run_b_warm, run_b_fresh


def test_warm_and_fresh_give_identical_outputs(warm_and_fresh):
    _, run_b_warm, run_b_fresh = warm_and_fresh
    assert run_b_warm.ok and run_b_fresh.ok
    warm, fresh = comparable_outputs(run_b_warm.notebook), comparable_outputs(run_b_fresh.notebook)
    assert any(
        output.get("data", {}).get("image/png") for cell in warm for output in cell
    )  # the chart is compared
    assert any(output.get("data", {}).get("text/html") for cell in warm for output in cell)  # and the table
    assert warm == fresh


def test_state_of_run_a_does_not_leak_into_run_b(warm_and_fresh):
    run_a, run_b_warm, run_b_fresh = warm_and_fresh
    # run A ends by defining leak_marker, switching the seaborn theme and a pandas option
    assert "leak_marker = 1" in run_a.notebook.cells[-1].source
    assert probe(run_b_warm.notebook) == probe(run_b_fresh.notebook)
    assert probe(run_b_warm.notebook)["leaked_variable"] is False
    assert comparable_outputs(run_a.notebook) != comparable_outputs(run_b_warm.notebook)  # scale=2 differs


def test_a_failing_cell_is_reported_and_the_executed_notebook_kept(tmp_path):
    source = KernelSource("fresh")
    execution = execute_run(FIXTURES / "failing.ipynb", PARAMS, tmp_path / "failing.ipynb", source, 120)
    assert execution.failure.kind == "error" and execution.failure.ename == "ValueError"
    assert "planted failure for GB" in execution.failure.evalue
    assert "raise ValueError" in execution.failure.cell_source
    errors = [
        o
        for c in execution.notebook.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert len(errors) == 1 and list(tmp_path.iterdir()) == []  # returned, not written: the caller places it


def test_a_kernel_that_dies_is_restarted_and_the_run_retried_once(tmp_path):
    warm = KernelSource("warm")
    try:
        marker = tmp_path / "died-once"
        survived = execute_run(
            FIXTURES / "dies_once.ipynb", {**PARAMS, "marker": str(marker)}, tmp_path / "a.ipynb", warm, 120
        )
        assert survived.ok and survived.attempts == 2 and marker.exists()
        always = execute_run(FIXTURES / "dies_once.ipynb", PARAMS, tmp_path / "b.ipynb", warm, 120)
        assert always.failure.kind == "kernel-died" and always.attempts == 2
        after = execute_run(FIXTURES / "slow.ipynb", PARAMS, tmp_path / "c.ipynb", warm, 120)
        assert after.ok  # the pool's kernel was replaced and keeps working
    finally:
        warm.discard()


def test_a_run_over_the_timeout_is_stopped(tmp_path):
    warm = KernelSource("warm")
    try:
        execution = execute_run(
            FIXTURES / "slow.ipynb", {**PARAMS, "seconds": 60.0}, tmp_path / "s.ipynb", warm, 2
        )
        assert execution.failure.kind == "timeout" and execution.attempts == 1
        assert "--timeout 2 s" in execution.failure.evalue
        assert execute_run(FIXTURES / "slow.ipynb", PARAMS, tmp_path / "t.ipynb", warm, 30).ok
    finally:
        warm.discard()
