"""The store goes away mid-run: training never notices, and nothing is lost."""

from __future__ import annotations

import contextlib
import gc
import threading
import time
import uuid

import pytest

import tracklib
from tracklib.cli import main
from tracklib.write.runtime import Runtime

from faults import FaultyProxy, FaultyStorage
from servers import S3Server


@contextlib.contextmanager
def _suite_heap_frozen():
    """Time log() as in a training process, not in a test process that holds every earlier
    test's objects: a full GC pass over that heap once paused a log() call 0.44 s. The
    objects the run allocates meanwhile are still collected as usual."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _point_the_cli_at(endpoint: str, monkeypatch) -> None:
    """As a user would: the endpoint comes from the environment. fsspec caches filesystems by
    their arguments, not the environment, so drop one made for another test's endpoint."""
    import s3fs

    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    s3fs.S3FileSystem.clear_instance_cache()


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
    with _suite_heap_frozen():
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
    _point_the_cli_at(own_s3_server.endpoint, monkeypatch)
    assert main(["sync"]) == 0
    assert "still waiting 0" in capsys.readouterr().out
    store = tracklib.open_store(url, options)
    assert store.runs("digits")["status"].tolist() == ["finished"]
    history = store.history("digits", run_ids=[run.id])
    assert history["step"].tolist() == list(range(2000))


@pytest.fixture
def flaky_s3(s3_server, s3_bucket):
    """The session's S3 server behind a proxy the test can take down and bring back."""
    proxy = FaultyProxy(s3_server.port).up()
    options = s3_server.storage_options() | {"endpoint_url": proxy.endpoint}
    yield proxy, f"s3://{s3_bucket}/{uuid.uuid4().hex}", options
    proxy.close()


def test_store_down_mid_run_then_back_everything_arrives_and_log_never_blocks(flaky_s3):
    proxy, url, options = flaky_s3
    run = tracklib.init("digits", root=url, storage_options=options, capture=False, flush_interval=0.1)
    worst = 0.0
    with _suite_heap_frozen():
        for step in range(3000):
            if step == 500:
                proxy.down()
            if step == 2500:
                proxy.up()
            started = time.perf_counter()
            run.log({"loss": float(step)})
            worst = max(worst, time.perf_counter() - started)
            if step % 100 == 0:
                time.sleep(0.05)  # a training step takes time; flushes happen in between
    run.finish()  # the store is back: nothing may be left in the spool
    assert worst < 0.05, f"log() blocked for {worst:.3f} s"
    history = tracklib.open_store(url, options).history("digits", run_ids=[run.id])
    assert history["step"].tolist() == list(range(3000))
    assert tracklib.open_store(url, options).run("digits", run.id).status == "finished"


def test_a_hung_store_cannot_hold_finish_beyond_its_timeout(flaky_s3, monkeypatch):
    proxy, url, options = flaky_s3
    run = tracklib.init("digits", root=url, storage_options=options, capture=False, finish_timeout=1.0)
    proxy.hang()
    for step in range(100):
        run.log({"loss": float(step)})
    started = time.perf_counter()
    with pytest.warns(RuntimeWarning, match="tracklib sync"):
        run.finish()
    assert time.perf_counter() - started < 5.0
    proxy.up()
    _point_the_cli_at(proxy.endpoint, monkeypatch)
    assert main(["sync", "--root", url]) == 0
    history = tracklib.open_store(url, options).history("digits", run_ids=[run.id])
    assert history["step"].tolist() == list(range(100))


def test_the_next_run_on_the_machine_uploads_what_an_earlier_one_spooled(flaky_s3):
    proxy, url, options = flaky_s3
    first = tracklib.init("digits", root=url, storage_options=options, capture=False, finish_timeout=0.5)
    proxy.down()
    for step in range(50):
        first.log({"loss": float(step)})
    with pytest.warns(RuntimeWarning, match="tracklib sync"):
        first.finish()
    proxy.up()
    with tracklib.init("digits", root=url, storage_options=options, capture=False) as second:
        second.log({"loss": 0.0})
    store = tracklib.open_store(url, options)

    def first_status() -> str | None:
        try:
            return store.run("digits", first.id).status
        except tracklib.RunNotFoundError:
            return None  # its records are still on their way

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and first_status() != "finished":
        time.sleep(0.1)  # the leftover upload runs beside the new run
    assert first_status() == "finished"
    assert store.history("digits", run_ids=[first.id])["step"].tolist() == list(range(50))


