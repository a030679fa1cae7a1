"""Goals on the small warehouse: the demo goals' statuses, the fitted series and levels recomputed with pandas from
raw orders, the market split of a global gap adding up to the gap, the maturity rule, data checks with file and
line, relative targets resolved on start levels recomputed with pandas, a target met at start, bounded progress,
`gne check` on the goal files, the scorecard's goal block, and the goals template run as `gne run` runs it."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from template_runs import execute_warm, html_of, outputs
from typer.testing import CliRunner

from gnelib.analysis.projection import fit_damped_trend
from gnelib.cli import app
from gnelib.formats import format_value
from gnelib.goals import GoalError, evaluate, load_goals, market_gaps, validate_against_data
from gnelib.goals.progress import FIT_WEEKS, level, usable_week
from gnelib.goals.spec import GOALS_ENV_VAR
from gnelib.metrics import compute
from gnelib.periods import trailing_weeks
from gnelib.views import goals as view

ROOT = Path(__file__).resolve().parents[2]
DEMO_GOALS = ROOT / "parameters" / "goals"
TEMPLATE = ROOT / "notebooks" / "goals.ipynb"
WEEK = "2026-W47"


@pytest.fixture(scope="module")
def demo():
    return load_goals(DEMO_GOALS)


@pytest.fixture(scope="module")
def progress(conn, demo):
    return {goal.title: evaluate(conn, goal, WEEK) for goal in demo}


@pytest.fixture(scope="module")
def weekly_orders(raw) -> pd.Series:
    """Orders per ISO week across all markets, counted with pandas."""
    return raw["orders"].groupby("week").size()


def by_metric(progress: dict, metric: str, market: str = "all"):
    return next(item for item in progress.values() if item.goal.metric == metric and item.goal.market == market)


def test_demo_goals_are_valid_on_the_data_and_cover_every_status(conn, demo, progress):
    validate_against_data(conn, demo)
    assert {"on track", "at risk", "off track"} <= {item.status for item in progress.values()}
    assert {goal.term for goal in demo} == {"short term", "long term"}
    assert any(goal.is_global for goal in demo) and any(not goal.is_global for goal in demo)


def test_status_follows_the_stated_rule(progress):
    for item in progress.values():
        end = item.projection.iloc[-1]
        assert item.projection["period"].iloc[-1] == item.goal.deadline_week
        lower = item.goal.direction == "lower_is_better"
        meets = end["mean"] <= item.goal.target if lower else end["mean"] >= item.goal.target
        interval = end["lower_80"] <= item.goal.target if lower else end["upper_80"] >= item.goal.target
        assert item.status == ("on track" if meets else "at risk" if interval else "off track"), item.goal.title


def test_orders_goal_is_fitted_on_the_weekly_counts_pandas_gives(progress, weekly_orders):
    item = by_metric(progress, "orders")
    used = item.history[item.history["used"]]
    assert len(used) == min(FIT_WEEKS, len(weekly_orders[weekly_orders.index <= WEEK]))
    np.testing.assert_allclose(used["value"], weekly_orders.loc[used["period"]].to_numpy())
    expected = fit_damped_trend(weekly_orders.loc[used["period"]].to_numpy()).forecast(len(item.projection))
    np.testing.assert_allclose(item.projection["mean"], expected["mean"].clip(lower=0))
    assert item.start_level == pytest.approx(weekly_orders.loc[["2026-W18"]].mean())  # the first week of data
    assert item.goal.change == 0.25 and item.goal.target == pytest.approx(1.25 * weekly_orders["2026-W18"])
    assert item.current == pytest.approx(weekly_orders.loc[used["period"].tail(4)].mean())


@pytest.mark.parametrize(
    "maturity, expected", [(0, "2026-W47"), (3, "2026-W46"), (7, "2026-W46"), (14, "2026-W45"), (30, "2026-W42")]
)
def test_a_week_is_used_once_its_late_events_had_arrived_by_the_report_week(maturity, expected):
    # W47 ends on Sunday 22 November; W46 on the 15th (+7 = 22nd: in time), W42 on 18 October (+30 = 17 November)
    assert usable_week(WEEK, maturity) == expected


def test_a_past_report_week_sees_only_what_was_known_then(conn, demo):
    refund = next(goal for goal in demo if goal.metric == "refund_rate")
    item = evaluate(conn, refund, "2026-W45")
    assert item.current_week == "2026-W40"
    assert item.projection["period"].iloc[0] == "2026-W41"


@pytest.mark.parametrize("margin, status", [(-1, "met"), (1, "missed")])
def test_a_past_deadline_is_met_or_missed_by_the_deadline_weeks_value(conn, tmp_path, weekly_orders, margin, status):
    target = weekly_orders["2026-W40"] + margin  # 2026-09-30 is in W40
    path = tmp_path / "goals.yaml"
    path.write_text(
        f"goals:\n  - metric: orders\n    direction: higher_is_better\n    target: {target}\n"
        "    start: 2026-W30\n    deadline: 2026-09-30\n    owner: growth\n",
        encoding="utf-8",
    )
    item = evaluate(conn, load_goals(path)[0], WEEK)
    assert item.status == status and item.projection.empty


def test_ratio_goal_gap_split_adds_up_to_the_global_gap(conn, progress):
    item = by_metric(progress, "refund_rate")
    gaps = market_gaps(conn, item.goal, WEEK)
    weeks = trailing_weeks(item.current_week, 4, include_current=True)
    by_market = compute(conn, "refund_rate", weeks=(weeks[0], weeks[-1]), by=["market"])
    pooled = by_market.groupby("market")[["numerator", "denominator"]].sum()
    global_level = pooled["numerator"].sum() / pooled["denominator"].sum()
    assert gaps["gap"].sum() == pytest.approx(global_level - item.goal.target, rel=1e-9)
    assert global_level == pytest.approx(item.current, rel=1e-9)
    expected = (pooled["denominator"] / pooled["denominator"].sum()).sort_index()
    np.testing.assert_allclose(gaps.set_index("market")["weight"].sort_index(), expected)
    assert gaps["gap"].is_monotonic_decreasing
    behind = gaps[gaps["gap"] > 0]
    assert behind["share"].sum() == pytest.approx(1.0) and gaps.loc[gaps["gap"] <= 0, "share"].isna().all()


def test_count_goal_shares_the_target_by_the_start_level(conn, progress, raw, weekly_orders):
    item = by_metric(progress, "orders")
    gaps = market_gaps(conn, item.goal, WEEK)
    assert gaps["gap"].sum() == pytest.approx(item.goal.target - item.current)  # higher is better: shortfall
    start = raw["orders"][raw["orders"]["week"] == "2026-W18"].groupby("market").size()
    np.testing.assert_allclose(gaps.set_index("market")["weight"].sort_index(), (start / start.sum()).sort_index())


def test_duration_levels_are_weighted_by_events():
    rows = pd.DataFrame({"value": [100.0, 200.0, np.nan], "denominator": [1.0, 3.0, 5.0]})
    assert level(rows, "duration") == pytest.approx(175.0)
    assert level(rows, "count") == pytest.approx(150.0)
    assert level(rows.iloc[2:], "ratio") is None


def test_data_checks_name_file_and_line(conn, tmp_path):
    path = tmp_path / "goals.yaml"
    path.write_text(
        "goals:\n  - metric: orders\n    direction: higher_is_better\n    change: +10%\n"
        "    start: 2026-W10\n    deadline: 2026-12-31\n    owner: growth\n"
        "  - metric: refund_rate\n    market: XX\n    target: 0.03\n"
        "    start: 2026-W30\n    deadline: 2026-12-31\n    owner: growth\n",
        encoding="utf-8",
    )
    with pytest.raises(GoalError) as caught:
        validate_against_data(conn, load_goals(path))
    assert str(caught.value).splitlines() == [
        f"{path}:4: change: orders has no data in the 4 weeks to 2026-W10, so a change of +10% has nothing to apply "
        "to; give a start week with data, or an absolute `target:` (the weekly value to reach) instead of `change:`.",
        f"{path}:9: market: 'XX' is not in the data; use `all` or one of: GB, ID, MY, PH, SG, TH, US, VN.",
    ]


def test_a_relative_target_is_the_start_level_pandas_gives_times_the_change(conn, demo, progress, raw):
    """Seller-fault cancellations in VN, 15% down: the start level is the share of VN orders placed in 2026-W37 …
    W40 cancelled for a seller fault, counted from raw orders."""
    orders = raw["orders"]
    start = orders[(orders["market"] == "VN") & orders["week"].isin(["2026-W37", "2026-W38", "2026-W39", "2026-W40"])]
    level = ((start["cancel_fault"] == "seller") & start["cancelled_at"].notna()).mean()
    item = by_metric(progress, "seller_fault_cancel_rate", "VN")
    assert item.goal.change == -0.15
    assert item.start_level == pytest.approx(level, rel=1e-12)
    assert item.goal.target == pytest.approx(0.85 * level, rel=1e-12)
    # the check before the report resolves every goal to the same target the report shows
    resolved = validate_against_data(conn, demo)
    shown = [pytest.approx(item.goal.target, rel=1e-12) for item in progress.values()]
    assert [goal.target for goal in resolved] == shown
    assert all(goal.relative for goal in demo)
    sentence = view._sentence(item)
    assert f"against a target of {format_value(item.goal.target, 'percent')} (15% below the start level, " in sentence


def test_an_absolute_target_met_at_start_reads_so_and_keeps_its_status_rule(conn, tmp_path, weekly_orders):
    level = weekly_orders[["2026-W27", "2026-W28", "2026-W29", "2026-W30"]].mean()  # the 4 weeks to the start
    path = tmp_path / "goals.yaml"
    path.write_text(
        f"goals:\n  - metric: orders\n    direction: higher_is_better\n    target: {level - 1:.1f}\n"
        "    start: 2026-W30\n    deadline: 2026-12-31\n    owner: growth\n",
        encoding="utf-8",
    )
    goals = load_goals(path)
    assert validate_against_data(conn, goals) == goals  # not an error
    item = evaluate(conn, goals[0], WEEK)
    assert item.start_level == pytest.approx(level) and item.met_at_start
    assert item.progress is None and item.progress_label == "met at start"
    end = item.projection.iloc[-1]
    assert item.status == ("on track" if end["mean"] >= item.goal.target else "at risk" if end["upper_80"] >=
                           item.goal.target else "off track")
    assert "already met at the start" in view._sentence(item)
    assert ">met at start<" in view.progress_table([item])


def test_progress_column_is_bounded(progress):
    table = view.progress_table(list(progress.values()))
    item = by_metric(progress, "seller_fault_cancel_rate", "VN")  # moved away by far more than the planned change
    assert item.progress < -1 and item.progress_label == "< -100%"
    assert ">&lt; -100%<" in table
    for item in progress.values():
        assert item.progress_label in ("reached", "< -100%") or -100 <= int(item.progress_label[:-1]) <= 100


def test_scorecard_block_shows_the_markets_goals_and_the_global_ones(conn, monkeypatch):
    monkeypatch.setenv(GOALS_ENV_VAR, str(DEMO_GOALS))
    block = view.scorecard_section(conn, "VN", WEEK)
    assert "Seller-fault cancellations in VN" in block and "Refund rate down 5% across all markets" in block
    assert "Listing violation rate in MY" not in block
    assert "off track" in block and "At risk: only the 80% prediction interval reaches it." in block


def test_key_insights_lead_with_the_count_then_off_track_goals(progress):
    insights = view.key_insights(list(progress.values()))
    assert insights[0].text.startswith(f"{len(progress)} goals: ")
    statuses = [text.split(" is ")[-1].split(":")[0] for text in (i.text for i in insights[1:])]
    order = {"off track": 0, "at risk": 1, "on track": 2}
    assert [order[status] for status in statuses] == sorted(order[status] for status in statuses)
    assert view.key_insights([]) == []


def test_scorecard_block_reports_bad_goal_files_instead_of_failing(conn, monkeypatch, tmp_path):
    monkeypatch.setenv(GOALS_ENV_VAR, str(tmp_path))
    assert "No goals are set for VN" in view.scorecard_section(conn, "VN", WEEK)
    (tmp_path / "q4.yaml").write_text(
        "goals:\n  - metric: refund_rat\n    target: 0.03\n    start: 2026-W40\n"
        "    deadline: 2026-12-31\n    owner: me\n",
        encoding="utf-8",
    )
    block = view.scorecard_section(conn, "VN", WEEK)
    assert "gne-callout-error" in block and f"{tmp_path / 'q4.yaml'}:2: metric: unknown metric" in block


@pytest.fixture(scope="module")
def template_run(small_warehouse, tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(GOALS_ENV_VAR, str(DEMO_GOALS))
        runs = {"all": (TEMPLATE, {"market": "all", "week": WEEK})}
        return execute_warm(runs, small_warehouse, tmp_path_factory.mktemp("goals"))["all"]


def test_goals_template_shows_every_goal_with_its_chart_and_the_drag_of_global_goals(template_run, demo):
    assert template_run.ok, template_run.failure and template_run.failure.summary()
    produced = outputs(template_run.notebook)
    assert not [output for output in produced if output.output_type in ("error", "stream")]
    page = html_of(template_run.notebook)
    assert f"{len(demo)} goals:" in page
    assert sum("image/png" in output.get("data", {}) for output in produced) == len(demo)
    assert page.count("which markets hold it back") == sum(goal.is_global for goal in demo)
    for goal in demo:
        assert goal.title in page and goal.owner in page


def test_gne_check_lists_the_goal_files_problems_as_the_goals_run_does(conn, small_warehouse_env, tmp_path,
                                                                      monkeypatch):
    gne = CliRunner()
    monkeypatch.setenv(GOALS_ENV_VAR, str(DEMO_GOALS))
    done = gne.invoke(app, ["check"], catch_exceptions=False)
    assert done.exit_code == 0 and "9 goals valid" in done.stdout, done.output
    monkeypatch.setenv(GOALS_ENV_VAR, str(tmp_path))
    (tmp_path / "q4.yaml").write_text(
        (DEMO_GOALS / "2026-q4.yaml").read_text().replace("change: -15%", "change: +15%"), encoding="utf-8"
    )
    (tmp_path / "2026.yaml").write_text(
        (DEMO_GOALS / "2026.yaml").read_text().replace("market: ID", "market: XX"), encoding="utf-8"
    )
    with pytest.raises(GoalError) as caught:  # what the goals run fails with: the files first
        view.goals_for(conn, "all")
    done = gne.invoke(app, ["check"], catch_exceptions=False)
    assert done.exit_code == 2
    problems = [line.removeprefix("problem: ") for line in done.stderr.splitlines() if line.startswith("problem: ")]
    assert problems == str(caught.value).splitlines() == [
        f"{tmp_path / 'q4.yaml'}:22: change: +15% makes seller_fault_cancel_rate worse (lower is better); write a "
        "negative change, e.g. `change: -10%`."
    ]
    (tmp_path / "q4.yaml").unlink()  # then the data: a market not in the warehouse
    with pytest.raises(GoalError) as caught:
        view.goals_for(conn, "all")
    done = gne.invoke(app, ["check"], catch_exceptions=False)
    problems = [line.removeprefix("problem: ") for line in done.stderr.splitlines() if line.startswith("problem: ")]
    assert done.exit_code == 2 and problems == str(caught.value).splitlines()
    assert problems == [f"{tmp_path / '2026.yaml'}:29: market: 'XX' is not in the data; use `all` or one of: GB, "
                        "ID, MY, PH, SG, TH, US, VN."]
