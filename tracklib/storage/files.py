"""The one place that talks to fsspec: atomic exclusive writes, listing, reading Parquet bytes."""

from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
import uuid
import warnings
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import fsspec
from fsspec.implementations.local import LocalFileSystem

from tracklib.format.errors import StoreError
from tracklib.storage.parquet import (  # noqa: F401 - re-exported until callers import parquet
    SMALL_FILE_ROWS,
    bytes_to_table,
    conform,
    parse_batches,
    parse_part,
    table_to_bytes,
)

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


class FileInfo(NamedTuple):
    """A listed file: its path relative to the root and what changes when it is replaced.

    A tuple: listings of thousands are compared and hashed on every refresh.
    """

    path: str
    size: int
    version: str  # mtime or ETag: together with size, the cache key of its contents


# Filesystems of disks (and memory) of this machine. Anything else - nfs, cifs, fuse.*, lustre,
# ceph, 9p, gpfs - may be a network mount that hangs when its server does.
LOCAL_DISK_FILESYSTEMS = frozenset(
    "ext2 ext3 ext4 xfs btrfs bcachefs zfs f2fs jfs reiserfs tmpfs ramfs overlay vfat exfat ntfs3 apfs".split()
)

_ON_LOCAL_DISK: dict[str, bool] = {}  # root -> on a local disk (found once per process)


def filesystem_type(path: str, mounts: str) -> str | None:
    """The type of the filesystem holding ``path``, from the text of /proc/self/mounts: the
    entry with the longest mount point that contains it (the last one, if mounted twice)."""
    target = os.path.realpath(path)
    best, kind = -1, None
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ").replace("\\011", "\t").replace("\\134", "\\")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= best:
            best, kind = len(point), fields[2]
    return kind


