"""The goal tables read the batch aggregate store: `goal_requests` names every frame a goal's progress asks for
(its history and fit window, its start level), so once the batch has filled the store the scorecards' goal
sections and the goals page run no warehouse query (on the 50 M-order warehouse each scorecard spent about a
minute there), and say exactly what they say without the store."""

from pathlib import Path

import pandas as pd

from gnelib.goals.progress import evaluate, goal_requests
from gnelib.metrics import query
from gnelib.metrics.store import STORE_ENV, AggregateStore, fill
from gnelib.views.goals import goals_for
from gnelib.warehouse import connect

WEEK = "2026-W47"


def test_goal_progress_reads_the_store_and_says_the_same(small_warehouse_env, tmp_path, monkeypatch):
    monkeypatch.chdir(Path(__file__).resolve().parents[2])  # the demo goals: parameters/goals
    with connect() as conn:
        goals = goals_for(conn, "all")
        direct = [evaluate(conn, goal, WEEK) for goal in goals]
        fill(conn, AggregateStore(tmp_path), goal_requests(WEEK))
    assert any(goal.is_global for goal in goals) and any(not goal.is_global for goal in goals)
    warehouse_queries = []
    run = query._run
    monkeypatch.setattr(query, "_run", lambda *args: warehouse_queries.append(args) or run(*args))
    monkeypatch.setenv(STORE_ENV, str(tmp_path))
    with connect() as conn:
        assert goals_for(conn, "all") == goals  # the start levels, for relative targets
        stored = [evaluate(conn, goal, WEEK) for goal in goals]
    assert warehouse_queries == []
    for before, after in zip(direct, stored, strict=True):
        assert (after.goal, after.status, after.start_level, after.current) == \
               (before.goal, before.status, before.start_level, before.current)
        pd.testing.assert_frame_equal(after.history, before.history, check_dtype=False)
        pd.testing.assert_frame_equal(after.projection, before.projection, check_dtype=False)
