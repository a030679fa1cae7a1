"""Run plans: YAML parsing with located errors, and expansion into validated runs."""

import datetime as dt
from pathlib import Path

import pytest

from gnelib.reporting.errors import PlanError
from gnelib.reporting.plan import expand_plan, load_plan

REPO = Path(__file__).parents[2]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["weekly.yaml", "smoke.yaml"])
def test_shipped_plans_parse(name):
    plan = load_plan(REPO / "parameters" / name)
    smoke = name == "smoke.yaml"  # a fixed deep dive and the original six templates; weekly: every template
    templates = {path.stem for path in (REPO / "notebooks").glob("*.ipynb")}
    if smoke:
        assert set(plan.templates) == {"weekly_scorecard", "metric_deep_dive", "seller_risk", "listing_compliance",
                                       "after_sales", "experiment_readout"}
        assert plan.templates["metric_deep_dive"].parameters == {"metric": "refund_rate"}
    else:  # the weekly plan follows the scan's flags for deep dives (issue 13)
        assert set(plan.templates) == templates - {"metric_deep_dive"}
    assert plan.deep_dive == (None if smoke else "flagged")
    assert plan.templates["experiment_readout"].markets == ["all"]


def test_broken_yaml_names_file_line_and_fix(tmp_path):
    path = write(tmp_path / "broken.yaml", "markets: [US, GB\nweeks: latest\ntemplates:\n  failing: {}\n")
    with pytest.raises(PlanError) as raised:
        load_plan(path)
    message = str(raised.value)
    assert f"{path}:" in message and "not valid YAML" in message and "Fix" in message
    line = int(message.split(f"{path}:")[1].split(":")[0])
    assert line in (2, 3)  # the parser notices the unclosed bracket on the next line


def test_unknown_keys_are_named_with_their_line(tmp_path):
    path = write(
        tmp_path / "typo.yaml", "markets: all\nweeks: latest\ntemplates:\n  failing:\n    parameter: {}\n"
    )
    with pytest.raises(PlanError) as raised:
        load_plan(path)
    assert f"{path}:5: templates.failing.parameter" in str(raised.value)


def test_wrong_types_are_named(tmp_path):
    path = write(tmp_path / "weeks.yaml", "templates: [failing]\nweeks: {from: 2026-W40}\n")
    with pytest.raises(PlanError, match=r"weeks"):
        load_plan(path)


def test_expansion_covers_markets_weeks_and_per_template_settings(project, context, warehouse_truth):
    plan_path = write(
        project / "plan.yaml",
        "markets: all\n"
        "weeks: {from: 2026-W40, to: latest}\n"
        "templates:\n"
        "  chart_and_table:\n"
        "    parameters: {scale: 3}\n"
        "  failing:\n"
        "    markets: [gb, US]\n",
    )
    specs = expand_plan(load_plan(plan_path), plan_path, project / "reports", context)
    last = warehouse_truth["meta"]["last_complete_week"]
    year, number = (int(part) for part in last.split("-W"))
    weeks = (dt.date.fromisocalendar(year, number, 1) - dt.date.fromisocalendar(2026, 40, 1)).days // 7 + 1
    charts = [spec for spec in specs if spec.name == "chart_and_table"]
    failing = [spec for spec in specs if spec.name == "failing"]
    assert len(charts) == weeks * len(warehouse_truth["markets"])
    assert len(failing) == weeks * 2
    assert {spec.market for spec in failing} == {"GB", "US"}
    assert all(spec.parameters["scale"] == 3 for spec in charts)
    assert {spec.week for spec in specs} == {f"2026-W{n:02d}" for n in range(40, number + 1)}
    assert len({spec.slot for spec in specs}) == len(specs)


def test_unknown_template_lists_the_available_ones(project, context):
    plan_path = write(project / "plan.yaml", "templates: [chart_and_tabel]\n")
    with pytest.raises(PlanError, match="choose one of: chart_and_table,"):
        expand_plan(load_plan(plan_path), plan_path, project / "reports", context)


def test_invalid_values_in_a_plan_are_all_reported(project, context):
    plan_path = write(
        project / "plan.yaml",
        "markets: [US, XX]\nweeks: latest\ntemplates:\n  chart_and_table:\n    parameters: {scale: many}\n",
    )
    with pytest.raises(PlanError) as raised:
        expand_plan(load_plan(plan_path), plan_path, project / "reports", context)
    assert "'XX'" in str(raised.value) and "'many'" in str(raised.value)


def test_out_of_range_plan_weeks_are_rejected(project, context):
    plan_path = write(project / "plan.yaml", "weeks: [2025-W01]\ntemplates: [failing]\n")
    with pytest.raises(PlanError, match="outside the data"):
        expand_plan(load_plan(plan_path), plan_path, project / "reports", context)


def test_a_market_given_twice_runs_once(project, context):
    plan_path = write(
        project / "plan.yaml", "markets: [US, us, GB]\nweeks: [latest, latest]\ntemplates: [failing]\n"
    )
    specs = expand_plan(load_plan(plan_path), plan_path, project / "reports", context)
    assert [spec.market for spec in specs] == ["US", "GB"]
