"""Sign-in on every page (AppTest with a fake ``at.user``): nothing of any store before sign-in,
only the stores a user may view in the picker, a plain refusal for a link to another store,
Save only for a store's writers; without ``[auth]`` the dashboard behaves as before."""

from __future__ import annotations

import pytest
import streamlit as st
from dashboard.hostile import PAYLOADS, assert_renders_as_text, reads_as
from streamlit.testing.v1 import AppTest

import tracklib
from tracklib.dashboard.widgets import md_escape

from seed import APP, SEED

VIEWS = "tracklib/dashboard/views"
PAGES = ["overview", "runs", "leaderboard", "curves", "sweeps", "compare", "run"]
AUTH = {  # never contacted: AppTest fakes the signed-in user
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "not-a-real-secret",
    "client_id": "tracklib",
    "client_secret": "not-a-real-secret",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}
ACCESS = {
    "alpha": {"viewers": ["*@example.com"], "writers": ["Alice@Example.com"]},
    "beta": {"viewers": ["carol@beta.org"]},
}
HIDDEN_PROJECT = "beta-only-project"


@pytest.fixture(scope="module")
def beta_root(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp("beta") / "store")
    with tracklib.init(HIDDEN_PROJECT, root=root, name="beta-run-name", capture=False) as run:
        run.log({"val/acc": 0.5})
    return root


@pytest.fixture
def stores(seeded_root, beta_root, monkeypatch) -> dict[str, str]:
    monkeypatch.delenv("TRACKLIB_ROOTS", raising=False)
    monkeypatch.delenv("TRACKLIB_DASHBOARD_WRITES", raising=False)
    return {"alpha": seeded_root[0], "beta": beta_root}


def _app(stores, user: dict | None, page: str = "overview", access=ACCESS, auth=True, **params) -> AppTest:
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["tracklib"] = {"roots": stores, "access": access}
    if auth:
        at.secrets["auth"] = AUTH
    at.user = user if user is not None else {"is_logged_in": False}
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    if page != "overview":
        at.switch_page(f"{VIEWS}/{page}.py").run()
    assert not at.exception, at.exception
    return at


def _user(email: str, **claims) -> dict:
    return {
        "is_logged_in": True,
        "email": email,
        "name": email.split("@")[0],
        "email_verified": True,
    } | claims


