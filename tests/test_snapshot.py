"""Snapshots (tracklib.dashboard.snapshot): one HTML file with the table, its CSV and the charts.

Run names, params and values are untrusted: whatever they hold, the file must parse, run no
script but its own, show each cell as it was and carry a CSV that reads back the same.
"""

from __future__ import annotations

import io
import json
import math
import re
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import altair as alt
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tracklib
from tracklib.dashboard import snapshot
from tracklib.dashboard.csv_export import neutralised
from tracklib.format import layout

MADE = datetime(2026, 12, 1, 21, 30, 5, tzinfo=UTC)
HOSTILE = [
    "<script>alert(1)</script>",
    "</script><script>alert(2)</script>",
    '"><img src=x onerror=alert(3)>',
    "<!--",
    "]]>",
    "'; alert(4); '",
    "ünï\u2028cødé 🎉",
    "javascript:alert(5)",
    "</SCRIPT >",
    "&amp;",
    '=HYPERLINK("http://evil.test")',  # a spreadsheet formula in the CSV
    "-2+3+cmd|' /C calc'!A0",
]


class Parsed(HTMLParser):
    """What a browser's tokenizer would see: scripts, table cells, links, text of <p>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[tuple[dict, str]] = []
        self.headers: list[str] = []
        self.rows: list[list[str]] = []
        self.links: list[dict] = []
        self.metas: list[dict] = []
        self.paragraphs: list[str] = []
        self.title = ""
        self._in: list[str] = []
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr":
            self.rows.append([])
        if tag == "a":
            self.links.append(attrs)
        if tag == "meta":
            self.metas.append(attrs)
        if tag in ("script", "td", "th", "p", "title"):
            self._in.append(tag)
            self._text = []
            self._attrs = attrs

    def handle_endtag(self, tag):
        if not self._in or self._in[-1] != tag:
            return
        self._in.pop()
        text = "".join(self._text)
        if tag == "script":
            self.scripts.append((self._attrs, text))
        elif tag == "td":
            self.rows[-1].append(text)
        elif tag == "th":
            self.headers.append(text)
        elif tag == "p":
            self.paragraphs.append(text)
        elif tag == "title":
            self.title = text

    def handle_data(self, data):
        if self._in:
            self._text.append(data)


def parse(document: str) -> Parsed:
    parser = Parsed()
    parser.feed(document)
    parser.close()
    return parser


@pytest.fixture
def tiny_bundle(monkeypatch):
    """The real bundle is 900 kB and takes seconds to build; escaping is tested without it."""
    monkeypatch.setattr(snapshot, "_bundle", lambda: "window.vegaEmbed = function () {};")


def csv_of(parsed: Parsed) -> str:
    href = next(link["href"] for link in parsed.links if "download" in link)
    prefix = "data:text/csv;charset=utf-8,"
    assert href.startswith(prefix)
    return urllib.parse.unquote(href[len(prefix) :])


names = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30))
floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e308, -1e-310, 0.1 + 0.2]),
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.tuples(names, floats, st.integers(-(2**62), 2**62), names), min_size=0, max_size=6),
    column=names,
    title=names,
)
def test_any_run_names_and_values_stay_text_and_read_back(tiny_bundle, rows, column, title):
    table = pd.DataFrame(rows, columns=["name", f"metrics.{column}", "params.seed", "params.note"])
    chart_data = table.rename(columns={f"metrics.{column}": "value"})[["name", "value"]]
    chart = alt.Chart(chart_data).mark_point().encode(x="value:Q", color="name:N", tooltip=["name:N"])
    document = snapshot.to_html(
        snapshot.Snapshot(
            title, f"project digits · {column}", table, [chart], f"https://x.test/?q={column}", MADE
        )
    )
    parsed = parse(document)

    # exactly our scripts: the chart's JSON, the bundle, the renderer; none from the data
    assert len(re.findall(r"(?i)<script", document)) == 3
    assert [attrs.get("type") for attrs, _ in parsed.scripts] == ["application/json", None, None]
    spec = json.loads(parsed.scripts[0][1])
    values = next(iter(spec["datasets"].values()))
    assert [v["name"] for v in values] == list(chart_data["name"])

    assert parsed.title == title
    assert parsed.headers == list(table.columns)
    assert len(parsed.rows) == len(table) + 1  # the header row and one per run
    for cells, values in zip(parsed.rows[1:], table.itertuples(index=False), strict=True):
        assert cells == [snapshot.cell_text(v) for v in values]
        assert cells[0] == values[0] and cells[3] == values[3]  # text is shown as it is

    read = pd.read_csv(io.StringIO(csv_of(parsed)), dtype=str, keep_default_na=False)
    assert list(read.columns) == list(table.columns)
    # text that a spreadsheet would run as a formula gets a leading quote (test_csv_export.py)
    assert list(read["name"]) == [neutralised(n) for n in table["name"]]
    assert list(read["params.note"]) == [neutralised(n) for n in table["params.note"]]
    assert [int(v) for v in read["params.seed"]] == list(table["params.seed"])
    for text, value in zip(read[f"metrics.{column}"], table[f"metrics.{column}"], strict=True):
        assert (text == "" and math.isnan(value)) or float(text) == value


def test_the_line_says_what_it_is_and_when_it_was_made(tiny_bundle):
    line = (
        "digits · last of val/acc, highest first · filter: optimizer = adam · data as of 2026-12-01 21:29 UTC"
    )
    made = datetime(2026, 12, 1, 22, 30, 5, tzinfo=timezone(timedelta(hours=1)))
    parsed = parse(
        snapshot.to_html(snapshot.Snapshot("Leaderboard", line, None, [], "https://d.test/x", made))
    )
    assert line in parsed.paragraphs
    assert "made at 2026-12-01 21:30:05 UTC · from https://d.test/x" in parsed.paragraphs
    assert {"href": "https://d.test/x", "rel": "noopener noreferrer"} in parsed.links
    assert not any("download" in link for link in parsed.links)  # no table, no CSV


@pytest.mark.parametrize(
    "link", ["javascript:alert(1)", "data:text/html,<b>x</b>", "/leaderboard?x=1", " java\tscript:x"]
)
def test_a_link_that_is_not_http_is_shown_as_text(tiny_bundle, link):
    parsed = parse(snapshot.to_html(snapshot.Snapshot("t", "d", None, [], link, MADE)))
    assert parsed.links == []
    assert any(link.strip() in p for p in parsed.paragraphs)


def test_a_made_at_without_a_time_zone_is_refused(tiny_bundle):
    with pytest.raises(ValueError, match="aware"):
        snapshot.to_html(snapshot.Snapshot("t", "d", None, [], "", datetime(2026, 1, 1)))


def test_numbers_are_shown_with_four_significant_digits_like_the_dashboard(tiny_bundle):
    table = pd.DataFrame({"name": ["a", "b"], "acc": [0.123456, float("nan")], "lr": [1e-05, 123456789.0]})
    parsed = parse(snapshot.to_html(snapshot.Snapshot("t", "d", table, [], "", MADE)))
    assert parsed.rows[1:] == [["a", "0.1235", "1e-05"], ["b", "", "1.235e+08"]]


def test_the_real_bundle_is_inside_and_cannot_end_its_script_early():
    document = snapshot.to_html(snapshot.Snapshot("t", "d", None, [{"mark": "point"}], "", MADE))
    parsed = parse(document)
    assert len(re.findall(r"(?i)<script", document)) == 3
    bundle = parsed.scripts[1][1]
    assert len(bundle) > 500_000 and "vegaEmbed" in bundle
    assert all("src" not in attrs for attrs, _ in parsed.scripts)  # nothing loaded from anywhere
    assert {"http-equiv": "Content-Security-Policy", "content": snapshot.CSP} in parsed.metas


def test_expires_reads_days_hours_and_minutes():
    assert snapshot.parse_expires("7d") == 7 * 86400
    assert snapshot.parse_expires("12h") == 12 * 3600
    assert snapshot.parse_expires("90") == 90
    for bad in ("0d", "-1d", "7 days", ""):
        with pytest.raises(ValueError):
            snapshot.parse_expires(bad)


def test_publish_on_a_local_store_never_overwrites_and_the_runs_stay_the_same(local_root):
    run = local_root.init(name="a")
    run.log({"acc": 0.5})
    run.finish()
    before = local_root.store().runs("digits")
    first = snapshot.publish(local_root.url, "digits", "<p>one</p>", made_at=MADE)
    second = snapshot.publish(local_root.url, "digits", "<p>two</p>", made_at=MADE)
    assert first != second  # same second, different random part
    for path, text in ((first, "<p>one</p>"), (second, "<p>two</p>")):
        assert re.search(r"/snapshots/project=digits/20261201T213005Z-[0-9a-f]{8}\.html$", path)
        assert Path(path).read_text(encoding="utf-8") == text
    assert snapshot.presigned_url(first) is None  # a folder has no shareable link
    store = local_root.store()
    assert store.projects() == ["digits"]
    assert store.skipped_files == {}
    pd.testing.assert_frame_equal(store.runs("digits"), before)
    with pytest.raises(FileExistsError):
        # the same name again: refused, whatever the random part (exclusive create)
        tracklib.storage.open_storage(local_root.url).write_bytes(second[len(local_root.url) + 1 :], b"again")


def test_a_snapshot_of_a_project_without_runs_makes_no_project(local_root):
    snapshot.publish(local_root.url, "empty", "<p>x</p>")
    assert local_root.store().projects() == []


def test_snapshot_names_are_checked():
    with pytest.raises(tracklib.format.errors.InvalidKeyError):
        layout.snapshot_path("digits", "../x.html")
    with pytest.raises(tracklib.format.errors.InvalidKeyError):
        layout.snapshot_path("../digits", "20261201T213005Z-0123abcd.html")


@pytest.mark.s3
def test_a_presigned_link_from_s3_downloads_the_same_bytes_without_credentials(s3_root):
    run = s3_root.init(name="a")
    run.log({"acc": 0.5})
    run.finish()
    document = snapshot.to_html(
        snapshot.Snapshot("Leaderboard", "project digits", pd.DataFrame({"name": ["a"]}), [], "", MADE)
    )
    url = snapshot.publish(s3_root.url, "digits", document, storage_options=s3_root.storage_options)
    assert url.startswith(f"{s3_root.url}/snapshots/project=digits/")
    link = snapshot.presigned_url(url, snapshot.parse_expires("7d"), s3_root.storage_options)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link).query))
    assert "Signature" in query or "X-Amz-Signature" in query
    if "X-Amz-Expires" in query:  # SigV4
        assert query["X-Amz-Expires"] == "604800"
    else:  # SigV2 (what botocore signs for this endpoint): an absolute time, 7 days from now
        assert abs(int(query["Expires"]) - (time.time() + 7 * 86400)) < 600
    with urllib.request.urlopen(link, timeout=30) as response:  # no key, no secret: the link alone
        assert response.read() == document.encode("utf-8")
        assert response.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError, match="7 days"):
        snapshot.presigned_url(url, snapshot.parse_expires("8d"), s3_root.storage_options)
    assert s3_root.store().projects() == ["digits"]
    assert list(s3_root.store().runs("digits")["name"]) == ["a"]


@pytest.mark.gcs
def test_on_gcs_a_snapshot_is_stored_as_html_and_anonymous_credentials_cannot_sign(gcs_server):
    import gcsfs

    options = {"endpoint_url": gcs_server.url, "token": "anon"}
    fs = gcsfs.GCSFileSystem(**options, skip_instance_cache=True)
    fs.mkdir("tracklib-snapshots")
    url = snapshot.publish("gs://tracklib-snapshots/store", "digits", "<p>x</p>", storage_options=options)
    assert url.startswith("gs://tracklib-snapshots/store/snapshots/project=digits/")
    assert fs.cat_file(url) == b"<p>x</p>"
    assert fs.info(url)["contentType"] == snapshot.HTML_TYPE  # a signed link opens it in a browser
    with pytest.raises(snapshot.SignError, match="private key"):
        snapshot.presigned_url(url, 3600, options)
