"""Who may view and who may write to each store when the dashboard asks people to sign in.

Pure rules, no Streamlit: the operator's ``[tracklib.access.<store>]`` tables parsed into
``StoreAccess``, and email matching. The dashboard side (``access.py``) feeds them the
signed-in user's email.

Rules (README "Sign-in"):
- an entry is an email (``alice@example.com``), a whole domain (``*@example.com``: that
  exact domain, never a sub- or look-alike domain) or ``"*"`` (everyone who signed in);
- matching ignores ASCII case; an email that is not plain ASCII ``local@domain`` with one
  ``@`` matches nothing (so no Unicode case folding can turn one address into another);
- a writer may also view; a store with no access table is visible to nobody.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

EVERYONE = "*"
ROLES = ("viewers", "writers")
# Printable ASCII, no spaces, exactly one "@" with something on each side.
_EMAIL = re.compile(r"[!-?A-~]+@[!-?A-~]+")


class AccessConfigError(ValueError):
    """The operator's ``[tracklib.access]`` configuration is malformed (names what and where)."""


@dataclass(frozen=True)
class StoreAccess:
    """Who may view and who may write to one store (entries as written, lowercased)."""

    viewers: tuple[str, ...] = ()
    writers: tuple[str, ...] = ()

    def may_view(self, email: str | None) -> bool:
        return matches_any(email, self.viewers) or matches_any(email, self.writers)

    def may_write(self, email: str | None) -> bool:
        return matches_any(email, self.writers)


def usable_email(email: object) -> str | None:
    """``email`` lowercased when it is a plain ASCII ``local@domain``; else None."""
    if not isinstance(email, str) or not email.isascii() or not _EMAIL.fullmatch(email):
        return None
    return email.lower()


def matches(email: str | None, entry: str) -> bool:
    """Whether ``email`` is what the access ``entry`` names (see the module docstring)."""
    address = usable_email(email)
    if address is None:
        return False
    entry = entry.lower()
    if entry == EVERYONE:
        return True
    if entry.startswith("*@"):
        return address.rpartition("@")[2] == entry[2:]
    return address == entry


def matches_any(email: str | None, entries: Sequence[str]) -> bool:
    return any(matches(email, entry) for entry in entries)


def _entry(store: str, role: str, value: object) -> str:
    """One checked entry: ``*``, an email, or ``*@domain``."""
    text = value.strip() if isinstance(value, str) else None
    if text == EVERYONE:
        return text
    if text is not None and text.startswith("*@") and usable_email("x" + text[1:]):
        return text.lower()
    if text is not None and usable_email(text):
        return text.lower()
    raise AccessConfigError(f"[tracklib.access.{store}] {role}: {value!r} is not an email, '*@domain' or '*'")


def parse_access(access: Mapping[str, Any] | None, stores: Sequence[str]) -> dict[str, StoreAccess]:
    """``[tracklib.access]`` (store name -> {viewers, writers}) checked against the configured
    ``stores``; a store it does not name gets nobody. AccessConfigError names the problem."""
    parsed = {store: StoreAccess() for store in stores}
    for store, table in dict(access or {}).items():
        if store not in parsed:
            raise AccessConfigError(
                f"[tracklib.access.{store}] names no configured store (stores: {', '.join(stores)})"
            )
        if not isinstance(table, Mapping):
            raise AccessConfigError(f"[tracklib.access.{store}] must be a table with viewers/writers")
        unknown = sorted(set(table) - set(ROLES))
        if unknown:
            raise AccessConfigError(
                f"[tracklib.access.{store}] has unknown key(s) {unknown}: only viewers and writers"
            )
        lists = {}
        for role in ROLES:
            value = table.get(role, [])
            if isinstance(value, str) or not isinstance(value, Sequence):
                raise AccessConfigError(f"[tracklib.access.{store}] {role} must be a list of strings")
            lists[role] = tuple(_entry(store, role, item) for item in value)
        parsed[store] = StoreAccess(**lists)
    return parsed
