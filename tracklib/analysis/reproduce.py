"""The steps back to a run's starting point, from what its environment recorded (FORMAT.md §9):
the commit to check out, the uncommitted diff as a patch ``git apply`` takes, the packages as a
pinned requirements file, the command line with its interpreter, the datasets to check.

Pure: ``tracklib reproduce`` and the Run page's Reproduce panel both show ``reproduction``.
Every recorded value is untrusted (anyone who can write to the store can write a record): the
steps are a shell script in which each value is quoted (``shlex.quote``) or, in a comment,
written so that no line break can end the comment, and what does not look like
what the recorder writes (a commit, a remote URL, a ``name==version``) is left out and named.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

PATCH_FILE = "changes.patch"
REQUIREMENTS_FILE = "requirements.txt"
STEPS_FILE = "reproduce.sh"
TRUNCATED = "[diff truncated]"  # the recorder's last line when it cut the diff (git_state)
MASK = "***"  # what masking.Redactor leaves where a secret was

_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # SHA-1 or SHA-256 object names
_PACKAGE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?==[A-Za-z0-9][A-Za-z0-9.+!_-]*")
_PYTHON = re.compile(r"(\d+)\.(\d+)(?:\.\d+)?\S*")
# What `git clone` should be handed: a URL of a plain transport, scp-like `host:path`, or a path.
# Never `ext::`/`fd::` (they run commands) nor anything starting with `-` (an option).
_REMOTE = re.compile(r"(?:(?:https?|ssh|git|file)://[^\s]+|[\w.-]+@[\w.-]+:[^\s]+|/[^\s]+)")
_DIFF_START = "diff --git "


@dataclass(frozen=True)
class Reproduction:
    """What a run's record allows to recreate, and what it does not (``gaps``, sentences)."""

    run_id: str
    project: str
    commit: str | None
    branch: str | None
    remote: str | None  # as recorded (credentials masked), for showing
    clone_url: str | None  # the remote with the masked credentials taken out, for cloning
    python: str | None
    patch: str | None  # the contents of changes.patch: the recorded diff's files that apply
    requirements: str | None  # the contents of requirements.txt
    command: list[str] | None  # the recorded argv, to run with the interpreter
    datasets: tuple[dict[str, Any], ...]
    gaps: tuple[str, ...]

    def command_line(self) -> str | None:
        """The command as the steps run it: the interpreter, then argv, shell-quoted."""
        if self.command is None:
            return None
        return shlex.join(["python", *self.command])

    def steps(self, inline_files: bool = False) -> str:
        """The steps as a POSIX shell script. ``inline_files``: the script writes changes.patch
        and requirements.txt itself (for printing: one self-contained text); otherwise it reads
        them from its own folder (``--out DIR``, the Run page's downloads)."""
        return _script(self, inline_files)


