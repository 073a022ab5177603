"""Sign-in in Chromium against a real OpenID Connect provider (npm's ``oidc-provider`` on Node.js,
tests/oidc/) on 127.0.0.1: the dashboard shows nothing before sign-in, the real login redirect
brings a viewer back to her store's leaderboard (the 49-run demo sweep), a link to a store she
may not view is refused with nothing of it, and only writers get Save."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from conftest import REPO, Server, start_streamlit, stop

import tracklib

from browser_support import ARTIFACTS, cell_texts
from servers import free_port, missing_component, wait_for_http

pytestmark = pytest.mark.e2e

OIDC_DIR = REPO / "tests" / "oidc"
NODE = shutil.which("node") or "/usr/bin/node"
CLIENT_ID, CLIENT_SECRET = "tracklib-dashboard", "test-only-client-secret"
WRITER, VIEWER, OUTSIDER = "alice@example.com", "bob@example.com", "carol@example.org"
HIDDEN_PROJECT = "beta-only-project"
HIDDEN_RUN = "beta-run-name"


@dataclass
class Provider:
    url: str
    process: subprocess.Popen[bytes]


def _start_provider(redirect_uri: str) -> Provider:
    if not os.path.exists(NODE):
        missing_component("Node.js (make test needs it for the OIDC provider)", FileNotFoundError(NODE))
    if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        missing_component(
            "npm's oidc-provider (make test runs: npm ci --prefix tests/oidc)",
            FileNotFoundError(OIDC_DIR / "node_modules"),
        )
    port = free_port()
    env = os.environ | {
        "OIDC_PORT": str(port),
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_REDIRECT_URI": redirect_uri,
        "OIDC_USERS": ",".join([WRITER, VIEWER, OUTSIDER]),
    }
    process = subprocess.Popen(
        [NODE, str(OIDC_DIR / "provider.mjs")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    wait_for_http(f"{url}/.well-known/openid-configuration", process, timeout=30)
    return Provider(url, process)


def _secrets(port: int, provider: Provider, roots: dict[str, str]) -> str:
    """secrets.toml shaped like the README's example (TOML strings written as JSON strings)."""
    q = json.dumps
    return "\n".join(
        [
            "[auth]",
            f"redirect_uri = {q(f'http://127.0.0.1:{port}/oauth2callback')}",
            f"cookie_secret = {q('test-only-cookie-secret-0123456789')}",
            f"client_id = {q(CLIENT_ID)}",
            f"client_secret = {q(CLIENT_SECRET)}",
            f"server_metadata_url = {q(provider.url + '/.well-known/openid-configuration')}",
            'client_kwargs = { prompt = "login" }',  # oidc-provider has no "select_account"
            "",
            "[tracklib.roots]",
            *[f"{name} = {q(url)}" for name, url in roots.items()],
            "",
            "[tracklib.access.alpha]",
            f"viewers = [{q('*@example.com')}]",
            f"writers = [{q(WRITER)}]",
            "",
            "[tracklib.access.beta]",
            f"viewers = [{q(OUTSIDER)}]",
            "",
        ]
    )


@pytest.fixture(scope="module")
def signed_server(e2e_store, tmp_path_factory) -> Iterator[tuple[Server, Provider]]:
    """The dashboard with sign-in on: store alpha (the demo sweep), store beta (hidden project)."""
    beta = str(tmp_path_factory.mktemp("beta") / "store")
    with tracklib.init(HIDDEN_PROJECT, root=beta, name=HIDDEN_RUN, capture=False) as run:
        run.log({"val/acc": 0.5})
    port = free_port()
    provider = _start_provider(f"http://127.0.0.1:{port}/oauth2callback")
    home = tmp_path_factory.mktemp("signed")  # the server's working directory: its .streamlit/
    (home / ".streamlit").mkdir()
    shutil.copy(REPO / ".streamlit" / "config.toml", home / ".streamlit" / "config.toml")
    (home / ".streamlit" / "secrets.toml").write_text(
        _secrets(port, provider, {"alpha": e2e_store[0], "beta": beta})
    )
    try:
        server = start_streamlit(e2e_store[0], cwd=home, port=port)
    except BaseException:
        provider.process.terminate()
        raise
    yield server, provider
    stop(server)
    provider.process.terminate()
    provider.process.wait(10)


def _settled(page, shot: str) -> None:
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    page.wait_for_selector('[data-testid="stSkeleton"]', state="detached", timeout=60_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=True)
    assert page.locator('[data-testid="stException"]').count() == 0


