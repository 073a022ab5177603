"""The git state of a run's working directory: commit, branch, whether it is dirty, the remote
and the diff against HEAD, with the remote and the diff masked (``masking.Redactor``).

A process that starts many runs (a sweep) asks git again only when HEAD, the index, a config
file or a tracked file changed (their stats; past MAX_STAT_FILES, one ``git status`` per run);
what is captured is always what asking afresh would give at that moment (see ``capture``).
"""

from __future__ import annotations

import functools
import os
import shutil
import time
from typing import Any

from tracklib.write import probes
from tracklib.write.masking import Redactor

GIT_DIFF_MAX_BYTES = 100_000
# Up to this many tracked files a run stats them all (~2 µs each) to know that git would say
# what it said for the last run; past it, one `git status` per run costs about as much.
MAX_STAT_FILES = 1_000

# What earlier runs of this process found, each with the stats of what it was read from: reused
# while those are unchanged and were settled (probes.SETTLE_NS). Replaced whole, never edited: the runs'
# capture threads share them.
_repos: dict[str, tuple[Any, tuple[str, str, str]]] = {}  # cwd -> (toplevel, git dir, common dir)
_tracked: tuple[Any, tuple[bytes, ...] | None] | None = None  # index -> tracked paths
_facts: tuple[Any, tuple[bytes, str | None, str | None]] | None = None  # tree -> status, remote, diff
_remote: tuple[Any, str | None] | None = None  # config files -> remote
_diff: tuple[Any, str] | None = None  # status and the changed files -> diff
_masked: tuple[str, Redactor, str] | None = None  # diff and redactor -> masked diff


def capture(redact: Redactor, with_diff: bool, cwd: str | None) -> dict[str, Any]:
    """The commit, branch, remote, whether the tree is dirty, and its diff against HEAD.

    In a work tree of up to MAX_STAT_FILES tracked files, a run that finds HEAD, the index,
    the git config and every tracked file (their stats) as the last run found them reuses what
    git said then, and starts no process. Otherwise one ``git status`` says the commit, the
    branch and the changed files; the remote is asked again when a config file changed, the
    diff when the status or the changed files' stats did. Outside a work tree (a bare
    repository, inside ``.git``) every value is asked of git each time.
    """
    if _which_git() is None:
        return {}
    try:
        here = os.path.realpath(cwd or os.getcwd())
    except OSError:  # the working directory was removed
        return capture_each_time(redact, with_diff, cwd)
    repo = _repo(here)
    if repo is None:
        return {}
    if not isinstance(repo, tuple):  # no work tree
        return capture_each_time(redact, with_diff, cwd)
    facts = _ask_git(cwd, repo, with_diff)
    if facts is None:
        _repos.pop(here, None)
        return capture_each_time(redact, with_diff, cwd)
    status, remote, diff = facts
    commit, branch, changes, _, _ = _parse_status(status)
    if commit is None or commit == "(initial)":  # no commit yet: as `git rev-parse HEAD` failing
        return {}
    found: dict[str, Any] = {
        "git_commit": commit,
        "git_branch": "HEAD" if branch == "(detached)" else branch,  # as `git rev-parse --abbrev-ref`
        "git_dirty": bool(changes),
        "git_remote": redact(remote) if remote else None,
    }
    if diff is not None:
        found["git_diff"] = _mask_diff(redact, diff)
    return found


def _ask_git(
    cwd: str | None, repo: tuple[str, str, str], with_diff: bool
) -> tuple[bytes, str | None, str | None] | None:
    """``git status`` (porcelain v2), the remote, and the diff (None when clean or not asked);
    None if git status failed."""
    global _facts
    toplevel, git_dir, common_dir = repo
    now = time.time_ns()  # before any stat, so a change after it cannot look settled
    configs = _config_key(git_dir, common_dir)
    tree = _tree_key(toplevel, git_dir, common_dir, now)
    key = (toplevel, with_diff, configs, tree)
    if tree is not None and _facts is not None and _facts[0] == key:
        return _facts[1]
    status = _status(cwd)
    if status is None:
        return None
    _, _, changes, paths, plain = _parse_status(status)
    remote = _origin(cwd, configs, now)
    diff = None
    if with_diff and changes:
        if tree is not None:  # every tracked file's stat is in the key: a plain read will do
            diff = _read_diff(cwd)
        else:
            diff = _changed_diff(cwd, (toplevel, status, configs), paths if plain else None, now)
    if tree is not None and probes.settled(_stats_of(configs) + tree[1], now):
        _facts = (key, (status, remote, diff))
    return status, remote, diff


