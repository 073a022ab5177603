"""Pure transforms the Sweeps and Curves pages call (tracklib.analysis.sweeps, .curves)."""

from __future__ import annotations

import pandas as pd

from tracklib.analysis import sweeps

# run a passes low on both axes, b high on both, c low then high
LONG = pd.DataFrame(
    {
        "run_id": ["a", "a", "b", "b", "c", "c"],
        "axis": ["lr", "acc"] * 3,
        "position": [0.1, 0.2, 0.9, 0.8, 0.1, 0.9],
    }
)
AXES = ["lr", "acc"]


def test_no_brush_or_a_brush_off_the_axes_keeps_every_run():
    assert sweeps.brushed_runs(LONG, AXES, sweeps.Brush.from_selection({})) is None
    assert (
        sweeps.brushed_runs(
            LONG, AXES, sweeps.Brush.from_selection({"axis_index": [0.2, 0.8], "position": [0, 1]})
        )
        is None
    )
    assert sweeps.brushed_runs(LONG, AXES, sweeps.Brush.from_selection({"position": [0, 1]})) is None


def test_a_brush_keeps_the_runs_passing_through_it_on_every_axis_it_covers():
    assert sweeps.brushed_runs(
        LONG, AXES, sweeps.Brush.from_selection({"axis_index": [0, 0], "position": [0.5, 0]})
    ) == ["a", "c"]
    assert sweeps.brushed_runs(
        LONG, AXES, sweeps.Brush.from_selection({"axis_index": [1, 0], "position": [0, 0.5]})
    ) == ["a"]
    assert sweeps.brushed_runs(
        LONG, AXES, sweeps.Brush.from_selection({"axis_index": [0, 1], "position": [0.7, 1]})
    ) == ["b"]


def test_best_first_follows_the_direction_and_puts_runs_without_a_target_last():
    frame = pd.DataFrame({"run_id": ["a", "b", "c"], "target": [0.5, None, 0.9]})
    assert sweeps.best_first(frame)["run_id"].tolist() == ["c", "a", "b"]
    assert sweeps.best_first(frame, higher_is_better=False)["run_id"].tolist() == ["a", "c", "b"]


def test_a_log_scale_drops_points_at_or_below_zero_and_counts_them():
    from tracklib.analysis import curves

    history = pd.DataFrame({"value": [1.0, 0.0, -2.0, float("nan"), 3.0]})
    kept, dropped = curves.positive(history)
    assert kept["value"].tolist() == [1.0, 3.0] and dropped == 2
