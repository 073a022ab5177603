"""Dataset fingerprints for ``run.log_dataset`` (FORMAT.md §6, Datasets).

Local data is fingerprinted by content (SHA-256, streamed: a file is never read whole into
memory); remote data by the object store's own version metadata (version id, generation,
ETag, checksum), from ``info``/``find`` listings: never a download. A folder's fingerprint
hashes a manifest of its files' relative paths, sizes and hashes, sorted, so it changes when
one byte of one file changes, or a file is added, removed or renamed.
"""

from __future__ import annotations

import hashlib
import os
import stat
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tracklib.format.errors import InvalidValueError
from tracklib.format.record import Dataset
from tracklib.format.values import check_key, check_text

HASH = "sha256"  # hashlib's OpenSSL SHA-256: the same hash as the artifacts' sha256
# Object metadata that names a version of an object's content, best first: S3's version id,
# GCS's generation, the Hugging Face Hub's git blob id, the ETag (S3, GCS, Azure), then
# checksums, then a modification time.
VERSION_FIELDS = (
    "VersionId", "generation", "blob_id", "ETag", "etag", "md5Hash", "crc32c", "ContentMD5", "content_md5",
    "LastModified", "last_modified", "updated", "mtime", "created",
)  # fmt: skip
LOCAL_PROTOCOLS = (None, "file", "local")


@dataclass(frozen=True)
class Fingerprint:
    kind: str  # "file" or "folder" (local content), "remote-file" or "remote-folder" (metadata)
    fingerprint: str  # "sha256:<hex>"
    files: int
    bytes: int
    unfollowed_links: int = 0  # local symbolic links fingerprinted by their text, not their target
    unversioned: int = 0  # remote objects without any version metadata (names and sizes only)


def is_local(source: str) -> bool:
    """Whether ``source`` names this machine's files (a path or a ``file://`` URL)."""
    import fsspec.core

    return fsspec.core.split_protocol(source)[0] in LOCAL_PROTOCOLS


def local_fingerprint(source: str) -> Fingerprint:
    """The content fingerprint of a local file or folder.

    ``source`` itself may be a symbolic link (the user named it). Inside a folder, links are
    followed only to regular files inside the folder; a link that leads out of it, or to a
    folder, is fingerprinted by its target's text (so re-pointing it changes the fingerprint)
    and never opened. Sockets, pipes and devices are left out (reading a pipe would block).

    Raises:
        FileNotFoundError: nothing at ``source``.
        ValueError: ``source`` is neither a regular file nor a folder.
    """
    path = source.removeprefix("file://")
    if not os.path.exists(path):
        raise FileNotFoundError(f"log_dataset: source {source!r} does not exist")
    real = os.path.realpath(path)
    if os.path.isfile(real):
        digest, size = _file_digest(real)
        return Fingerprint("file", f"{HASH}:{digest}", 1, size)
    if not os.path.isdir(real):
        raise ValueError(f"log_dataset: source {source!r} is neither a regular file nor a folder")
    lines, files, total, links = [], 0, 0, 0
    for rel, entry in _walk(real):
        if isinstance(entry, bytes):  # a link not followed: its target's text
            lines.append(rel + b"\0link\0" + entry + b"\n")
            links += 1
            continue
        digest, size = _file_digest(entry)
        lines.append(rel + b"\0" + str(size).encode() + b"\0" + digest.encode() + b"\n")
        files, total = files + 1, total + size
    return Fingerprint("folder", _manifest_hash(lines), files, total, unfollowed_links=links)


def _file_digest(path: str) -> tuple[str, int]:
    """SHA-256 hex and size of a file, read in blocks; the size is of the bytes hashed."""
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, HASH).hexdigest()
        return digest, handle.tell()


def _walk(root: str) -> list[tuple[bytes, str | bytes]]:
    """``(relative path, file path to hash | link text)`` of every regular file and link below
    ``root``; relative paths as bytes (a file name need not be UTF-8), ``/``-separated."""
    found: list[tuple[bytes, str | bytes]] = []
    pending = [(b"", root)]
    while pending:
        rel_dir, folder = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                rel = rel_dir + os.fsencode(entry.name)
                mode = entry.stat(follow_symlinks=False).st_mode
                if stat.S_ISLNK(mode):
                    target = os.path.realpath(entry.path)
                    if os.path.commonpath([root, target]) == root and os.path.isfile(target):
                        found.append((rel, target))
                    else:
                        found.append((rel, os.fsencode(os.readlink(entry.path))))
                elif stat.S_ISDIR(mode):
                    pending.append((rel + b"/", entry.path))
                elif stat.S_ISREG(mode):
                    found.append((rel, entry.path))
    return found


