"""The on-disk schemas, the format version and the run statuses (pure).

See docs/FORMAT.md for the specification these schemas implement; the checks and encoding of
logged values are in ``values``.
"""

from __future__ import annotations

import enum

import pyarrow as pa

FORMAT_VERSION = "1.3"
FORMAT_VERSION_KEY = b"tracklib.format_version"
FILE_METADATA = {FORMAT_VERSION_KEY: FORMAT_VERSION.encode()}
# A compacted file names the files it replaces (JSON list of root-relative paths): readers
# that list both, in the moment between compaction's write and delete, ignore the old ones.
REPLACES_KEY = b"tracklib.replaces"


class Status(enum.StrEnum):
    """Lifecycle of a run. ``stale`` is never written: readers derive it from the heartbeat."""

    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    KILLED = "killed"
    STALE = "stale"


TIMESTAMP = pa.timestamp("us", tz="UTC")

METRICS_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("key", pa.string()),
        ("step", pa.int64()),
        ("value", pa.float64()),
        ("time", TIMESTAMP),
    ],
    metadata=FILE_METADATA,
)

PARAM_TYPE = pa.struct([("key", pa.string()), ("type", pa.string()), ("value", pa.string())])
SUMMARY_TYPE = pa.struct(
    [
        ("key", pa.string()),
        ("last", pa.float64()),
        ("last_step", pa.int64()),
        ("min", pa.float64()),
        ("min_step", pa.int64()),
        ("max", pa.float64()),
        ("max_step", pa.int64()),
        ("count", pa.int64()),
    ]
)
ARTIFACT_TYPE = pa.struct(
    [("name", pa.string()), ("path", pa.string()), ("size", pa.int64()), ("sha256", pa.string())]
)

# 1.3: the datasets a run read (run.log_dataset), fingerprinted (FORMAT.md §6, Datasets)
DATASET_TYPE = pa.struct(
    [
        ("name", pa.string()),
        ("source", pa.string()),
        ("kind", pa.string()),
        ("fingerprint", pa.string()),
        ("files", pa.int64()),
        ("bytes", pa.int64()),
    ]
)

RECORD_SCHEMA = pa.schema(
    [
        ("format_version", pa.string()),
        ("run_id", pa.string()),
        ("project", pa.string()),
        ("name", pa.string()),
        ("group", pa.string()),
        ("tags", pa.list_(pa.string())),
        ("notes", pa.string()),
        ("status", pa.string()),
        ("error", pa.string()),
        ("start_time", TIMESTAMP),
        ("end_time", TIMESTAMP),
        ("heartbeat_time", TIMESTAMP),
        ("record_time", TIMESTAMP),
        ("seq", pa.int64()),
        ("host", pa.string()),
        ("git_commit", pa.string()),
        ("params", pa.list_(PARAM_TYPE)),
        ("summary", pa.list_(SUMMARY_TYPE)),
        ("artifacts", pa.list_(ARTIFACT_TYPE)),
        ("datasets", pa.list_(DATASET_TYPE)),
    ],
    metadata=FILE_METADATA,
)

ENVIRONMENT_SCHEMA = pa.schema(
    [
        ("format_version", pa.string()),
        ("run_id", pa.string()),
        ("record_time", TIMESTAMP),
        ("host", pa.string()),
        ("user", pa.string()),
        ("pid", pa.int64()),
        ("python", pa.string()),
        ("platform", pa.string()),
        ("argv", pa.list_(pa.string())),
        ("git_commit", pa.string()),
        ("git_branch", pa.string()),
        ("git_dirty", pa.bool_()),
        ("git_remote", pa.string()),
        ("git_diff", pa.string()),
        ("packages", pa.list_(pa.string())),
        ("gpus", pa.list_(pa.string())),
    ],
    metadata=FILE_METADATA,
)

# run.log_image (FORMAT.md §18): one row per logged image, the PNG itself under media/
IMAGES_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("key", pa.string()),
        ("step", pa.int64()),
        ("caption", pa.string()),
        ("width", pa.int64()),
        ("height", pa.int64()),
        ("bytes", pa.int64()),
        ("path", pa.string()),
        ("sha256", pa.string()),
        ("time", TIMESTAMP),
    ],
    metadata=FILE_METADATA,
)
