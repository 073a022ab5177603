"""A round trip through gcsfs against fake-gcs-server on 127.0.0.1."""

from __future__ import annotations

import uuid

import pytest

import tracklib


@pytest.fixture
def gcs_root(gcs_server):
    import gcsfs

    options = {"endpoint_url": gcs_server.url, "token": "anon"}
    gcsfs.GCSFileSystem(**options, skip_instance_cache=True).mkdir("tracklib-gcs")
    return f"gs://tracklib-gcs/{uuid.uuid4().hex}", options


def test_gcs_round_trip(gcs_root, tmp_path):
    url, options = gcs_root
    artifact = tmp_path / "notes.txt"
    artifact.write_text("hello")
    with tracklib.init("digits", root=url, storage_options=options, params={"lr": 0.1}, capture=False) as run:
        for step in range(20):
            run.log({"loss": 1.0 / (step + 1)})
        run.log_artifact(artifact)
    store = tracklib.open_store(url, options)
    runs = store.runs("digits")
    assert runs["run_id"].tolist() == [run.id] and runs.iloc[0]["params.lr"] == 0.1
    assert runs.iloc[0]["metrics.loss"] == pytest.approx(0.05)
    assert len(store.history("digits", run_ids=[run.id])) == 20
    assert store.read_artifact(store.run("digits", run.id).artifacts["path"][0]) == b"hello"
