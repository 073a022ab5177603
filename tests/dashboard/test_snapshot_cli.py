"""``tracklib snapshot URL``: the file made from a share link shows what the live page shows for
that link (table rows and values, chart data), and a link it cannot honour is an error."""

from __future__ import annotations

import io
import json
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tracklib.cli import main
from tracklib.dashboard import snapshot, snapshot_cli
from tracklib.dashboard.tables import names_of

from seed import APP, seed_store
from snapshot_html import Document

BASE = "http://dash.example:8501"
VIEWS = "tracklib/dashboard/views"


@pytest.fixture
def team(seeded_root, monkeypatch):
    """The seeded store configured as the dashboard's store named ``team``."""
    monkeypatch.setenv("TRACKLIB_ROOTS", f"team={seeded_root[0]}")
    st.cache_data.clear()
    st.cache_resource.clear()
    return seeded_root[0]


@pytest.fixture(scope="module")
def publish_root(tmp_path_factory) -> str:
    """A store of this module's own to publish into (the seeded one is shared by every test)."""
    root = str(tmp_path_factory.mktemp("publish") / "store")
    seed_store(root)
    return root


@pytest.fixture
def team_to_publish(publish_root, monkeypatch):
    monkeypatch.setenv("TRACKLIB_ROOTS", f"team={publish_root}")
    st.cache_data.clear()
    st.cache_resource.clear()
    return publish_root


def published(root: str) -> list[Path]:
    return sorted((Path(root) / "snapshots").glob("project=*/*.html"))


def make_file(tmp_path: Path, capsys, link: str) -> Document:
    out = tmp_path / "view.html"
    assert main(["snapshot", link, "--out", str(out)]) == 0, capsys.readouterr().err
    assert f"wrote {out}" in capsys.readouterr().out
    return Document(out.read_text(encoding="utf-8"))


def live_page(link: str) -> AppTest:
    """The same link opened on the dashboard (what a user with access sees)."""
    parts = urllib.parse.urlsplit(link)
    app = AppTest.from_file(APP, default_timeout=60)
    for key, values in urllib.parse.parse_qs(parts.query).items():
        app.query_params[key] = values if len(values) > 1 else values[0]
    app.switch_page(f"{VIEWS}/{parts.path.strip('/')}.py").run()
    assert not app.exception and not app.error and not app.warning
    return app


def canonical(rows: list[dict]) -> str:
    """A dataset's rows, order-free, as comparable text (NaN as null, like JSON)."""
    clean = [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()} for row in rows]
    return json.dumps(sorted(json.dumps(row, sort_keys=True, default=str) for row in clean))


def shown_cells(frame: pd.DataFrame) -> list[list[str]]:
    """Cells as the dashboard formats them (4 significant digits; names as text)."""
    return [[snapshot.cell_text(v) for v in row] for row in frame.itertuples(index=False, name=None)]


def test_a_leaderboard_link_gives_the_rows_and_values_of_the_live_page(team, tmp_path, capsys):
    link = (
        f"{BASE}/leaderboard?root=team&project=digits&metric=val%2Facc&agg=max&top=4"
        "&filter=params.lr+%3C+0.05&columns=params.lr&columns=params.optimizer"
    )
    document = make_file(tmp_path, capsys, link)
    live = live_page(link).dataframe[0].value
    assert names_of(live["name"]) == ["rmsprop", "adam-fast", "adam-slow", "sgd-slow"]
    assert document.headers == list(live.columns)
    assert document.body_rows == shown_cells(live)
    csv = pd.read_csv(io.StringIO(document.csv))  # full precision, same rows
    assert list(csv["name"]) == names_of(live["name"])
    assert csv["max val/acc"].tolist() == live["max val/acc"].tolist()
    assert csv["params.lr"].tolist() == live["params.lr"].tolist()


def test_a_curves_link_gives_the_charts_and_points_of_the_live_page(team, tmp_path, capsys):
    link = f"{BASE}/curves?root=team&project=digits&metrics=val%2Facc&metrics=train%2Floss&log2=true"
    document = make_file(tmp_path, capsys, link)
    charts = live_page(link).get("vega_lite_chart")
    assert len(document.specs) == len(charts) == 2
    for spec, chart in zip(document.specs, charts, strict=True):
        live_spec = json.loads(chart.proto.spec)
        assert spec["title"] == live_spec["title"]
        # Streamlit ships each dataset as Arrow beside the spec (under its own names)
        live_data = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets]
        assert len(live_data) > 0
        assert sorted(map(canonical, spec["datasets"].values())) == sorted(
            canonical(frame.to_dict("records")) for frame in live_data
        )
    titles = [json.dumps(spec["title"]) for spec in document.specs]
    assert "val/acc" in titles[0] and "train/loss" in titles[1]
    points = pd.concat(pd.DataFrame(rows) for rows in document.specs[0]["datasets"].values())
    assert points["value"].max() == pytest.approx(0.97)  # rmsprop's last val/acc


def test_a_sweeps_link_gives_the_importance_table_of_the_live_page(team, tmp_path, capsys):
    link = f"{BASE}/sweeps?root=team&project=digits&group=%28all+runs%29&metric=val%2Facc&params=lr&params=model.layers"
    document = make_file(tmp_path, capsys, link)
    live = next(d.value for d in live_page(link).dataframe if "importance" in d.value.columns)
    assert document.headers == list(live.columns)
    assert document.body_rows == shown_cells(live)
    assert sorted(row[0] for row in document.body_rows) == ["lr", "model.layers"]


