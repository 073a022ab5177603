"""tables.py: numbers by magnitude, durations, headers, run links (pure)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as hs

from tracklib.dashboard import tables


@settings(max_examples=300, deadline=None)
@given(hs.floats(allow_nan=True, allow_infinity=True))
def test_a_number_reads_by_magnitude(value):
    text = tables.number_text(value)
    if math.isnan(value):
        assert text == ""
        return
    assert len(text) <= 11  # never 17 digits, never 0.000000
    shown = float(text)
    if math.isinf(value) or value == 0:
        assert shown == value
    else:
        near_limit = abs(value) > 1.797e308 or abs(value) < 1e-300  # 4 digits round to inf or 0
        assert math.isclose(shown, value, rel_tol=1e-3) or near_limit


def test_the_issue_examples():
    assert tables.number_text(1e-5) == "1e-05"
    assert tables.number_text(800.093247) == "800.1"
    assert tables.number_text(0.0026242152761225897) == "0.002624"
    assert tables.number_text(12) == "12" and tables.number_text("adam") == "adam"


@settings(max_examples=200, deadline=None)
@given(hs.lists(hs.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=20))
def test_a_float_column_is_never_fixed_decimals(values):
    fmt = tables.number_format(pd.Series(values, dtype=float))
    assert fmt in (tables.SIGNIFICANT, tables.SCIENTIFIC)
    finite = [abs(v) for v in values if math.isfinite(v) and v != 0]
    if any(v < tables.TINY or v >= tables.HUGE for v in finite):
        assert fmt == tables.SCIENTIFIC  # lr 1e-05 as 1E-5


def test_a_summary_shows_each_value_by_its_own_magnitude():
    summary = pd.DataFrame({"key": ["val/acc", "lr"], "last": [0.5, 1e-5], "count": [3, 3]})
    shown = tables.values_as_text(summary, ("last", "min"))
    assert shown["last"].tolist() == ["0.5", "1e-05"] and shown["count"].tolist() == [3, 3]


def test_whole_numbers_keep_streamlits_own_format():
    assert tables.number_format(pd.Series([1, 2, 3])) is None
    assert tables.number_format(pd.Series(["a"])) is None


def test_durations_read_as_people_say_them():
    assert tables.duration_text(252) == "4m 12s"
    assert tables.duration_text(3780) == "1h 03m"
    assert tables.duration_text(42) == "42s" and tables.duration_text(2.5) == "2.5s"
    assert tables.duration_text(2 * 86_400 + 5 * 3600) == "2d 05h"
    assert tables.duration_text(float("nan")) == "" and tables.duration_text(None) == ""


@given(hs.floats(min_value=-1e9, max_value=1e9, allow_nan=False))
def test_any_duration_is_short_text(seconds):
    assert 0 < len(tables.duration_text(seconds)) <= 12


def test_headers_drop_prefixes_and_stay_unique():
    names = tables.headers(["name", "params.lr", "metrics.lr", "metrics.val/loss", "params.name"])
    assert names["metrics.val/loss"] == ("val/loss", "metric: val/loss")
    labels = [label for label, _ in names.values()] + ["name"]
    assert len(set(labels)) == len(labels)
    assert names["params.lr"][0] == "lr (param)" and names["metrics.lr"][0] == "lr (metric)"
    assert names["params.name"][0] == "name (param)"


def test_a_table_is_as_tall_as_its_rows_up_to_a_limit():
    assert tables.height(3) < tables.height(20) < tables.height(35) == tables.height(500)
    assert tables.height(0) == tables.height(1) and isinstance(tables.height(np.int64(5)), int)
