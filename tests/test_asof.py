"""Pinned views (analysis/asof.py): the cut of a runs table and its metric history at a time."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracklib.analysis import asof
from tracklib.read import query

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 12, 2, 1, 23, 45, tzinfo=UTC)


def at(seconds: float) -> pd.Timestamp:
    return pd.Timestamp(T0 + timedelta(seconds=seconds))


# -- the link's value --------------------------------------------------------------------
def test_parse_asof_takes_exactly_one_utc_second_not_in_the_future():
    assert asof.parse_asof("2026-12-02T01:23:45Z", NOW) == NOW
    assert asof.parse_asof("2026-12-02T01:23:44Z", NOW) == NOW - timedelta(seconds=1)
    for bad in (
        "2026-12-02T01:23:46Z",  # a second after now
        "2026-12-02T01:23:45",  # no zone
        "2026-12-02T01:23:45+00:00",
        "2026-12-02 01:23:45Z",
        "2026-12-02T01:23:45.5Z",
        "2026-02-30T00:00:00Z",
        "2026-12-02T24:00:00Z",
        "2026-12-02T01:23:60Z",
        "２０２６-12-02T01:23:45Z",  # digits that are not ASCII
        " 2026-12-02T01:23:45Z",
        "",
    ):
        assert asof.parse_asof(bad, NOW) is None, bad


@settings(max_examples=60, deadline=None)
@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_parse_asof_reads_back_what_format_asof_writes_up_to_now(moment):
    text = asof.format_asof(moment)
    parsed = asof.parse_asof(text, NOW)
    if moment.replace(microsecond=0) <= NOW:
        assert parsed == moment.replace(microsecond=0) and asof.format_asof(parsed) == text
    else:
        assert parsed is None


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40))
def test_parse_asof_accepts_nothing_but_its_own_format(text):
    parsed = asof.parse_asof(text, NOW)
    assert parsed is None or (asof.format_asof(parsed) == text and parsed <= NOW)


# -- the cut -------------------------------------------------------------------------------
def _project(runs_spec, points, hand_set=(), record_at=None):
    """A live runs table, summary, history and record times as the Store would give them.

    runs_spec: run_id -> (start, end or None, status); points: (run_id, key, step, value, t).
    hand_set: (run_id, key, value) summary values set by hand (count 0).
    """
    history = pd.DataFrame(points, columns=["run_id", "key", "step", "value", "time"])
    history["time"] = [at(t) for t in history["time"]]
    history = history.sort_values(["run_id", "key", "step"], kind="stable").reset_index(drop=True)
    summary = asof.summary_until(history)
    extra = pd.DataFrame(
        [
            {"run_id": r, "key": k, "last": v, "last_step": None, "min": v, "min_step": None, "max": v}
            | {"max_step": None, "count": 0}
            for r, k, v in hand_set
        ],
        columns=asof.SUMMARY_COLUMNS,
    )
    summary = pd.concat([summary, extra.astype(summary.dtypes.to_dict())], ignore_index=True)
    ends = {
        r: (e if e is not None else max([s] + [p[4] for p in points if p[0] == r]))
        for r, (s, e, _) in runs_spec.items()
    }
    record_at = record_at or ends
    runs = pd.DataFrame(
        {
            "run_id": list(runs_spec),
            "name": [f"run-{r}" for r in runs_spec],
            "status": [status for _, _, status in runs_spec.values()],
            "start_time": pd.Series([at(s) for s, _, _ in runs_spec.values()], dtype="datetime64[us, UTC]"),
            "end_time": pd.Series(
                [at(e) if e is not None else pd.NaT for _, e, _ in runs_spec.values()],
                dtype="datetime64[us, UTC]",
            ),
        }
    )
    runs["duration_s"] = (
        (runs["end_time"].fillna(runs["run_id"].map(lambda r: at(record_at[r])))) - runs["start_time"]
    ).dt.total_seconds()
    runs = asof.with_metrics(runs, summary)
    times = pd.Series(
        [at(record_at[r]) for r in runs_spec],
        index=list(runs_spec),
        name="record_time",
        dtype="datetime64[us, UTC]",
    )
    return runs, summary, history, times


def test_runs_started_after_the_pin_go_and_values_come_from_points_by_then():
    runs, summary, history, times = _project(
        {"a": (0, 100, "finished"), "b": (50, None, "running")},
        [
            ("a", "acc", 0, 0.5, 10),
            ("a", "acc", 1, 0.9, 20),
            ("a", "acc", 2, 0.7, 90),
            ("b", "acc", 0, 1.0, 60),
        ],
    )
    pinned = asof.pin(runs, summary, history, times, T0 + timedelta(seconds=30), 600)
    assert pinned.runs["run_id"].tolist() == ["a"]
    row = pinned.runs.iloc[0]
    assert (row["metrics.acc"], row["metrics_min.acc"], row["metrics_max.acc"]) == (0.9, 0.5, 0.9)
    assert row["status"] == "running" and pd.isna(row["end_time"]) and row["duration_s"] == 30
    assert pinned.unpinnable.empty
    later = asof.pin(runs, summary, history, times, T0 + timedelta(seconds=95), 600)
    assert later.runs.set_index("run_id").loc["a", "metrics.acc"] == 0.7
    assert later.runs.set_index("run_id").loc["b", "status"] == "running"


def test_a_metric_first_logged_after_the_pin_has_no_column():
    runs, summary, history, times = _project(
        {"a": (0, 100, "finished")}, [("a", "acc", 0, 0.5, 10), ("a", "loss", 0, 2.0, 50)]
    )
    pinned = asof.pin(runs, summary, history, times, T0 + timedelta(seconds=20), 600)
    assert query.metric_names(pinned.runs) == ["acc"]
    assert set(pinned.summary["key"]) == {"acc"}


def test_a_run_silent_for_longer_than_the_threshold_at_the_pin_reads_stale():
    runs, summary, history, times = _project(
        {"a": (0, None, "running")}, [("a", "acc", 0, 0.5, 10)], record_at={"a": 10}
    )
    assert (
        asof.pin(runs, summary, history, times, T0 + timedelta(seconds=500), 600).runs["status"][0]
        == "running"
    )
    assert (
        asof.pin(runs, summary, history, times, T0 + timedelta(seconds=700), 600).runs["status"][0] == "stale"
    )


def test_a_value_set_by_hand_is_kept_only_when_its_record_predates_the_pin():
    spec = {"a": (0, 100, "finished"), "b": (0, 100, "finished")}
    points = [("a", "acc", 0, 0.5, 10), ("b", "acc", 0, 0.6, 10)]
    runs, summary, history, times = _project(
        spec, points, hand_set=[("a", "best", 0.8), ("b", "best", 0.7)], record_at={"a": 20, "b": 100}
    )
    pinned = asof.pin(runs, summary, history, times, T0 + timedelta(seconds=50), 600)
    best = pinned.runs.set_index("run_id")["metrics.best"]
    assert best["a"] == 0.8 and math.isnan(best["b"])
    assert pinned.unpinnable[["run_id", "name", "key"]].values.tolist() == [["b", "run-b", "best"]]
    assert pinned.unpinnable["why"][0] == asof.HAND_SET_AFTER


def test_a_last_value_set_by_hand_over_a_logged_metric_after_the_pin_is_named():
    runs, summary, history, times = _project({"a": (0, 100, "finished")}, [("a", "acc", 0, 0.5, 10)])
    summary.loc[summary["key"] == "acc", "last"] = 0.99  # the record's last, set by hand
    pinned = asof.pin(runs, summary, history, times, T0 + timedelta(seconds=50), 600)
    assert pinned.runs["metrics.acc"][0] == 0.5
    assert pinned.unpinnable[["key", "why"]].values.tolist() == [["acc", asof.LAST_SET_AFTER]]
    kept = asof.pin(runs, summary, history, times, T0 + timedelta(seconds=100), 600)
    assert kept.runs["metrics.acc"][0] == 0.99 and kept.unpinnable.empty


def test_a_record_counting_points_the_store_does_not_hold_is_used_only_when_written_by_the_pin():
    spec = {"a": (0, 100, "finished"), "b": (0, 100, "finished"), "c": (0, 100, "finished")}
    points = [(r, "acc", s, 0.1 * s, 10 + s) for r in "abc" for s in range(3)]
    runs, summary, history, times = _project(spec, points, record_at={"a": 20, "b": 100, "c": 100})
    history = history[(history["run_id"] == "c") & (history["step"] < 2)]  # a's and b's parts are gone
    pinned = asof.pin(runs, summary, history, times, T0 + timedelta(seconds=50), 600)
    acc = pinned.runs.set_index("run_id")["metrics.acc"]
    assert acc["a"] == pytest.approx(0.2)  # its record, written by the pin, is what was shown then
    assert math.isnan(acc["b"]) and acc["c"] == pytest.approx(0.1)
    notes = pinned.unpinnable.set_index("run_id")["why"]
    assert notes.to_dict() == {"b": asof.NO_POINTS, "c": asof.SOME_POINTS}


def test_points_without_a_time_are_left_out_and_named():
    runs, summary, history, times = _project(
        {"a": (0, 100, "finished")}, [("a", "acc", 0, 0.5, 10), ("a", "acc", 1, 0.9, 20)]
    )
    history.loc[1, "time"] = pd.NaT
    pinned = asof.pin(runs, summary, history, times, T0 + timedelta(seconds=50), 600)
    assert pinned.runs["metrics.acc"][0] == 0.5
    assert pinned.unpinnable[["run_id", "why"]].values.tolist() == [["a", asof.NO_TIME]]


# -- properties ----------------------------------------------------------------------------
_point = st.tuples(
    st.sampled_from(["a", "b", "c"]),
    st.sampled_from(["acc", "loss"]),
    st.integers(0, 5),
    st.one_of(st.floats(-10, 10), st.just(math.nan), st.just(math.inf)),
    st.integers(0, 100),
)


def _expected(points, run_id, key, moment):
    """last/min/max of the points at or before ``moment``, written out the long way."""
    mine = [
        (step, i, value)
        for i, (r, k, step, value, t) in enumerate(points)
        if r == run_id and k == key and at(t) <= moment
    ]
    if not mine:
        return None
    last = max(mine)[2]  # highest step, then logged later
    numbers = [v for _, _, v in mine if not math.isnan(v)]
    return last, min(numbers, default=math.nan), max(numbers, default=math.nan)


def _same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


@settings(max_examples=50, deadline=None)
@given(
    starts=st.fixed_dictionaries({r: st.integers(0, 100) for r in "abc"}),
    points=st.lists(_point, max_size=30),
    pin_at=st.integers(-5, 120),
)
def test_any_pin_shows_no_later_run_and_the_aggregates_of_earlier_points(starts, points, pin_at):
    points = [(r, k, s, v, max(t, starts[r])) for r, k, s, v, t in points]  # logged after its start
    spec = {r: (starts[r], None, "finished") for r in "abc"}
    spec = {
        r: (s, max([s] + [p[4] for p in points if p[0] == r]), status) for r, (s, _, status) in spec.items()
    }
    runs, summary, history, times = _project(spec, points)
    moment = at(pin_at)
    pinned = asof.pin(runs, summary, history, times, moment.to_pydatetime(), 600)
    assert (pinned.runs["start_time"] <= moment).all()
    assert set(pinned.runs["run_id"]) == {r for r in "abc" if at(starts[r]) <= moment}
    table = pinned.runs.set_index("run_id")
    for run_id in table.index:
        for key in ("acc", "loss"):
            expected = _expected(points, run_id, key, moment)
            column = f"metrics.{key}"
            if expected is None:
                assert column not in table or math.isnan(table.loc[run_id, column])
                continue
            shown = [table.loc[run_id, query.metric_column(key, agg)] for agg in query.AGGREGATES]
            assert all(_same(a, b) for a, b in zip(shown, expected, strict=True)), (shown, expected)


@settings(max_examples=25, deadline=None)
@given(points=st.lists(_point, max_size=30))
def test_a_pin_after_everything_is_the_live_view(points):
    spec = {r: (0, max([0] + [p[4] for p in points if p[0] == r]), "finished") for r in "abc"}
    runs, summary, history, times = _project(spec, points)
    pinned = asof.pin(runs, summary, history, times, at(1_000).to_pydatetime(), 600)
    pd.testing.assert_frame_equal(pinned.runs, runs)
    assert pinned.unpinnable.empty


# -- against a store tracklib wrote ---------------------------------------------------------
def test_pinned_now_equals_the_live_view_of_a_real_store(local_root):
    for name in ("one", "two"):
        with local_root.init(name=name) as run:
            for step in range(5):
                run.log({"acc": step / 10, "loss": 1 / (step + 1)})
            run.summary["best"] = 0.5
    store = local_root.store()
    runs, summary = store.runs_and_summary("digits")
    moment = datetime.now(tz=UTC) + timedelta(seconds=1)
    pinned = asof.pin(runs, summary, store.history("digits"), store.record_times("digits"), moment, 600)
    pd.testing.assert_frame_equal(pinned.runs, runs, check_like=True)
    assert pinned.unpinnable.empty

    def ordered(summary: pd.DataFrame) -> pd.DataFrame:
        frame = summary[asof.SUMMARY_COLUMNS].astype({"run_id": object, "key": object})
        return frame.sort_values(["run_id", "key"], ignore_index=True)

    # the writer's own summary (steps and counts too) is what the points say
    pd.testing.assert_frame_equal(ordered(pinned.summary), ordered(summary))
    first = runs["start_time"].min()
    time_of_first = asof.pin(runs, summary, store.history("digits"), store.record_times("digits"), first, 600)
    assert time_of_first.runs["name"].tolist() == runs.loc[runs["start_time"] == first, "name"].tolist()


@settings(max_examples=40, deadline=None)
@given(points=st.lists(_point, max_size=30, unique_by=lambda p: (p[0], p[1], p[2])), seed=st.integers(0, 99))
def test_the_summary_does_not_depend_on_the_order_points_arrive_in(points, seed):
    history = pd.DataFrame(points, columns=["run_id", "key", "step", "value", "time"])
    history["time"] = [at(t) for t in history["time"]]
    shuffled = history.sample(frac=1, random_state=seed)  # steps out of order: one per series and step
    sorted_ = history.sort_values(["run_id", "key", "step"], kind="stable")
    pd.testing.assert_frame_equal(asof.summary_until(shuffled), asof.summary_until(sorted_))
