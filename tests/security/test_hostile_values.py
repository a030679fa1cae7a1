"""Hostile values in messages and pages (issue 12, item 7): a YAML tag that would build a Python object, a 10 kB
parameter, and right-to-left overrides and NUL bytes in seller text."""

from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from gnelib.reporting.errors import PlanError
from gnelib.reporting.execute import RunFailure
from gnelib.reporting.failure import render_failure_page
from gnelib.reporting.plan import load_plan
from gnelib.reporting.render import ReportHeader, render_report
from gnelib.viz.tables import html_table

FIXTURES = Path(__file__).parents[1] / "reporting" / "fixtures"
HEADER = ReportHeader("Seller text", "US", "2026-W47", "2026-11-26 00:00:00", "2026-11-27 08:00 UTC", "9.9.9-test")
RLO, NUL = "\u202e", "\x00"
SELLER_NAMES = [f"Best Shop{RLO}gpj.exe", f"Null{NUL}Byte Store", "متجر الجمال الأصلي", "Tab\tand\nnewline"]


def test_a_python_object_tag_in_a_plan_is_an_unsupported_tag_not_an_indentation_problem(tmp_path):
    marker = tmp_path / "pwned"
    plan = tmp_path / "plan.yaml"
    plan.write_text(f'templates: !!python/object/apply:os.system ["touch {marker}"]\n')
    with pytest.raises(PlanError) as raised:
        load_plan(plan)
    message = str(raised.value)
    assert message.startswith(f"{plan}:1:12: unsupported YAML tag !!python/object/apply:os.system")
    assert "(plans are plain YAML" in message and "indentation" not in message
    assert not marker.exists()


def test_a_10kb_parameter_is_echoed_shortened_with_its_length(small_warehouse_env, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from gnelib.cli import app

    monkeypatch.chdir(tmp_path)
    huge = "A" * 10_240
    result = CliRunner().invoke(app, ["run", str(FIXTURES / "chart_and_table.ipynb"), "-p", "market", huge,
                                      "-p", "week", huge, "-p", huge, "1"], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stderr.count("… (10,240 characters)") == 3, result.stderr  # market, week, the unknown name
    assert "A" * 100 not in result.stderr and len(result.stderr) < 2_000
    assert "'market'" in result.stderr and "'week'" in result.stderr


@pytest.fixture(scope="module")
def seller_page() -> str:
    """A report page whose table shows seller names with an RLO override, a NUL byte, Arabic and whitespace."""
    table = html_table(pd.DataFrame({"shop": SELLER_NAMES, "orders": [1, 2, 3, 4]}))
    notebook = new_notebook(cells=[new_code_cell(outputs=[new_output("display_data", data={"text/html": table})])])
    notebook.metadata["language_info"] = {"name": "python"}
    return render_report(nbformat.from_dict(notebook), HEADER)


def test_rlo_and_nul_in_seller_text_reach_the_page_visibly_neutralised(seller_page):
    assert RLO not in seller_page and NUL not in seller_page
    assert "Best Shop\\u202egpj.exe" in seller_page and "Null\\u0000Byte Store" in seller_page


def test_other_seller_text_is_shown_unchanged(seller_page):
    assert "متجر الجمال الأصلي" in seller_page  # right-to-left script itself is not an override
    assert "Tab\tand\nnewline" in seller_page


def test_a_failure_page_neutralises_them_too():
    failure = RunFailure("error", "ValueError", f"no orders for Best Shop{RLO}gpj.exe{NUL}")
    page = render_failure_page(HEADER, rerun="gne run x", failure=failure, notebook=None, log="x.log",
                               previous_kept=None)
    assert RLO not in page and NUL not in page and "Best Shop\\u202egpj.exe\\u0000" in page
