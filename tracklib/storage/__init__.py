"""The I/O seam: every read, write, listing and delete of a store goes through a ``Storage``.

``open_storage(url, storage_options)`` picks the implementation: ``local.LocalStorage`` for a
folder of this machine, ``remote.FsspecStorage`` for any other fsspec URL (S3, GCS, Azure,
``memory://``). Parquet encoding and decoding is in ``tracklib.storage.parquet``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from tracklib.storage.base import FileInfo, Storage
from tracklib.storage.local import LocalStorage, file_sha256
from tracklib.storage.remote import FsspecStorage, fail_fast_options

__all__ = ["FileInfo", "FsspecStorage", "LocalStorage", "Storage", "file_sha256", "open_storage"]


def open_storage(url: str | os.PathLike[str], storage_options: Mapping[str, Any] | None = None) -> Storage:
    """The storage of the root ``url`` (a folder or any fsspec URL); ``storage_options`` go to
    fsspec unchanged, except that S3 clients fail fast unless told otherwise."""
    url = os.fspath(url)
    fs, root = fsspec.core.url_to_fs(url, **fail_fast_options(url, storage_options))
    root = root.rstrip("/") if root not in ("", "/") else root
    if isinstance(fs, LocalFileSystem):
        return LocalStorage(url, fs, root)
    return FsspecStorage(url, fs, root)
