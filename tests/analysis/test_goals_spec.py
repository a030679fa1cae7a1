"""Goal files: a valid file loads; each kind of mistake gets a message naming the file, the line and the fix; a
relative target resolves against the start level; progress reads as a bounded share of the planned way."""

import dataclasses
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from gnelib.goals import GoalError, GoalProgress, load_goals
from gnelib.goals.spec import check_goals
from gnelib.metrics import load_catalog

GOALS = """\
goals:
  - metric: refund_rate
    market: ID
    target: 0.03
    start: 2026-W40
    deadline: 2026-12-31
    owner: gne-make-it-right
  - metric: orders
    direction: higher_is_better
    target: 11000
    start: 2026-W18
    deadline: 2026-12-31
    owner: gne-make-it-right
"""


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "goals.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problem(tmp_path: Path, catalog, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(GoalError) as caught:
        load_goals(path, catalog)
    return str(caught.value)


def test_a_valid_file_loads_with_terms_lines_and_directions(tmp_path, catalog):
    path = write(tmp_path, GOALS)
    first, second = load_goals(tmp_path, catalog)
    assert (first.metric, first.market, first.target, first.deadline) == (
        "refund_rate",
        "ID",
        0.03,
        dt.date(2026, 12, 31),
    )
    assert first.term == "short term" and second.term == "long term"  # W40 → W53 fits a quarter; W18 → W53 not
    assert first.direction == "lower_is_better" and second.direction == "higher_is_better"
    assert second.market == "all" and second.title == "Orders in all markets"
    assert first.at("target") == f"{path}:4" and second.at() == f"{path}:8"
    assert first.deadline_week == "2026-W53"


def test_no_folder_means_no_goals(tmp_path, catalog):
    assert load_goals(tmp_path / "missing", catalog) == []


def test_broken_yaml_names_the_line(tmp_path, catalog):
    message = problem(tmp_path, catalog, GOALS.replace("target: 0.03", "target: [0.03"))
    assert message.startswith(f"{tmp_path / 'goals.yaml'}:")
    assert "not valid YAML" in message and "fix the syntax" in message
    assert int(message.split(":")[1]) in (5, 6)  # the unclosed list, or the line where the parser gives up


FIRST_DEADLINE = "deadline: 2026-12-31\n    owner: gne-make-it-right\n  -"
CASES = {  # mistake: (text replaced, by, the message's start after `file:`, fragments it also holds)
    "unknown metric": (
        "metric: refund_rate",
        "metric: refund_rat",
        "2: metric: unknown metric 'refund_rat'",
        ["closest first): refund_rate", "gne metrics list"],
    ),
    "bad date": (
        FIRST_DEADLINE,
        FIRST_DEADLINE.replace("12-31", "13-01"),
        "6: goals.0.deadline:",
        ["'2026-13-01' is not a date", "YYYY-MM-DD"],
    ),
    "bad start week": ("start: 2026-W18", "start: 2026-W60", "11: goals.1.start:", ["W01 to W53"]),
    "missing owner": (
        "    owner: gne-make-it-right\n  -",
        "  -",
        "2: goals.0.owner: required field is missing; add `owner:` to the goal",
        [],
    ),
    "unknown field": ("market: ID", "markt: ID", "3: goals.0.markt: unknown field", ["metric, market, target"]),
    "neutral metric": (
        "    direction: higher_is_better\n",
        "",
        "8: direction: metric 'orders' has no better direction",
        ["add `direction: higher_is_better`"],
    ),
    "direction of a directed metric": (
        "market: ID",
        "market: ID\n    direction: higher_is_better",
        "4: direction: 'refund_rate' is lower_is_better",
        ["remove `direction:`"],
    ),
    "deadline before the start": (
        "start: 2026-W40",
        "start: 2027-W02",
        "6: deadline: 2026-12-31 is not after the start week",
        ["later deadline"],
    ),
}


@pytest.mark.parametrize("mistake", CASES)
def test_each_mistake_names_file_line_and_fix(tmp_path, catalog, mistake):
    old, new, start, fragments = CASES[mistake]
    message = problem(tmp_path, catalog, GOALS.replace(old, new))
    assert message.startswith(f"{tmp_path / 'goals.yaml'}:{start}")
    assert all(fragment in message for fragment in fragments)


