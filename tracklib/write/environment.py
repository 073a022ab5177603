"""What a run ran on: host, Python, argv, git state, packages, GPUs — with secrets masked.

Environment variable values are never captured; argv, the git remote and the diff go through
``masking.Redactor`` (secret-named variables' values, URL credentials, credential query
parameters and well-known token formats become ``***``).

A process that starts many runs (a sweep, an Optuna study) pays for the slow parts once: what
cannot change within a process (host, Python, GPUs) is read once, the package list again only
when a ``sys.path`` folder changed (their stats, see ``probes``), and git is asked again only
when HEAD, the index, a config file or a tracked file changed (``git_state``). What is captured
is always what asking afresh would give at that moment.
"""

from __future__ import annotations

import functools
import getpass
import os
import platform
import shutil
import socket
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from tracklib.format import layout
from tracklib.format.ids import new_id
from tracklib.format.schema import ENVIRONMENT_SCHEMA, FORMAT_VERSION
from tracklib.format.values import storable
from tracklib.storage.parquet import table_to_bytes
from tracklib.write import git_state, probes
from tracklib.write.masking import Redactor

# "console" is the run's stdout and stderr (write/console.py), captured by the run, not here
CAPTURE_ALL = ("system", "argv", "git", "git_diff", "packages", "gpu", "console")


def reused(
    capture: Iterable[str] = CAPTURE_ALL, redactor: Redactor | None = None, cwd: str | None = None
) -> dict[str, Any] | None:
    """What ``capture`` gives, if it can come from what earlier runs of this process read, all
    of it unchanged since (stats only, well under a millisecond); None when a process would
    have to be started (the first run, a change, a large tree). A sweep's run then writes its
    environment at once, without a thread that its few milliseconds could not hide."""
    try:
        with probes.no_process():
            return _capture(capture, redactor, cwd)
    except Exception:  # noqa: BLE001 - a process needed, or a failure the full capture will report
        return None


def capture(
    capture: Iterable[str] = CAPTURE_ALL, redactor: Redactor | None = None, cwd: str | None = None
) -> dict[str, Any]:
    """The environment row (see ENVIRONMENT_SCHEMA) for what ``capture`` names; git runs in ``cwd``."""
    return _capture(capture, redactor, cwd)


def _capture(capture: Iterable[str], redactor: Redactor | None, cwd: str | None) -> dict[str, Any]:
    wanted = set(capture)
    redact = redactor or Redactor(os.environ)
    env: dict[str, Any] = {}
    if "system" in wanted:
        host, user, python, platform_ = _system()
        # the pid each time: a forked child is another process
        env.update(host=host, user=user, pid=os.getpid(), python=python, platform=platform_)
    if "argv" in wanted:
        env["argv"] = redact.argv(sys.argv)  # a few µs: masked afresh, so an edited sys.argv shows
    if "git" in wanted:
        env.update(git_state.capture(redact, with_diff="git_diff" in wanted, cwd=cwd))
    if "packages" in wanted:
        env["packages"] = list(_packages())
    if "gpu" in wanted:
        env["gpus"] = list(_gpus())
    return env


# the last environment row built: its env, schema and table
_table: tuple[dict[str, Any], pa.Schema, pa.Table] | None = None


def table(env: dict[str, Any], head: dict[str, Any], schema: pa.Schema) -> pa.Table:
    """``head | env`` as a one-row table of ``schema``, env's strings made storable (argv and
    git diffs of non-UTF-8 file names hold lone surrogates: stored escaped). A sweep's runs
    share one environment: it is built once (~0.2 ms), then only ``head`` (run id, time) is set."""
    global _table
    last = _table
    if last is None or last[1] is not schema or last[0] != env:
        built = pa.Table.from_pylist([head | storable(env)], schema=schema)
        _table = (env, schema, built)
        return built
    built = last[2]
    for name, value in head.items():
        at = schema.get_field_index(name)
        built = built.set_column(at, schema.field(at), pa.array([value], schema.field(at).type))
    return built


def part(env: dict[str, Any], project: str, run_id: str) -> tuple[str, bytes]:
    """A run's environment file, its path and bytes (a sweep's runs share one built row)."""
    head = {"format_version": FORMAT_VERSION, "run_id": run_id, "record_time": datetime.now(tz=UTC)}
    rel = layout.part_path(layout.ENVIRONMENT, project, run_id, new_id())
    return rel, table_to_bytes(table(env, head, ENVIRONMENT_SCHEMA))


@functools.cache
def _system() -> tuple[str, str | None, str, str]:
    """Host, user, Python version and platform: fixed for the life of a process."""
    return socket.gethostname(), _user(), sys.version.split()[0], platform.platform()


# sys.path with its folders' stats, and the packages found in them
_listed: tuple[tuple[Any, ...], tuple[str, ...]] | None = None


def _packages() -> tuple[str, ...]:
    """``name==version`` of every installed distribution, listed again only when ``sys.path`` or
    one of its folders changed since (a ``pip install`` from within the process)."""
    global _listed
    now = time.time_ns()
    key = tuple((folder, probes.stat(folder or ".", follow=True)) for folder in sys.path)
    if _listed is not None and _listed[0] == key:
        return _listed[1]
    found = _list_packages()
    if probes.settled([stat for _, stat in key], now):
        _listed = (key, found)
    return found


def _list_packages() -> tuple[str, ...]:
    """The ``*.dist-info`` folder names of ``sys.path``.

    The spec fixes those names as ``{name}-{version}.dist-info``; reading them is ~50x faster
    than opening every METADATA file.
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


@functools.cache
def _gpus() -> tuple[str, ...]:
    """The GPUs' names: asked of nvidia-smi once per process."""
    if shutil.which("nvidia-smi") is None:
        return ()
    names = probes.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"])
    return tuple(line.strip() for line in (names or "").splitlines() if line.strip())
