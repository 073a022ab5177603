"""What a run ran on: host, Python, argv, git state, packages, GPUs — with secrets removed.

Environment variable values are never captured. Values of variables that look secret
(``*_KEY``, ``*_TOKEN``, ``*_PASSWORD``, ``*_SECRET*``, ...) are masked wherever they appear in
what is captured (argv, git remote, diff), and credentials in URLs are stripped.
"""

from __future__ import annotations

import functools
import getpass
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterable, Mapping
from typing import Any

GIT_DIFF_MAX_BYTES = 100_000
MASK = "***"
CAPTURE_ALL = ("system", "argv", "git", "git_diff", "packages", "gpu")

_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|PWD|CREDENTIAL|AUTH|SESSION)", re.I)
_SECRET_FLAG = re.compile(r"^(--?[\w.-]*(key|token|secret|password|passwd|credential)[\w.-]*)=(.+)$", re.I)
# Bounded scheme and user-info lengths: an unbounded `[a-z0-9+.-]*` made a 1 MB param take
# minutes (every start position rescanned the rest of the string).
_URL_USERINFO = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]{0,31}://)[^/@\s]{0,512}@", re.I)


@functools.lru_cache(maxsize=16)
def _secret_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """The variable names that look secret (a sweep starts a run every few ms: match once)."""
    return tuple(name for name in names if _SECRET_NAME.search(name))


class Redactor:
    """Masks known secret values and URL credentials in captured text."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._secrets = sorted(
            {value for name in _secret_names(tuple(environ)) if len(value := environ[name]) >= 6},
            key=len,
            reverse=True,
        )

    def __call__(self, text: str) -> str:
        if "://" in text and "@" in text:
            text = _URL_USERINFO.sub(r"\g<scheme>", text)
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def argv(self, args: Iterable[str]) -> list[str]:
        masked, hide_next = [], False
        for arg in args:
            if hide_next:
                masked.append(MASK)
                hide_next = False
                continue
            match = _SECRET_FLAG.match(arg)
            if match:
                arg = f"{match.group(1)}={MASK}"
            elif arg.startswith("-") and _SECRET_FLAG.match(arg + "=x"):
                hide_next = True
            masked.append(self(arg))
        return masked


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
        found["git_diff"] = redact(diff)
    return found


def _gpus() -> list[str]:
    if shutil.which("nvidia-smi") is None:
        return []
    names = _run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"])
    return [line.strip() for line in (names or "").splitlines() if line.strip()]
