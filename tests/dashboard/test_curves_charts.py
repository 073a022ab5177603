"""What the Curves and Compare pages build: run colours, legend, in-chart controls, time axes,
the panel grid and its link keys."""

from __future__ import annotations

import html
import json
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st_

from tracklib.analysis import curves
from tracklib.dashboard import colors, line_charts, vega_axes
from tracklib.read.store import open_store

VIEWS = "tracklib/dashboard/views"


def _specs(at) -> list[dict]:
    """Each chart's spec with the datasets Streamlit sends beside it put back in."""
    specs = []
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        spec["datasets"] = {
            d.name: pa.ipc.open_stream(d.data.data).read_all().to_pylist() for d in chart.proto.datasets
        }
        specs.append(spec)
    return specs


def _tooltip_names(spec: dict) -> dict[str, str]:
    """The run names the rule's hover list shows, by run id: a lookup table (data, not code)."""
    (lookup,) = [t for t in spec["layer"][0]["transform"] if "lookup" in t]
    assert lookup["lookup"] == "run_id" and lookup["from"]["fields"] == ["name"]
    data = lookup["from"]["data"]
    rows = data["values"] if "values" in data else spec["datasets"][data["name"]]
    return {row["run_id"]: row["name"] for row in rows}


def _run_colour_map(spec: dict) -> dict[str, str]:
    layer = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "line")
    scale = layer["encoding"]["color"]["scale"]
    return dict(zip(scale["domain"], scale["range"], strict=True))


def test_a_run_has_the_same_colour_on_curves_and_compare(app, seeded_root):
    root, ids = seeded_root
    picked = [ids["adam-fast"], ids["sgd-fast"], ids["adam-slow"]]
    app.query_params.update({"project": "digits", "runs": picked, "metrics": "val/acc"})
    app.switch_page(f"{VIEWS}/curves.py").run()
    assert not app.exception
    on_curves = _run_colour_map(_specs(app)[0])
    app.switch_page(f"{VIEWS}/compare.py").run()
    assert not app.exception
    on_compare = _run_colour_map(_specs(app)[0])
    expected = colors.run_colors(open_store(root).runs("digits"))
    assert set(on_curves) == set(picked)
    for run_id in picked:
        assert on_curves[run_id] == on_compare[run_id] == expected[run_id]
    assert len(set(on_curves.values())) == 3


def test_the_legend_lists_every_run_by_name_and_the_chart_highlights_and_isolates(app, seeded_root):
    app.query_params.update(
        {"project": "digits", "runs": list(seeded_root[1].values()), "metrics": "val/acc"}
    )
    app.switch_page(f"{VIEWS}/curves.py").run()
    (spec,) = _specs(app)
    line = spec["layer"][2]
    legend = line["encoding"]["color"]["legend"]
    assert legend["symbolLimit"] == 0  # all runs, not the first few
    for name, run_id in seeded_root[1].items():
        assert f'"{run_id}": "{name}"' in legend["labelExpr"]
    params = {p["name"]: p for p in spec["params"]}  # Altair lifts selections to the top
    assert params["pick"]["views"] == params["hover"]["views"] == [line["name"]]
    # Legend clicks and hovers count on the legend only; a click or a hover on the plot counts
    # on a run's line or dot, not on the rule's nearest-x cells; a double click restores.
    on_legend = "[event.item && indexof(event.item.mark.role, 'legend') >= 0]"
    assert params["pick"]["bind"] == {"legend": "click" + on_legend}
    assert params["hover"]["bind"] == {"legend": "pointerover" + on_legend}
    assert params["pick"]["select"]["toggle"] == "event.shiftKey"
    assert params["pick"]["select"]["on"] == "click[!event.item || !event.item.isVoronoi]"
    assert params["pick"]["select"]["clear"].startswith("dblclick")
    assert params["hover"]["select"]["on"] == "pointerover[!event.item || !event.item.isVoronoi]"
    faded = line["encoding"]["opacity"]["condition"]
    assert [c["test"] for c in faded] == [{"not": {"param": "pick"}}, {"not": {"param": "hover"}}]
    rule = spec["layer"][0]
    assert params["at_x"]["select"]["nearest"] is True and params["at_x"]["views"] == [rule["name"]]
    names = _tooltip_names(spec)
    assert set(seeded_root[1]) <= set(names.values())  # the rule's hover list can name every run
    assert {"filter": {"param": "pick", "empty": True}} in rule["transform"]  # the shown runs only


def test_smoothing_is_a_chart_param_not_a_streamlit_rerun(app):
    app.query_params.update({"project": "digits", "metrics": "val/acc", "smooth": "0.8"})
    app.switch_page(f"{VIEWS}/curves.py").run()
    assert not app.exception
    assert not [s for s in app.slider if "Smoothing" in s.label]  # no widget: nothing reruns
    (spec,) = _specs(app)
    (smooth,) = [p for p in spec["params"] if p["name"] == "smooth"]
    assert smooth["value"] == [{"w": 0.8}]  # a selection bound to the slider: the link hears it
    assert (smooth["bind"]["min"], smooth["bind"]["max"]) == (0, 0.99)
    assert any('"window"' in json.dumps(t) for t in spec["transform"])  # smoothed by Vega