def file_sha256(path: str) -> str:
    """Hex SHA-256 of a local file, read in blocks (artifacts can be large)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


class Storage:
    """A store root: an fsspec filesystem and the root path inside it, kept together."""

    def __init__(self, url: str, storage_options: Mapping[str, Any] | None = None) -> None:
        self.url = url
        self.fs, root = fsspec.core.url_to_fs(url, **fail_fast_options(url, storage_options))
        self.root = root.rstrip("/") if root not in ("", "/") else root
        self.is_local = isinstance(self.fs, LocalFileSystem)
        # root-relative path -> why a listing left it out (links, unusable folder names)
        self.ignored: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"Storage({self.url!r})"

    @property
    def on_local_disk(self) -> bool:
        """A local root on a disk of this machine, where a write cannot hang for long; not on a
        network mount (NFS, SMB, FUSE, Lustre, ...), whose writes can, nor where unknown."""
        if not self.is_local:
            return False
        if self.root not in _ON_LOCAL_DISK:  # once per root and process: mounts rarely change
            try:
                with open("/proc/self/mounts") as mounts:
                    kind = filesystem_type(self.root, mounts.read())
            except OSError:  # not Linux: assume the worst
                kind = None
            _ON_LOCAL_DISK[self.root] = kind in LOCAL_DISK_FILESYSTEMS
        return _ON_LOCAL_DISK[self.root]

    def full_path(self, rel: str) -> str:
        return posixpath.join(self.root, rel) if self.root else rel

    def check_writable(self) -> None:
        """Fail now, with a clear message, on a root that can never be written."""
        if self.is_local:
            try:
                os.makedirs(self.root, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"store root {self.url!r} cannot be created: {exc}") from exc
            if not os.access(self.root, os.W_OK):
                raise StoreError(f"store root {self.url!r} is not writable")
            return
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

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Publish ``data`` at ``rel`` all at once, never over an existing file.

        Raises FileExistsError if the file is already there (a retried write that had landed).
        """
        path = self.full_path(rel)
        if self.is_local:
            self._publish_local(path, lambda tmp: _write_file(tmp, data))
        else:
            self.fs.pipe_file(path, data, mode="create", **self._deadline(len(data)))

    def put_file(self, rel: str, local_path: str) -> None:
        """Copy a local file to ``rel``, all at once, never over an existing file."""
        path = self.full_path(rel)
        if self.is_local:
            self._publish_local(path, lambda tmp: shutil.copyfile(local_path, tmp))
        else:
            self.fs.makedirs(posixpath.dirname(path), exist_ok=True)
            size = os.path.getsize(local_path)
            self.fs.put_file(local_path, path, mode="create", **self._deadline(size))

    def _deadline(self, size: int) -> dict[str, float]:
        # A server that accepts the connection but never answers hangs a PUT forever, whatever
        # botocore's timeouts say; only fsspec's per-call timeout bounds it (async filesystems).
        if getattr(self.fs, "async_impl", False):
            return {"timeout": WRITE_TIMEOUT_S + size / MIN_UPLOAD_BYTES_PER_S}
        return {}

    def _publish_local(self, path: str, write: Any) -> None:
        # Temp name in the same folder (so the link is a rename, not a copy) that no reader
        # globbing *.parquet picks up; os.link publishes atomically and refuses to overwrite.
        folder = os.path.dirname(path)
        os.makedirs(folder, exist_ok=True)
        tmp = os.path.join(folder, f".{os.path.basename(path)}.tmp-{uuid.uuid4().hex}")
        try:
            write(tmp)
            os.link(tmp, path)
        finally:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass

    def list_files(self, rel_prefix: str) -> list[FileInfo]:
        """Every file below ``rel_prefix`` (none if it does not exist), sorted by path."""
        prefix = self.full_path(rel_prefix)
        if self.is_local:
            return _list_local(prefix, rel_prefix, self.ignored)
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
        rather than everything the folder ever held. Local folders list fast enough whole.
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

    def exists(self, rel: str) -> bool:
        return bool(self.fs.exists(self.full_path(rel)))

    def read_bytes(self, rel: str) -> bytes:
        return self.fs.cat_file(self.full_path(rel))

    def delete(self, rels: Iterable[str]) -> None:
        """Remove files (one bulk request per 1,000 on S3); files already gone are fine."""
        paths = [self.full_path(rel) for rel in rels]
        if not paths:
            return
        if self.is_local:
            for path in paths:
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
            for folder in {os.path.dirname(path) for path in paths}:
                try:
                    os.rmdir(folder)  # an emptied run folder would still cost every listing a visit
                except OSError:
                    pass  # not empty (a claim marker, a newer file): keep it
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


def _list_local(folder: str, rel: str, ignored: dict[str, str]) -> list[FileInfo]:
    """``list_files`` on a local disk with ``os.scandir``: 5-10x faster than fsspec's walk.

    Symbolic links are never followed, into folders or to files: a link in a shared store
    could lead outside it (to any file the reader can read) or around in a loop. They are
    left out and named in ``ignored``.
    """
    infos = []
    pending = [] if os.path.islink(folder) else [(folder, rel)]
    if not pending and os.path.lexists(folder):
        ignored[rel] = "a symbolic link: links are not followed"
    while pending:
        path, prefix = pending.pop()
        try:
            entries = list(os.scandir(path))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            try:
                if entry.is_symlink():
                    ignored[f"{prefix}/{entry.name}"] = "a symbolic link: links are not followed"
                elif entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, f"{prefix}/{entry.name}"))
                elif entry.is_file(follow_symlinks=False):
                    stat = entry.stat(follow_symlinks=False)
                    infos.append(FileInfo(f"{prefix}/{entry.name}", stat.st_size, str(stat.st_mtime)))
            except FileNotFoundError:  # removed while listing
                continue
            except OSError as exc:  # unreadable entry: skipped, named
                ignored[f"{prefix}/{entry.name}"] = f"cannot be listed: {exc}"
    infos.sort()
    return infos


def _write_file(path: str, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)


def _is_s3(fs: Any) -> bool:
    """s3fs, told by its protocol: importing s3fs to check would cost local readers 0.5 s."""
    protocol = fs.protocol
    return "s3" in ((protocol,) if isinstance(protocol, str) else protocol) and hasattr(fs, "call_s3")
