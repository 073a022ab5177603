"""A snapshot file read as a browser reads it, for tests: headers, cells, chart specs, the CSV."""

from __future__ import annotations

import json
import urllib.parse
from html.parser import HTMLParser


class Document(HTMLParser):
    """The snapshot as a browser reads it: table headers and cells, chart specs, the CSV link."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.headers: list[str] = []
        self.rows: list[list[str]] = []
        self.specs: list[dict] = []
        self.csv = ""
        self._cell: list[str] | None = None
        self._spec: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "script" and "data-chart" in attrs:
            self._spec = []
        elif tag == "a" and "download" in attrs:
            self.csv = urllib.parse.unquote(attrs["href"].split(",", 1)[1])

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            text, self._cell = "".join(self._cell), None
            (self.headers.append(text) if tag == "th" else self.rows[-1].append(text))
        elif tag == "script" and self._spec is not None:
            self.specs.append(json.loads("".join(self._spec)))
            self._spec = None

    def handle_data(self, data):
        for part in (self._cell, self._spec):
            if part is not None:
                part.append(data)

    @property
    def body_rows(self) -> list[list[str]]:
        return [row for row in self.rows if row]