def _sign_in(page, server: Server, provider: Provider, email: str) -> None:
    """The real redirect: the dashboard's Sign in, the provider's login form, back."""
    page.goto(f"{server.url}/leaderboard?root=alpha&project=digits")
    _settled(page, f"sign_in_screen_{email.split('@')[0]}")
    main = page.locator('[data-testid="stMain"]')
    assert "Sign in to continue" in main.inner_text()
    assert page.locator('[data-testid="stDataFrame"]').count() == 0
    assert "digits" not in page.content() and "Store" not in page.locator("body").inner_text()
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{provider.url}/**", timeout=30_000)
    page.locator('input[name="login"]').fill(email)
    page.locator('input[name="password"]').fill("any password")
    page.screenshot(path=str(ARTIFACTS / "sign_in_provider_form.png"))
    page.locator('button[type="submit"]').click()
    for _ in range(3):  # the dev consent page, when the provider asks
        page.wait_for_load_state()
        if not page.url.startswith(provider.url):
            break
        page.locator('button[type="submit"]').click()
    page.wait_for_url(f"{server.url}/**", timeout=30_000)
    _settled(page, f"signed_in_home_{email.split('@')[0]}")
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_role("button", name="Sign out").wait_for(timeout=30_000)
    # md_escape keeps an address from becoming a mailto link with an invisible word joiner
    assert f"Signed in as {email}" in sidebar.inner_text().replace("\u2060", "")


def _open_settings(page) -> None:
    page.get_by_role("button", name="Project settings").click()
    page.get_by_text("Headline metric").wait_for(timeout=30_000)


def test_a_writer_signs_in_and_sees_her_stores_leaderboard_with_save(signed_server, page):
    server, provider = signed_server
    _sign_in(page, server, provider, WRITER)
    page.goto(f"{server.url}/leaderboard?root=alpha&project=digits")
    _settled(page, "sign_in_writer_leaderboard")
    names = cell_texts(page, 1)
    assert len(names) >= 10 and all(names)
    store = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first
    shown = store.inner_text() + " ".join(store.locator("input").evaluate_all("els => els.map(e => e.value)"))
    assert "alpha" in shown and "beta" not in page.locator("body").inner_text()
    _open_settings(page)
    page.get_by_role("button", name="Save for everyone").wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "sign_in_writer_settings.png"), full_page=True)


def test_a_viewer_is_refused_another_store_and_gets_no_save(signed_server, page):
    server, provider = signed_server
    _sign_in(page, server, provider, VIEWER)
    page.goto(f"{server.url}/leaderboard?root=beta&project={HIDDEN_PROJECT}")
    _settled(page, "sign_in_viewer_refused")
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "may not view a store named" in main and "beta" in main
    assert page.locator('[data-testid="stDataFrame"]').count() == 0
    body = page.locator("body").inner_text()
    assert HIDDEN_PROJECT not in body and HIDDEN_RUN not in body

    page.goto(f"{server.url}/leaderboard?root=alpha&project=digits")
    _settled(page, "sign_in_viewer_leaderboard")
    assert len(cell_texts(page, 1)) >= 10
    _open_settings(page)
    page.get_by_text("Only the writers of this store may save").wait_for(timeout=30_000)
    assert page.get_by_role("button", name="Save for everyone").count() == 0
    page.screenshot(path=str(ARTIFACTS / "sign_in_viewer_settings.png"), full_page=True)


def test_the_store_picker_lists_only_viewable_stores_until_sign_out(signed_server, page):
    server, provider = signed_server
    _sign_in(page, server, provider, OUTSIDER)  # views beta only
    page.goto(f"{server.url}/?root=beta")
    _settled(page, "sign_in_outsider_overview")
    body = page.locator("body").inner_text()
    assert HIDDEN_PROJECT in body and "digits" not in body
    page.goto(f"{server.url}/leaderboard?root=alpha&project=digits")
    _settled(page, "sign_in_outsider_refused")
    assert page.locator('[data-testid="stDataFrame"]').count() == 0
    assert "may not view a store named" in page.locator('[data-testid="stMain"]').inner_text()

    page.get_by_role("button", name="Sign out").click()  # through the provider's own sign-out
    page.get_by_role("button", name="Yes, sign me out").click(timeout=30_000)
    page.wait_for_url(f"{server.url}/**", timeout=30_000)
    page.goto(f"{server.url}/?root=beta")
    _settled(page, "sign_in_signed_out")
    assert page.get_by_role("button", name="Sign in").is_visible()
    assert HIDDEN_PROJECT not in page.locator("body").inner_text()