def _drawn_text(spec: dict) -> list[str]:
    """The texts Vega draws for the chart (axis titles and labels, legend), from the real
    Vega-Lite and Vega, so the in-chart axis and scale choices are checked as drawn."""
    import vl_convert

    from tracklib.dashboard.snapshot import VEGA_LITE_VERSION

    svg = vl_convert.vegalite_to_svg(spec, vl_version=VEGA_LITE_VERSION)
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


def _chosen(spec: dict) -> tuple[str, bool]:
    """The x axis and log scale the chart's radio and checkbox start at."""
    start = {p["name"]: p.get("value") for p in spec["params"]}
    return start["xaxis"][0]["axis"], start["logy"][0]["on"]


def test_wall_time_is_24_hour_utc_on_the_axis_and_in_the_tooltip(app):
    app.query_params.update({"project": "digits", "metrics": "val/acc", "x": "time"})
    app.switch_page(f"{VIEWS}/curves.py").run()
    (spec,) = _specs(app)
    assert _chosen(spec) == ("time", False)
    text = _drawn_text(spec)
    assert "wall time (UTC)" in text and "step" not in text
    times = [t for t in text if re.fullmatch(r"(\w{3} \d\d )?\d\d:\d\d(:\d\d(\.\d{3})?)?", t)]
    assert len(times) >= 2 and not [t for t in text if "AM" in t or "PM" in t], text  # 24-hour labels
    (heading,) = [t["calculate"] for t in spec["layer"][0]["transform"] if t.get("as") == "heading"]
    assert "utcFormat(" in heading and "%H" in heading and "UTC" in heading


def test_each_panel_keeps_its_own_axis_scale_and_smoothing_from_the_link(app):
    app.query_params.update(
        {"project": "digits", "metrics": ["val/acc", "train/loss"], "x2": "relative", "log2": "true"}
    )
    app.query_params["smooth2"] = "0.5"
    app.switch_page(f"{VIEWS}/curves.py").run()
    assert not app.exception
    first, second = _specs(app)
    assert _chosen(first) == ("step", False) and _chosen(second) == ("relative", True)
    assert "step" in _drawn_text(first)
    drawn = _drawn_text(second)
    assert "seconds since start" in drawn
    # log y: the axis is labelled with values a decade apart at equal distances
    assert {"0.1", "1"} <= set(drawn) or {"0.01", "0.1"} <= set(drawn)
    assert [p["value"] for p in second["params"] if p["name"] == "smooth"] == [[{"w": 0.5}]]


def test_hostile_panel_values_in_a_link_get_a_notice_and_the_default(app):
    app.query_params.update({"project": "digits", "metrics": "val/acc", "x": "<script>", "smooth": "inf"})
    app.switch_page(f"{VIEWS}/curves.py").run()
    assert not app.exception
    assert len(app.warning) >= 2
    (spec,) = _specs(app)
    assert _chosen(spec) == ("step", False)


def test_the_run_selector_counts_runs_and_shows_a_group(app, seeded_root):
    app.query_params["project"] = "digits"
    app.switch_page(f"{VIEWS}/curves.py").run()
    assert any(m.value == "**5 of 5 runs shown**" for m in app.markdown)
    app.selectbox(key="runs_group").set_value("adam").run()
    assert not app.exception
    assert any(m.value == "**2 of 5 runs shown**" for m in app.markdown)


@pytest.mark.parametrize("count,per_row", [(1, 1), (2, 2), (3, 3), (4, 2), (5, 3), (9, 3)])
def test_panels_per_row_follow_the_metric_count(count, per_row):
    from tracklib.dashboard.views.curves import panels_per_row

    assert panels_per_row(count) == per_row


