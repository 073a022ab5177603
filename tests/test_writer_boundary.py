"""Any Python value through the writer: accepted at the call means kept in the store.

Hypothesis generates the classes that used to be accepted and then lost at the flush (ints
past int64 or float64, steps past int64, text with lone surrogates, objects whose str()
fails), among ordinary values. Every call either raises a TracklibError at once, keeping
nothing of that call, or everything it passed comes back from ``open_store``.
"""

from __future__ import annotations

import math
import uuid
from decimal import Decimal
from fractions import Fraction

import fsspec
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tracklib
from tracklib import TracklibError
from tracklib.write import parts

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# all of Unicode, lone surrogates included (what os.fsdecode makes of a Latin-1 file name);
# no ':' so that generated text never looks like a URL with credentials (masked on purpose)
any_char = st.characters(exclude_categories=(), exclude_characters=":")
any_text = st.text(any_char, max_size=12)
keys = st.one_of(any_text, st.sampled_from(["acc", "loss", "val/acc", "acc.min", "a.b", "caf\udce9"]))


class BadStr:
    def __str__(self) -> str:
        raise RuntimeError("no text for you")


metric_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(),
    st.integers(min_value=2**1000, max_value=2**1100).map(lambda v: v * st_sign(v)),
    st.just(10**400),
    st.booleans(),
    st.none(),
    any_text,
    st.builds(np.float32, st.floats(width=32)),
    st.builds(np.int64, st.integers(-(2**63), 2**63 - 1)),
    st.builds(Decimal, st.sampled_from(["1.5", "1e400", "-1e-400", "NaN"])),
    st.builds(Fraction, st.integers(), st.integers(1, 10)),
    st.just([1.0]),
)


def st_sign(value: int) -> int:
    return -1 if value % 2 else 1


steps = st.one_of(
    st.none(),
    st.integers(-3, 2**64),
    st.sampled_from([0, 2**63 - 1, 2**63, -1]),
    st.floats(0, 10),
    st.just(True),
)


def fresh_url() -> str:
    return f"memory://boundary-{uuid.uuid4().hex}"


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.fixture(autouse=True)
def _clean_memory():
    yield
    fs = fsspec.filesystem("memory")
    for path in fs.ls("/"):
        if "boundary-" in path["name"]:
            fs.rm(path["name"], recursive=True)


@SETTINGS
@given(calls=st.lists(st.tuples(st.dictionaries(keys, metric_values, max_size=3), steps), max_size=8))
def test_every_accepted_metric_point_is_stored_and_every_refused_call_keeps_nothing(calls):
    url = fresh_url()
    run = tracklib.init("p", root=url, capture=False)
    kept: list[tuple[str, int, float]] = []
    next_step = 0
    for data, step in calls:
        try:
            run.log(data, step=step)
        except TracklibError:
            continue
        used = next_step if step is None else int(step)
        next_step = max(next_step, used + 1)
        kept += [(key, used, float(value)) for key, value in data.items()]
    run.finish()
    store = tracklib.open_store(url)
    assert run.id in set(store.runs("p")["run_id"])  # the run always has a record
    history = store.history("p", run_ids=[run.id]) if kept else None
    got = [] if history is None else list(zip(history["key"], history["step"], history["value"]))
    assert len(got) == len(kept)
    for (key, step, value), (gkey, gstep, gvalue) in zip(sorted(kept, key=_order), sorted(got, key=_order)):
        assert (key, step) == (gkey, gstep) and same(value, gvalue)


def _order(row):
    key, step, value = row
    return (key, step, -math.inf if math.isnan(value) else value)


param_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.sampled_from([5000]).map(lambda digits: 10**digits),
        st.floats(allow_nan=True, allow_infinity=True),
        any_text,
        st.builds(np.int32, st.integers(-(2**31), 2**31 - 1)),
        st.just(BadStr()),
    ),
    lambda children: st.dictionaries(keys, children, max_size=3),
    max_leaves=6,
)


@SETTINGS
@given(
    first=st.dictionaries(keys, param_values, max_size=4),
    more=st.dictionaries(keys, param_values, max_size=4),
)
def test_params_accepted_at_the_call_come_back_equal(first, more):
    url = fresh_url()
    try:
        run = tracklib.init("p", root=url, params=first, capture=False)
    except TracklibError:
        assert not fsspec.filesystem("memory").exists(f"{url}/records")  # a refused init leaves no run
        run = tracklib.init("p", root=url, capture=False)
        first = {}
    expected = dict(_flat(first))
    try:
        run.log_params(more)
    except TracklibError:
        pass
    else:
        expected |= dict(_flat(more))
    run.finish()
    params = tracklib.open_store(url).run("p", run.id).params
    assert params.keys() == expected.keys()
    for key, value in expected.items():
        got = params[key]
        assert type(got) is type(value) and (got == value or (value != value and got != got)), key


