"""The README's "Run the dashboard for a team", step by step on this machine: `tracklib ui`
under a base path, its health check, and the README's own nginx TLS reverse proxy in front
of it (Debian's nginx, as `make test` installs it; a self-signed certificate for 127.0.0.1),
with Chromium loading a shared link through the proxy (the page only fills in when the
proxied websocket works)."""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import shutil
import ssl
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

import tracklib
from tracklib.dashboard.tables import names_of

from browser_support import ARTIFACTS, cell_texts, open_page
from e2e.conftest import REPO, Server, start_streamlit, stop
from servers import free_port, missing_component, wait_for_http

BASE = "/tracking"
LINK = "leaderboard?" + urlencode({"project": "digits", "metric": "val/acc", "agg": "max"})
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
ROW_PX = 35  # Streamlit's header and row height


@pytest.fixture(scope="module")
def team_server(e2e_store, tmp_path_factory) -> Iterator[Server]:
    """`tracklib ui --host 127.0.0.1 --base-path /tracking` run from a folder outside the checkout."""
    command = [sys.executable, "-m", "tracklib.cli", "ui", "--host", "127.0.0.1", "--base-path", BASE]
    server = start_streamlit(e2e_store[0], command=command, cwd=tmp_path_factory.mktemp("team"))
    yield server
    stop(server)


@pytest.fixture(scope="module")
def expected_top(e2e_store) -> list[str]:
    return tracklib.open_store(e2e_store[0]).leaderboard("digits", "val/acc", agg="max")["name"].tolist()


def test_the_health_check_answers_under_the_base_path(team_server):
    with urllib.request.urlopen(f"{team_server.url}{BASE}/_stcore/health", timeout=10) as answer:
        assert (answer.status, answer.read()) == (200, b"ok")


def test_a_shared_link_renders_under_the_base_path(team_server, browser, expected_top):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    open_page(page, f"{team_server.url}{BASE}/{LINK}", "deploy-base-path")
    assert page.locator("h1", has_text="Leaderboard").count() == 1
    assert names_of(cell_texts(page, column=1))[:3] == expected_top[:3]
    context.close()


def readme_nginx_config() -> str:
    """The nginx block of the README's team section, as a user would copy it."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Run the dashboard for a team", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```nginx\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "the team section has one nginx example"
    return blocks[0]


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (its own CA), and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert, private = folder / "cert.pem", folder / "key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert, private


@pytest.fixture(scope="module")
def tls_proxy(team_server, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """Debian's nginx with the README's server block: https://127.0.0.1:<port> -> the dashboard."""
    if not os.path.exists(NGINX):
        missing_component("Debian's nginx (make test installs it with apt)", FileNotFoundError(NGINX))
    folder = tmp_path_factory.mktemp("nginx")
    cert, key = self_signed_certificate(folder)
    port = free_port()
    block = (
        readme_nginx_config()
        .replace("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;")
        .replace("/etc/ssl/certs/tracking.example.com.pem", str(cert))
        .replace("/etc/ssl/private/tracking.example.com.key", str(key))
        .replace("http://127.0.0.1:8501", team_server.url)
    )
    assert str(cert) in block and team_server.url in block and str(port) in block
    temp = {
        f"{kind}_temp_path": folder / kind for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    }
    conf = folder / "nginx.conf"
    conf.write_text(
        f"pid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'};\nevents {{}}\n"
        "http {\n  access_log off;\n"
        + "".join(f"  {name} {path};\n" for name, path in temp.items())
        + block
        + "}\n"
    )
    command = [
        NGINX,
        "-e",
        str(folder / "error.log"),
        "-p",
        str(folder),
        "-c",
        str(conf),
        "-g",
        "daemon off;",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"https://127.0.0.1:{port}"
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", process, timeout=20)  # nginx answers 400: plain HTTP
    except RuntimeError:
        process.kill()
        log = (folder / "error.log").read_text() if (folder / "error.log").exists() else ""
        raise RuntimeError(f"nginx did not start: {log[-2000:]}") from None
    yield url, cert
    process.terminate()
    process.wait(10)


def test_the_health_check_answers_through_the_tls_proxy(tls_proxy):
    url, cert = tls_proxy
    trusted = ssl.create_default_context(cafile=str(cert))
    with urllib.request.urlopen(f"{url}{BASE}/_stcore/health", timeout=10, context=trusted) as answer:
        assert (answer.status, answer.read()) == (200, b"ok")


def test_a_shared_link_renders_through_the_tls_proxy(tls_proxy, browser, expected_top):
    url, _ = tls_proxy
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, ignore_https_errors=True)
    page = context.new_page()
    open_page(page, f"{url}{BASE}/{LINK}", "deploy-tls-proxy")
    assert page.url.startswith(f"{url}{BASE}/leaderboard")
    assert names_of(cell_texts(page, column=1))[:3] == expected_top[:3]
    # one click on the best run's name opens its page, still under the path (a websocket rerun)
    grid = page.locator('[data-testid="stDataFrame"]').first
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 90, box["y"] + ROW_PX + ROW_PX // 2)
    page.wait_for_url(re.compile(re.escape(f"{url}{BASE}/run?")), timeout=60_000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "deploy-tls-proxy-run.png"), full_page=True)
    assert page.locator('[data-testid="stMain"] h1').first.inner_text().strip() == expected_top[0]
    context.close()
