"""What log() accepts, what it refuses, and that a refusal loses nothing already logged."""

from __future__ import annotations

import numpy as np
import pytest

import tracklib


@pytest.mark.parametrize("bad", ["0.5", None, [1.0], {"a": 1.0}, b"1", np.arange(3)])
def test_non_numbers_raise_type_error_naming_the_key_and_buffer_nothing(memory_root, bad):
    with memory_root.init() as run:
        run.log({"loss": 1.0})
        with pytest.raises(TypeError, match="'val/acc'"):
            run.log({"loss": 2.0, "val/acc": bad})
        run.log({"loss": 3.0})
    history = memory_root.store().history("digits", run_ids=[run.id])
    assert history["value"].tolist() == [1.0, 3.0]
    assert history["step"].tolist() == [0, 1]  # the refused call did not use up a step


def test_error_classes_are_tracklib_errors_and_builtins(memory_root):
    with memory_root.init() as run:
        with pytest.raises(tracklib.InvalidValueError):
            run.log({"x": "text"})
        with pytest.raises(tracklib.InvalidKeyError):
            run.log({"": 1.0})
        with pytest.raises(ValueError, match="non-empty string"):
            run.log({3: 1.0})
        with pytest.raises(tracklib.InvalidStepError, match="-1"):
            run.log({"x": 1.0}, step=-1)
        with pytest.raises(tracklib.InvalidStepError):
            run.log({"x": 1.0}, step=1.5)
        with pytest.raises(tracklib.InvalidStepError):
            run.log({"x": 1.0}, step=True)


def test_numeric_types_become_floats(memory_root):
    torch_like = type("Tensor0d", (), {"__float__": lambda self: 0.25})()
    with memory_root.init() as run:
        run.log(
            {
                "int": 3,
                "bool": True,
                "np_float32": np.float32(0.5),
                "np_int": np.int64(7),
                "zero_d": np.array(1.5),
                "tensor": torch_like,
            }
        )
    values = memory_root.store().history("digits", run_ids=[run.id]).set_index("key")["value"]
    assert values.to_dict() == {
        "bool": 1.0,
        "int": 3.0,
        "np_float32": 0.5,
        "np_int": 7.0,
        "tensor": 0.25,
        "zero_d": 1.5,
    }


def test_steps_auto_increment_and_continue_after_explicit_steps(memory_root):
    with memory_root.init() as run:
        run.log({"a": 1})
        run.log({"a": 2})
        run.log({"a": 3}, step=np.int64(42))
        run.log({"a": 4})
        run.log({"a": 5}, step=10)  # out of order is kept as given
    history = memory_root.store().history("digits", run_ids=[run.id])
    assert history["step"].tolist() == [0, 1, 10, 42, 43]


def test_caller_mutating_its_dict_after_log_does_not_change_what_was_logged(memory_root):
    metrics = {"loss": 1.0}
    with memory_root.init() as run:
        run.log(metrics)
        metrics["loss"] = 99.0
    assert memory_root.store().history("digits", run_ids=[run.id])["value"].tolist() == [1.0]


def test_logging_after_finish_raises(memory_root):
    run = memory_root.init()
    run.finish()
    with pytest.raises(tracklib.RunFinishedError):
        run.log({"x": 1.0})
    with pytest.raises(RuntimeError):
        run.log_params({"a": 1})
    run.finish()  # a second finish is harmless


def test_params_keep_types_flatten_and_stringify_others_with_warning(memory_root):
    class Opaque:
        def __str__(self):
            return "opaque!"

    with pytest.warns(UserWarning, match="'obj'"):
        run = memory_root.init(
            params={
                "i": 1,
                "f": 0.5,
                "b": False,
                "s": "x",
                "n": None,
                "nested": {"deep": {"k": 2}},
                "np": np.float64(0.1),
                "obj": Opaque(),
            }
        )
    run.finish()
    assert memory_root.store().run("digits", run.id).params == {
        "n": None,  # a None param is a value the Run page shows, not a gap
        "i": 1,
        "f": 0.5,
        "b": False,
        "s": "x",
        "nested.deep.k": 2,
        "np": 0.1,
        "obj": "opaque!",
    }


def test_summary_values_must_be_numbers(memory_root):
    with memory_root.init() as run:
        with pytest.raises(TypeError, match="'best'"):
            run.summary["best"] = "great"
        run.summary["best"] = 0.9
        run.log({"loss": 0.2})
        assert run.summary["best"] == 0.9
    assert memory_root.store().runs("digits").iloc[0]["metrics.best"] == 0.9
