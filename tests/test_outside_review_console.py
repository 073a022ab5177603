"""Outside review of console capture: when the run's flusher happens to run must not change
what the Run page shows. ``print(f"{pct}%", end="\\r")`` is a progress line a terminal keeps
overwriting; it was stored as ``0%10%20%...`` whenever a flush fell between two prints."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as hs

from tracklib.write.console import ConsoleBuffer


def _lines(writes: list[str], flush_after: set[int]) -> list[str]:
    buffer = ConsoleBuffer(lambda: None)
    lines = []
    for i, text in enumerate(writes):
        buffer.chunks.append((0.0, 1, "stdout", text))
        if i in flush_after:
            lines += buffer.lines(final=False)
    lines += buffer.lines(final=True)
    return [line for _, _, line, _ in lines]


def test_a_progress_line_printed_with_end_cr_is_stored_as_its_last_state_across_flushes():
    writes = []
    for pct in range(0, 101, 10):
        writes += [f"{pct}%", "\r"]  # print(f"{pct}%", end="\r"): two writes
    writes += ["done", "\n"]
    every_print = {i for i in range(len(writes)) if i % 2 == 1}
    assert _lines(writes, every_print) == ["done"]
    assert _lines(writes, set()) == ["done"]


@settings(max_examples=60, deadline=None)
@given(
    writes=hs.lists(hs.text(hs.sampled_from("ab\r\n"), min_size=1, max_size=6), max_size=12),
    flushes=hs.sets(hs.integers(0, 11)),
)
def test_the_stored_lines_do_not_depend_on_when_the_flusher_ran(writes, flushes):
    assert _lines(writes, flushes) == _lines(writes, set())


KEY_BODY = [
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
    "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu",
]
PEM = "\n".join(["-----BEGIN RSA PRIVATE KEY-----", *KEY_BODY, "-----END RSA PRIVATE KEY-----"])


def test_a_printed_private_key_never_reaches_the_store(tmp_path):
    import tracklib

    with tracklib.init("p", root=str(tmp_path), name="k") as run:
        print("loading key:")
        print(PEM)
        print("done")
    stored = tracklib.open_store(str(tmp_path)).console("p", run.id)["line"].tolist()
    assert not any(body in line for body in KEY_BODY for line in stored), stored
    assert stored[0] == "loading key:" and stored[-1] == "done"


@settings(max_examples=40, deadline=None)
@given(flushes=hs.sets(hs.integers(0, 7)), one_print=hs.booleans())
def test_a_private_key_printed_line_by_line_is_masked_whatever_the_flushes(flushes, one_print):
    from tracklib.storage.parquet import bytes_to_table
    from tracklib.write.masking import Redactor

    writes = [
        "before\n",
        *([PEM + "\n"] if one_print else [line + "\n" for line in PEM.split("\n")]),
        "after\n",
    ]
    buffer, stored = ConsoleBuffer(lambda: None), []
    for i, text in enumerate(writes):
        buffer.chunks.append((0.0, 1, "stdout", text))
        if i in flushes:
            stored += [_lines_of(bytes_to_table(b, "part")) for _, b in buffer.parts("p", "r", Redactor({}))]
    stored += [
        _lines_of(bytes_to_table(b, "part")) for _, b in buffer.parts("p", "r", Redactor({}), final=True)
    ]
    lines = [line for part in stored for line in part]
    assert not any(body in line for body in KEY_BODY for line in lines), lines
    assert lines[0] == "before" and lines[-1] == "after"


def _lines_of(table) -> list[str]:
    return table.column("line").to_pylist()


def test_a_secret_variable_whose_value_spans_lines_is_masked_when_printed(tmp_path, monkeypatch):
    import tracklib

    monkeypatch.setenv("MY_SERVICE_TOKEN", "first-half-Zq81xK\nsecond-half-Pw93yL")
    with tracklib.init("p", root=str(tmp_path), name="k") as run:
        print("token is:")
        print("first-half-Zq81xK\nsecond-half-Pw93yL")
        print("first-half-Zq81xK alone is not the secret")
    stored = tracklib.open_store(str(tmp_path)).console("p", run.id)["line"].tolist()
    assert stored == ["token is:", "***", "***", "first-half-Zq81xK alone is not the secret"]