def _tree_key(toplevel: str, git_dir: str, common_dir: str, now: int) -> tuple[bytes, tuple[Any, ...]] | None:
    """HEAD's text, and the stats of HEAD, the refs, the index and every tracked file: what
    ``git status`` reads. None past MAX_STAT_FILES, or with a submodule (whose own state no
    stat here shows)."""
    head_path = os.path.join(git_dir, "HEAD")
    index = probes.stat(os.path.join(git_dir, "index"))
    head = probes.stat(head_path)
    tracked = _tracked_paths(toplevel, git_dir, index, now)
    if tracked is None:
        return None
    try:
        with open(head_path, "rb") as file:
            head_text = file.read(4096)
    except OSError:
        return None
    refs = [os.path.join(common_dir, "packed-refs"), os.path.join(common_dir, "reftable", "tables.list")]
    if head_text.startswith(b"ref: "):
        refs.append(os.path.join(common_dir, os.fsdecode(head_text[5:].strip())))
    return head_text, (index, head, *(probes.stat(ref) for ref in refs), *probes.lstats(tracked))


def _tracked_paths(
    toplevel: str, git_dir: str, index: tuple[int, ...] | None, now: int
) -> tuple[bytes, ...] | None:
    """The index's files (``git ls-files``, as absolute paths), listed again when the index
    changed; None past MAX_STAT_FILES or when one is not a plain file or symlink (a submodule,
    a sparse folder)."""
    global _tracked
    if _tracked is not None and _tracked[0] == (git_dir, index):
        return _tracked[1]
    out = probes.run_bytes(["git", "ls-files", "--stage", "-z"], cwd=toplevel)
    paths: tuple[bytes, ...] | None = None
    if out is not None:
        entries = [entry.split(b"\t", 1) for entry in out.split(b"\0") if entry]
        if len(entries) <= MAX_STAT_FILES and all(
            len(e) == 2 and e[0][:6] in (b"100644", b"100755", b"120000") for e in entries
        ):
            top = os.fsencode(toplevel)  # conflicts list a path thrice: once is enough
            paths = tuple(dict.fromkeys(os.path.join(top, path) for _, path in entries))
    if probes.settled([index], now):
        _tracked = ((git_dir, index), paths)
    return paths


def _status(cwd: str | None) -> bytes | None:
    """Commit, branch and changed files in one call; no optional locks, so a run never holds
    ``index.lock`` while the user commits."""
    args = ["status", "--porcelain=v2", "--branch", "-z", "--untracked-files=no", "--no-ahead-behind"]
    return probes.run_bytes(["git", "--no-optional-locks", *args], cwd=cwd)


def capture_each_time(redact: Redactor, with_diff: bool, cwd: str | None) -> dict[str, Any]:
    """Every value asked of git, one command each: where there is no work tree to stat."""

    def git(*args: str) -> str | None:
        return probes.run(["git", *args], cwd=cwd)

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
        found["git_diff"] = redact(_read_diff(cwd), code=True)
    return found


# A patch `git apply` takes, whatever the user's git config says: no colours, external diff
# tools, text conversions, other prefixes or paths relative to the working directory.
DIFF_ARGS = ("--no-color", "--no-ext-diff", "--no-textconv", "--no-relative")
DIFF_ARGS += ("--src-prefix=a/", "--dst-prefix=b/")


def _read_diff(cwd: str | None) -> str:
    out = probes.run_bytes(["git", "diff", *DIFF_ARGS, "HEAD"], cwd=cwd)
    # not stripped: the last line's "\r" of a CRLF file is part of the patch
    diff = "" if out is None else out.decode("utf-8", errors="replace")
    if len(diff.encode()) > GIT_DIFF_MAX_BYTES:
        diff = diff.encode()[:GIT_DIFF_MAX_BYTES].decode("utf-8", "ignore") + "\n[diff truncated]\n"
    return diff


@functools.cache
def _which(path: str | None) -> str | None:
    return shutil.which("git", path=path)


def _which_git() -> str | None:
    return _which(os.environ.get("PATH"))


def _git_environ() -> tuple[tuple[str, str], ...]:
    """The ``GIT_*`` variables: they can point git at another repository or config."""
    return tuple(sorted((k, os.environ[k]) for k in os.environ if k.startswith("GIT_")))  # 3x items()


_NO_WORK_TREE = "no work tree"


def _repo(here: str) -> tuple[str, str, str] | str | None:
    """The work tree's top folder, git folder and common git folder of ``here``; _NO_WORK_TREE
    in a bare repository or a git folder; None outside any repository.

    Reused while the folders from ``here`` up to the top are unchanged: a repository made
    inside one of them (``git init``) changes that folder.
    """
    known = _repos.get(here)
    if known is not None and known[0] == (_git_environ(), _folder_stats(here, known[1][0])):
        return known[1]
    now = time.time_ns()
    out = probes.run(["git", "rev-parse", "--absolute-git-dir", "--git-common-dir", "--is-inside-work-tree",
                "--show-cdup"], cwd=here)  # fmt: skip
    if out is None:
        return None
    lines = out.splitlines()
    if len(lines) < 3 or lines[2] != "true":
        return _NO_WORK_TREE
    git_dir, common_dir = lines[0], os.path.join(here, lines[1])
    toplevel = os.path.realpath(os.path.join(here, lines[3] if len(lines) > 3 else ""))
    stats = _folder_stats(here, toplevel)
    if probes.settled(stats, now):
        _repos[here] = ((_git_environ(), stats), (toplevel, git_dir, common_dir))
    return toplevel, git_dir, common_dir


