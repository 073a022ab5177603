"""A run keeps its colour whatever else is charted, and later runs never shift earlier ones."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from tracklib.dashboard.colors import PALETTE, run_colors


def _runs(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run_id": [f"r{i:03d}" for i in range(n)],
            "start_time": pd.date_range("2026-01-01", periods=n, freq="min", tz="UTC"),
        }
    )


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60), st.integers(0, 30), st.randoms(use_true_random=False))
def test_a_runs_colour_survives_new_runs_and_any_row_order(n, later, rnd):
    runs = _runs(n + later)
    before = run_colors(runs.head(n))
    shuffled = runs.sample(frac=1.0, random_state=rnd.randint(0, 2**31))
    after = run_colors(shuffled)
    assert all(after[run_id] == colour for run_id, colour in before.items())


def test_the_first_twenty_runs_of_a_sweep_all_differ():
    colors = run_colors(_runs(20))
    assert len(set(colors.values())) == 20 == len(PALETTE)
