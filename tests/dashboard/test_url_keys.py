"""Each page declares its URL keys once (``urlstate.Keys``): its guard, its widgets and its
Share link all read that declaration."""

from __future__ import annotations

import importlib
from urllib.parse import parse_qs, urlsplit

import pytest

from tracklib.dashboard import app, urlstate

VIEWS = "tracklib/dashboard/views"
DECLARED = {page: importlib.import_module(f"tracklib.dashboard.views.{page}") for page in app.PAGES}

KEYS = urlstate.Keys(
    urlstate.Key("top", urlstate.Number(1, 10, whole=True)),
    urlstate.Key("metric", urlstate.Choice(None, unknown="No metric")),
    urlstate.Key("runs"),
    urlstate.Key("live", urlstate.Flag(), shared=False),
)


def test_a_declaration_gives_rules_with_the_pages_options_filled_in():
    rules = KEYS.rules(metric=["loss", "acc"])
    assert list(rules) == ["top", "metric", "live"]  # "runs" is checked where it is read
    assert rules["metric"].fix("acc") == "acc" and rules["metric"].fix("evil") is None
    assert rules["metric"].refusal("metric", "evil").startswith("No metric evil")
    assert KEYS.names == ("top", "metric", "runs", "live")
    assert [key.name for key in KEYS.shared] == ["top", "metric", "runs"]
    assert KEYS.pick("live").names == ("live",)


def test_a_declaration_refuses_what_would_weaken_the_guard():
    with pytest.raises(ValueError, match="none given"):
        KEYS.rules()  # a Choice without its options would take nothing, or anything
    with pytest.raises(ValueError, match="fixed options"):
        KEYS.rules(metric=["a"], top=["1"])
    with pytest.raises(ValueError, match="undeclared"):
        KEYS.rules(metric=["a"], sort=["name"])
    with pytest.raises(ValueError, match="no rule"):
        KEYS.bind("runs")  # a bound widget would take any value the link gives
    with pytest.raises(KeyError):
        KEYS.bind("tpo")
    with pytest.raises(ValueError, match="twice"):
        urlstate.Keys(urlstate.Key("a", urlstate.Flag()), urlstate.Key("a"))
    with pytest.raises(TypeError):
        urlstate.Choice(None).fix("x")


def test_a_bound_widget_takes_its_key_from_the_declaration():
    assert KEYS.bind("top") == {"key": "top", "bind": "query-params"}


@pytest.mark.parametrize("page", list(DECLARED))
def test_every_page_declares_its_keys_once_and_apart_from_the_frames(page):
    names = DECLARED[page].URL.names
    assert len(set(names)) == len(names)
    assert not set(names) & set(urlstate.FRAME.names)


def _share_link(at) -> dict[str, list[str]]:
    links = [c.value for c in at.code if "?" in c.value]
    assert len(links) == 1, [c.value for c in at.code]
    return parse_qs(urlsplit(links[0]).query)


def test_the_share_link_carries_the_declared_keys_and_the_picked_runs(app, seeded_root):
    ids = seeded_root[1]
    picked = [ids["rmsprop"], ids["sgd-fast"]]
    app.query_params.update(
        {
            "project": "digits",
            "metric": "val/acc",
            "top": "3",
            "order": "highest",
            "live": "false",
            "runs": picked,
        }
    )
    app.switch_page(f"{VIEWS}/leaderboard.py").run()
    assert not app.exception
    link = _share_link(app)
    assert link["project"] == ["digits"] and link["root"] == ["default"]
    assert link["metric"] == ["val/acc"] and link["top"] == ["3"] and link["order"] == ["highest"]
    assert link["runs"] == picked
    assert "live" not in link  # Live mode is not shared
    assert set(link) <= {*urlstate.FRAME.names, *DECLARED["leaderboard"].URL.names}


def test_the_run_pages_share_link_names_its_run(app, seeded_root):
    run_id = seeded_root[1]["adam-slow"]
    app.query_params.update({"project": "digits", "run": run_id})
    app.switch_page(f"{VIEWS}/run.py").run()
    assert not app.exception
    assert _share_link(app)["run"] == [run_id]
