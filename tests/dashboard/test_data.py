"""The dashboard's loaded runs table is shared by all sessions, never changed by one of them."""

from __future__ import annotations

import streamlit as st

from tracklib.dashboard import data


def test_a_page_changing_its_runs_table_changes_nothing_for_other_sessions(seeded_root, monkeypatch):
    monkeypatch.setenv("TRACKLIB_ROOT", seeded_root[0])
    st.cache_resource.clear()
    project = data.load_projects("default", 0)[0]
    mine = data.load_project("default", project, 0)
    before = mine.runs.copy()
    mine.runs["added"] = 1
    mine.runs.loc[mine.runs.index[0], "name"] = "<b>changed</b>"
    mine.summary.iloc[:, -1] = None
    theirs = data.load_project("default", project, 0)
    assert "added" not in theirs.runs.columns
    assert theirs.runs.equals(before)
    assert theirs.summary.iloc[:, -1].notna().any()
    assert data._load_project("default", project, 0).runs is data._load_project("default", project, 0).runs
