"""The dashboard's allow-list of roots, from tracklib.config (pure)."""

from __future__ import annotations

import pytest

from tracklib.config import configured_roots, parse_roots, storage_options_for


def test_roots_parse_from_the_environment_format():
    assert parse_roots("team=s3://bucket/tracking; local=./tracking\n") == {
        "team": "s3://bucket/tracking",
        "local": "./tracking",
    }
    with pytest.raises(ValueError, match="name=url"):
        parse_roots("just-a-url")


def test_secrets_then_environment_then_default(monkeypatch):
    monkeypatch.delenv("TRACKLIB_ROOTS", raising=False)
    monkeypatch.setenv("TRACKLIB_ROOT", "/data/runs")
    assert configured_roots(None) == {"default": "/data/runs"}
    secrets = {"roots": {"prod": "s3://prod/x"}, "storage_options": {"prod": {"anon": False}}}
    assert configured_roots(secrets) == {"prod": "s3://prod/x"}
    monkeypatch.setenv("TRACKLIB_ROOTS", "dev=./dev")
    assert configured_roots(secrets) == {"prod": "s3://prod/x", "dev": "./dev"}
    assert storage_options_for("prod", secrets) == {"anon": False}
    assert storage_options_for("dev", secrets) == {}
