"""The Sweeps page's scope, brush, "None" label and noise baseline (pure analysis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from tracklib.analysis import sweeps


def _project() -> pd.DataFrame:
    """Two sweeps and an ungrouped run; sweep-2 started last."""
    return pd.DataFrame(
        {
            "run_id": ["a", "b", "c", "d", "e"],
            "name": list("ABCDE"),
            "group": pd.array(["sweep-1", "sweep-1", "sweep-2", "sweep-2", None], dtype="string"),
            "start_time": pd.to_datetime(
                ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-05", "2026-01-04"]
            ),
        }
    )


def test_the_default_sweep_is_the_newest_runs_group_and_all_runs_is_offered():
    runs = _project()
    assert sweeps.group_options(runs) == [sweeps.ALL_RUNS, "sweep-1", "sweep-2"]
    assert sweeps.newest_group(runs) == "sweep-2"
    assert sweeps.newest_group(runs[runs["run_id"] != "d"]) == "sweep-1"  # one run is no sweep
    assert sweeps.newest_group(runs[runs["run_id"].isin(["a", "c", "e"])]) == sweeps.ALL_RUNS


def test_a_group_scopes_to_its_runs_and_all_runs_keeps_every_one():
    runs = _project()
    assert sweeps.scoped(runs, "sweep-1")["run_id"].tolist() == ["a", "b"]
    assert sweeps.scoped(runs, sweeps.ALL_RUNS)["run_id"].tolist() == list("abcde")
    assert sweeps.scoped(runs, "no-such-group").empty


def test_runs_carried_from_a_link_must_exist_and_replace_the_group():
    runs = _project()
    picked = sweeps.carried(runs, ["c", "zzz", "a", "c", "../../etc"])
    assert picked == ["c", "a"]  # unknown ids dropped, each once, in the link's order
    assert sorted(sweeps.scoped(runs, "sweep-1", picked)["run_id"]) == ["a", "c"]


def _long() -> tuple[pd.DataFrame, list[str]]:
    frame = pd.DataFrame(
        {
            "run_id": ["a", "b", "c"],
            "name": ["A", "B", "C"],
            "params.lr": [1e-5, 1e-3, 1e-1],
            "params.act": pd.array(["relu", None, "gelu"], dtype="string"),
            "target": [0.1, 0.5, 0.9],
        }
    )
    long, _ = sweeps.parallel_coordinates(frame, ["params.lr", "params.act"], "acc")
    return long, ["lr", "act", "acc"]


def test_a_brush_keeps_the_runs_passing_through_it_on_every_axis_it_covers():
    long, axes = _long()
    assert sweeps.brushed_runs(long, axes, sweeps.Brush((0, 0), (0.4, 1.0))) == ["b", "c"]  # lr only
    assert sweeps.brushed_runs(long, axes, sweeps.Brush((-0.2, 2.1), (0.4, 1.0))) == [
        "b"
    ]  # None sits last on act
    assert sweeps.brushed_runs(long, axes, sweeps.Brush((0.2, 0.8), (0, 1))) is None  # between axes
    assert sweeps.brushed_runs(long, axes, None) is None


def test_a_brush_goes_into_a_link_and_back():
    brush = sweeps.Brush.from_selection({"axis_index": [2.5, 0.25], "position": [0.75, 0.125]})
    assert brush == sweeps.Brush((0.25, 2.5), (0.125, 0.75))
    assert sweeps.Brush.from_link(*brush.to_link()) == brush
    for hostile in [("nan,1", "0,1"), ("1e999,2", "0,1"), ("a,b", "0,1"), ("1", "0,1"), (None, "0,1")]:
        assert sweeps.Brush.from_link(*hostile) is None


def test_a_param_a_run_did_not_set_reads_none_on_every_axis_kind():
    long, _ = _long()
    b = long[long["run_id"] == "b"].set_index("axis")
    assert b.loc["act", "value"] == sweeps.MISSING == "None"
    numeric = pd.DataFrame(
        {"run_id": ["a", "b"], "name": ["A", "B"], "params.x": [1.0, np.nan], "target": [1.0, 2.0]}
    )
    long, ticks = sweeps.parallel_coordinates(numeric, ["params.x"], "t")
    missing = long[(long["run_id"] == "b") & (long["axis"] == "x")].iloc[0]
    assert (missing["value"], missing["position"]) == ("None", sweeps.MISSING_POSITION)
    assert ("x", sweeps.MISSING_POSITION, "None") in set(map(tuple, ticks.to_numpy().tolist()))
    cells = sweeps.heatmap(numeric.assign(**{"params.y": ["u", None]}), "params.x", "params.y")
    assert "None" in set(cells["x"]) and "None" in set(cells["y"])


@settings(max_examples=8, deadline=None, derandomize=True)
@given(n=st.integers(40, 150), data_seed=st.integers(0, 2**32 - 1), scale=st.floats(0.0, 0.3))
def test_a_column_of_pure_noise_is_marked_as_noise_and_a_param_that_decides_the_target_is_not(
    n, data_seed, scale
):
    rng = np.random.default_rng(data_seed)
    lr = 10 ** rng.uniform(-5, -1, n)
    frame = pd.DataFrame(
        {
            "run_id": [f"r{i}" for i in range(n)],
            "name": "x",
            "params.lr": lr,
            "params.seed": rng.integers(0, 100_000, n),
            "target": -((np.log10(lr) + 3) ** 2) + rng.normal(0, scale + 1e-9, n),
        }
    )
    result = sweeps.importance(frame, ["params.lr", "params.seed"]).set_index("param")
    assert result.loc["params.seed", "signal"] == sweeps.NOISE
    assert result.loc["params.lr", "signal"] == sweeps.ABOVE_NOISE
    assert result.attrs["noise_level"] < result.loc["params.lr", "importance"]


def test_fewer_runs_than_a_model_needs_say_so():
    frame = pd.DataFrame(
        {"run_id": list("abc"), "name": "x", "params.a": [1.0, 2.0, 3.0], "target": [1.0, 2.0, 3.0]}
    )
    assert sweeps.importance(frame, ["params.a"])["signal"].tolist() == [sweeps.TOO_FEW]
