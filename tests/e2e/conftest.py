"""Browser tests: a real `streamlit run` on 127.0.0.1 driven by Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from servers import free_port, missing_component, wait_for_http

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]


def start_streamlit(
    root: str,
    command: list[str] | None = None,
    cwd: Path = REPO,
    extra_env: dict[str, str] | None = None,
    port: int | None = None,
) -> Server:
    """`streamlit run app.py` (or ``command`` + ``--port``) on ``port`` (default: a free one),
    ready to serve."""
    port = port or free_port()
    env = os.environ | {"TRACKLIB_ROOT": root, "TRACKLIB_ROOTS": ""} | (extra_env or {})
    if command is None:
        command = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(REPO / "app.py"),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ]
    else:
        command = [*command, "--port", str(port)]
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    wait_for_http(f"{url}/_stcore/health", process, timeout=60)
    return Server(url, process)


def stop(server: Server) -> None:
    server.process.terminate()
    server.process.wait(10)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        missing_component("Debian's chromium (make test installs it with apt)", FileNotFoundError(CHROMIUM))
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        missing_component("playwright", exc)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def e2e_store(demo_store) -> tuple[str, list[str]]:
    """The real demo sweep: what a user sees after `make demo`."""
    return demo_store


@pytest.fixture
def fresh_server(e2e_store) -> Iterator[Server]:
    """A server nobody has requested anything from yet (for cold deep links)."""
    server = start_streamlit(e2e_store[0])
    yield server
    stop(server)


@pytest.fixture(scope="session")
def server(e2e_store) -> Iterator[Server]:
    server = start_streamlit(e2e_store[0])
    yield server
    stop(server)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    yield page
    context.close()
