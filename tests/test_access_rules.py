"""Who may view or write a store: email entries match without case, ``*@domain`` only that exact
domain, anything odd matches nothing, and a malformed access table is named."""

from __future__ import annotations

import string
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracklib.dashboard.access_rules import AccessConfigError, StoreAccess, matches, parse_access

LABEL = st.text(string.ascii_letters + string.digits + "-", min_size=1, max_size=8)
DOMAIN = st.lists(LABEL, min_size=1, max_size=3).map(".".join)
LOCAL = st.text(string.ascii_letters + string.digits + "._+-", min_size=1, max_size=10)


def _flip_case(text: str, data) -> str:
    return "".join(c.upper() if data.draw(st.booleans()) else c.lower() for c in text)


@settings(max_examples=60, deadline=None)
@given(local=LOCAL, domain=DOMAIN, other=DOMAIN, data=st.data())
def test_a_domain_entry_matches_exactly_that_domain_in_any_case(local, domain, other, data):
    email = f"{local}@{_flip_case(domain, data)}"
    assert matches(email, f"*@{domain}")
    assert matches(email, f"*@{other}") == (other.lower() == domain.lower())
    for lookalike in [f"evil-{domain}", f"{domain}.evil", f"sub.{domain}", f"{domain}x"]:
        assert not matches(f"{local}@{lookalike}", f"*@{domain}")
    assert not matches(f"{local}@{domain}@evil.org", f"*@{domain}")
    assert not matches(f"{local}@evil.org@{domain}", f"*@{domain}")  # two "@": no address


@settings(max_examples=60, deadline=None)
@given(local=LOCAL, domain=DOMAIN, other_local=LOCAL, data=st.data())
def test_an_email_entry_matches_that_address_in_any_case_only(local, domain, other_local, data):
    entry = f"{local}@{domain}"
    assert matches(_flip_case(entry, data), entry)
    assert matches(f"{other_local}@{domain}", entry) == (other_local.lower() == local.lower())
    assert not matches(f" {entry}", entry) and not matches(f"{entry}\n", entry)


@settings(max_examples=40, deadline=None)
@given(email=st.text(max_size=20))
def test_anything_that_is_not_a_plain_ascii_address_matches_nothing(email):
    plain = email.isascii() and email.count("@") == 1 and all(33 <= ord(c) < 127 for c in email)
    plain = plain and not email.startswith("@") and not email.endswith("@")
    assert matches(email, "*") == plain


def test_unicode_that_folds_to_ascii_never_matches():
    kelvin = "\u212a"  # KELVIN SIGN: lower() gives ASCII "k"
    assert not matches(f"x@{kelvin}pmg.com", "*@kpmg.com")
    assert not matches(f"{kelvin}im@kpmg.com", "kim@kpmg.com")
    assert not matches(None, "*") and not matches("", "*")


def test_writers_may_view_viewers_may_not_write():
    access = StoreAccess(viewers=("*@example.com",), writers=("lead@other.org",))
    assert access.may_view("bob@example.com") and not access.may_write("bob@example.com")
    assert access.may_view("lead@other.org") and access.may_write("lead@other.org")
    assert not StoreAccess().may_view("anyone@example.com")


def test_parse_gives_unlisted_stores_nobody_and_lowercases():
    rules = parse_access({"team": {"viewers": ["Bob@Example.com"], "writers": ["*"]}}, ["team", "scratch"])
    assert rules["team"] == StoreAccess(viewers=("bob@example.com",), writers=("*",))
    assert rules["scratch"] == StoreAccess()
    assert parse_access(None, ["team"]) == {"team": StoreAccess()}


@pytest.mark.parametrize(
    "access, message",
    [
        ({"teem": {"viewers": ["*"]}}, "[tracklib.access.teem] names no configured store (stores: team)"),
        ({"team": {"viewer": ["*"]}}, "unknown key(s) ['viewer']"),
        ({"team": {"viewers": "bob@example.com"}}, "viewers must be a list of strings"),
        ({"team": {"writers": ["*.example.com"]}}, "'*.example.com' is not an email"),
        ({"team": {"viewers": ["@example.com"]}}, "'@example.com' is not an email"),
        ({"team": {"viewers": [3]}}, "3 is not an email"),
        ({"team": ["bob@example.com"]}, "must be a table"),
    ],
)
def test_a_malformed_access_table_says_what_and_where(access, message):
    with pytest.raises(AccessConfigError) as caught:
        parse_access(access, ["team"])
    assert message in str(caught.value)


def test_the_readmes_sign_in_example_means_what_it_says():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Sign-in", 1)[1]
    example = tomllib.loads(section.split("```toml\n", 1)[1].split("```", 1)[0])
    assert set(example["auth"]) == {
        "redirect_uri",
        "cookie_secret",
        "client_id",
        "client_secret",
        "server_metadata_url",
    }
    rules = parse_access(example["tracklib"]["access"], list(example["tracklib"]["roots"]))
    assert rules["team"].may_view("anyone@example.com") and not rules["team"].may_write("anyone@example.com")
    assert rules["team"].may_write("alice@example.com")
    assert rules["vision"].may_view("carol@partner.org") and not rules["vision"].may_view("alice@example.com")
    assert not rules["team"].may_view("x@evil-example.com")