def _folder_stats(here: str, toplevel: str) -> tuple[Any, ...]:
    folders = [here]
    while folders[-1] != toplevel and os.path.dirname(folders[-1]) != folders[-1]:
        folders.append(os.path.dirname(folders[-1]))
    return tuple(probes.stat(folder) for folder in folders)


def _parse_status(out: bytes) -> tuple[str | None, str | None, tuple[bytes, ...], list[bytes], bool]:
    """Commit, branch, the changed-file lines and the paths they name (relative to the top),
    from ``git status --porcelain=v2 --branch -z``; ``plain``: no submodule and no entry of an
    unknown kind, so the paths' stats say whether the diff changed."""
    fields = iter(out.split(b"\0"))
    commit = branch = None
    changes: list[bytes] = []
    paths: list[bytes] = []
    plain = True
    for field in fields:
        if field.startswith(b"# branch.oid "):
            commit = field[len(b"# branch.oid ") :].decode("utf-8", "replace")
        elif field.startswith(b"# branch.head "):
            branch = field[len(b"# branch.head ") :].decode("utf-8", "replace")
        elif field and not field.startswith(b"#"):
            changes.append(field)
            spaces = {b"1": 8, b"2": 9, b"u": 10}.get(field[:1])
            if spaces is None:
                plain = False
                continue
            parts = field.split(b" ", spaces)
            plain = plain and len(parts) == spaces + 1 and parts[2] == b"N..."
            paths.append(parts[-1])
            if field[:1] == b"2":  # a rename or copy: the path it came from is the next field
                origin = next(fields, b"")
                changes.append(origin)
                paths.append(origin)
    return commit, branch, tuple(changes), paths, plain


def _config_key(git_dir: str, common_dir: str) -> tuple[Any, ...]:
    """Every git config and attributes file that can change the remote's URL or the diff (their
    stats), and the ``GIT_*`` variables."""
    home = os.path.expanduser("~")
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    files = [
        os.path.join(common_dir, "config"),
        os.path.join(git_dir, "config.worktree"),
        os.path.join(common_dir, "info", "attributes"),
        os.environ.get("GIT_CONFIG_GLOBAL") or os.path.join(home, ".gitconfig"),
        os.path.join(xdg, "git", "config"),
        os.path.join(xdg, "git", "attributes"),
        os.environ.get("GIT_CONFIG_SYSTEM") or "/etc/gitconfig",
    ]
    return (_git_environ(), *((file, probes.stat(file, follow=True)) for file in files))


def _origin(cwd: str | None, configs: tuple[Any, ...], now: int) -> str | None:
    """``git remote get-url origin``, asked again when a config file changed."""
    global _remote
    if _remote is not None and _remote[0] == configs:
        return _remote[1]
    remote = probes.run(["git", "remote", "get-url", "origin"], cwd=cwd)
    if probes.settled(_stats_of(configs), now):
        _remote = (configs, remote)
    return remote


def _changed_diff(cwd: str | None, key: tuple[Any, ...], paths: list[bytes] | None, now: int) -> str:
    """``git diff HEAD`` where the tree is too large to stat whole: read again only when the
    status, the changed files' stats or a config file changed. ``paths`` None: a submodule
    changed, whose stats say nothing."""
    global _diff
    if paths is None:
        return _read_diff(cwd)
    toplevel, status, configs = key
    top = os.fsencode(toplevel)
    stats = tuple(probes.stat(os.path.join(top, path)) for path in paths)
    key = (*key, stats)
    if _diff is not None and _diff[0] == key:
        return _diff[1]
    diff = _read_diff(cwd)
    # Kept for the next run only if nothing changed while the diff was read (status and stats
    # the same after it: a file edited and reverted in between would leave a wrong diff).
    if (
        probes.settled(stats + _stats_of(configs), now)
        and _status(cwd) == status
        and tuple(probes.stat(os.path.join(top, path)) for path in paths) == stats
    ):
        _diff = (key, diff)
    return diff


def _mask_diff(redact: Redactor, diff: str) -> str:
    """The diff masked (~16 ms for 100 kB), or as the last run masked the same diff alike."""
    global _masked
    last = _masked
    if last is not None and (last[0] is diff or last[0] == diff) and last[1] == redact:
        return last[2]
    masked = redact(diff, code=True)
    _masked = (diff, redact, masked)
    return masked


def _stats_of(configs: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(stat for _, stat in configs[1:])
