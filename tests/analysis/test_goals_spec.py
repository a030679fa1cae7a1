"""Goal files: a valid file loads; each kind of mistake gets a message naming the file, the line and the fix."""

import datetime as dt
from pathlib import Path

import pytest

from gnelib.goals import GoalError, load_goals
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


@pytest.mark.parametrize("target, start, fails", [(0.03, 0.032, False), (0.035, 0.032, True), (0.032, 0.032, True)])
def test_a_target_must_improve_on_the_start_level(tmp_path, catalog, target, start, fails):
    goal = load_goals(write(tmp_path, GOALS.replace("target: 0.03", f"target: {target}")), catalog)[0]
    if not fails:
        check_goals([goal], ["ID"], lambda _goal: start)
        return
    with pytest.raises(GoalError) as caught:
        check_goals([goal], ["ID"], lambda _goal: start)
    assert str(caught.value).startswith(f"{tmp_path / 'goals.yaml'}:4: target: {target:g} does not improve")
    assert "set a target below 0.032" in str(caught.value)


def test_higher_is_better_target_must_be_above_the_start_level(tmp_path, catalog):
    goal = load_goals(write(tmp_path, GOALS), catalog)[1]
    with pytest.raises(GoalError, match=r"goals.yaml:10: target: 11000 .* set a target above 12000"):
        check_goals([goal], ["ID"], lambda _goal: 12000.0)


def test_unknown_market_lists_the_markets(tmp_path, catalog):
    goals = load_goals(write(tmp_path, GOALS.replace("market: ID", "market: XX")), catalog)
    with pytest.raises(GoalError, match=r"goals.yaml:3: market: 'XX' is not in the data; use `all` or one of: ID, MY"):
        check_goals(goals, ["ID", "MY"], lambda _goal: None)
