"""The local spool: parts and records that could not reach the store yet wait here as files.

Layout: ``<spool dir>/<hash of root url>/root.txt`` holds the root URL (never credentials);
below it, files at the same relative paths they will have in the store. Upload is idempotent
(exclusive create; "already exists" means an earlier attempt landed), so ``sync`` can run any
number of times, from any process.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from dataclasses import dataclass

from tracklib.storage import Storage

ROOT_FILE = "root.txt"


@dataclass(frozen=True)
class SyncResult:
    uploaded: int
    failed: int


class Spool:
    """The spool folder for one store root."""

    def __init__(self, spool_dir: str, root_url: str) -> None:
        self.root_url = root_url
        self.dir = os.path.join(spool_dir, hashlib.sha256(root_url.encode()).hexdigest()[:16])

    def local_path(self, rel: str) -> str:
        return os.path.join(self.dir, *rel.split("/"))

    def save(self, rel: str, data: bytes) -> str:
        """Keep ``data`` for later upload; returns the local file."""
        return self._publish(rel, lambda tmp: _write(tmp, data))

    def stage_file(self, rel: str, source: str) -> str:
        """Copy a local file into the spool (so later edits to the source do not matter)."""
        return self._publish(rel, lambda tmp: shutil.copyfile(source, tmp))

    def _publish(self, rel: str, write) -> str:  # type: ignore[no-untyped-def]
        path = self.local_path(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        marker = os.path.join(self.dir, ROOT_FILE)
        if not os.path.exists(marker):
            _write(marker, self.root_url.encode())
        tmp = f"{path}.tmp-{uuid.uuid4().hex}"
        write(tmp)
        os.replace(tmp, path)
        return path

    def pending(self) -> list[str]:
        """Relative store paths of everything waiting in this spool."""
        found = []
        for folder, _, files in os.walk(self.dir):
            for name in files:
                if name == ROOT_FILE or ".tmp-" in name:
                    continue
                rel = os.path.relpath(os.path.join(folder, name), self.dir)
                found.append(rel.replace(os.sep, "/"))
        return sorted(found)

    def upload(self, storage: Storage, rel: str) -> None:
        """Upload one spooled file and forget it; raises if the store refuses."""
        path = self.local_path(rel)
        if not os.path.exists(path):
            return  # another process's sync uploaded it already
        try:
            storage.put_file(rel, path)
        except FileExistsError:
            pass  # an earlier attempt landed
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass

    def sync(self, storage: Storage, rels: list[str] | None = None) -> SyncResult:
        """Upload everything pending (or just ``rels``); what fails stays for the next sync."""
        uploaded = failed = 0
        for rel in self.pending() if rels is None else rels:
            try:
                self.upload(storage, rel)
                uploaded += 1
            except Exception:  # noqa: BLE001 - the store is still down: keep it for next time
                failed += 1
        return SyncResult(uploaded, failed)


def spooled_roots(spool_dir: str) -> list[str]:
    """Root URLs that have a spool folder under ``spool_dir``."""
    roots = []
    if os.path.isdir(spool_dir):
        for entry in sorted(os.listdir(spool_dir)):
            marker = os.path.join(spool_dir, entry, ROOT_FILE)
            if os.path.isfile(marker):
                with open(marker, encoding="utf-8") as handle:
                    roots.append(handle.read())
    return roots


def _write(path: str, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