def _flat(params, prefix=""):
    for key, value in params.items():
        if isinstance(value, dict):
            yield from _flat(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value.item() if isinstance(value, np.generic) else value


@SETTINGS
@given(
    name=st.one_of(st.none(), any_text),
    group=st.one_of(st.none(), any_text),
    notes=st.one_of(st.none(), any_text),
    tags=st.lists(any_text, max_size=3),
)
def test_run_text_is_stored_as_given_or_refused_before_anything_is_written(name, group, notes, tags):
    url = fresh_url()
    try:
        run = tracklib.init("p", root=url, name=name, group=group, notes=notes, tags=tags, capture=False)
    except TracklibError:
        assert not fsspec.filesystem("memory").exists(f"{url}/records")
        return
    run.log({"x": 1.0})
    run.finish()
    details = tracklib.open_store(url).run("p", run.id)
    assert (details.group, details.notes, details.tags) == (group, notes, tags)
    assert details.name == (name or run.name)


@SETTINGS
@given(values=st.lists(st.tuples(keys, metric_values), max_size=4))
def test_summary_values_are_kept_or_refused_at_the_call(values):
    url = fresh_url()
    run = tracklib.init("p", root=url, capture=False)
    expected = {}
    for key, value in values:
        try:
            run.summary[key] = value
        except TracklibError:
            continue
        expected[key] = float(value)
    run.finish()
    summary = tracklib.open_store(url).run("p", run.id).summary
    got = dict(zip(summary["key"], summary["last"]))
    assert got.keys() == expected.keys()
    assert all(same(got[k], v) for k, v in expected.items())


def test_the_step_after_the_largest_step_is_refused_and_the_points_before_kept(memory_root):
    run = memory_root.init()
    run.log({"x": 1.0}, step=2**63 - 1)
    with pytest.raises(tracklib.InvalidStepError, match="largest step"):
        run.log({"x": 2.0})
    with pytest.raises(tracklib.InvalidStepError, match="int64"):
        run.log({"x": 2.0}, step=2**63)
    run.finish()
    history = memory_root.store().history("digits", run_ids=[run.id])
    assert history["step"].tolist() == [2**63 - 1] and run.status == "finished"


def test_an_artifact_named_by_a_non_utf8_file_name_is_refused_at_the_call(memory_root, tmp_path):
    source = tmp_path / "model.bin"
    source.write_bytes(b"w")
    run = memory_root.init()
    with pytest.raises(tracklib.InvalidKeyError, match="UTF-8"):
        run.log_artifact(source, name="caf\udce9.bin")
    run.log_artifact(source, name="café.bin")
    run.finish()
    assert memory_root.store().run("digits", run.id).artifacts["name"].tolist() == ["café.bin"]


def test_an_exception_quoting_a_non_utf8_path_still_fails_the_run_with_its_message(memory_root):
    with pytest.raises(FileNotFoundError):
        with memory_root.init() as run:
            run.log({"x": 1.0})
            raise FileNotFoundError("no such file: /data/caf\udce9")
    details = memory_root.store().run("digits", run.id)
    assert details.status == "failed" and "/data/caf\\udce9" in details.error


def test_a_batch_that_still_fails_to_build_loses_only_its_bad_values(memory_root, monkeypatch):
    """Defence in depth behind the checks at the call: should building a metric part fail
    anyway, the flusher drops only the values it cannot store, names them once (run, key,
    step), writes the rest and keeps the run's record."""
    build = parts.entries_to_table

    def refusing(run_id, batch):
        if any("poison" in values for _, _, values in batch):
            raise OverflowError("cannot build")
        return build(run_id, batch)

    monkeypatch.setattr(parts, "entries_to_table", refusing)
    run = memory_root.init()
    run.log({"a": 1.0, "poison": 2.0}, step=7)
    run.log({"b": 3.0}, step=8)
    with pytest.warns(RuntimeWarning, match=rf"run {run.id}: dropped 1 value.*'poison' at step 7"):
        run.finish()
    store = memory_root.store()
    history = store.history("digits", run_ids=[run.id])
    assert sorted(zip(history["key"], history["step"])) == [("a", 7), ("b", 8)]
    assert store.run("digits", run.id).status == "finished"
