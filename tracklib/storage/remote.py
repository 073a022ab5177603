"""A store root on any other fsspec filesystem: S3, GCS, Azure, ``memory://``, ...

Writes are exclusive creates (``mode="create"``: ``If-None-Match: *`` on object stores) bounded
by a per-call deadline, and S3 clients are told to fail fast: the uploader retries with its
own backoff, then spools.
"""

from __future__ import annotations

import os
import posixpath
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from tracklib.format.errors import StoreError
from tracklib.storage.base import FileInfo

WRITE_TIMEOUT_S = 30.0
MIN_UPLOAD_BYTES_PER_S = 1_000_000
# botocore's defaults spend ~10 s per attempt on a dead endpoint and retry on top of s3fs's
# retries; our uploader retries with its own backoff, so each attempt should fail fast.
S3_FAIL_FAST = {"connect_timeout": 3, "read_timeout": 30, "retries": {"max_attempts": 1}}


def fail_fast_options(url: str, storage_options: Mapping[str, Any] | None) -> dict[str, Any]:
    """``storage_options`` with fail-fast network settings for S3, unless the user set them."""
    options = dict(storage_options or {})
    if url.startswith(("s3://", "s3a://")):
        options["config_kwargs"] = S3_FAIL_FAST | dict(options.get("config_kwargs", {}))
    return options