def _everything_shown(at: AppTest) -> str:
    """Every element's content (dataframes' Arrow bytes included), as one text."""
    parts: list[str] = []

    def walk(node) -> None:
        if getattr(node, "proto", None) is not None:
            parts.append(str(node.proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)


def _store_options(at: AppTest) -> list[str]:
    return list(at.sidebar.selectbox(key="root").options)


@pytest.mark.parametrize("page", PAGES)
def test_signed_out_every_page_asks_to_sign_in_and_shows_no_store(stores, page):
    at = _app(stores, None, page, root="beta")
    assert [b.label for b in at.button] == ["Sign in"]
    shown = _everything_shown(at)
    for name in ["digits", HIDDEN_PROJECT, *SEED, "alpha", "beta-run-name", stores["alpha"]]:
        assert name not in shown
    assert not at.dataframe and not at.selectbox


@pytest.mark.parametrize("page", PAGES)
def test_a_viewer_sees_only_her_stores_and_a_link_to_another_is_refused(stores, page):
    bob = _user("bob@example.com")
    at = _app(stores, bob, page)
    assert _store_options(at) == ["alpha"]
    assert f"Signed in as {md_escape('bob@example.com')}" in [c.value for c in at.sidebar.caption]
    assert "Sign out" in [b.label for b in at.sidebar.button]

    refused = _app(stores, bob, page, root="beta", project=HIDDEN_PROJECT)
    assert any("may not view a store named" in e.value for e in refused.error)
    shown = _everything_shown(refused)
    assert HIDDEN_PROJECT not in shown and "beta-run-name" not in shown and stores["beta"] not in shown
    assert not refused.dataframe and not refused.get("vega_lite_chart")


def test_a_store_without_an_access_table_is_visible_to_nobody(stores):
    at = _app(stores, _user("carol@beta.org"), access={"beta": ACCESS["beta"]})
    assert _store_options(at) == ["beta"]
    nobody = _app(stores, _user("alice@example.com"), access={"beta": ACCESS["beta"]})
    assert any("no store on this dashboard lists you" in w.value for w in nobody.warning)
    assert not nobody.dataframe and not nobody.selectbox


def test_emails_match_without_case_and_domains_exactly(stores):
    assert _store_options(_app(stores, _user("ALICE@example.COM"))) == ["alpha"]
    for outsider in ["eve@evil-example.com", "eve@example.com.evil", "eve@sub.example.com"]:
        at = _app(stores, _user(outsider))
        assert any("no store on this dashboard lists you" in w.value for w in at.warning), outsider


@pytest.mark.parametrize("verified", [False, "false", None])
def test_an_unverified_email_sees_nothing(stores, verified):
    user = _user("bob@example.com", email_verified=verified)
    if verified is None:  # no claim at all: a provider that lets users type any address
        del user["email_verified"]
    at = _app(stores, user)
    assert any("did not give a verified email" in e.value for e in at.error)
    assert not at.dataframe and not at.selectbox


def test_the_operator_may_accept_emails_without_the_claim_but_never_a_false_one(stores, monkeypatch):
    unclaimed = {k: v for k, v in _user("bob@example.com").items() if k != "email_verified"}
    for user, sees in ((unclaimed, True), (_user("bob@example.com", email_verified=False), False)):
        st.cache_data.clear()
        st.cache_resource.clear()
        at = AppTest.from_file(APP, default_timeout=60)
        at.secrets["tracklib"] = {
            "roots": stores,
            "access": ACCESS,
            "accept_email_without_verified_claim": True,
        }
        at.secrets["auth"] = AUTH
        at.user = user
        at.run()
        assert not at.exception
        if sees:
            assert _store_options(at) == ["alpha"]
        else:
            assert any("did not give a verified email" in e.value for e in at.error) and not at.selectbox


def _writes(at: AppTest) -> list[str]:
    """The labels of the controls that write to the store (Save, Publish)."""
    return [
        b.label
        for b in at.button
        if (b.key and b.key.startswith("settings_save:")) or b.label == "Publish snapshot"
    ]


@pytest.mark.parametrize("page", ["leaderboard", "curves", "sweeps", "runs"])
def test_only_writers_get_save_and_publish(stores, page):
    writer = _app(stores, _user("alice@example.com"), page, project="digits")
    expected = ["Save for everyone"] + (["Publish snapshot"] if page != "runs" else [])
    assert sorted(_writes(writer)) == sorted(expected)
    viewer = _app(stores, _user("bob@example.com"), page, project="digits")
    assert _writes(viewer) == []
    assert viewer.dataframe or viewer.get("vega_lite_chart")  # she still sees the page
    assert any("Only the writers of this store" in c.value for c in viewer.caption)


def test_the_operator_switch_still_stops_writers(stores, monkeypatch):
    monkeypatch.setenv("TRACKLIB_DASHBOARD_WRITES", "0")
    at = _app(stores, _user("alice@example.com"), "leaderboard", project="digits")
    assert _writes(at) == []


def test_a_malformed_access_table_is_named_and_nothing_shown(stores):
    at = _app(stores, _user("alice@example.com"), access={"alpah": {"viewers": ["*"]}})
    assert any("alpah" in e.value and "names no configured store" in e.value for e in at.error)
    assert not at.dataframe and not at.selectbox


def test_without_auth_every_store_shows_and_saving_works_as_before(stores):
    at = _app(stores, {}, "leaderboard", auth=False, project="digits")
    assert _store_options(at) == ["alpha", "beta"]
    assert sorted(_writes(at)) == ["Publish snapshot", "Save for everyone"]
    assert "Sign out" not in [b.label for b in at.sidebar.button]


@pytest.mark.parametrize("asked", PAYLOADS[:6])
def test_a_refused_link_shows_the_asked_name_as_text(stores, asked):
    at = _app(stores, _user("bob@example.com"), "leaderboard", root=asked)
    assert_renders_as_text(at)
    (refusal,) = [e.value for e in at.error]
    assert f"named “{asked}”" in reads_as(refusal)
    assert not at.dataframe
