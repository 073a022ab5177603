"""A store root on this machine's filesystem: ``os`` calls, atomic publish, links never followed."""

from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
import uuid
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from tracklib.format.errors import StoreError
from tracklib.storage.base import FileInfo

# Filesystems of disks (and memory) of this machine. Anything else - nfs, cifs, fuse.*, lustre,
# ceph, 9p, gpfs - may be a network mount that hangs when its server does.
LOCAL_DISK_FILESYSTEMS = frozenset(
    "ext2 ext3 ext4 xfs btrfs bcachefs zfs f2fs jfs reiserfs tmpfs ramfs overlay vfat exfat ntfs3 apfs".split()
)


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


class LocalStorage:
    """A root on this machine's filesystem (a local disk or a network mount such as NFS).

    Files are published by writing a hidden temp file beside them and linking it into place
    (atomic, and never over an existing file); listings walk with ``os.scandir`` and never
    follow symbolic links. ``fs`` is fsspec's LocalFileSystem, for callers that want one.
    """

    is_local = True
    # root -> on a local disk. Asked of /proc/self/mounts once per root for all instances
    # (~0.1 ms each: a sweep opens a storage per run), never again: mounts rarely change, and
    # on a mount that died meanwhile the lookup itself would hang.
    _disk_by_root: ClassVar[dict[str, bool]] = {}

    def __init__(self, url: str, fs: Any, root: str) -> None:
        self.url = url
        self.fs = fs
        self.root = root
        # root-relative path -> why a listing left it out (links, unreadable entries)
        self.ignored: dict[str, str] = {}
        self._on_local_disk: bool | None = None

    def __repr__(self) -> str:
        return f"LocalStorage({self.url!r})"

    @property
    def on_local_disk(self) -> bool:
        """On a disk of this machine, where a write cannot hang for long; not on a network
        mount (NFS, SMB, FUSE, Lustre, ...), whose writes can, nor where unknown."""
        if self._on_local_disk is None:
            known = LocalStorage._disk_by_root.get(self.root)
            if known is None:
                try:
                    with open("/proc/self/mounts") as mounts:
                        kind = filesystem_type(self.root, mounts.read())
                except OSError:  # not Linux: assume the worst
                    kind = None
                known = LocalStorage._disk_by_root[self.root] = kind in LOCAL_DISK_FILESYSTEMS
            self._on_local_disk = known
        return self._on_local_disk

    def full_path(self, rel: str) -> str:
        return posixpath.join(self.root, rel) if self.root else rel

    def check_writable(self) -> None:
        """Fail now, with a clear message, on a root that can never be written."""
        try:
            os.makedirs(self.root, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"store root {self.url!r} cannot be created: {exc}") from exc
        if not os.access(self.root, os.W_OK):
            raise StoreError(f"store root {self.url!r} is not writable")

    def write_bytes(self, rel: str, data: bytes, *, content_type: str | None = None) -> None:
        """Publish ``data`` at ``rel`` all at once, never over an existing file.

        Raises FileExistsError if the file is already there (a retried write that had landed).
        A local file has no content type: ``content_type`` is ignored.
        """
        self._publish(self.full_path(rel), lambda tmp: _write_file(tmp, data))

    def put_file(self, rel: str, local_path: str) -> None:
        """Copy a local file to ``rel``, all at once, never over an existing file."""
        self._publish(self.full_path(rel), lambda tmp: shutil.copyfile(local_path, tmp))

    def _publish(self, path: str, write: Callable[[str], Any]) -> None:
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
        return _list_local(self.full_path(rel_prefix), rel_prefix, self.ignored)

    def list_files_after(self, rel_prefix: str, after: str) -> list[FileInfo] | None:
        """None: local folders list fast enough whole."""
        return None

    def list_dirs(self, rel_prefix: str) -> list[str]:
        """Names of the folders directly below ``rel_prefix``; links to folders are left out."""
        try:
            entries = list(os.scandir(self.full_path(rel_prefix)))
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(entry.name for entry in entries if entry.is_dir(follow_symlinks=False))

    def read_many(self, rels: Iterable[str]) -> dict[str, bytes | Exception]:
        """Contents of many files, one after the other; errors are returned."""
        found: dict[str, bytes | Exception] = {}
        for rel in rels:
            try:
                found[rel] = self.read_bytes(rel)
            except Exception as exc:  # noqa: BLE001 - returned, as object stores' batches do
                found[rel] = exc
        return found

    def read_bytes(self, rel: str, limit: int | None = None) -> bytes:
        with open(self.full_path(rel), "rb") as handle:
            return handle.read() if limit is None else handle.read(limit + 1)

    def exists(self, rel: str) -> bool:
        return os.path.exists(self.full_path(rel))

    def delete(self, rels: Iterable[str]) -> None:
        """Remove files, then the folders they leave empty; files already gone are fine."""
        paths = [self.full_path(rel) for rel in rels]
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
        for _ in range(_RESCANS):
            files, folders, vanished = _scan_folder(path, prefix, ignored)
            if not vanished:
                break
        infos.extend(files)
        pending.extend(folders)
    infos.sort()
    return infos


_RESCANS = 3


def _scan_folder(
    path: str, prefix: str, ignored: dict[str, str]
) -> tuple[list[FileInfo], list[tuple[str, str]], bool]:
    """The files and folders directly in ``path``, and whether a file vanished meanwhile.

    A file that vanishes between the folder's read and its ``stat`` is usually being
    replaced (a live run's new snapshot lands before the old one is deleted), and the new
    one may have landed after the folder was read: the caller reads the folder again
    rather than list neither, which hid a live run from a reader for one refresh.
    """
    try:
        entries = list(os.scandir(path))
    except (FileNotFoundError, NotADirectoryError):
        return [], [], False
    files, folders, vanished = [], [], False
    for entry in entries:
        try:
            if entry.is_symlink():
                ignored[f"{prefix}/{entry.name}"] = "a symbolic link: links are not followed"
            elif entry.is_dir(follow_symlinks=False):
                folders.append((entry.path, f"{prefix}/{entry.name}"))
            elif entry.is_file(follow_symlinks=False):
                stat = entry.stat(follow_symlinks=False)
                files.append(FileInfo(f"{prefix}/{entry.name}", stat.st_size, str(stat.st_mtime)))
        except FileNotFoundError:  # removed while listing
            vanished = True
        except OSError as exc:  # unreadable entry: skipped, named
            ignored[f"{prefix}/{entry.name}"] = f"cannot be listed: {exc}"
    return files, folders, vanished


def _write_file(path: str, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
