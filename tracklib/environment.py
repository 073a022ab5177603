"""What a run ran on: host, Python, argv, git state, packages, GPUs — with secrets masked.

Environment variable values are never captured; argv, the git remote and the diff go through
``masking.Redactor`` (secret-named variables' values, URL credentials, credential query
parameters and well-known token formats become ``***``).
"""

from __future__ import annotations

import functools
import getpass
import os
import platform
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterable
from typing import Any

from tracklib.masking import Redactor

GIT_DIFF_MAX_BYTES = 100_000
CAPTURE_ALL = ("system", "argv", "git", "git_diff", "packages", "gpu")


def capture(
    capture: Iterable[str] = CAPTURE_ALL, redactor: Redactor | None = None, cwd: str | None = None
) -> dict[str, Any]:
    """The environment row (see ENVIRONMENT_SCHEMA) for what ``capture`` names; git runs in ``cwd``."""
    wanted = set(capture)
    redact = redactor or Redactor(os.environ)
    env: dict[str, Any] = {}
    if "system" in wanted:
        env.update(
            host=socket.gethostname(),
            user=_user(),
            pid=os.getpid(),
            python=sys.version.split()[0],
            platform=platform.platform(),
        )
    if "argv" in wanted:
        env["argv"] = redact.argv(sys.argv)
    if "git" in wanted:
        env.update(_git(redact, with_diff="git_diff" in wanted, cwd=cwd))
    if "packages" in wanted:
        env["packages"] = list(_packages())
    if "gpu" in wanted:
        env["gpus"] = _gpus()
    return env


@functools.lru_cache(maxsize=1)
def _packages() -> tuple[str, ...]:
    """``name==version`` of every installed distribution, from the ``*.dist-info`` folder names.

    The spec fixes those names as ``{name}-{version}.dist-info``; reading them is ~50x faster
    than opening every METADATA file, and a process's packages do not change under it.
    """
    found = set()
    for folder in sys.path:
        try:
            entries = os.listdir(folder or ".")
        except OSError:
            continue
        for entry in entries:
            stem = entry.removesuffix(".dist-info")
            if stem != entry and stem.count("-") == 1:
                name, version = stem.split("-")
                found.add(f"{name}=={version}")
    return tuple(sorted(found, key=str.lower))


def _user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        return None


def _run(args: list[str], cwd: str | None = None) -> str | None:
    try:
        done = subprocess.run(args, capture_output=True, timeout=5, check=False, cwd=cwd)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", errors="replace").strip()


def _git(redact: Redactor, with_diff: bool, cwd: str | None) -> dict[str, Any]:
    if shutil.which("git") is None:
        return {}

    def git(*args: str) -> str | None:
        return _run(["git", *args], cwd=cwd)

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {}
    status = git("status", "--porcelain", "--untracked-files=no")
    remote = git("remote", "get-url", "origin")
    found: dict[str, Any] = {
        "git_commit": commit,
        "git_branch": git("rev-parse", "--abbrev-ref", "HEAD"),
        "git_dirty": bool(status),
        "git_remote": redact(remote) if remote else None,
    }
    if with_diff and status:
        diff = git("diff", "HEAD") or ""
        if len(diff.encode()) > GIT_DIFF_MAX_BYTES:
            diff = diff.encode()[:GIT_DIFF_MAX_BYTES].decode("utf-8", "ignore") + "\n[diff truncated]\n"
        found["git_diff"] = redact(diff, code=True)
    return found


def _gpus() -> list[str]:
    if shutil.which("nvidia-smi") is None:
        return []
    names = _run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"])
    return [line.strip() for line in (names or "").splitlines() if line.strip()]
