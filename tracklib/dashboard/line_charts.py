"""Multi-run line charts that stay readable with 50 runs (pure: DataFrame in, Altair chart out).

Every run keeps its one colour (``colors.run_colors``). In the chart itself, without a
Streamlit rerun: hovering a line or a legend entry highlights that run and fades the others;
clicking legend entries isolates runs (shift-click adds; a double click or a click on the
plot away from the lines restores); a vertical rule follows the pointer with a tooltip listing
the shown runs' values at that x, best first; the smoothing slider under the chart re-smooths
in the browser. Run names are untrusted: Vega draws them as text, cut to ``MAX_LABEL``
characters, and they enter Vega expressions only as JSON strings.
"""

from __future__ import annotations

import json

import altair as alt
import numpy as np
import pandas as pd

from tracklib.analysis import direction
from tracklib.dashboard import colors as run_colours
from tracklib.dashboard import vega_axes, vega_smoothing

MAX_LABEL = 40
RULE_BINS = 120  # x buckets the hover rule snaps to (downsampled runs rarely share exact x)
PICK = "pick"  # legend click: isolate runs
HOVER = "hover"  # pointer over a line or a legend entry
AT_X = "at_x"  # the x bucket under the pointer
# Where a pointer event is. The rule's nearest-x layer (Vega-Lite's voronoi cells) covers the
# whole plot under the lines, and holds no run: an event there is "on no run".
ON_A_RUN = "!event.item || !event.item.isVoronoi"
ON_NO_RUN = "event.item && event.item.isVoronoi"
ON_THE_LEGEND = "event.item && indexof(event.item.mark.role, 'legend') >= 0"
FADED, DIMMED = 0.07, 0.18
LEGEND_ROW = 18  # pixels per legend row: short stroke symbols, little padding
LEGEND_STYLE = {
    "symbolType": "stroke",
    "symbolStrokeWidth": 3,
    "symbolOpacity": 1,  # not the faint raw-line layer's opacity: every run readable in the legend
    "symbolSize": 160,
    "rowPadding": 2,
    "labelFontSize": 11,
}
TIME_TOOLTIP = "%Y-%m-%d %H:%M:%S"
# Streamlit draws SVG below 2,000 points per datum: 40 runs of lines redrawn as SVG nodes took
# seconds per smoothing change, a canvas takes a fraction of that.
CANVAS = {"embedOptions": {"renderer": "canvas"}}
# Rows of the hover list: Streamlit's embed keeps vega-tooltip beside the pointer, above or below
# it, so a longer list (23 px a row) would be cut at the window's edge, best runs first.
TOOLTIP_ROWS = 15
UTC_SECONDS = "utcyearmonthdatehoursminutesseconds"


def label(name: object) -> str:
    """A legend/tooltip label: the name as text, at most ``MAX_LABEL`` characters."""
    text = " ".join(str(name).split()) or "(unnamed)"
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def time_format(times: pd.Series) -> str:
    """24-hour axis labels: the hour alone within a day, with the date across days."""
    finite = times.dropna()
    if finite.empty or finite.max() - finite.min() < pd.Timedelta(days=1):
        return "%H:%M"
    return "%b %d %H:%M"


def x_encoding(x: str, xs: pd.Series, field: str = "x") -> alt.X:
    """Step, relative seconds, or wall time in UTC with 24-hour labels and the zone in the title."""
    title = vega_axes.TITLES[x]
    if x == "time":
        return alt.X(
            f"{field}:T", title=title, scale=alt.Scale(type="utc"), axis=alt.Axis(format=time_format(xs))
        )
    return alt.X(f"{field}:Q", title=title)


def x_tooltip(x: str, field: str = "x") -> alt.Tooltip:
    title = vega_axes.TITLES[x]
    if x == "time":
        return alt.Tooltip(f"{field}:T", title=title, timeUnit=UTC_SECONDS, format=TIME_TOOLTIP)
    return alt.Tooltip(f"{field}:Q", title=title, format=",.6~g")


def _buckets(xs: pd.Series, bins: int) -> pd.Series:
    """Each x snapped down to one of ``bins`` equal buckets."""
    numbers = xs.astype("float64")
    low, high = numbers.min(), numbers.max()
    width = (high - low) / bins if high > low else 1.0
    return low + np.floor((numbers - low) / width) * width