def test_every_problem_of_every_file_is_listed(tmp_path, catalog):
    (tmp_path / "a.yaml").write_text(GOALS.replace("metric: refund_rate", "metric: nope"), encoding="utf-8")
    (tmp_path / "b.yaml").write_text("goals: [", encoding="utf-8")
    with pytest.raises(GoalError) as caught:
        load_goals(tmp_path, catalog)
    lines = str(caught.value).splitlines()
    assert [line.split(":")[0] for line in lines] == [str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")]


RELATIVE = """\
goals:
  - metric: refund_rate
    market: ID
    change: -10%
    start: 2026-W40
    deadline: 2026-12-31
    owner: gne-make-it-right
  - metric: orders
    direction: higher_is_better
    change: +2.5 %
    start: 2026-W18
    deadline: 2026-12-31
    owner: gne-make-it-right
"""


def test_a_relative_goal_is_resolved_against_its_start_level(tmp_path, catalog):
    refund, orders = load_goals(write(tmp_path, RELATIVE), catalog)
    assert (refund.change, refund.target, refund.relative) == (-0.10, None, True)
    assert orders.change == pytest.approx(0.025) and orders.at("change") == f"{tmp_path / 'goals.yaml'}:10"
    # by hand: 10% below a start level of 3.2% is 2.88%; 2.5% above 12,000 orders is 12,300
    assert refund.resolve(0.032).target == pytest.approx(0.0288, rel=1e-12)
    assert orders.resolve(12000.0).target == pytest.approx(12300.0, rel=1e-12)
    assert refund.resolve(None) is refund and refund.resolve(0.0) is refund  # nothing to apply the change to
    levels = {"refund_rate": 0.032, "orders": 12000.0}
    resolved = check_goals([refund, orders], ["ID"], lambda goal: levels[goal.metric])
    assert [goal.target for goal in resolved] == [pytest.approx(0.0288), pytest.approx(12300.0)]
    assert resolved[0].change == -0.10  # still known as relative, for the report's sentence


RELATIVE_CASES = {  # mistake: (text replaced, by, the message's start after `file:`, fragments it also holds)
    "both target and change": (
        "change: -10%",
        "change: -10%\n    target: 0.03",
        "2: goals.0: both `target:` and `change:` are given",
        ["e.g. `change: -10%`", "not both"],
    ),
    "neither target nor change": ("    change: -10%\n", "", "2: goals.0: no target; give `target:`", ["`change:`"]),
    "a change without a per cent sign": (
        "change: -10%",
        "change: -0.1",
        "4: goals.0.change: -0.1 is not a percentage",
        ["`change: -10%`"],
    ),
    "a per cent target": (
        "change: -10%",
        "target: -10%",
        "4: goals.0.target: '-10%' is not a value in the metric's units",
        ["write `change: -10%` instead"],
    ),
    "a change that makes a lower-is-better metric worse": (
        "change: -10%",
        "change: +10%",
        "4: change: +10% makes refund_rate worse (lower is better)",
        ["write a negative change, e.g. `change: -10%`"],
    ),
    "a change that makes a higher-is-better metric worse": (
        "change: +2.5 %",
        "change: -2.5%",
        "10: change: -2.5% makes orders worse (higher is better)",
        ["positive change"],
    ),
    "no change": ("change: -10%", "change: 0%", "4: change: +0% asks for no change", ["lower is better"]),
    "below zero": ("change: -10%", "change: -150%", "4: change: -150% would take refund_rate below zero", []),
}


@pytest.mark.parametrize("mistake", RELATIVE_CASES)
def test_each_relative_target_mistake_names_file_line_and_fix(tmp_path, catalog, mistake):
    old, new, start, fragments = RELATIVE_CASES[mistake]
    message = problem(tmp_path, catalog, RELATIVE.replace(old, new, 1))
    assert message.startswith(f"{tmp_path / 'goals.yaml'}:{start}"), message
    assert all(fragment in message for fragment in fragments), message


@pytest.mark.parametrize("level", [None, 0.0])
def test_a_change_needs_a_positive_start_level(tmp_path, catalog, level):
    goal = load_goals(write(tmp_path, RELATIVE), catalog)[0]
    with pytest.raises(GoalError) as caught:
        check_goals([goal], ["ID"], lambda _goal: level)
    assert str(caught.value).startswith(f"{tmp_path / 'goals.yaml'}:4: change: refund_rate has ")
    assert "give a start week with data, or an absolute `target:`" in str(caught.value)


@pytest.mark.parametrize("target, start", [(0.03, 0.032), (0.035, 0.032), (0.032, 0.032)])
def test_an_absolute_target_met_at_start_is_not_an_error(tmp_path, catalog, target, start):
    goal = load_goals(write(tmp_path, GOALS.replace("target: 0.03", f"target: {target}")), catalog)[0]
    assert check_goals([goal], ["ID"], lambda _goal: start) == [goal]  # the report reads it as met at start


def test_an_unknown_market_is_an_error(tmp_path, catalog):
    goal = load_goals(write(tmp_path, GOALS), catalog)[0]
    with pytest.raises(GoalError, match=r"goals.yaml:3: market: 'ID' is not in the data; use `all` or one of: MY"):
        check_goals([goal], ["MY"], lambda _goal: 0.032)


def progress_of(goal, start, current, target=None) -> GoalProgress:
    if target is not None:
        goal = dataclasses.replace(goal, target=target, change=None)
    return GoalProgress(goal, "2026-W47", pd.DataFrame(), pd.DataFrame(), start, current, "on track")


@pytest.mark.parametrize(
    "start, current, target, progress, label",
    [
        # lower is better, planned 3.2% -> 2.88% (0.32 points): hand-worked shares of the way
        (0.032, 0.0304, None, 0.5, "50%"),
        (0.032, 0.0288, None, 1.0, "reached"),
        (0.032, 0.0250, None, 2.1875, "reached"),
        (0.032, 0.0312, None, 0.25, "25%"),
        (0.032, 0.0336, None, -0.5, "-50%"),
        (0.032, 0.0352, None, -1.0, "-100%"),
        (0.032, 0.0360, None, -1.25, "< -100%"),
        (0.032, 0.0320, None, 0.0, "0%"),
        (0.032, 0.03201, None, -0.003125, "0%"),
        # a target a hair (0.0001) from its start: a small move is many times the planned way
        (0.0134, 0.0150, 0.0133, -16.0, "< -100%"),
        (0.0134, 0.0120, 0.0133, 14.0, "reached"),
        (0.0134, 0.01335, 0.0133, 0.5, "50%"),
        # the target is already met at the start (absolute 1.5% above a start level of 1.34%)
        (0.0134, 0.0150, 0.0150, None, "met at start"),
        (0.0134, 0.0120, 0.0134, None, "met at start"),
        (None, 0.0300, None, None, "–"),
        (0.032, None, None, None, "–"),
    ],
)
def test_progress_reads_as_a_bounded_share_of_the_planned_way(tmp_path, catalog, start, current, target, progress,
                                                              label):
    goal = load_goals(write(tmp_path, RELATIVE), catalog)[0].resolve(start)
    item = progress_of(goal, start, current, target)
    assert item.progress == (None if progress is None else pytest.approx(progress))
    assert item.progress_label == label
    assert item.met_at_start == (label == "met at start")


def test_progress_of_a_higher_is_better_goal(tmp_path, catalog):
    goal = load_goals(write(tmp_path, RELATIVE), catalog)[1].resolve(12000.0)  # +2.5%: 12,300
    assert progress_of(goal, 12000.0, 12150.0).progress_label == "50%"
    assert progress_of(goal, 12000.0, 11700.0).progress_label == "-100%"
    assert progress_of(goal, 12000.0, 11600.0).progress_label == "< -100%"
    assert progress_of(goal, 12000.0, 12300.0).progress_label == "reached"
    assert progress_of(goal, 12000.0, 12500.0, target=11000.0).progress_label == "met at start"
