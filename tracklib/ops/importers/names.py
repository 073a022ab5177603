"""Derived file names for imports: two imports of one run compute the same names, so the
exclusive create lets exactly one of them write each file (see importers/common.py)."""

from __future__ import annotations

import hashlib
import math
import posixpath

from ulid import ULID

from tracklib.format import layout, rules
from tracklib.storage import Storage


def file_id(at_ms: int, *seed: object) -> str:
    """A ULID that is a function of ``seed``: the same file gets the same name in every import."""
    digest = hashlib.sha256("\0".join(map(str, seed)).encode()).digest()[:10]
    at_ms = min(max(at_ms, 0), 2**48 - 1)
    return str(ULID.from_bytes(at_ms.to_bytes(6, "big") + digest)).lower()


def millis(seconds: float) -> int:
    return math.floor(seconds * 1000)


def next_part(storage: Storage, project: str, run_id: str, start_time: float) -> str:
    """The name of the next metric part: a function of the newest part present.

    Two imports that see the same parts pick the same name, so only one of them writes it;
    an import that saw fewer parts picks the name of a part that exists, and is refused.
    The name's time sorts after every part there, so parts keep sorting in write order.
    """
    folder = layout.run_dir(layout.METRICS, project, run_id)
    names = sorted(
        posixpath.basename(f.path)[: -len(layout.PARQUET_SUFFIX)]
        for f in storage.list_files(folder)
        if rules.is_data_file(f.path)
    )
    at = millis(start_time)
    if names:
        try:
            at = max(at, ULID.from_str(names[-1].upper()).milliseconds + 1)
        except ValueError:  # a foreign name: the chain still follows from it
            pass
    name = file_id(at, project, run_id, "metrics", names[-1] if names else "")
    return layout.part_path(layout.METRICS, project, run_id, name)
