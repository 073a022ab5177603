"""Frozen snapshots of a dashboard view: ONE self-contained HTML file anyone can open.

A stakeholder gets a file, not a login: the title, one line saying what it shows, the table,
its CSV and the charts, with the data and the Vega libraries inside (vl-convert's bundle), so
it renders from disk with no network at all. Run names, params and values are untrusted:
every cell is escaped, chart specs travel as JSON parsed with ``JSON.parse`` (never as code),
and a Content-Security-Policy stops the file from fetching or loading anything.

``publish`` stores a file under ``snapshots/project=<p>/`` (FORMAT.md §17), which no run
reader lists; ``presigned_url`` gives an HTTPS link to it that needs no cloud account.
"""

from __future__ import annotations

import functools
import html
import json
import math
import numbers
import os
import re
import secrets
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from tracklib.dashboard.csv_export import csv_text
from tracklib.dashboard.tables import number_text
from tracklib.format import layout
from tracklib.storage import Storage, open_storage

VEGA_LITE_VERSION = "6.4"  # Altair 6's schema; the bundle must compile what Altair writes
HTML_TYPE = "text/html; charset=utf-8"
DEFAULT_EXPIRES_S = 7 * 24 * 3600
MAX_S3_EXPIRES_S = 7 * 24 * 3600  # SigV4 refuses longer pre-signed URLs
# The file may run its own inline scripts (the bundle, the renderer) and nothing else: no
# fetch, no image, font or frame from anywhere, no form posting out.
CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
    "connect-src 'none'; font-src 'none'; frame-src 'none'; form-action 'none'; base-uri 'none'"
)
# Charts are drawn by vega-embed with Vega's expression interpreter (``ast: true``): the CSP
# has no 'unsafe-eval', and the interpreter never compiles an expression into code.
_RENDER_JS = """
(function () {
  window.tracklibViews = {};  // by chart element id: for a reader's console and the tests
  document.querySelectorAll('script[type="application/json"][data-chart]').forEach(function (node) {
    var target = document.getElementById(node.getAttribute('data-chart'));
    var spec = JSON.parse(node.textContent);
    var renderer = node.getAttribute('data-renderer') === 'canvas' ? 'canvas' : 'svg';
    vegaEmbed(target, spec, {actions: false, ast: true, renderer: renderer})
      .then(function (result) { window.tracklibViews[target.id] = result.view; })
      .catch(function (error) {
        target.textContent = 'This chart could not be drawn: ' + error;
        console.error(error);
      });
  });
})();
"""
_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1200px;
padding:0 1rem;color:#262730}
h1{margin:0 0 .3rem;font-size:1.8rem}
.description{font-size:1.05rem;margin:.2rem 0}
.made{color:#6b6f7b;font-size:.9rem;margin:.2rem 0 1.2rem}
.chart{width:100%;margin:1rem 0 2rem}
.table-wrap{overflow-x:auto;margin:1rem 0}
table{border-collapse:collapse;font-size:.88rem}
th,td{border-bottom:1px solid #e6e7eb;padding:.3rem .6rem;text-align:left;white-space:nowrap}
td.number{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f6f7f9;position:sticky;top:0}
.csv{font-size:.9rem}
"""


class SignError(RuntimeError):
    """The store's credentials cannot sign a link (GCS needs a service account's key)."""


@dataclass(frozen=True)
class Snapshot:
    """What one view showed when it was frozen; ``charts`` are Altair charts or Vega-Lite dicts
    (an ``embedOptions.renderer`` of ``canvas`` in ``usermeta`` is kept: 49 runs' lines)."""

    title: str
    description: str  # the page's one line (widgets.view_text): project, metric, filter, group, time
    table: pd.DataFrame | None
    charts: Sequence[Any] = field(default_factory=tuple)
    source_link: str = ""
    made_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def to_html(snapshot: Snapshot) -> str:
    """The whole document. Deterministic (one snapshot, one text), so a re-publish of the same
    view is byte-identical. Chart data must be inline (Altair's DataFrames are): the file's
    CSP refuses any URL a spec names."""
    made = _utc(snapshot.made_at)
    table = snapshot.table if snapshot.table is not None else pd.DataFrame()
    specs = [_spec_json(chart) for chart in snapshot.charts]
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{html.escape(CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="tracklib snapshot">',
        f"<title>{_text(snapshot.title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head><body>",
        f"<h1>{_text(snapshot.title)}</h1>",
        f'<p class="description">{_text(_one_line(snapshot.description))}</p>',
        f'<p class="made">made at {made:%Y-%m-%d %H:%M:%S} UTC · from {_link(snapshot.source_link)}</p>',
    ]
    for index, (spec, renderer) in enumerate(specs):
        parts.append(f'<div class="chart" id="chart-{index}"></div>')
        parts.append(
            f'<script type="application/json" data-chart="chart-{index}" data-renderer="{renderer}">'
            f"{spec}</script>"
        )
    if len(table.columns):
        parts.append(_table_html(table))
        parts.append(_csv_link(table, snapshot.title, made))
    parts.append(f"<script>{_bundle()}</script>")
    parts.append(f"<script>{_RENDER_JS}</script>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def file_name(made_at: datetime) -> str:
    """``<UTC time>-<random>.html``: sorts by time, and two saves in one second never collide."""
    return f"{_utc(made_at):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}.html"


def publish(
    storage_or_root_url: Storage | str | os.PathLike[str],
    project: str,
    html_text: str,
    *,
    storage_options: Mapping[str, Any] | None = None,
    made_at: datetime | None = None,
) -> str:
    """Store the file at ``snapshots/project=<p>/<time>-<random>.html`` (never over another
    one) and return its full URL or path, for ``presigned_url`` or a person to open."""
    storage = (
        open_storage(storage_or_root_url, storage_options)
        if isinstance(storage_or_root_url, str | os.PathLike)
        else storage_or_root_url
    )
    data = html_text.encode("utf-8")
    for attempt in range(3):
        rel = layout.snapshot_path(project, file_name(made_at or datetime.now(UTC)))
        try:
            _write(storage, rel, data)
            break
        except FileExistsError:
            if attempt == 2:
                raise
    full = storage.full_path(rel)
    protocol = _protocol(storage.fs)
    return full if storage.is_local or protocol in ("file", "local") else f"{protocol}://{full}"


def presigned_url(
    url: str,
    expires_seconds: int = DEFAULT_EXPIRES_S,
    storage_options: Mapping[str, Any] | None = None,
    *,
    fs: Any = None,
) -> str | None:
    """A link to a published file that works without credentials until it expires (S3, GCS);
    None where the store has no such links (a local folder, ``memory://``). ``fs``: sign with
    this filesystem (the store's own) instead of one opened from ``storage_options``."""
    import fsspec

    if expires_seconds <= 0:
        raise ValueError("expires must be positive")
    if fs is None:
        fs, path = fsspec.core.url_to_fs(url, **dict(storage_options or {}))
    else:
        path = fsspec.core.strip_protocol(url)
    protocol = _protocol(fs)
    if protocol not in ("s3", "s3a", "gs", "gcs"):
        return None
    if protocol.startswith("s3") and expires_seconds > MAX_S3_EXPIRES_S:
        raise ValueError("S3 pre-signed links last at most 7 days (--expires 7d)")
    try:
        return fs.sign(path, expiration=int(expires_seconds))
    except Exception as exc:  # noqa: BLE001 - gcsfs: AttributeError without a private key, ImportError, ...
        raise SignError(f"cannot make a pre-signed link to {url}: {exc}") from exc


def parse_expires(text: str) -> int:
    """``7d``, ``12h``, ``30m``, ``90s`` or plain seconds -> seconds."""
    match = re.fullmatch(r"\s*([0-9]+)\s*([smhd]?)\s*", text or "")
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"expires {text!r}: use a positive number with s, m, h or d (7d)")
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


# -- pieces ---------------------------------------------------------------------------------


@functools.cache
def _bundle() -> str:
    """Vega, Vega-Lite and vega-embed in one script (built once per process: ~6 s)."""
    import vl_convert

    bundle = vl_convert.javascript_bundle(vl_version=VEGA_LITE_VERSION)
    # Inside <script>, only "</script" (any case) or "<!--" could end or confuse the element.
    return re.sub(r"(?i)</(script)", r"<\\/\1", bundle).replace("<!--", "<\\!--")


def _write(storage: Storage, rel: str, data: bytes) -> None:
    """The storage layer's exclusive create, with its write deadline, served as HTML by object
    stores (a pre-signed link then opens in the browser instead of downloading a file)."""
    storage.write_bytes(rel, data, content_type=HTML_TYPE)


def _protocol(fs: Any) -> str:
    protocol = getattr(fs, "protocol", "") or ""
    return protocol[0] if isinstance(protocol, tuple | list) else protocol


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("made_at must be an aware datetime")
    return moment.astimezone(UTC)


def _text(value: object) -> str:
    return html.escape(str(value), quote=True)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _link(url: str) -> str:
    """An <a> only for http(s) links; anything else (``javascript:``, a path) stays text."""
    url = str(url or "").strip()
    scheme = urllib.parse.urlsplit(url).scheme.lower() if url else ""
    if scheme in ("http", "https") and not re.search(r"[\x00-\x20\x7f]", url):
        return f'<a href="{_text(url)}" rel="noopener noreferrer">{_text(url)}</a>'
    return f"<span>{_text(url)}</span>" if url else "<span>(no link)</span>"


def cell_text(value: object) -> str:
    """A table cell as the dashboard shows it: numbers with 4 significant digits, missing
    values empty, the rest as text (escaped by the caller)."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp | datetime):
        return str(value)
    return number_text(value)


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _table_html(table: pd.DataFrame) -> str:
    head = "".join(f"<th>{_text(column)}</th>" for column in table.columns)
    rows = []
    for values in table.itertuples(index=False, name=None):
        cells = "".join(
            f'<td class="number">{_text(cell_text(v))}</td>'
            if _is_number(v)
            else f"<td>{_text(cell_text(v))}</td>"
            for v in values
        )
        rows.append(f"<tr>{cells}</tr>")
    return (
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _csv_link(table: pd.DataFrame, title: str, made: datetime) -> str:
    """The table's full-precision values as a CSV inside the file (a data: link)."""
    csv = csv_text(table)  # RFC 4180 (a "\r" in a name is quoted); no cell runs as a formula
    href = "data:text/csv;charset=utf-8," + urllib.parse.quote(csv, safe="")
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(title)).strip("-.")[:60] or "snapshot"
    name = f"{stem}-{made:%Y%m%dT%H%M%SZ}.csv"
    return f'<p class="csv"><a download="{_text(name)}" href="{_text(href)}">Download CSV</a> ({len(table)} rows)</p>'


def _spec_json(chart: Any) -> tuple[str, str]:
    """A chart as Vega-Lite JSON with its data inline, safe inside <script>, and its renderer."""
    spec = chart if isinstance(chart, Mapping) else chart.to_dict()
    spec = _finite(dict(spec))
    embed = (spec.get("usermeta") or {}).get("embedOptions") or {}
    renderer = "canvas" if isinstance(embed, Mapping) and embed.get("renderer") == "canvas" else "svg"
    if "width" not in spec and not any(
        k in spec for k in ("facet", "hconcat", "vconcat", "concat", "repeat")
    ):
        spec["width"] = "container"  # as wide as the page, like the dashboard's stretch
    text = json.dumps(spec, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    # "<" only ever appears inside JSON strings: as \u003c no "</script" or "<!--" can end or
    # bend the <script> element, and JSON.parse reads back the same text
    return text.replace("<", "\\u003c"), renderer


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity (``JSON.parse`` rejects them): they become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _finite(value.item())
    return value