class FsspecStorage:
    """A root on an fsspec filesystem that is not this machine's disk; ``(fs, root)`` together."""

    is_local = False
    on_local_disk = False
    # no listing leaves anything out here; a dict so callers treat every storage alike
    ignored: dict[str, str]

    def __init__(self, url: str, fs: Any, root: str) -> None:
        self.url = url
        self.fs = fs
        self.root = root
        self.ignored = {}

    def __repr__(self) -> str:
        return f"FsspecStorage({self.url!r})"

    def full_path(self, rel: str) -> str:
        return posixpath.join(self.root, rel) if self.root else rel

    def check_writable(self) -> None:
        """Fail now, with a clear message, on a bucket that is missing or forbidden; only warn
        when the store cannot be reached now (files then wait in the spool)."""
        top = self.root.split("/", 1)[0]
        if not top:
            return
        try:
            self.fs.info(top)
        except FileNotFoundError:
            raise StoreError(f"store root {self.url!r}: bucket {top!r} does not exist") from None
        except PermissionError as exc:
            raise StoreError(f"store root {self.url!r}: access denied ({exc})") from exc
        except Exception as exc:  # noqa: BLE001 - down or slow now: the uploader retries, then spools
            warnings.warn(
                f"tracklib: store root {self.url!r} cannot be reached now ({exc!r}); "
                "logging goes on and files wait in the local spool until it is back",
                RuntimeWarning,
                stacklevel=3,
            )

    def write_bytes(self, rel: str, data: bytes, *, content_type: str | None = None) -> None:
        """Publish ``data`` at ``rel`` all at once, never over an existing file.

        Raises FileExistsError if the file is already there (a retried write that had landed).
        ``content_type`` is what S3 and GCS serve the object as (a signed link to an HTML file
        then opens in the browser); other filesystems have no such setting.
        """
        extra = self._deadline(len(data)) | _content_type(self.fs, content_type)
        self.fs.pipe_file(self.full_path(rel), data, mode="create", **extra)

    def put_file(self, rel: str, local_path: str) -> None:
        """Copy a local file to ``rel``, all at once, never over an existing file."""
        path = self.full_path(rel)
        self.fs.makedirs(posixpath.dirname(path), exist_ok=True)
        size = os.path.getsize(local_path)
        self.fs.put_file(local_path, path, mode="create", **self._deadline(size))

    def _deadline(self, size: int) -> dict[str, float]:
        # A server that accepts the connection but never answers hangs a PUT forever, whatever
        # botocore's timeouts say; only fsspec's per-call timeout bounds it (async filesystems).
        if getattr(self.fs, "async_impl", False):
            return {"timeout": WRITE_TIMEOUT_S + size / MIN_UPLOAD_BYTES_PER_S}
        return {}

    def list_files(self, rel_prefix: str) -> list[FileInfo]:
        """Every file below ``rel_prefix`` (none if it does not exist), sorted by path."""
        prefix = self.full_path(rel_prefix)
        self._forget_listings(prefix)
        try:
            found = self.fs.find(prefix, detail=True)
        except FileNotFoundError:
            return []
        strip = len(self.root) + 1 if self.root else 0
        infos = []
        for path, info in found.items():
            if info.get("type") == "directory":
                continue
            version = str(
                info.get("ETag")
                or info.get("etag")
                or info.get("mtime")
                or info.get("LastModified")
                or info.get("created")
                or ""
            )
            infos.append(FileInfo(path[strip:].lstrip("/"), int(info.get("size") or 0), version))
        infos.sort(key=lambda item: item.path)
        return infos

    def list_files_after(self, rel_prefix: str, after: str) -> list[FileInfo] | None:
        """Files below ``rel_prefix`` whose paths sort after ``after``, or None where the store
        cannot list from a key (then list everything).

        On S3 this is one short ListObjectsV2 with StartAfter, whose cost follows what is new
        rather than everything the folder ever held.
        """
        if not _is_s3(self.fs):
            return None
        bucket, _, key_prefix = self.full_path(rel_prefix).rstrip("/").partition("/")
        request = {
            "Bucket": bucket,
            "Prefix": f"{key_prefix}/",
            "StartAfter": self.full_path(after).partition("/")[2],
        }
        strip = len(self.root) + 1 if self.root else 0
        infos = []
        while True:
            page = self.fs.call_s3("list_objects_v2", **request)
            for item in page.get("Contents", []):
                path = f"{bucket}/{item['Key']}"
                infos.append(FileInfo(path[strip:].lstrip("/"), int(item["Size"]), str(item["ETag"])))
            if not page.get("IsTruncated"):
                return sorted(infos, key=lambda info: info.path)
            request["ContinuationToken"] = page["NextContinuationToken"]

    def list_dirs(self, rel_prefix: str) -> list[str]:
        """Names of the folders directly below ``rel_prefix``."""
        self._forget_listings(self.full_path(rel_prefix))
        try:
            entries = self.fs.ls(self.full_path(rel_prefix), detail=True)
        except FileNotFoundError:
            return []
        return sorted(
            posixpath.basename(entry["name"].rstrip("/"))
            for entry in entries
            if entry.get("type") == "directory" and not entry.get("islink")  # links: never followed
        )

    def _forget_listings(self, path: str) -> None:
        """Drop cached listings of ``path``, its parents *and its sub-folders*.

        s3fs answers ``cat_file`` from its listing cache when it has one: a sub-folder
        listed while a run was writing (say by the dashboard) made the run's later files
        "not found" forever. ``invalidate_cache(path)`` alone keeps those sub-folders.
        """
        self.fs.invalidate_cache(path)
        cache = getattr(self.fs, "dircache", None)
        if cache:
            for key in [k for k in list(cache) if k.startswith(path.rstrip("/") + "/")]:
                cache.pop(key, None)

    def read_many(self, rels: Iterable[str]) -> dict[str, bytes | Exception]:
        """Contents of many files at once (concurrent on object stores); errors are returned.

        A file that fails in the concurrent batch for another reason than being gone
        (throttling, a reset connection) is read once more on its own.
        """
        full = {self.full_path(rel): rel for rel in rels}
        if not full:
            return {}
        fetched = self.fs.cat(list(full), on_error="return")
        found = {rel: fetched.get(path, FileNotFoundError(path)) for path, rel in full.items()}
        for rel, value in found.items():
            if isinstance(value, Exception) and not isinstance(value, FileNotFoundError):
                try:
                    found[rel] = self.read_bytes(rel)
                except Exception as exc:  # noqa: BLE001 - returned, as in the batch
                    found[rel] = exc
        return found

    def read_bytes(self, rel: str, limit: int | None = None) -> bytes:
        if limit is None:
            return self.fs.cat_file(self.full_path(rel))
        return self.fs.cat_file(self.full_path(rel), start=0, end=limit + 1)  # a ranged GET

    def exists(self, rel: str) -> bool:
        return bool(self.fs.exists(self.full_path(rel)))

    def delete(self, rels: Iterable[str]) -> None:
        """Remove files (one bulk request per 1,000 on S3); files already gone are fine."""
        paths = [self.full_path(rel) for rel in rels]
        if not paths:
            return
        try:
            self.fs.rm(paths)
        except FileNotFoundError:  # some filesystems stop at the first missing file
            for path in paths:
                try:
                    self.fs.rm_file(path)
                except FileNotFoundError:
                    pass
        for folder in {posixpath.dirname(path) for path in paths}:
            self._forget_listings(folder)


def _content_type(fs: Any, content_type: str | None) -> dict[str, str]:
    """The keyword s3fs (``ContentType``) or gcsfs (``content_type``) takes for it."""
    if not content_type:
        return {}
    protocol = fs.protocol
    protocols = (protocol,) if isinstance(protocol, str) else tuple(protocol)
    if _is_s3(fs):
        return {"ContentType": content_type}
    if {"gs", "gcs"} & set(protocols):
        return {"content_type": content_type}
    return {}


def _is_s3(fs: Any) -> bool:
    """s3fs, told by its protocol: importing s3fs to check would cost local readers 0.5 s."""
    protocol = fs.protocol
    return "s3" in ((protocol,) if isinstance(protocol, str) else protocol) and hasattr(fs, "call_s3")
