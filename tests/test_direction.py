"""Which way is better for a metric: every word of its name counts, saved settings win."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracklib.analysis import direction
from tracklib.analysis.direction import HIGHER_WORDS, LOWER_WORDS, direction_of, named_direction
from tracklib.format.settings import ProjectSettings

SEPARATORS = st.sampled_from(["/", ".", "_", "-"])
NEUTRAL = st.sampled_from(
    ["train", "val", "eval", "test", "epoch", "step", "value", "mean", "avg", "top", "x"]
)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("loss/value", "min"),  # the last segment names nothing: the first one does
        ("train/loss/epoch", "min"),
        ("val/acc", "max"),
        ("eval_loss", "min"),
        ("val/acc_error", "min"),  # an error rate of an accuracy-like thing: a word for lower wins
        ("valLoss", "min"),
        ("val/perplexity", "min"),
        ("rouge-L", "max"),
        ("mAP@0.5", "max"),
        ("top1_acc", "max"),
        ("episode/return", "max"),
        ("latency_ms", "min"),
        ("neg_mean_squared_error", "max"),  # scikit-learn scorer: higher is better
        ("tokens_per_time", "max"),  # a rate: only what comes before "per" counts
        ("loss_per_token", "min"),
        ("lr", "max"),  # nothing known: higher, guessed
        ("timestamp", "max"),  # a word, not a substring: "time" is not in it
    ],
)
def test_known_names(key, expected):
    assert direction_of(key) == expected


def test_unknown_names_are_marked_as_guessed():
    assert named_direction("lr") is None and named_direction("grad_norm") is None
    assert direction.judged_by("lr", None).label == "higher is better (guessed)"
    assert direction.judged_by("loss/value", None).label == "lower is better"


def _key(words: list[str], seps: list[str]) -> str:
    return "".join(w + s for w, s in zip(words, seps, strict=False)) + words[-1]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(NEUTRAL | st.sampled_from(sorted(HIGHER_WORDS)), max_size=4),
    st.sampled_from(sorted(LOWER_WORDS)),
    st.lists(NEUTRAL | st.sampled_from(sorted(HIGHER_WORDS)), max_size=4),
    st.lists(SEPARATORS, min_size=9, max_size=9),
)
def test_any_key_with_a_lower_word_segment_is_min(before, lower, after, seps):
    assert direction_of(_key([*before, lower, *after], seps)) == "min"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(NEUTRAL, max_size=4),
    st.sampled_from(sorted(HIGHER_WORDS)),
    st.lists(NEUTRAL, max_size=4),
    st.lists(SEPARATORS, min_size=9, max_size=9),
)
def test_a_higher_word_without_a_lower_word_is_max(before, higher, after, seps):
    assert named_direction(_key([*before, higher, *after], seps)) == "max"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_any_text_gets_a_direction(key):
    assert direction_of(key) in ("min", "max")


def _runs(*metrics: str) -> pd.DataFrame:
    return pd.DataFrame({"run_id": ["a"], **{f"metrics.{m}": [1.0] for m in metrics}})


def test_saved_settings_win_over_the_guess_for_their_metric_only():
    runs = _runs("loss/value", "val/acc")
    saved = ProjectSettings(metric="loss/value", direction="max")
    head = direction.headline(runs, None, saved)
    assert (head.metric, head.direction, head.source) == ("loss/value", "max", "saved")
    assert head.label == "higher is better (project setting)"
    assert direction.judged_by("val/acc", saved).source == "name"
    # a saved metric the project does not have: the guess
    gone = ProjectSettings(metric="gone", direction="min")
    assert direction.headline(runs, None, gone).metric == "val/acc"
    assert direction.headline(_runs("loss/value"), None, None).direction == "min"


def test_default_columns_keep_only_what_the_page_offers():
    saved = ProjectSettings(columns=("params.b", "params.gone", "params.a"))
    assert direction.default_columns(saved, ["params.a", "params.b"], ["x"]) == ["params.b", "params.a"]
    assert direction.default_columns(ProjectSettings(columns=("nope",)), ["params.a"], ["params.a"]) == [
        "params.a"
    ]
    assert direction.default_columns(None, ["params.a"], []) == []
