"""The smoothing slider under a line chart, computed by Vega in the browser: no rerun to
re-smooth, and the same arithmetic as the server's ``analysis.curves.ema``.

The slider is a one-field selection, so Streamlit hears it move (the page's link follows)
while Vega re-smooths at once. The browser's value is untrusted: ``chosen`` clamps it.
"""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import numpy as np

SMOOTH = "smooth"  # EMA weight: a one-field selection bound to the slider under the chart, so
SMOOTH_FIELD = "w"  # Streamlit hears it move (the link follows) while Vega re-smooths at once
SMOOTH_VALUE = f"clamp(+{SMOOTH}_{SMOOTH_FIELD} || 0, 0, 0.99)"  # the slider's signal
# Signals computed once per slider move, not once per row: Streamlit's Vega interprets every
# per-row expression, which is most of a re-smooth's time.
WEIGHT, BLOCK = "smooth_wc", "smooth_L"
# Unsmoothed, the sums are not used: one block per run, not a window group per two points
# (2,500 groups for 5,000 points made the first draw of every chart slower).
UNSMOOTHED_BLOCK = 2**31


def signals() -> list[alt.Parameter]:
    """The slider's weight, clamped, and the block length L it implies (see ``transforms``)."""
    return [
        alt.param(name=WEIGHT, expr=SMOOTH_VALUE),
        alt.param(name=BLOCK, expr=f"{WEIGHT} > 0 ? max(2, 2 * ceil(40 / -log({WEIGHT}))) : {UNSMOOTHED_BLOCK}"),
    ]


def transforms() -> list[dict]:
    """TensorBoard's debiased EMA (``analysis.curves.ema``) computed by Vega from the slider.

    EMA_t = sum_i w^(t-i) v_i / sum_i w^(t-i) is a ratio of running sums of w^-i·v and w^-i;
    to keep w^-i finite the index restarts every L points (w^L ≈ e^-80), in two block
    grids offset by L/2. A point reads the grid where at least L/2 points precede it in its
    block, so the terms it misses weigh under w^(L/2) ≈ e^-40 of the total.
    """
    w, size = WEIGHT, BLOCK  # signals (``signals``); ``ok``: a finite value (Python)
    calc = [
        ("_ba", f"floor(datum.i / {size})"),
        ("_ra", f"datum.i - datum._ba * {size}"),
        ("_bb", f"floor((datum.i + {size} / 2) / {size})"),
        ("_rb", f"datum.i + {size} / 2 - datum._bb * {size}"),
        ("_ea", f"datum.ok && {w} > 0 ? pow({w}, -datum._ra) : 0"),
        ("_eb", f"datum.ok && {w} > 0 ? pow({w}, -datum._rb) : 0"),
        ("_va", "datum.ok ? datum._ea * datum.value : 0"),
        ("_vb", "datum.ok ? datum._eb * datum.value : 0"),
    ]
    steps: list[dict] = [{"calculate": expr, "as": name} for name, expr in calc]
    for grid in ("a", "b"):
        steps.append(
            {
                "window": [
                    {"op": "sum", "field": f"_e{grid}", "as": f"_se{grid}"},
                    {"op": "sum", "field": f"_v{grid}", "as": f"_sv{grid}"},
                ],
                "groupby": ["run_id", f"_b{grid}"],
                "sort": [{"field": "i", "order": "ascending"}],
                "frame": [None, 0],
            }
        )
    steps.append(
        {
            "calculate": f"!datum.ok ? null : {w} <= 0 ? datum.value : "
            f"datum._ra >= {size} / 2 ? datum._sva / datum._sea : datum._svb / datum._seb",
            "as": "smoothed",
        }
    )
    return steps


def chosen(selection: Mapping[str, object]) -> float | None:
    """The weight the chart's slider was moved to, from Streamlit's selection event (the
    browser sends it, so anything but a number in range is ignored or clamped)."""
    try:
        value = float(selection[SMOOTH][0][SMOOTH_FIELD])  # type: ignore[index]
    except (LookupError, TypeError, ValueError):
        return None
    return min(max(value, 0.0), 0.99) if np.isfinite(value) else None


def slider(value: float, title: str) -> alt.Parameter:
    """The slider, starting at ``value``."""
    return alt.selection_point(
        name=SMOOTH,
        fields=[SMOOTH_FIELD],
        value=[{SMOOTH_FIELD: float(value)}],
        bind=alt.binding_range(min=0, max=0.99, step=0.01, name=title),
    )