def with_legend(height: int, entries: int, columns: int) -> int:
    """The chart's height with room for a legend of every entry below the plot: Streamlit fits
    plot and legend into the height it is given, so 40 runs would squash the plot flat."""
    return height + LEGEND_ROW * -(-entries // max(1, columns)) + 40


def _unique_labels(names: list[str]) -> list[str]:
    """Labels cut to length, a repeated one numbered: tooltip rows are keyed by their title."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        text = label(name)
        seen[text] = seen.get(text, 0) + 1
        out.append(text if seen[text] == 1 else f"{text} #{seen[text]}")
    return out


def _label_expr(labels: dict[str, str]) -> str:
    """Legend labels by run id; ids and names are data, so they go in as a JSON object."""
    return f"{json.dumps(labels)}[datum.value] || datum.value"


def _opacity(base: float = 1.0) -> dict:
    """Faded when legend clicks isolated other runs, dimmed while another run is hovered."""
    return {
        "condition": [
            {"test": {"not": {"param": PICK}}, "value": FADED * base},
            {"test": {"not": {"param": HOVER}}, "value": DIMMED * base},
        ],
        "value": base,
    }


def _prepare(points: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """What the chart needs, no more: run id, position in its series, each x axis's value
    and bucket (``vega_axes.columns``), and the value (a run's link is one entry of the spec,
    not a column repeated on every point: it was two thirds of the bytes sent); and the run
    ids, highest last value first."""
    data = points.sort_values(["run_id", "step"], kind="stable")
    last = data.groupby("run_id", sort=False)["value"].last().sort_values(ascending=False, na_position="last")
    frame = pd.DataFrame(
        {
            "run_id": data["run_id"].astype(str).astype("category"),  # each id sent once
            "i": data.groupby("run_id", sort=False).cumcount().astype("int32"),
            **vega_axes.columns(data, lambda xs: _buckets(xs, RULE_BINS)),
            "value": data["value"].where(np.isfinite(data["value"])),
            "ok": np.isfinite(data["value"].to_numpy(dtype="float64", na_value=np.nan)),
        }
    )
    return frame, list(last.index)


def _rule_tooltip(rule: alt.Chart, labels: dict[str, str], lower_is_better: bool) -> alt.Chart:
    """W&B's hover list, built by Vega because smoothing happens there: each run shown
    (legend isolation hides the others) that has a smoothed value in the x bucket, one row
    "name · value", best first. Rows are pivoted into fields "1".."N" by rank (JavaScript keeps
    integer keys in order); a rank no run has stays undefined, and the tooltip skips those.
    Names enter the expression as one JSON object keyed by run id, never spliced into code."""
    # Streamlit's Vega evaluates expressions with its (CSP-safe) interpreter, per row: the
    # per-run steps run after the aggregate (runs x buckets rows, not every point), and names
    # come from a lookup table rather than an object literal rebuilt for every row.
    names = alt.LookupData(
        data=alt.InlineData(values=[{"run_id": r, "name": n} for r, n in labels.items()]),
        key="run_id",
        fields=["name"],
    )
    rows = (
        rule.transform_filter("isValid(datum.smoothed) && isFinite(datum.smoothed)")
        .transform_joinaggregate(x0="min(x)", groupby=["xb"])
        .transform_aggregate(v="mean(smoothed)", groupby=["xb", "x0", "run_id"])
        .transform_filter({"param": PICK, "empty": True})
        .transform_window(
            rank="row_number()",
            groupby=["xb"],
            sort=[alt.SortField("v", order="ascending" if lower_is_better else "descending")],
        )
        .transform_joinaggregate(n="count()", groupby=["xb"])
        .transform_filter(f"datum.rank <= {TOOLTIP_ROWS}")  # before the text: formatting is costly
        .transform_lookup(lookup="run_id", from_=names)
        .transform_calculate(row="(datum.name || datum.run_id) + ' · ' + format(datum.v, '.5~g')")
        .transform_pivot("rank", value="row", groupby=["xb", "x0", "n"], op="max")
        .transform_calculate(
            heading=vega_axes.x_heading("datum.x0"),
            more=f"'+' + (datum.n - {TOOLTIP_ROWS}) + ' more: click legend entries to isolate runs'",
        )
    )
    # The nearest-point layer Vega-Lite adds on top answers the pointer: its datum is the
    # rule's scenegraph item, whose own datum holds the fields.
    row = "(datum.datum || datum)"
    fields = ", ".join(f'"{k}": {row}["{k}"]' for k in range(1, min(len(labels), TOOLTIP_ROWS) + 1))
    rows_only = f"{{title: {row}.heading, {fields}}}"
    with_more = f'{{title: {row}.heading, {fields}, "+": {row}.more}}'  # a string key: last
    return rows.mark_rule(
        color="#5f6368",
        strokeWidth=1,
        tooltip=alt.ExprRef(f"{row}.n > {TOOLTIP_ROWS} ? {with_more} : {rows_only}"),
    )


def curves(
    points: pd.DataFrame,
    metric: str,
    x: str,
    log_y: bool,
    smoothing: float,
    colors: dict[str, str],
    names: dict[str, str],
    height: int = 320,
    legend_columns: int = 2,
    lower_is_better: bool | None = None,
    links: dict[str, str] | None = None,
) -> alt.LayerChart:
    """Lines of one metric, one per run, in each run's colour; raw faintly behind the
    smoothed line while the smoothing slider is above 0. The x axis (``x`` first) and the
    log scale (``log_y`` first) switch under the chart (``vega_axes``). The hover list puts
    the best run first: lower first when ``lower_is_better`` (None: guessed from the name).

    ``points``: ``run_id, step, time, relative, value`` (``analysis.curves.with_relative``).
    ``links``: run id -> its Run page, opened by a click on the dot at the hover rule.
    """
    data, order = _prepare(points)
    legend_order = sorted(order, key=list(colors).index) if set(order) <= set(colors) else order
    domain, palette = run_colours.color_scale(colors, legend_order)
    labels = dict(zip(order, _unique_labels([names.get(r, r) for r in order]), strict=True))
    color = alt.Color(
        "run_id:N",
        scale=alt.Scale(domain=domain, range=palette),
        legend=alt.Legend(
            title="run",
            orient="bottom",
            columns=legend_columns,
            symbolLimit=0,
            labelLimit=220,
            **LEGEND_STYLE,
            labelExpr=_label_expr(labels),
        ),
    )
    y_scale = alt.Scale(zero=False)
    x_enc = vega_axes.x_axis(data["xt"])
    pick, hover = _run_selections()
    at_x = alt.selection_point(
        name=AT_X, fields=["xb"], nearest=True, on="pointermove", clear="pointerout", empty=False
    )
    smooth = vega_smoothing.slider(smoothing, f"{label(metric)} · smoothing (EMA) ")
    base = alt.Chart(data)
    lower = direction.direction_of(metric) == "min" if lower_is_better is None else lower_is_better
    rule = (
        _rule_tooltip(base, labels, lower)
        .encode(
            x=vega_axes.x_axis(data["xt"], "xb"),
            opacity=alt.condition(at_x, alt.value(0.6), alt.value(0)),
        )
        .add_params(at_x)
    )
    raw = (
        base.transform_filter(f"{vega_smoothing.WEIGHT} > 0")
        .transform_calculate(yr=vega_axes.log_of("value"))
        .mark_line(strokeWidth=1)
        .encode(
            x=x_enc,
            y=alt.Y("yr:Q", scale=y_scale, axis=vega_axes.y_axis(metric)),
            color=color,
            detail="run_id:N",
            opacity=_opacity(0.25),
        )
    )
    line = (
        base.mark_line(strokeWidth=2)
        .encode(
            x=x_enc,
            y=alt.Y("y:Q", scale=y_scale, axis=vega_axes.y_axis(metric)),
            color=color,
            detail="run_id:N",
            opacity=_opacity(),
            strokeWidth=alt.condition(hover, alt.value(3), alt.value(1.8), empty=False),
        )
        .add_params(pick, hover)
    )
    dots = (
        base.transform_filter(at_x)
        .transform_calculate(href=f"{json.dumps(links or {})}[datum.run_id] || ''")
        .mark_circle(size=36)
        .encode(
            x=x_enc,
            y=alt.Y("y:Q", scale=y_scale, axis=vega_axes.y_axis(metric)),
            color=color,
            opacity=_opacity(),
            href="href:N",
        )
    )
    chart = (
        vega_axes.AxisTitled(layer=[rule, raw, line, dots])
        .add_params(smooth, *vega_smoothing.signals(), *vega_axes.params(x, log_y))
        .properties(
            title=label(metric),
            height=with_legend(height, len(order), legend_columns),
            usermeta=CANVAS,
            # Streamlit's "fit", laid out again when the log scale's wider labels come and go
            # (else the chart outgrew its column by their width)
            autosize=alt.AutoSizeParams(type="fit", contains="padding", resize=True),
        )
    )
    # Before every layer: the rule's hover list lists smoothed values at the chosen x.
    chart.transform = vega_smoothing.transforms() + vega_axes.transforms()
    return chart


def group_curves(
    bands: pd.DataFrame, metric: str, x: str, log_y: bool, height: int = 320, legend_columns: int = 2
) -> alt.LayerChart:
    """One mean line per group with its band; hover and legend clicks work as for runs.

    ``bands``: ``analysis.curves.group_bands`` (the legend names each group with its run count).
    """
    data = bands.assign(label=bands["group"].map(label), run_id=bands["group"])
    groups = list(dict.fromkeys(data["run_id"]))
    palette = [run_colours.PALETTE[i % len(run_colours.PALETTE)] for i in range(len(groups))]
    color = alt.Color(
        "run_id:N",
        title="group",
        scale=alt.Scale(domain=groups, range=palette),
        legend=alt.Legend(
            orient="bottom",
            columns=legend_columns,
            symbolLimit=0,
            labelLimit=260,
            **LEGEND_STYLE,
            labelExpr=_label_expr({g: label(g) for g in groups}),
        ),
    )
    y_scale = alt.Scale(type="log" if log_y else "linear", zero=False)
    pick, hover = _run_selections()
    base = alt.Chart(data).encode(x=x_encoding(x, data["x"]), color=color)
    band = base.mark_area().encode(
        y=alt.Y("lower:Q", title=metric, scale=y_scale), y2="upper:Q", opacity=_opacity(0.18)
    )
    line = base.mark_line(strokeWidth=2).encode(
        y=alt.Y("mean:Q", scale=y_scale),
        opacity=_opacity(),
        strokeWidth=alt.condition(hover, alt.value(3), alt.value(2), empty=False),
        tooltip=[
            alt.Tooltip("label:N", title="group"),
            x_tooltip(x),
            alt.Tooltip("mean:Q", format=".5~g"),
            alt.Tooltip("lower:Q", format=".5~g"),
            alt.Tooltip("upper:Q", format=".5~g"),
            "runs:Q",
        ],
    )
    return alt.layer(band, line.add_params(pick, hover)).properties(
        title=label(metric), height=with_legend(height, len(groups), legend_columns), usermeta=CANVAS
    )


def _run_selections() -> tuple[alt.Parameter, alt.Parameter]:
    """A click on a legend entry (or a line) isolates runs, shift adds; a double click or a
    click on the plot away from the lines restores all. Pointing at a line or a legend entry
    highlights that run. Shared by the per-run and the per-group charts.

    Both legend bindings listen on the legend only: Vega-Lite re-sends the last legend entry
    on every such event anywhere in the chart, which brought an isolation back at the next
    plot click and kept a run highlighted after the pointer left its legend entry."""
    pick = alt.selection_point(
        name=PICK,
        fields=["run_id"],
        bind=alt.LegendStreamBinding(legend=f"click[{ON_THE_LEGEND}]"),
        on=f"click[{ON_A_RUN}]",
        clear=f"dblclick, click[{ON_NO_RUN}]",
        toggle="event.shiftKey",
    )
    hover = alt.selection_point(
        name=HOVER,
        fields=["run_id"],
        on=f"pointerover[{ON_A_RUN}]",
        clear="pointerout",
        bind=alt.LegendStreamBinding(legend=f"pointerover[{ON_THE_LEGEND}]"),
    )
    return pick, hover
