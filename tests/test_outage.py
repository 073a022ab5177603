"""The store goes away mid-run: training never notices, and nothing is lost."""

from __future__ import annotations

import time
import uuid

import pytest

import tracklib
from tracklib.cli import main

from servers import S3Server


@pytest.fixture
def own_s3_server(s3_server):  # s3_server: fail in CI if moto is missing
    server = S3Server().start()
    yield server
    server.stop()


def test_store_down_at_finish_spools_and_sync_uploads_everything(own_s3_server, monkeypatch, capsys):
    own_s3_server.make_bucket("outage")
    url = f"s3://outage/{uuid.uuid4().hex}"
    options = own_s3_server.storage_options()
    run = tracklib.init("digits", root=url, storage_options=options, capture=False, finish_timeout=1)
    own_s3_server.stop()

    worst = 0.0
    for step in range(2000):
        started = time.perf_counter()
        run.log({"loss": 1.0 / (step + 1)})
        worst = max(worst, time.perf_counter() - started)
    with pytest.warns(RuntimeWarning, match="tracklib sync"):
        run.finish()
    assert worst < 0.05, f"log() blocked for {worst:.3f} s while the store was down"

    own_s3_server.start()  # a fresh, empty server on the same port
    own_s3_server.make_bucket("outage")
    # As a user would: endpoint and credentials from the environment, then `tracklib sync`.
    monkeypatch.setenv("AWS_ENDPOINT_URL", own_s3_server.endpoint)
    assert main(["sync"]) == 0
    assert "still waiting 0" in capsys.readouterr().out
    store = tracklib.open_store(url, options)
    assert store.runs("digits")["status"].tolist() == ["finished"]
    history = store.history("digits", run_ids=[run.id])
    assert history["step"].tolist() == list(range(2000))
