"""The artifact names of Lightning checkpoints, from whatever file names and monitored metric
names a user's ``ModelCheckpoint`` has: always a valid name, one level under ``checkpoints/``,
saying the epoch, step and score."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servers import require

torch = require("torch", "lightning")

from tracklib.format.layout import check_artifact_name  # noqa: E402
from tracklib.integrations.lightning_checkpoints import artifact_name  # noqa: E402
from tracklib.integrations.model_files import name_part  # noqa: E402

file_stems = st.text(
    st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)), min_size=1, max_size=40
).filter(lambda stem: stem not in (".", ".."))
scores = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    stem=file_stems,
    suffix=st.sampled_from([".ckpt", "", ".pt", ".weird ext"]),
    monitor=st.one_of(st.none(), st.text(max_size=20)),
    score=scores,
    epoch=st.integers(0, 10**6),
    step=st.integers(0, 10**9),
)
def test_every_checkpoint_gets_a_valid_name_that_says_epoch_step_and_score(
    tmp_path, stem, suffix, monitor, score, epoch, step
):
    path = tmp_path / f"{stem}{suffix}"
    torch.save({"epoch": epoch, "global_step": step, "state_dict": {}}, path)

    name = artifact_name(str(path), monitor, score)

    assert check_artifact_name(name) == name
    folder, file = name.split("/")
    assert folder == "checkpoints" and file not in (".", "..")
    assert f"epoch={epoch}" in file and f"step={step}" in file
    if monitor and score is not None and f"{name_part(monitor)}=" not in stem:  # else the stem says it
        assert f"{name_part(monitor)}={score:.6g}" in file


def test_a_file_that_is_no_checkpoint_keeps_its_name_and_nothing_is_executed(tmp_path):
    """A pickle naming a callable is refused by weights_only: named from its file name only."""
    path = tmp_path / "epoch=3.ckpt"
    torch.save({"epoch": 1, "hook": print}, path)  # a global weights_only will not load
    assert artifact_name(str(path), "val/loss", 0.5) == "checkpoints/epoch=3-val_loss=0.5.ckpt"
    (tmp_path / "notes.txt").write_text("not a checkpoint")
    assert artifact_name(str(tmp_path / "notes.txt"), None, None) == "checkpoints/notes.txt"