def reproduction(details: Any) -> Reproduction:
    """The Reproduction of a run, from ``Store.run``'s RunDetails."""
    env = details.environment or {}
    gaps: list[str] = []
    commit = _text(env.get("git_commit"))
    if commit is not None and not _COMMIT.fullmatch(commit):
        gaps.append(f"The recorded commit {commit!r} is not a commit id: left out.")
        commit = None
    if commit is None:
        gaps.append(
            "No git commit was recorded (not a git repository, git missing, no commit yet, or "
            "capture without 'git'): check out the code yourself."
        )
    remote = _text(env.get("git_remote"))
    clone_url = _clone_url(remote, gaps) if commit else None
    patch = _patch(env, gaps) if commit else None
    if commit:
        gaps.append("Untracked files (never added with git add) are not recorded: copy any the run read.")
    requirements = _requirements(env.get("packages"), gaps)
    python = _text(env.get("python"))
    if python is not None and not _PYTHON.fullmatch(python):
        gaps.append(f"The recorded Python version {python!r} is not a version: left out.")
        python = None
    command = _command(env.get("argv"), gaps)
    return Reproduction(
        run_id=str(details.run_id),
        project=str(details.project),
        commit=commit,
        branch=_text(env.get("git_branch")),
        remote=remote,
        clone_url=clone_url,
        python=python,
        patch=patch,
        requirements=requirements,
        command=command,
        datasets=_datasets(details, gaps),
        gaps=tuple(gaps),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _clone_url(remote: str | None, gaps: list[str]) -> str | None:
    if remote is None:
        gaps.append("No remote 'origin' was recorded: set REPO to a clone URL of the repository.")
        return None
    url = remote.replace(MASK + "@", "")  # the credentials masked: a credential helper's turn
    if not _REMOTE.fullmatch(url):
        gaps.append(f"The recorded remote {remote!r} is not a URL git can clone safely: set REPO.")
        return None
    if url != remote:
        gaps.append("The remote's credentials were masked when recorded: cloning uses your own.")
    return url


def _patch(env: dict[str, Any], gaps: list[str]) -> str | None:
    """The recorded diff's per-file parts that ``git apply`` can apply; the others named."""
    diff = _text(env.get("git_diff"))
    if diff is None:
        if env.get("git_dirty"):
            gaps.append(
                "The tree had uncommitted changes, but their diff was not recorded (capture "
                "without 'git_diff'): they cannot be reproduced."
            )
        return None
    truncated = diff.rstrip("\n").endswith(TRUNCATED)
    parts = _file_parts(diff.rstrip("\n").removesuffix(TRUNCATED) if truncated else diff)
    if truncated and parts:
        cut = parts.pop()
        gaps.append(
            f"The diff was cut at its size limit when recorded: the changes to {_path(cut)!r} "
            "and to any files after it are not in the patch."
        )
    kept = []
    for part in parts:
        if not part.startswith(_DIFF_START):
            continue  # text before the first file (none from git): nothing to apply
        body = part.splitlines()
        if any(line.startswith("Binary files ") for line in body):
            gaps.append(f"Binary file {_path(part)!r} changed: its new content was not recorded.")
            continue
        hunks = "\n".join(
            body[next((i for i, line in enumerate(body) if line.startswith("@@")), len(body)) :]
        )
        if MASK in hunks:
            gaps.append(
                f"The changes to {_path(part)!r} hold '***': where that masked a secret, put the "
                "value back (git apply refuses the patch if a masked line is an unchanged or removed one)."
            )
        if "\ufffd" in hunks:
            gaps.append(
                f"The changes to {_path(part)!r} hold bytes that are not UTF-8, recorded as '\ufffd': "
                "git apply may refuse them."
            )
        kept.append(part if part.endswith("\n") else part + "\n")
    return "".join(kept) or None


def _file_parts(diff: str) -> list[str]:
    """The diff split before each ``diff --git`` line."""
    starts = [m.start() for m in re.finditer(r"^diff --git ", diff, re.MULTILINE)]
    bounds = ([0] if not starts or starts[0] > 0 else []) + starts + [len(diff)]
    return [diff[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if diff[a:b]]


def _path(part: str) -> str:
    """The file a part of the diff is about (its new name), as git wrote it."""
    first = part.split("\n", 1)[0].removeprefix(_DIFF_START)
    return first.split(" b/", 1)[-1] if " b/" in first else first


def _requirements(packages: Any, gaps: list[str]) -> str | None:
    if not packages:
        gaps.append("No packages were recorded (capture without 'packages'): no requirements file.")
        return None
    good = [p for p in packages if isinstance(p, str) and _PACKAGE.fullmatch(p)]
    bad = [p for p in packages if not (isinstance(p, str) and _PACKAGE.fullmatch(p))]
    if bad:
        gaps.append(f"Package entries that are not name==version were left out: {bad!r}.")
    gaps.append(
        "The requirements pin what was installed, including packages installed from a folder "
        "(your own project with pip install -e) that no index has: delete those lines."
    )
    return "".join(f"{p}\n" for p in good) or None


def _command(argv: Any, gaps: list[str]) -> list[str] | None:
    if not argv or not all(isinstance(a, str) for a in argv):
        gaps.append("No command line was recorded (capture without 'argv').")
        return None
    first = argv[0]
    if first in ("", "-c"):
        gaps.append("The run was started from code given on the command line or typed in: not recorded.")
        return None
    if first.startswith("-"):  # sys.argv[0] is a script path: an option here ("-cCODE") is a crafted record
        gaps.append(
            f"The recorded command line starts with the option {_comment(first)}, not a script: left out."
        )
        return None
    if "ipykernel" in first:
        gaps.append("The run was started in a Jupyter kernel: run the notebook's cells instead.")
        return None
    if MASK in " ".join(argv):
        gaps.append("The command line holds '***' where a secret was masked: put the values back.")
    gaps.append(
        "The folder the run was started in is not recorded: run the command from the same "
        "folder of the clone (the repository's top folder in these steps)."
    )
    if first.startswith("/"):
        gaps.append(f"The script's path {first!r} is the run's machine's: change it to the clone's.")
    return list(argv)


def _datasets(details: Any, gaps: list[str]) -> tuple[dict[str, Any], ...]:
    """The run's dataset fingerprints (``RunDetails.datasets``: name, source, kind,
    fingerprint, files, bytes), missing values as None."""
    found = getattr(details, "datasets", None)
    rows = [] if found is None else found.to_dict("records") if hasattr(found, "to_dict") else list(found)
    if not rows:
        gaps.append("No datasets were recorded (run.log_dataset): check the data the run read yourself.")
    kept = []
    for row in rows:
        row = row if isinstance(row, dict) else vars(row)
        kept.append({k: (None if _missing(v) else v) for k, v in row.items()})
        if kept[-1].get("fingerprint") is None:
            gaps.append(
                f"Dataset {_comment(kept[-1].get('name'))} has no fingerprint (its store was not reachable)."
            )
    return tuple(kept)


def _missing(value: Any) -> bool:
    try:
        return value is None or bool(value != value)  # None, NaN, pd.NA
    except TypeError:  # pd.NA's comparison has no truth value
        return True


def _comment(value: Any) -> str:
    """A recorded value inside a shell comment: as it is when every character is printable,
    otherwise a Python literal, so no line break, control or bidi character ends the comment."""
    if value is None:
        return "(not recorded)"
    text = str(value)
    return text if text.isprintable() else repr(text)


def _heredoc(name: str, text: str) -> list[str]:
    """Shell lines that write ``text`` to ``name`` literally (a quoted here-document whose end
    word is not a line of the text)."""
    lines = set(text.splitlines())
    end = "TRACKLIB_EOF"
    while end in lines:
        end += "_"
    return [f"cat > \"$HERE/{name}\" <<'{end}'", text.rstrip("\n"), end]


def _script(r: Reproduction, inline_files: bool) -> str:
    out = [
        "#!/bin/sh",
        f"# Recreates the starting point of run {_comment(r.run_id)} of project {_comment(r.project)}",
        "# from what tracklib recorded. Usage: sh reproduce.sh [FOLDER]  (default: reproduce-<run id>)",
        f"# recorded: commit {_comment(r.commit)}, branch {_comment(r.branch)}, remote {_comment(r.remote)},",
        f"#           Python {_comment(r.python)}, command line {_comment(r.command_line())}",
    ]
    if r.gaps:
        out.append("# Not reproduced from the record:")
        out += [f"#  - {_comment(gap)}" for gap in r.gaps]
    out.append("set -eu")
    if not inline_files:  # changes.patch and requirements.txt sit beside this script
        out.append('HERE=$(cd "$(dirname "$0")" && pwd)')
    else:
        out.append("HERE=$(mktemp -d)  # the patch and the requirements, written out here")
        for name, text in ((PATCH_FILE, r.patch), (REQUIREMENTS_FILE, r.requirements)):
            if text is not None:
                out += _heredoc(name, text)
    out.append(f"TARGET=${{1:-reproduce-{re.sub(r'[^A-Za-z0-9_-]', '', r.run_id)[:40]}}}")
    if r.commit is not None:
        out.append("# 1. The code at the recorded commit (the remote must have it: pushed, not only local)")
        default = shlex.quote(r.clone_url) if r.clone_url else '""'
        out += [
            f'if [ -z "${{REPO:-}}" ]; then REPO={default}; fi',
            'if [ -z "$REPO" ]; then echo "set REPO to a clone URL of the repository" >&2; exit 2; fi',
            'git clone -- "$REPO" "$TARGET"',
            'cd "$TARGET"',
            f"git checkout --quiet --detach {r.commit}",
        ]
        if r.patch is not None:
            out += ["# 2. The uncommitted changes", f'git apply --index "$HERE/{PATCH_FILE}"']
    else:
        out += ['mkdir -p "$TARGET"', 'cd "$TARGET"']
    python = f"python{'.'.join(_PYTHON.fullmatch(r.python).groups())}" if r.python else "python3"
    out.append(f"# 3. Python {_comment(r.python)} and the packages")
    out.append(f'"${{PYTHON:-{python}}}" -m venv .venv')
    if r.requirements is not None:
        out.append(f'.venv/bin/python -m pip install -r "$HERE/{REQUIREMENTS_FILE}"')
    if r.datasets:
        out.append(
            "# 4. The datasets the run read (run.log_dataset of the same data gives the same fingerprint)"
        )
        for row in r.datasets:
            out.append(
                f"#    {_comment(row.get('name'))}: {_comment(row.get('fingerprint'))} ({_comment(row.get('kind'))}, "
                f"{_comment(row.get('files'))} files, {_comment(row.get('bytes'))} bytes) from {_comment(row.get('source'))}"
            )
    if r.command is not None:
        out += ["# 5. The recorded command", shlex.join([".venv/bin/python", *r.command])]
    return "\n".join(out) + "\n"
