"""The Sweeps page through AppTest: scoped to one sweep or to carried runs, the brush in the link."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import tracklib

from seed import APP

SWEEPS = "tracklib/dashboard/views/sweeps.py"


def _parallel_rows(at):
    datasets = at.get("vega_lite_chart")[0].proto.datasets
    frames = [pa.ipc.open_stream(d.data.data).read_pandas() for d in datasets]
    return next(frame for frame in frames if "run_id" in frame.columns)  # not the axis ticks


def _open(app, **params):
    app.query_params.update({"project": "digits", "metric": "val/acc", "agg": "max", **params})
    app.switch_page(SWEEPS).run()
    assert not app.exception, app.exception
    return app


def test_the_page_scoped_by_group_shows_only_that_groups_runs(app):
    _open(app, group="sgd")
    assert set(_parallel_rows(app)["name"]) == {"sgd-fast", "sgd-slow"}
    assert any("2 of 5 runs" in c.value for c in app.caption)


def test_by_default_the_page_shows_the_newest_runs_sweep(app):
    _open(app)
    assert app.selectbox(key="group").value == "sgd"  # the last run (rmsprop) is alone in its group
    assert set(_parallel_rows(app)["name"]) == {"sgd-fast", "sgd-slow"}


def test_runs_carried_in_the_link_scope_the_page_and_unknown_ones_are_refused(app, seeded_root):
    ids = seeded_root[1]
    carried = [ids["sgd-fast"], ids["adam-slow"], ids["rmsprop"], "no-such-run"]
    _open(app, runs=carried)
    assert set(_parallel_rows(app)["name"]) == {"sgd-fast", "adam-slow", "rmsprop"}
    assert any("3 runs carried from the Runs page" in c.value for c in app.caption)
    assert any("no run" in w.value and "no" in w.value for w in app.warning)


def test_a_brush_in_the_link_selects_runs_and_offers_them_to_curves_and_compare(app):
    _open(app, group="(all runs)", brush_axes="-0.1,0.1", brush_range="0.5,1.0")  # lr: upper half
    labels = [link.label for link in app.get("page_link")]
    brushed = app.dataframe[0].value
    n = len(brushed)
    assert 0 < n < 5
    assert f"Open these {n} runs in Curves" in labels and f"Open these {n} runs in Compare" in labels


@pytest.mark.parametrize("value", ["nan,1", "1e999,0", "0,1,2", "javascript:alert(1)", "1" * 200])
def test_a_hostile_brush_in_the_link_is_refused_with_a_notice(app, value):
    _open(app, group="(all runs)", brush_axes=value, brush_range="0,1")
    assert any("brush" in w.value and "not two numbers" in w.value for w in app.warning)
    assert not [link for link in app.get("page_link") if "Open these" in link.label]


@pytest.fixture(scope="module")
def seeded_sweep(tmp_path_factory) -> str:
    """A sweep where lr decides the target and a random seed decides nothing."""
    root = str(tmp_path_factory.mktemp("noise") / "store")
    rng = np.random.default_rng(7)
    for lr in 10 ** rng.uniform(-5, -1, 48):
        params = {"lr": float(lr), "seed": int(rng.integers(0, 100_000))}
        with tracklib.init("noisy", root=root, group="s", params=params, capture=False) as run:
            run.log({"val/acc": float(1 - 0.05 * (np.log10(lr) + 3) ** 2 + rng.normal(0, 0.01))})
    return root


def test_a_random_seed_is_marked_indistinguishable_from_noise(seeded_sweep, monkeypatch):
    monkeypatch.setenv("TRACKLIB_ROOT", seeded_sweep)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"project": "noisy", "metric": "val/acc", "agg": "max"})
    at.switch_page(SWEEPS).run()
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "vs noise" in d.value.columns).set_index("param")
    assert table.loc["seed", "vs noise"] == "indistinguishable from noise"
    assert table.loc["lr", "vs noise"] == "above noise"
    assert any("Indistinguishable from noise here" in c.value and "seed" in c.value for c in at.caption)
