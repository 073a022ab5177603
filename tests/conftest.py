"""Shared fixtures: a store root on local disk, in memory and on a real S3 server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import fsspec
import pytest

import tracklib

from servers import S3_CREDENTIALS, S3Server, missing_component, start_gcs

# gcsfs reads this when it is first imported, and Lightning imports it early (through fsspec);
# with it on, gcsfs talks gRPC to "zonal" buckets, which fake-gcs-server does not speak.
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")


@dataclass
class Root:
    """A store root plus the options fsspec needs for it; ``init``/``store`` bind both."""

    kind: str
    url: str
    storage_options: dict[str, Any] = field(default_factory=dict)

    def init(self, project: str = "digits", **kwargs: Any) -> tracklib.Run:
        kwargs.setdefault("capture", ("system",))
        return tracklib.init(project, root=self.url, storage_options=self.storage_options, **kwargs)

    def store(self, **kwargs: Any) -> tracklib.Store:
        return tracklib.open_store(self.url, self.storage_options, **kwargs)

    def filesystem(self) -> Any:
        return fsspec.core.url_to_fs(self.url, **self.storage_options)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``-n 2``), the browser tests and the demo's own test run on one
    worker: they share one demo sweep (a minute of training) and one dashboard server per
    worker. Every other test goes to whichever worker is free."""
    for item in items:
        if "e2e" in item.path.parts or item.path.name == "test_demo.py":
            item.add_marker(pytest.mark.xdist_group("demo_and_browser"))


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch) -> None:
    """Each test gets its own spool and no inherited TRACKLIB_ROOT."""
    monkeypatch.setenv("TRACKLIB_SPOOL", str(tmp_path / "spool"))
    monkeypatch.delenv("TRACKLIB_ROOT", raising=False)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    try:
        import moto.server  # noqa: F401
    except ImportError as exc:
        missing_component("moto's S3 server", exc)
    for key, value in S3_CREDENTIALS.items():
        os.environ.setdefault(key, value)
    server = S3Server()
    try:
        server.start()
    except Exception as exc:  # noqa: BLE001
        missing_component("moto's S3 server", exc)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_bucket(s3_server: S3Server) -> str:
    s3_server.make_bucket("tracklib-tests")
    return "tracklib-tests"


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[Any]:
    try:
        server = start_gcs()
    except Exception as exc:  # noqa: BLE001
        missing_component("fake-gcs-server", exc)
    yield server
    server.stop()


@pytest.fixture
def memory_root() -> Iterator[Root]:
    url = f"memory://tracklib-{uuid.uuid4().hex}"
    yield Root("memory", url)
    fs = fsspec.filesystem("memory")
    if fs.exists(url):
        fs.rm(url, recursive=True)


@pytest.fixture
def local_root(tmp_path) -> Root:
    return Root("local", str(tmp_path / "store"))


@pytest.fixture
def s3_root(request, s3_server: S3Server, s3_bucket: str) -> Root:
    return Root("s3", f"s3://{s3_bucket}/{uuid.uuid4().hex}", s3_server.storage_options())


@pytest.fixture(params=["local", "memory", "s3"])
def root(request) -> Root:
    """The same test on a local folder, ``memory://`` and a real S3 endpoint."""
    return request.getfixturevalue(f"{request.param}_root")


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory) -> tuple[str, list[str]]:
    """The real demo sweep (digits, scikit-learn), written once per session."""
    from tracklib.ops.demo import run_demo

    base = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRACKLIB_SPOOL", str(base / "spool"))
        root = str(base / "store")
        return root, run_demo(root=root, project="digits")