@pytest.mark.parametrize(
    ("link", "says"),
    [
        (f"{BASE}/runs?root=team&project=digits", "leaderboard, curves, sweeps"),
        (f"{BASE}/overview", "leaderboard, curves, sweeps"),
        ("file:///etc/passwd", "not a dashboard link"),
        (
            f"{BASE}/leaderboard?root=s3%3A%2F%2Fother-bucket&project=digits",
            "store named 's3://other-bucket'",
        ),
        (f"{BASE}/leaderboard?root=elsewhere&project=digits", "configured: team"),
        (f"{BASE}/leaderboard?root=team&project=digits&metirc=val%2Facc", "does not read 'metirc'"),
        (f"{BASE}/leaderboard?root=team&project=digits&metric=nope", "no metric nope"),
        (f"{BASE}/leaderboard?root=team&project=digits&filter=params.lr+%3C", "Filter: expected a value"),
        (f"{BASE}/leaderboard?root=team&project=nope", "no project nope"),
        (f"{BASE}/curves?root=team&project=digits&points=0", "points"),
        (  # pinned before any run: an empty view is no snapshot
            f"{BASE}/leaderboard?root=team&project=digits&asof=2020-01-01T00%3A00%3A00Z",
            "shows nothing to snapshot: No run in this project has logged a metric yet",
        ),
        (f"{BASE}/leaderboard?root=team&project=digits&asof=2999-01-01T00%3A00%3A00Z", "asof"),
    ],
)
def test_a_link_the_snapshot_cannot_honour_is_an_error_that_says_why(team, tmp_path, capsys, link, says):
    out = tmp_path / "view.html"
    assert main(["snapshot", link, "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("tracklib snapshot: ") and says in error, error
    assert not out.exists()


def test_publish_on_a_local_store_prints_the_path_of_the_same_bytes(team_to_publish, tmp_path, capsys):
    team = team_to_publish
    before = published(team)
    out = tmp_path / "board.html"
    link = f"{BASE}/leaderboard?root=team&project=digits&top=2"
    assert main(["snapshot", link, "--out", str(out), "--publish"]) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out.splitlines()
    where = next(line.removeprefix("published to ") for line in printed if line.startswith("published to "))
    assert where.startswith(str(Path(team) / "snapshots" / "project=digits"))
    assert Path(where).read_bytes() == out.read_bytes()
    assert published(team) == sorted([*before, Path(where)])
    assert not any(line.startswith("http") for line in printed)  # a local file has no signed link


def test_publish_is_refused_when_the_operator_switched_dashboard_writes_off(
    team_to_publish, tmp_path, capsys, monkeypatch
):
    before = published(team_to_publish)
    monkeypatch.setenv("TRACKLIB_DASHBOARD_WRITES", "0")
    link = f"{BASE}/leaderboard?root=team&project=digits"
    assert main(["snapshot", link, "--out", str(tmp_path / "x.html"), "--publish"]) == 2
    assert "TRACKLIB_DASHBOARD_WRITES=0" in capsys.readouterr().err
    assert published(team_to_publish) == before


def test_a_bad_expires_is_an_error_before_anything_runs(team, tmp_path, capsys):
    link = f"{BASE}/leaderboard?root=team&project=digits"
    assert main(["snapshot", link, "--out", str(tmp_path / "x.html"), "--publish", "--expires", "soon"]) == 2
    assert "--expires" in capsys.readouterr().err


@pytest.mark.s3
def test_publish_to_s3_prints_a_presigned_link_that_downloads_the_same_bytes(
    s3_root, tmp_path, capsys, monkeypatch
):
    """The store is configured as an operator does it (secrets: its URL and credentials under
    a name); the link anyone may open needs no credentials and lasts --expires."""
    monkeypatch.delenv("TRACKLIB_ROOTS", raising=False)
    for name, acc in (("first", 0.7), ("second", 0.9)):
        with s3_root.init(name=name) as run:
            run.log({"val/acc": acc})
    secrets = {"roots": {"team": s3_root.url}, "storage_options": {"team": s3_root.storage_options}}
    st.cache_data.clear()
    st.cache_resource.clear()
    out = tmp_path / "board.html"
    link = f"{BASE}/leaderboard?root=team&project=digits&metric=val%2Facc"
    code = snapshot_cli.command(link, str(out), publish=True, expires="2d", secrets=secrets)
    printed = capsys.readouterr()
    assert code == 0, printed.err
    lines = printed.out.splitlines()
    assert any(line.startswith(f"published to {s3_root.url}/snapshots/project=digits/") for line in lines)
    assert "anyone can open it for 2 days at:" in lines
    signed = lines[-1]
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(signed).query))
    if "X-Amz-Expires" in query:  # SigV4
        assert query["X-Amz-Expires"] == str(2 * 86400)
    else:  # SigV2: an absolute time
        assert abs(int(query["Expires"]) - (time.time() + 2 * 86400)) < 600
    with urllib.request.urlopen(signed, timeout=30) as response:  # no key, no secret
        assert response.read() == out.read_bytes()
        assert response.headers["Content-Type"].startswith("text/html")
    assert [row[1] for row in Document(out.read_text(encoding="utf-8")).body_rows] == ["second", "first"]

    fs, path = s3_root.filesystem()
    before = fs.find(f"{path}/snapshots")
    assert (
        snapshot_cli.command(link, str(tmp_path / "x.html"), publish=True, expires="8d", secrets=secrets) == 2
    )
    assert "at most 7 days" in capsys.readouterr().err
    assert fs.find(f"{path}/snapshots") == before  # refused before anything was stored
