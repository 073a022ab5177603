"""Where each kind of file lives under a store root (pure path arithmetic, posix only).

records/project=<p>/run_id=<id>/<file-id>.parquet       run record snapshots
index/project=<p>/<file-id>.parquet                     compacted records: newest row per run
metrics/project=<p>/run_id=<id>/<file-id>.parquet       metric parts (long rows)
environment/project=<p>/run_id=<id>/<file-id>.parquet   captured environment
artifacts/project=<p>/run_id=<id>/<file-id>/<name>      artifact files
claims/project=<p>/run_id=<id>/<start|resume-N>          markers fencing two writers of one run
settings/project=<p>/<file-id>.parquet                   saved project settings: the newest counts
snapshots/project=<p>/<utc-time>-<random>.html           frozen HTML views to share (FORMAT.md §17)
images/project=<p>/run_id=<id>/<file-id>.parquet        image index parts: key, step, caption, size (§18)
media/project=<p>/run_id=<id>/<file-id>.png              the logged images' PNG files (§18)
"""

from __future__ import annotations

import re

from tracklib.format.errors import InvalidKeyError, UnsafePathError

RECORDS = "records"
INDEX = "index"
METRICS = "metrics"
ENVIRONMENT = "environment"
ARTIFACTS = "artifacts"
CLAIMS = "claims"  # markers fencing two writers of one run (format 1.2; in records/ before)
SETTINGS = "settings"  # a project's saved headline metric, direction and columns (FORMAT.md §16)
SNAPSHOTS = "snapshots"  # published HTML snapshots of dashboard views (FORMAT.md §17); no reader lists it
IMAGES = "images"  # index parts of run.log_image (FORMAT.md §18)
MEDIA = "media"  # the PNG files those parts point at: kept out of images/, which holds only Parquet
PARQUET_SUFFIX = ".parquet"

_PROJECT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\- ]{0,127}$")
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def check_project(project: object) -> str:
    """Project names become folder names: letters, digits, ``_ . - space``, at most 128."""
    if not isinstance(project, str) or not _PROJECT.fullmatch(project) or project != project.strip():
        raise InvalidKeyError(
            f"project name {project!r} is not allowed: use letters, digits, '_', '.', '-' or "
            "spaces (not at either end), at most 128 characters"
        )
    return project


def check_run_id(run_id: object) -> str:
    """Generated ids are lowercase ULIDs; custom ones may use letters, digits, ``_`` and ``-``."""
    if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id):
        raise InvalidKeyError(
            f"run id {run_id!r} is not allowed: use letters, digits, '_' or '-', at most 64"
        )
    return run_id


def project_dir(kind: str, project: str) -> str:
    return f"{kind}/project={project}"


def run_dir(kind: str, project: str, run_id: str) -> str:
    return f"{project_dir(kind, project)}/run_id={run_id}"


def part_path(kind: str, project: str, run_id: str, file_id: str) -> str:
    return f"{run_dir(kind, project, run_id)}/{file_id}{PARQUET_SUFFIX}"


def index_path(project: str, file_id: str) -> str:
    return f"{project_dir(INDEX, project)}/{file_id}{PARQUET_SUFFIX}"


def settings_path(project: str, file_id: str) -> str:
    """One save of a project's settings; saves never overwrite, the newest name counts."""
    return f"{project_dir(SETTINGS, check_project(project))}/{file_id}{PARQUET_SUFFIX}"


def snapshot_path(project: str, name: str) -> str:
    """A published snapshot; ``name`` is the writer's ``<utc-time>-<random>.html``."""
    if not re.fullmatch(r"[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8,32}\.html", name):
        raise InvalidKeyError(f"snapshot name {name!r} is not <YYYYMMDDTHHMMSSZ>-<hex>.html")
    return f"{project_dir(SNAPSHOTS, check_project(project))}/{name}"