@settings(max_examples=60, deadline=None)
@given(
    st_.floats(0.01, 0.99),
    st_.lists(st_.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=400),
)
def test_the_block_ema_the_chart_computes_equals_the_servers_ema(weight, values):
    """``vega_smoothing.transforms`` restarts its running sums every L points in two offset grids;
    the same arithmetic in numpy must give ``analysis.curves.ema``."""
    import math

    n = len(values)
    v = np.array(values)
    size = max(2, 2 * math.ceil(40 / -math.log(weight)))
    i = np.arange(n)
    out = np.empty(n)
    for grid, shift in (("a", 0), ("b", size // 2)):
        block = (i + shift) // size
        rel = i + shift - block * size
        e = weight ** (-rel.astype(float))
        sums_e = pd.Series(e).groupby(block).cumsum().to_numpy()
        sums_v = pd.Series(e * v).groupby(block).cumsum().to_numpy()
        use = (i - (i // size) * size >= size / 2) if grid == "a" else (i - (i // size) * size < size / 2)
        out[use] = (sums_v / sums_e)[use]
    expected = curves.ema(pd.Series(v), weight).to_numpy()
    assert np.allclose(out, expected, rtol=1e-9, atol=1e-9 * (1 + np.abs(v).max()))


def test_long_or_hostile_run_names_are_cut_and_kept_as_json_text():
    points = pd.DataFrame(
        {"run_id": ["a", "b"], "step": [0, 0], "value": [1.0, 2.0], "time": pd.Timestamp(0, tz="UTC")}
    ).assign(relative=0.0)
    names = {"a": '"]; alert(1); //' + "x" * 100, "b": "<b>bold</b>"}
    spec = line_charts.curves(
        points, "m", "step", False, 0.0, {"a": "#111111", "b": "#222222"}, names
    ).to_dict()
    expr = spec["layer"][2]["encoding"]["color"]["legend"]["labelExpr"]
    labels = json.loads(expr.split("[datum.value]")[0])
    assert labels["b"] == "<b>bold</b>" and len(labels["a"]) == line_charts.MAX_LABEL
    assert _tooltip_names(spec) == labels  # the hover list: the same names, as data, no code
    assert "alert" not in spec["layer"][0]["mark"]["tooltip"]["expr"]


@pytest.mark.parametrize(
    "metric,order", [("val/acc", "descending"), ("train/loss", "ascending"), ("val/error_rate", "ascending")]
)
def test_the_hover_list_ranks_the_best_run_first_by_the_metrics_direction(metric, order):
    points = pd.DataFrame(
        {"run_id": ["a", "b"], "step": [0, 0], "value": [1.0, 2.0], "time": pd.Timestamp(0, tz="UTC")}
    ).assign(relative=0.0)
    spec = line_charts.curves(points, metric, "step", False, 0.0, {}, {}).to_dict()
    (window,) = [t for t in spec["layer"][0]["transform"] if "window" in t]
    assert window["sort"] == [{"field": "v", "order": order}] and window["groupby"] == ["xb"]
    saved = line_charts.curves(points, metric, "step", False, 0.0, {}, {}, lower_is_better=False).to_dict()
    (window,) = [t for t in saved["layer"][0]["transform"] if "window" in t]
    assert window["sort"] == [{"field": "v", "order": "descending"}]  # a saved direction wins


def test_the_run_page_draws_the_run_in_its_own_colour(app, seeded_root):
    root, ids = seeded_root
    run_id = ids["sgd-fast"]
    app.query_params.update({"project": "digits", "run": run_id})
    app.switch_page(f"{VIEWS}/run.py").run()
    assert not app.exception
    spec = _specs(app)[-1]
    marks = [layer["mark"] for layer in spec["spec"]["layer"] if layer["mark"]["type"] == "line"]
    expected = colors.run_colors(open_store(root).runs("digits"))[run_id]
    assert marks and all(mark["color"] == expected for mark in marks)
    assert expected != colors.PALETTE[0]  # sgd-fast is the third run: not the colour every run had


_json = st_.recursive(
    st_.none() | st_.booleans() | st_.integers() | st_.floats() | st_.text(max_size=12),
    lambda inner: st_.lists(inner, max_size=3) | st_.dictionaries(st_.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None)
@given(
    st_.dictionaries(
        st_.sampled_from([vega_axes.X_PICK, vega_axes.LOG_PICK, "smooth", "other"]),
        _json
        | st_.lists(st_.dictionaries(st_.sampled_from(["axis", "on", "w"]), _json, max_size=2), max_size=2),
        max_size=3,
    )
)
def test_the_browsers_axis_and_scale_choice_is_taken_only_when_known(selection):
    """Streamlit's selection event comes from the browser: only a known axis and a boolean count."""
    chosen = vega_axes.chosen(selection)
    assert set(chosen) <= {"x", "log"}
    assert chosen.get("x", "step") in vega_axes.TITLES
    assert isinstance(chosen.get("log", False), bool)


@settings(max_examples=60, deadline=None)
@given(
    st_.floats(0, 4e12, allow_nan=False),  # epoch ms up to the year 2096
    st_.floats(0, 400 * 86_400_000, allow_nan=False),  # a run of up to 400 days
)
def test_wall_time_ticks_are_round_evenly_spaced_times_within_the_runs(start, span):
    ticks, fmt = vega_axes.time_ticks(pd.Series([start, start + span, float("nan")]))
    assert "%I" not in fmt and "%p" not in fmt  # 24-hour labels
    if ticks is None:
        return
    assert 2 <= len(ticks) <= 2 * vega_axes.TIME_TICKS + 1
    assert start <= ticks[0] and ticks[-1] <= start + span + 1e-6
    steps = np.diff(ticks)
    assert np.allclose(steps, steps[0]) and all(
        t % steps[0] < 1e-3 or steps[0] - t % steps[0] < 1e-3 for t in ticks
    )
