"""Who may do what from the dashboard: the one place that decides it.

Every writing control (project settings, publishing a snapshot) and the ``tracklib snapshot
--publish`` command ask ``may_write``. ``$TRACKLIB_DASHBOARD_WRITES=0`` turns every write off.

Sign-in is on when ``.streamlit/secrets.toml`` has an ``[auth]`` section (Streamlit's
``st.login``, OIDC). Then every page first asks to sign in, the store picker lists only the
stores whose ``[tracklib.access.<store>]`` names the user, and only a store's writers may write
to it from the dashboard. Without ``[auth]`` nothing changes: every configured store is shown.
The rules themselves (matching, parsing) are in ``access_rules``, without Streamlit. Outside a
Streamlit session (the CLI, run by the operator with their own credentials) only the switch applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from tracklib import config
from tracklib.dashboard import data, widgets
from tracklib.dashboard.access_rules import AccessConfigError, StoreAccess, parse_access, usable_email


def _secrets() -> Mapping[str, Any]:
    try:
        return st.secrets.to_dict()
    except Exception:  # noqa: BLE001 - no secrets.toml is the common case
        return {}


def sign_in_on() -> bool:
    """Whether a dashboard session asks people to sign in (an ``[auth]`` section in secrets)."""
    return st.runtime.exists() and "auth" in _secrets()


def signed_in() -> bool:
    return bool(st.user.to_dict().get("is_logged_in"))


def current_email() -> str | None:
    """The signed-in user's email (lowercased), or None: not signed in, no email claim, one
    the provider does not say it verified, or one that is not plain ASCII.

    A missing ``email_verified`` claim counts as unverified: some providers let users type
    any address (Microsoft Entra's ``email``: the "nOAuth" takeover). An operator whose
    provider only hands out addresses it manages sets ``[tracklib]
    accept_email_without_verified_claim = true``; an explicit ``false`` never matches."""
    user = st.user.to_dict()
    claim = str(user.get("email_verified")).lower()  # Cognito sends the strings "true"/"false"
    trusted = claim == "true" or (claim == "none" and _accepts_unclaimed_email())
    if not user.get("is_logged_in") or not trusted:
        return None
    return usable_email(user.get("email"))


def _accepts_unclaimed_email() -> bool:
    return dict(_secrets().get("tracklib", {})).get("accept_email_without_verified_claim") is True


def _rules(stores: list[str]) -> dict[str, StoreAccess]:
    return parse_access(dict(_secrets().get("tracklib", {})).get("access"), stores)


def viewable(roots: Mapping[str, str]) -> dict[str, str]:
    """The configured stores this viewer may see (all of them when sign-in is off)."""
    if not sign_in_on():
        return dict(roots)
    rules = _rules(list(roots))
    email = current_email()
    return {name: url for name, url in roots.items() if rules[name].may_view(email)}


def may_write(root_name: str) -> bool:
    """Whether the dashboard may write to the store named ``root_name`` (settings, snapshots):
    never with ``TRACKLIB_DASHBOARD_WRITES=0``; with sign-in on, only for the store's writers."""
    if not config.dashboard_writes():
        return False
    if not sign_in_on():
        return True
    rules = _rules(list(data.roots()))
    return root_name in rules and rules[root_name].may_write(current_email())


def why_not_write(root_name: str) -> str:
    """The sentence to show where a write is refused (plain text: escape it for Markdown)."""
    if not config.dashboard_writes():
        return f"Writing to stores is switched off on this dashboard ({config.ENV_DASHBOARD_WRITES}=0)."
    who = current_email() or "this account"
    return f"Only the writers of this store may save from the dashboard; you are signed in as {who}."


def gate() -> bool:
    """With sign-in on: the sign-in screen (False) until someone signed in, then who it is and
    Sign out in the sidebar (True). A malformed access configuration stops every page (False)."""
    if not sign_in_on():
        return True
    if not signed_in():
        st.title("tracklib")
        st.write(
            "This dashboard shows experiment runs to the people its operator named. Sign in to continue."
        )
        st.button("Sign in", icon=":material/login:", type="primary", on_click=st.login, key="sign_in")
        return False
    email = current_email()
    with st.sidebar:
        st.caption(f"Signed in as {widgets.md_escape(email or st.user.to_dict().get('email') or '?')}")
        st.button("Sign out", icon=":material/logout:", on_click=st.logout, key="sign_out")
    if email is None:
        st.error(
            "Your sign-in did not give a verified email address, so this dashboard cannot tell "
            "which stores you may see. Sign out and sign in with another account."
        )
        return False
    try:
        _rules(list(data.roots()))
    except AccessConfigError as exc:
        st.error(f"The dashboard's access configuration is invalid: {widgets.md_escape(exc)}")
        return False
    return True


def refuse_link(visible: Mapping[str, str]) -> bool:
    """With sign-in on, a link naming a store this viewer may not see (or that does not exist)
    gets a plain refusal and nothing of the store (True)."""
    asked = st.query_params.get("root")
    if not sign_in_on() or asked is None or asked in visible:
        return False
    st.error(
        f"You are signed in as {widgets.md_escape(current_email())} and may not view a store named "
        f"“{widgets.md_escape(asked)}” on this dashboard (or there is no such store). "
        "Nothing of it is shown; ask the dashboard's operator for access.",
        icon=":material/block:",
    )
    return True


def no_store_message() -> None:
    """Signed in, but no store lists this viewer."""
    st.warning(
        f"You are signed in as {widgets.md_escape(current_email())}, and no store on this dashboard "
        "lists you as a viewer. Ask the dashboard's operator for access.",
        icon=":material/lock:",
    )
