"""A store whose records are hostile, for the dashboard and browser tests.

Every field a page shows (names, tags, notes, group, error, params, metric keys, artifact
names) carries Markdown, HTML and link payloads aimed at ``evil.example``; every "seed" param
is an int beyond int64 (Arrow cannot carry it); one run's record lists artifact paths that
point out of its own artifacts folder.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

import tracklib
from tracklib.format.ids import new_id

EVIL = "evil.example"
PROJECT = "digits"
SECRET = b"TOP-SECRET-host-file-content"
GENUINE = b"genuine artifact bytes"  # the victim's one real artifact
PAYLOADS = [
    f"[Re-login](https://{EVIL}/login)",
    f"![x](https://{EVIL}/pixel.png)",
    "<img src=x onerror=alert(1)>",
    f"<a href='https://{EVIL}'>a</a>",
    f"https://{EVIL}/autolink and www.{EVIL}",
    f"mail@{EVIL}",
    ":red[red] :material/home: :material_home: :smile: :streamlit:",
    "$x^2$ and $$y$$",
    "**bold** _it_ `code` ~~gone~~ <b>raw</b>",
    "# heading\n\n- item\n\nsetext\n===",
    f"[ref]\n\n[ref]: https://{EVIL}",
    "a -> b <= c",
    "\u202etxt.exe",
]
METRICS = [f"![m](https://{EVIL}/m.png)/loss", ":red[acc]", "val/acc"]


@dataclass(frozen=True)
class HostileStore:
    root: str
    ids: list[str]
    victim: str  # the run whose record lists crafted artifact paths
    secret_file: str  # outside the store; a symlink in the victim's folder points at it


def seed_hostile_store(root: str, runs: int = 42) -> HostileStore:
    """``runs`` runs (at least 40) with payloads in every field, one with crafted artifacts."""
    ids = []
    for i in range(runs):
        payload = PAYLOADS[i % len(PAYLOADS)]
        run = tracklib.init(
            PROJECT,
            root=root,
            name=f"{payload} #{i}",
            tags=[payload, f"t{i % 3}"],
            notes=payload,
            group=PAYLOADS[(i + 1) % len(PAYLOADS)],
            params={payload: PAYLOADS[(i + 2) % len(PAYLOADS)], "lr": 10 ** -(i % 4), "seed": 2**70 + i},
            capture=False,
        )
        for step in range(3):
            run.log({key: (i + 1) / (step + 1 + j) for j, key in enumerate(METRICS)})
        if i == 0:
            honest = _log_file(run, "model.bin", GENUINE)
        run.finish("failed" if i % 7 == 0 else "finished", payload if i % 7 == 0 else None)
        ids.append(run.id)
    with tracklib.init("other", root=root, name="neighbour", capture=False) as other:
        other_artifact = _log_file(other, "neighbour-secret.txt", SECRET)
    victim = ids[0]
    secret_file = str(Path(tempfile.mkdtemp(prefix="outside-")) / "host-secret.txt")
    Path(secret_file).write_bytes(SECRET)
    link = f"artifacts/project={PROJECT}/run_id={victim}/{new_id()}/linked.txt"
    os.makedirs(Path(root, link).parent)
    os.symlink(secret_file, Path(root, link))
    _rewrite_artifacts(
        root,
        victim,
        [
            honest,
            _artifact("passwd", f"artifacts/project={PROJECT}/run_id={victim}/x/../../../../etc/passwd"),
            _artifact("absolute", "/etc/passwd"),
            _artifact("neighbour", other_artifact["path"]),
            _artifact("linked.txt", link),
            _artifact(f"[name](https://{EVIL})", f"artifacts/project={PROJECT}/run_id={victim}/..%2F/x"),
        ],
    )
    return HostileStore(root, ids, victim, secret_file)


def _log_file(run: tracklib.Run, name: str, content: bytes) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(content)
        return vars(run.log_artifact(path))


def _artifact(name: str, path: str) -> dict[str, object]:
    return {"name": name, "path": path, "size": 28, "sha256": "0" * 64}


def _rewrite_artifacts(root: str, run_id: str, artifacts: list[dict[str, object]]) -> None:
    """A newer record snapshot of ``run_id`` listing ``artifacts``: what anyone who can write
    to a shared store can do, with pyarrow alone."""
    newest = tracklib.open_store(root).newest_record(PROJECT, run_id)
    row = newest.to_pylist()[0]
    row.update(seq=row["seq"] + 1, artifacts=artifacts)
    path = Path(root, f"records/project={PROJECT}/run_id={run_id}/{new_id()}.parquet")
    pq.write_table(pa.Table.from_pylist([row], schema=newest.schema), path)


_PUNCTUATION = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_LIVE_SOURCE = {
    "a link, image, footnote or directive": re.compile(r"[\[\]]"),
    "HTML or an autolink": re.compile(r"<"),
    "math": re.compile(r"\$"),
    "a heading or a rule": re.compile(r"^ {0,3}(=+|-+|#+)[ \t]*$|^ {0,3}#+ ", re.MULTILINE),
}
_LIVE_TEXT = {
    "an autolink": re.compile(r"https?://|www\.|[\w.+-]@[\w-]+\.\w", re.IGNORECASE),
    "an icon or emoji shortcode": re.compile(r":(material[/_]\w+|streamlit|[a-z_+-][\w+-]*):"),
    "an arrow": re.compile(r"(^|\s)(<->|->|<-|--|>=|<=|~=)(\s|$)"),
}
_BADGE = re.compile(r":[a-z]+-badge\[(.*)\]", re.DOTALL)  # st.badge wraps its (escaped) label


def _unescape(source: str) -> tuple[str, str]:
    """(the characters CommonMark leaves unescaped, blanks elsewhere; the text as it reads)."""
    live, text, i = [], [], 0
    while i < len(source):
        if source[i] == "\\" and i + 1 < len(source) and source[i + 1] in _PUNCTUATION:
            live.append(" ")
            text.append(source[i + 1])
            i += 2
        else:
            live.append(source[i])
            text.append(source[i])
            i += 1
    return "".join(live), "".join(text)


def live_markup(source: str) -> list[str]:
    """What Streamlit's Markdown would make of ``source`` besides plain text (a model of it:
    CommonMark escapes, then GFM autolinks, icons, shortcodes and arrows found in the text)."""
    badge = _BADGE.fullmatch(source)
    live, text = _unescape(badge.group(1) if badge else source)
    found = [what for what, pattern in _LIVE_SOURCE.items() if pattern.search(live)]
    return found + [what for what, pattern in _LIVE_TEXT.items() if pattern.search(text)]


def reads_as(source: str) -> str:
    """The text a reader sees: escapes undone, invisible joiners gone, hard breaks as newlines."""
    text = _unescape(source)[1].replace("  \n", "\n").replace("\u00a0", " ")
    return text.replace("\u2060", "").replace("\u200b", "")


MARKDOWN_BODIES = {"Markdown", "Alert", "Heading", "Toast", "Metric"}  # not Code or Text: those are literal


def markdown_strings(node) -> list[str]:
    """Every string a page hands to a Markdown renderer: bodies, labels, help, expander labels."""
    proto = getattr(node, "proto", None)
    fields = {f.name for f in proto.DESCRIPTOR.fields} if hasattr(proto, "DESCRIPTOR") else set()
    found = [getattr(proto, name) for name in ("label", "help") if name in fields]
    if "expandable" in fields and proto.HasField("expandable"):
        found.append(proto.expandable.label)
    if "body" in fields and proto.DESCRIPTOR.name in MARKDOWN_BODIES:
        found.append(proto.body)
    for child in getattr(node, "children", {}).values():
        found += markdown_strings(child)
    return [s for s in found if s]


def assert_renders_as_text(at) -> None:
    """No exception, and nothing the page shows (main area or sidebar) renders as markup."""
    assert not at.exception, [e.value for e in at.exception]
    strings = markdown_strings(at.main) + markdown_strings(at.sidebar)
    live = {s: live_markup(s) for s in strings if live_markup(s)}
    assert not live, live