def claim_path(project: str, run_id: str, what: str) -> str:
    """A marker fencing two writers of one run, in its own tree: data folders hold only
    Parquet files, so engines can scan them whole (``polars.scan_parquet("records/")``)."""
    return f"{run_dir(CLAIMS, project, run_id)}/{what}"


def legacy_claim_path(project: str, run_id: str, what: str) -> str:
    """Where format 1.0 and 1.1 writers put the same marker: beside the run's records."""
    return f"{run_dir(RECORDS, project, run_id)}/_claim-{what}"


def artifact_path(project: str, run_id: str, file_id: str, name: str) -> str:
    """Each upload gets its own folder: files stay immutable when a name is logged again."""
    return f"{run_dir(ARTIFACTS, project, run_id)}/{file_id}/{check_artifact_name(name)}"


def check_artifact_name(name: object) -> str:
    """An artifact name is a relative posix path that stays inside the run's folder."""
    if not isinstance(name, str) or not name:
        raise InvalidKeyError(f"artifact name must be a non-empty string, got {name!r}")
    parts = name.split("/")
    if (
        "\\" in name
        or name.startswith("/")
        or any(part in ("", ".", "..") for part in parts)
        or any(ord(ch) < 32 for ch in name)
    ):
        raise InvalidKeyError(
            f"artifact name {name!r} must be a relative path without '..', '.', empty parts, "
            "backslashes or control characters"
        )
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidKeyError(
            f"artifact name {name!r} is not valid UTF-8 (a non-UTF-8 file name decoded by "
            "os.fsdecode); pass name= with a readable name"
        ) from None
    return name


def check_artifact_location(path: object, project: str | None = None, run_id: str | None = None) -> str:
    """The run folder an artifact path from a record lies in, or UnsafePathError.

    A record is untrusted input: its path must be ``artifacts/project=<p>/run_id=<id>/<file-id>/<name>``
    with a valid project, run id and name (so no ``..``, no absolute path, no backslash), and
    belong to the given run when one is given.
    """
    parts = path.split("/", 4) if isinstance(path, str) else []
    try:
        if len(parts) != 5 or parts[0] != ARTIFACTS or not parts[1].startswith("project="):
            raise InvalidKeyError("not under artifacts/project=<p>/run_id=<id>/")
        found_project = check_project(parts[1][len("project=") :])
        if not parts[2].startswith("run_id="):
            raise InvalidKeyError("not under artifacts/project=<p>/run_id=<id>/")
        found_run = check_run_id(parts[2][len("run_id=") :])
        check_run_id(parts[3])  # the upload's file id: one plain folder name
        check_artifact_name(parts[4])
    except InvalidKeyError as exc:
        raise UnsafePathError(f"{path!r} is not an artifact path: {exc}") from None
    if (project is not None and found_project != project) or (run_id is not None and found_run != run_id):
        raise UnsafePathError(f"{path!r} is not an artifact of run {project}/{run_id}")
    return run_dir(ARTIFACTS, found_project, found_run)


def media_path(project: str, run_id: str, file_id: str) -> str:
    """Where a logged image's PNG lives; its key, step and caption are in images/ (§18)."""
    return f"{run_dir(MEDIA, project, run_id)}/{file_id}.png"


_MEDIA_NAME = re.compile(r"^[0-9a-z]{26}\.png$")


def check_media_location(path: object, project: str, run_id: str) -> str:
    """``path`` from an images/ row, if it is ``media/project=<p>/run_id=<id>/<ulid>.png`` of
    that very run; else UnsafePathError (a crafted row must not make a reader open anything else)."""
    prefix = f"{run_dir(MEDIA, check_project(project), check_run_id(run_id))}/"
    if (
        not isinstance(path, str)
        or not path.startswith(prefix)
        or not _MEDIA_NAME.fullmatch(path[len(prefix) :])
    ):
        raise UnsafePathError(f"{path!r} is not an image of run {project}/{run_id}")
    return path
