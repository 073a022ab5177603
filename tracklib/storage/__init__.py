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

from tracklib import config
from tracklib.storage.base import FileInfo, Storage
from tracklib.storage.local import LocalStorage, file_sha256
from tracklib.storage.remote import FsspecStorage, fail_fast_options

__all__ = [
    "FileInfo",
    "FsspecStorage",
    "LocalStorage",
    "Storage",
    "file_sha256",
    "given_or_opened",
    "open_storage",
]


def open_storage(url: str | os.PathLike[str], storage_options: Mapping[str, Any] | None = None) -> Storage:
    """The storage of the root ``url`` (a folder or any fsspec URL); ``storage_options`` go to
    fsspec unchanged, except that S3 clients fail fast unless told otherwise."""
    url = os.fspath(url)
    fs, root = fsspec.core.url_to_fs(url, **fail_fast_options(url, storage_options))
    root = root.rstrip("/") if root not in ("", "/") else root
    if isinstance(fs, LocalFileSystem):
        return LocalStorage(url, fs, root)
    return FsspecStorage(url, fs, root)


def given_or_opened(
    storage: Storage | None,
    root: str | os.PathLike[str] | None,
    storage_options: Mapping[str, Any] | None,
) -> Storage:
    """What ``init``, ``open_store`` and ``compact`` work on: the ``storage`` they were handed
    (a wrapper of one, say, that counts or fails calls), else the storage of ``root`` (default
    ``$TRACKLIB_ROOT`` or ``./tracking``). Giving both is an error: one would be ignored."""
    if storage is None:
        return open_storage(config.resolve_root(root), storage_options)
    if root is not None or storage_options is not None:
        raise ValueError("pass either storage= or root=/storage_options=, not both")
    return storage
