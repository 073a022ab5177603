"""What the rest of tracklib asks of a store root: the ``Storage`` protocol and ``FileInfo``.

A ``typing.Protocol`` rather than an ABC: the two implementations (``local.LocalStorage``,
``remote.FsspecStorage``) share almost no code, and a wrapper - a test's fault injector, a
user's instrumented or rate-limited store - then fits wherever a storage goes without
inheriting from anything. Paths given to and returned by these methods are relative to the
root and use ``/``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple, Protocol


class FileInfo(NamedTuple):
    """A listed file: its path relative to the root and what changes when it is replaced.

    A tuple: listings of thousands are compared and hashed on every refresh.
    """

    path: str
    size: int
    version: str  # mtime or ETag: together with size, the cache key of its contents


class Storage(Protocol):
    """A store root. Writes are exclusive creates that publish a whole file at once; nothing
    is ever appended to or overwritten. Obtain one with :func:`tracklib.storage.open_storage`."""

    @property
    def url(self) -> str:
        """The root as the user named it (also the spool's key for this store)."""
        ...

    @property
    def root(self) -> str:
        """The root's path inside ``fs`` (no trailing ``/``)."""
        ...

    @property
    def fs(self) -> Any:
        """The fsspec filesystem holding the root; ``(fs, root)`` name the store."""
        ...

    @property
    def is_local(self) -> bool:
        """Paths are on this machine's filesystem (links can be resolved with ``os``)."""
        ...

    @property
    def on_local_disk(self) -> bool:
        """On a disk of this machine, where a write cannot hang for long: not on a network
        mount (NFS, SMB, FUSE, ...), not an object store, nor where unknown."""
        ...

    @property
    def ignored(self) -> dict[str, str]:
        """Entries listings left out so far (symbolic links, unreadable entries) -> why."""
        ...

    def full_path(self, rel: str) -> str:
        """``rel`` as a path inside ``fs``."""
        ...

    def check_writable(self) -> None:
        """Raise StoreError now on a root that can never be written; warn if it is down now."""
        ...

    def write_bytes(self, rel: str, data: bytes, *, content_type: str | None = None) -> None:
        """Publish ``data`` at ``rel`` all at once; FileExistsError if a file is already there.
        ``content_type``: what an object store serves it as (a local folder has none)."""
        ...

    def put_file(self, rel: str, local_path: str) -> None:
        """Copy a local file to ``rel``, all at once, never over an existing file."""
        ...

    def list_files(self, rel_prefix: str) -> list[FileInfo]:
        """Every file below ``rel_prefix`` (none if it does not exist), sorted by path."""
        ...

    def list_files_after(self, rel_prefix: str, after: str) -> list[FileInfo] | None:
        """Files below ``rel_prefix`` sorting after ``after``, or None where the store cannot
        list from a key (then callers list everything)."""
        ...

    def list_dirs(self, rel_prefix: str) -> list[str]:
        """Names of the folders directly below ``rel_prefix`` (links are never followed)."""
        ...

    def read_many(self, rels: Iterable[str]) -> dict[str, bytes | Exception]:
        """Contents of many files; a file that cannot be read maps to its exception."""
        ...

    def read_bytes(self, rel: str, limit: int | None = None) -> bytes:
        """The file's bytes; with ``limit``, at most ``limit + 1`` of them, so that a caller
        can refuse a file that is too big without reading (or holding) all of it."""
        ...

    def exists(self, rel: str) -> bool: ...

    def delete(self, rels: Iterable[str]) -> None:
        """Remove files; files already gone are fine."""
        ...