def test_a_hung_local_mount_cannot_hold_finish_of_a_short_run_beyond_its_timeout(tmp_path):
    """A local root on a network mount (NFS, Lustre) that stops answering: the final files
    of a run shorter than its first flush are written off the caller's thread."""
    from tracklib.storage import open_storage

    released = threading.Event()
    root = str(tmp_path / "store")
    # as /proc/self/mounts says of NFS; the mount answers again only when the test says so
    mount = FaultyStorage(open_storage(root), on_local_disk=False).stall("write_bytes", released)
    run = _short_run_finished_into_the_spool(mount, finish_timeout=0.5, within=3.0)
    released.set()
    assert _status_after_sync(root, run.id) == "finished"


def _short_run_finished_into_the_spool(
    storage: FaultyStorage, finish_timeout: float, within: float, runtime: Runtime | None = None
) -> tracklib.Run:
    """A run shorter than its first flush, finished within ``within`` s with its files spooled."""
    run = tracklib.init(
        "digits", storage=storage, capture=False, finish_timeout=finish_timeout, runtime=runtime
    )
    run.log({"loss": 1.0})
    started = time.perf_counter()
    with pytest.warns(RuntimeWarning, match="tracklib sync"):
        run.finish()
    assert time.perf_counter() - started < within
    return run


def _status_after_sync(root: str, run_id: str) -> str:
    assert main(["sync", "--root", root]) == 0
    return tracklib.open_store(root).run("digits", run_id).status


def test_only_roots_on_a_disk_of_this_machine_count_as_local_disks(tmp_path):
    from tracklib.storage import open_storage
    from tracklib.storage.local import filesystem_type

    mounts = "/dev/sda1 / ext4 rw 0 0\nserver:/export /mnt/team\\040data nfs4 rw 0 0\nsshfs#h: /mnt/h fuse.sshfs rw 0 0\n"
    assert filesystem_type("/mnt/team data/runs", mounts) == "nfs4"
    assert filesystem_type("/mnt/teamdata/runs", mounts) == "ext4"
    assert filesystem_type("/mnt/h/x", mounts) == "fuse.sshfs"
    assert open_storage(str(tmp_path)).on_local_disk  # this machine's temp folder
    assert not open_storage("memory://x").on_local_disk


def test_finish_never_asks_a_possibly_dead_mount_what_it_is(tmp_path, monkeypatch):
    """Whether a local root is on a disk or a network mount is found out at init, while the
    mount answers: at finish, on a mount that died meanwhile, the lookup itself would hang."""
    from tracklib.storage import local

    run = tracklib.init("digits", root=str(tmp_path / "fresh-root"), capture=False)
    run.log({"loss": 1.0})

    def looked_up_at_finish(path, mounts):
        raise AssertionError("the filesystem type was looked up at finish")

    monkeypatch.setattr(local, "filesystem_type", looked_up_at_finish)
    run.finish()
    assert tracklib.open_store(str(tmp_path / "fresh-root")).run("digits", run.id).status == "finished"


def test_without_any_sending_thread_finish_spools_at_once(tmp_path, monkeypatch):
    """At interpreter exit (Python 3.12+) no thread can start: a network mount's final files
    go to the spool at once rather than being written where a dead mount could hang exit."""
    from tracklib.storage import open_storage

    no_threads = Runtime()
    monkeypatch.setattr(no_threads.senders, "_start", lambda: False)
    root = str(tmp_path / "store")
    mount = FaultyStorage(open_storage(root), on_local_disk=False)  # as /proc/self/mounts says of NFS
    run = _short_run_finished_into_the_spool(mount, finish_timeout=30, within=2.0, runtime=no_threads)
    assert _status_after_sync(root, run.id) == "finished"
