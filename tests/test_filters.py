"""The filter language: results on a hand-built runs frame, errors with positions, and fuzzing."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracklib.analysis.filters import (
    MAX_DEPTH,
    MAX_LENGTH,
    FilterError,
    apply_filter,
    compile_filter,
    evaluate,
    fields,
    parse,
)

NAMES = ["adam-fast", "sgd-base", "big-lr", "crashed", "rms-live", "rms-tagged"]


def runs_frame() -> pd.DataFrame:
    """A runs-like frame with the dtypes ``Store.runs`` produces, gaps included."""
    nan = np.nan
    return pd.DataFrame(
        {
            "run_id": pd.array([f"r{i}" for i in range(6)], dtype="str"),
            "name": pd.array(NAMES, dtype="str"),
            "project": pd.array(["digits"] * 6, dtype="str"),
            "group": pd.array(["g1", None, "g2", "g1", None, "g2"], dtype="str"),
            "tags": [["baseline"], [], ["baseline", "big"], ["big"], ["baseline"], ["baseline"]],
            "notes": pd.array(['it\'s "fine"', "C:\\tmp", None, "oops", "", "ok"], dtype="str"),
            "status": pd.array(
                ["finished", "finished", "finished", "failed", "running", "finished"], dtype="str"
            ),
            "start_time": pd.to_datetime(
                [
                    "2026-10-15T12:00",
                    "2026-11-02T08:00",
                    "2026-11-10T00:00",
                    "2026-09-01T00:00",
                    "2026-11-20T23:30",
                    "2026-11-01T00:00",
                ],
                utc=True,
            ).as_unit("us"),
            "end_time": pd.to_datetime(
                [
                    "2026-10-15T13:00",
                    "2026-11-02T09:00",
                    "2026-11-10T01:00",
                    "2026-09-01T00:05",
                    None,
                    "2026-11-01T02:00",
                ],
                utc=True,
            ).as_unit("us"),
            "duration_s": [3600.0, 3600.0, 3600.0, 300.0, nan, 7200.0],
            "host": pd.array(["vm"] * 6, dtype="str"),
            "git_commit": pd.array(["abc123", None, "abc123", None, "def456", "abc123"], dtype="str"),
            "params.lr": [0.001, 0.005, 0.1, nan, 0.0005, 0.002],
            "params.optimizer": pd.array(["adam", "sgd", "adam", None, "rmsprop", "rmsprop"], dtype="string"),
            "params.model.layers": pd.array([2, 4, None, 8, 2, 16], dtype="Int64"),
            "params.flag": pd.array([True, False, None, True, False, True], dtype="boolean"),
            "params.mix": pd.Series([3, "x", None, 2.5, "x", True], dtype=object),
            "metrics.val/acc": [0.95, 0.92, 0.97, nan, 0.85, 0.91],
            "metrics_min.val/acc": [0.5, 0.4, 0.6, nan, 0.3, 0.45],
            "metrics_max.val/acc": [0.96, 0.93, 0.98, nan, 0.86, 0.92],
            "metrics.train-loss": [0.1, -0.2, 1e-4, nan, 2.5, 0.3],
        }
    )


FRAME = runs_frame()
EXAMPLE = (
    'params.lr < 0.01 and (params.optimizer in ["adam", "sgd"] or tags contains "baseline")'
    ' and metrics.val/acc >= 0.9 and status = "finished"'
)


def names(text: str) -> set[str]:
    return set(apply_filter(FRAME, text)["name"])


def error(text: str) -> FilterError:
    with pytest.raises(FilterError) as info:
        apply_filter(FRAME, text)
    return info.value


def test_the_example_expression() -> None:
    assert names(EXAMPLE) == {"adam-fast", "sgd-base", "rms-tagged"}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("lr = 0.005", {"sgd-base"}),
        ("lr == 0.005", {"sgd-base"}),
        ("lr != 0.005", {"adam-fast", "big-lr", "rms-live", "rms-tagged"}),  # missing never matches
        ("lr < 0.002", {"adam-fast", "rms-live"}),
        ("lr <= 0.002", {"adam-fast", "rms-live", "rms-tagged"}),
        ("lr > 0.005", {"big-lr"}),
        ("lr >= 0.005", {"sgd-base", "big-lr"}),
        ("model.layers > 2", {"sgd-base", "crashed", "rms-tagged"}),  # Int64 with a gap
        ("model.layers != 2", {"sgd-base", "crashed", "rms-tagged"}),
        ('name < "c"', {"adam-fast", "big-lr"}),
        ('status != "finished"', {"crashed", "rms-live"}),
        ("flag = true", {"adam-fast", "crashed", "rms-tagged"}),
        ("flag != TRUE", {"sgd-base", "rms-live"}),
        ("mix = 3", {"adam-fast"}),  # a mixed column compares value by value
        ('mix = "x"', {"sgd-base", "rms-live"}),
        ("mix > 2", {"adam-fast", "crashed"}),
        ("mix = true", {"rms-tagged"}),
        ("duration_s >= 3600", {"adam-fast", "sgd-base", "big-lr", "rms-tagged"}),
    ],
)
def test_each_operator(text: str, expected: set[str]) -> None:
    assert names(text) == expected


def test_not_and_keywords_ignore_case() -> None:
    assert names('not status = "finished"') == {"crashed", "rms-live"}
    assert names("not lr < 0.01") == {"big-lr", "crashed"}  # `not` does include missing values
    assert names('NOT lr < 0.01 AnD group = "g2"') == {"big-lr"}
    assert names("not not lr > 0.05") == {"big-lr"}


def test_and_binds_tighter_than_or() -> None:
    assert names('lr > 0.05 or status = "finished" and optimizer = "sgd"') == {"big-lr", "sgd-base"}
    assert names('(lr > 0.05 or status = "finished") and optimizer = "sgd"') == {"sgd-base"}
    assert names('optimizer = "sgd" and lr < 1 or group = "g2" and flag = false') == {"sgd-base"}


def test_short_names_resolve_to_params_then_metrics() -> None:
    assert names("lr < 0.002") == names("params.lr < 0.002")
    assert names("val/acc > 0.95") == {"big-lr"}
    assert names("train-loss < 0") == {"sgd-base"}
    assert names("model.layers = 16") == {"rms-tagged"}
    both = pd.DataFrame({"params.x": [1.0, 2.0], "metrics.x": [2.0, 1.0], "name": ["p", "m"]})
    assert set(apply_filter(both, "x = 1")["name"]) == {"p"}  # params win over metrics
    assert fields(compile_filter(EXAMPLE, FRAME.columns)) == {
        "params.lr",
        "params.optimizer",
        "tags",
        "metrics.val/acc",
        "status",
    }
    assert fields(compile_filter("lr < 1 or val/acc.max > 0", FRAME.columns)) == {
        "params.lr",
        "metrics_max.val/acc",
    }


def test_contains_on_lists_and_text() -> None:
    assert names('tags contains "big"') == {"big-lr", "crashed"}
    assert names('tags contains "bi"') == set()  # list membership, not substring
    assert names('name contains "rms"') == {"rms-live", "rms-tagged"}
    assert names('name contains "RMS"') == set()  # case-sensitive
    assert names('optimizer contains "prop"') == {"rms-live", "rms-tagged"}
    assert names('notes contains "o"') == {"crashed", "rms-tagged"}  # missing notes never match


def test_in_and_not_in() -> None:
    assert names('optimizer in ["adam", "sgd"]') == {"adam-fast", "sgd-base", "big-lr"}
    assert names('optimizer not in ["adam", "sgd"]') == {"rms-live", "rms-tagged"}
    assert names("model.layers in [2, 16]") == {"adam-fast", "rms-live", "rms-tagged"}
    assert names("model.layers not in [2]") == {"sgd-base", "crashed", "rms-tagged"}
    assert names("model.layers in [16, null]") == {"big-lr", "rms-tagged"}
    assert names('mix in ["x", 3]') == {"adam-fast", "sgd-base", "rms-live"}
    assert names("lr in []") == set()
    assert names('group NOT IN ["g1"]') == {"big-lr", "rms-tagged"}


def test_null_checks_missingness() -> None:
    assert names("group = null") == {"sgd-base", "rms-live"}
    assert names("group != null") == {"adam-fast", "big-lr", "crashed", "rms-tagged"}
    assert names("lr = null") == {"crashed"}
    assert names("end_time = NULL") == {"rms-live"}
    assert names("mix = null") == {"big-lr"}
    assert names("tags = null") == set()


def test_dates_compare_with_iso_strings() -> None:
    assert names('start_time >= "2026-11-01"') == {"sgd-base", "big-lr", "rms-live", "rms-tagged"}
    assert names('start_time < "2026-10-01"') == {"crashed"}
    # naive means UTC; an offset is converted
    assert names('start_time > "2026-11-20T23:00"') == {"rms-live"}
    assert names('start_time > "2026-11-21T00:00+02:00"') == {"rms-live"}
    assert names('end_time != "2026-09-01T00:05"') == {"adam-fast", "sgd-base", "big-lr", "rms-tagged"}


def test_negative_and_scientific_numbers() -> None:
    assert names("train-loss < -0.1") == {"sgd-base"}
    assert names("train-loss>-1e-1") == names("train-loss > -0.1")
    assert names("lr < 1e-3") == {"rms-live"}
    assert names("lr <= 1E-3") == {"adam-fast", "rms-live"}
    assert names("train-loss = 1.0e-4") == {"big-lr"}
    assert names("lr > .05") == {"big-lr"}
    assert names("lr < 99999999999999999999999") == names("lr != null")  # huge ints are floats


def test_strings_with_escapes_and_both_quotes() -> None:
    assert names(r'notes = "it\'s \"fine\""') == {"adam-fast"}
    assert names(r"""notes = 'it\'s "fine"'""") == {"adam-fast"}
    assert names(r'notes = "C:\\tmp"') == {"sgd-base"}
    assert names('notes = ""') == {"rms-live"}
    assert parse(r'name = "a\\\"b"').values[0].value == 'a\\"b'


def test_blank_filter_returns_the_frame_unchanged() -> None:
    assert apply_filter(FRAME, "") is FRAME
    assert apply_filter(FRAME, "  \n\t ") is FRAME


def test_result_is_a_boolean_mask_on_the_frames_index() -> None:
    frame = FRAME.set_axis([10, 11, 12, 13, 14, 15])
    mask = evaluate(compile_filter("lr < 0.01", frame.columns), frame)
    assert mask.dtype == bool and list(mask.index) == list(frame.index)
    assert list(apply_filter(frame, "lr < 0.01").index) == [10, 11, 14, 15]
    assert apply_filter(FRAME.iloc[:0], "lr < 0.01 and tags contains 'x'").empty


@pytest.mark.parametrize(
    "text, message, position",
    [
        ('(lr < 0.01 and status = "finished"', "unclosed '('", 0),
        ('lr < 0.01 and (status = "finished" or (lr > 1)', "unclosed '('", 14),
        ('status = "finished', "unclosed string", 9),
        ("lr < ", "expected a value after '<'", 5),
        ("lr < and status = 'x'", "expected a value after '<' but found 'and'", 5),
        ("lr in [1, 2", "unclosed '['", 6),
        ("lr in [1 2]", "expected ',' or ']' but found '2'", 9),
        ("lr in 1", "expected '[' after 'in' but found '1'", 6),
        ("lr not 1", "expected 'in' after 'not' but found '1'", 7),
        ("lr 0.1", "expected an operator after 'lr' but found '0.1'", 3),
        ("lr < 0.01 garbage", "expected 'and', 'or' or the end but found 'garbage'", 10),
        ("lr < 0.01)", "expected 'and', 'or' or the end but found ')'", 9),
        ("lr < 1 and", "expected a field name or '('", 10),
        ("lr < 1 @ 2", "unexpected '@'", 7),
        ("lr < null", "null can only be compared with = or !=", 5),
        ('lr < "abc"', "params.lr is numeric but 'abc' is text", 5),
        ("name = 3", "name is text but 3 is numeric", 7),
        ("flag = 1", "params.flag is boolean but 1 is numeric", 7),
        ('lr in [1, "a"]', "params.lr is numeric but 'a' is text", 10),
        ("start_time > 5", "start_time is a date but 5 is numeric", 13),
        ('start_time > "soon"', "cannot read 'soon' as a date", 13),
        ("lr contains 1", "contains needs a text or list field but params.lr is numeric", 0),
    ],
)
def test_errors_name_the_problem_and_where(text: str, message: str, position: int) -> None:
    exc = error(text)
    assert (exc.message, exc.position) == (message, position)
    assert str(exc) == f"{message} at position {position}"
    assert isinstance(exc, ValueError)


def test_unknown_field_is_named_with_close_columns() -> None:
    exc = error('status = "finished" and lrr < 1')
    assert exc.position == 24
    assert "'lrr'" in exc.message and "params.lr" in exc.message
    assert "metrics.val/acc" in error("val/ac > 0.5").message
    assert error("zzzzz = 1").message == "unknown field 'zzzzz'"
    assert parse("zzzzz = 1").field == "zzzzz"  # syntax alone needs no columns


def test_limits_fail_fast_and_clearly() -> None:
    deep = "(" * (MAX_DEPTH + 1) + "lr < 1" + ")" * (MAX_DEPTH + 1)
    assert (error(deep).message, error(deep).position) == (
        f"nested more than {MAX_DEPTH} levels deep",
        MAX_DEPTH,
    )
    assert names("(" * MAX_DEPTH + "lr > 0.05" + ")" * MAX_DEPTH) == {"big-lr"}
    assert "nested more than" in error("not " * 60 + "lr < 1").message
    assert "longer than" in error("lr < 1 or " * 300).message


# --- property-based ------------------------------------------------------------------------

VOCABULARY = [
    "(",
    ")",
    "[",
    "]",
    ",",
    "and",
    "or",
    "not",
    "in",
    "contains",
    "null",
    "true",
    "false",
    "=",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "lr",
    "name",
    "tags",
    "mix",
    "start_time",
    "val/acc",
    "flag",
    "model.layers",
    "-1",
    "1e-3",
    "0.5",
    '"adam"',
    "'x'",
    '"2026-11-01"',
    '"',
    "\\",
    "`",
    ";",
    "@",
    "__import__",
    ".",
    "params.",
]
HOSTILE = [
    "__import__('os').system('true')",
    "().__class__.__bases__[0].__subclasses__()",
    "@",
    "`lr` < 1",
    "lr < 1; import os",
    "lr < 1 -- comment",
    "lambda: 0",
    "${x}",
    "(" * 5000,
    "(" * 1999,
    ")" * 1999,
    "[" * 1999,
    "not " * 499,
    '"' * 1999,
    "lr in [" + "1," * 990 + "1]",
    "lr < 1 and " * 180 + "lr < 1",
    "mix = 1 or " * 180,
    "x" * 1_000_000,
    "lr < " + "9" * 1990,
    "lr < 1e999999",
    "tags contains " + "'a'" * 600,
    "name = '\\",
    "\x00",
    "lr\u2028< 1",
    "ｌｒ < 1",
    "İ = 1",
    "lr < 1 and (" * 100,
]


def safely(text: str) -> None:
    """Either a FilterError or a boolean mask of the frame's length, never a hung page: a bound a
    pathological parse (exponential backtracking, deep recursion) would blow through by orders of
    magnitude, far above what a busy 2-core machine adds (filter speed is benchmarks' business)."""
    try:
        mask = evaluate(compile_filter(text, FRAME.columns), FRAME)
    except FilterError as exc:
        assert isinstance(exc.position, int) and 0 <= exc.position <= max(len(text), MAX_LENGTH)
    else:
        assert mask.dtype == bool and mask.index.equals(FRAME.index)
    assert fastest(text) < 1.0


def fastest(text: str, tries: int = 3) -> float:
    """Seconds for the best of a few tries, so a GC pause or a busy machine does not fail us."""
    timings = []
    for _ in range(tries):
        started = time.perf_counter()
        try:
            evaluate(compile_filter(text, FRAME.columns), FRAME)
        except FilterError:
            pass
        timings.append(time.perf_counter() - started)
    return min(timings)


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_input_fails_cleanly(text: str) -> None:
    safely(text)


@settings(deadline=None, max_examples=200)
@given(
    st.one_of(
        st.text(), st.lists(st.sampled_from(VOCABULARY), max_size=30).map(" ".join), st.sampled_from(HOSTILE)
    )
)
def test_any_text_gives_a_mask_or_a_filter_error(text: str) -> None:
    safely(text)


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


NUMBERS = st.one_of(
    st.integers(-(10**20), 10**20).map(str), st.floats(allow_nan=False, allow_infinity=False).map(repr)
)
TEXT = st.text(max_size=8).map(quoted)
DATES = st.datetimes(
    min_value=pd.Timestamp("2000-01-01").to_pydatetime(), max_value=pd.Timestamp("2100-01-01").to_pydatetime()
).map(lambda d: quoted(d.isoformat()))
OP = st.sampled_from(["=", "==", "!=", "<", "<=", ">", ">="])
LIST = st.lists(NUMBERS, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]")


def comparison(field: str, op: str, value: str) -> str:
    return f"{field} {op} {value}"


COMPARISONS = st.one_of(
    st.builds(
        comparison,
        st.sampled_from(["lr", "metrics.val/acc", "train-loss", "model.layers", "duration_s"]),
        OP,
        NUMBERS,
    ),
    st.builds(
        comparison,
        st.sampled_from(["name", "status", "group", "optimizer", "notes"]),
        st.sampled_from(["=", "!=", "<", ">=", "contains"]),
        TEXT,
    ),
    st.builds(comparison, st.sampled_from(["start_time", "end_time"]), OP, DATES),
    st.builds(comparison, st.just("flag"), st.sampled_from(["=", "!="]), st.sampled_from(["true", "false"])),
    st.builds(
        comparison,
        st.sampled_from(["mix", "tags"]),
        st.sampled_from(["=", "!=", "<", "contains"]),
        st.one_of(NUMBERS, TEXT),
    ),
    st.builds(
        comparison, st.sampled_from(["lr", "model.layers"]), st.sampled_from(["in", "not in", "NOT IN"]), LIST
    ),
    st.builds(
        comparison, st.sampled_from(list(FRAME.columns)), st.sampled_from(["=", "!="]), st.just("null")
    ),
)
EXPRESSIONS = st.recursive(
    COMPARISONS,
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"{a} and {b}", inner, inner),
        st.builds(lambda a, b: f"{a} OR {b}", inner, inner),
        inner.map(lambda a: f"not {a}"),
        inner.map(lambda a: f"({a})"),
    ),
    max_leaves=12,
)


@settings(deadline=None, max_examples=200)
@given(EXPRESSIONS)
def test_well_formed_expressions_always_evaluate(text: str) -> None:
    mask = evaluate(compile_filter(text, FRAME.columns), FRAME)
    assert mask.dtype == bool and len(mask) == len(FRAME) and mask.index.equals(FRAME.index)
    negated = evaluate(compile_filter(f"not ({text})", FRAME.columns), FRAME)
    assert (negated == ~mask).all()


@settings(deadline=None, max_examples=200)
@given(st.text(max_size=50))
def test_any_string_round_trips_through_a_literal(text: str) -> None:
    assert parse(f"name = {quoted(text)}").values[0].value == text
