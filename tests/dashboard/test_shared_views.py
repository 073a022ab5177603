"""Per-view results shared by every session (many viewers of one link): a viewer never sees
another load's runs, and no session can change what the next one gets."""

from __future__ import annotations

import streamlit as st

import tracklib
from tracklib.dashboard import data

VIEW = {"metric": "acc", "agg": "max", "order": "highest", "expression": "", "group_by": "(none)"}


def log(root: str, name: str, acc: float, lr: float) -> str:
    with tracklib.init("p", root=root, name=name, params={"lr": lr}, capture=False) as run:
        run.log({"acc": acc})
    return run.id


def test_a_refresh_ranks_the_runs_written_since_and_the_previous_load_keeps_its_own(tmp_path, monkeypatch):
    root = str(tmp_path / "store")
    monkeypatch.setenv("TRACKLIB_ROOT", root)
    monkeypatch.setenv("TRACKLIB_ROOTS", "")
    st.cache_data.clear()
    st.cache_resource.clear()
    first = log(root, "first", 0.5, 0.1)
    log(root, "second", 0.4, 0.1)
    before = data.load_project("default", "p", 0)
    board, competing = data.leaderboard("default", "p", before, [], top=10, **VIEW)
    assert (board["name"].tolist(), competing) == (["first", "second"], 2)
    assert data.run_ids("default", "p", before) == set(before.runs["run_id"])
    assert data.varying_params("default", "p", before) == []

    newest = log(root, "best", 0.9, 0.01)
    after = data.load_project("default", "p", 1)  # Refresh: a new token, a new load
    board, competing = data.leaderboard("default", "p", after, [], top=10, **VIEW)
    assert (board["name"].tolist(), competing) == (["best", "first", "second"], 3)
    assert newest in data.run_ids("default", "p", after)
    assert data.varying_params("default", "p", after) == ["params.lr"]
    # a session still on the earlier load gets that load's results, not the newer ones
    assert data.leaderboard("default", "p", before, [], top=10, **VIEW)[0]["name"].tolist() == [
        "first",
        "second",
    ]
    assert newest not in data.run_ids("default", "p", before)
    # the Runs page's selection narrows the ranking, per selection
    board, competing = data.leaderboard("default", "p", after, [first], top=10, **VIEW)
    assert (board["name"].tolist(), competing) == (["first"], 1)


def test_a_session_changing_its_ranked_rows_changes_nothing_for_the_next(tmp_path, monkeypatch):
    root = str(tmp_path / "store")
    monkeypatch.setenv("TRACKLIB_ROOT", root)
    monkeypatch.setenv("TRACKLIB_ROOTS", "")
    st.cache_data.clear()
    st.cache_resource.clear()
    log(root, "a", 0.5, 0.1)
    loaded = data.load_project("default", "p", 0)
    mine, _ = data.leaderboard("default", "p", loaded, [], top=10, **VIEW)
    mine.loc[0, "name"] = "<b>changed</b>"
    mine["added"] = 1
    theirs, _ = data.leaderboard("default", "p", loaded, [], top=10, **VIEW)
    assert theirs["name"].tolist() == ["a"] and "added" not in theirs.columns
