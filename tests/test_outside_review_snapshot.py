"""Outside review of ``tracklib snapshot``: a hand-edited link gets the reason it is refused."""

from __future__ import annotations

import pytest

from tracklib.dashboard.snapshot_cli import SnapshotError, read_link


def test_a_link_naming_a_configured_store_twice_says_so_not_that_the_store_is_unknown():
    with pytest.raises(SnapshotError) as refused:
        read_link("http://h/leaderboard?root=main&root=main&project=digits", {"main": "/store"})
    assert "names the store 2 times" in str(refused.value)
    assert "not configured" not in str(refused.value)


def test_a_store_the_dashboard_does_not_know_is_still_refused_by_name():
    with pytest.raises(SnapshotError, match="not configured to open a store named 'other'"):
        read_link("http://h/leaderboard?root=other&project=digits", {"main": "/store"})