def _manifest_hash(lines: list[bytes]) -> str:
    digest = hashlib.new(HASH)
    for line in sorted(lines):
        digest.update(line)
    return f"{HASH}:{digest.hexdigest()}"


def remote_fingerprint(fs: Any, path: str) -> Fingerprint:
    """The metadata fingerprint of an object or a prefix of objects on ``fs``.

    Raises:
        FileNotFoundError: no object or prefix at ``path``.
        OSError and the filesystem's own errors: the store could not be asked.
    """
    fs.invalidate_cache(path)  # fsspec keeps one filesystem per options, with its listings
    info = fs.info(path)
    if info.get("type") == "directory":
        kind = "remote-folder"
        prefix = path.rstrip("/") + "/"
        found = fs.find(path, detail=True, withdirs=False)
        items = [(name.removeprefix(prefix), meta) for name, meta in sorted(found.items())]
    else:
        kind, items = "remote-file", [("", info)]
    lines, total, unversioned = [], 0, 0
    for rel, meta in items:
        size = int(meta.get("size") or 0)
        version = _version(meta)
        unversioned += version == ""
        total += size
        fields = [rel.encode("utf-8", "surrogateescape"), str(size).encode(), version.encode()]
        lines.append(b"\0".join(fields) + b"\n")
    return Fingerprint(kind, _manifest_hash(lines), len(items), total, unversioned=unversioned)


def describe(
    name: str, source: Any, storage_options: Mapping[str, Any] | None, redact: Callable[[str], str]
) -> Dataset:
    """What ``run.log_dataset`` records: checks, fingerprint, and the source as ``redact``
    masks it (``user:pass@``, signed query strings). ``storage_options`` go to fsspec only.

    A missing source or a bad argument raises here; a remote store that cannot be asked
    (network, permissions) gives a dataset without fingerprint and a warning.
    """
    check_key(name, "dataset")
    if not isinstance(source, (str, os.PathLike)) or isinstance(os.fspath(source), bytes):
        raise InvalidValueError(f"dataset {name!r}: source must be a path or URL string, got {source!r}")
    source = check_text(os.fspath(source), f"dataset {name!r} source")
    if not source:
        raise InvalidValueError(f"dataset {name!r}: source is empty")
    if storage_options is not None and not isinstance(storage_options, Mapping):
        raise InvalidValueError(f"dataset {name!r}: storage_options must be a mapping")
    shown = redact(source)
    if is_local(source):
        if storage_options:
            raise InvalidValueError(
                f"dataset {name!r}: storage_options are for remote sources, not {shown!r}"
            )
        found = local_fingerprint(source)
        if found.unfollowed_links:
            _warn(
                f"{found.unfollowed_links} symbolic link(s) in {shown!r} lead out of it or to folders: "
                "fingerprinted by where they point, their data not read"
            )
        return Dataset(name, shown, found.kind, found.fingerprint, found.files, found.bytes)
    import fsspec.core

    from tracklib.storage.remote import fail_fast_options

    fs, path = fsspec.core.url_to_fs(source, **fail_fast_options(source, storage_options))
    try:
        found = remote_fingerprint(fs, path)
    except Exception as exc:  # noqa: BLE001 - the store, not the call, failed: keep what is known
        if isinstance(exc, FileNotFoundError) and _nothing_there(exc):
            raise FileNotFoundError(f"log_dataset: no object or prefix at {shown!r}") from None
        # (fsspec's HTTP filesystem says "not found" for a refused connection too: its cause tells)
        _warn(
            f"could not read the metadata of {shown!r} ({redact(repr(exc.__cause__ or exc))}): "
            f"dataset {name!r} is recorded without a fingerprint"
        )
        return Dataset(name, shown, "remote", None, None, None)
    if found.unversioned:
        _warn(
            f"{found.unversioned} object(s) of {shown!r} carry no version metadata (ETag, version id, "
            "checksum or time): fingerprinted by name and size only"
        )
    return Dataset(name, shown, found.kind, found.fingerprint, found.files, found.bytes)


def _nothing_there(error: FileNotFoundError) -> bool:
    """Whether the store answered "no such object" (rather than not answering at all)."""
    cause = error.__cause__
    if cause is None or isinstance(cause, FileNotFoundError) or getattr(cause, "status", None) in (404, 410):
        return True
    response = getattr(cause, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return code in ("404", "NoSuchKey", "NoSuchBucket", "NotFound")


def _warn(message: str) -> None:
    warnings.warn(f"tracklib: log_dataset: {message}", RuntimeWarning, stacklevel=4)


def _version(meta: dict[str, Any]) -> str:
    """``field=value`` of the first version metadata the listing has, else ``""``."""
    for field in VERSION_FIELDS:
        value = meta.get(field)
        if value not in (None, "", "null"):
            return f"{field}={value}"
    return ""
