"""The on-disk schemas, the run statuses and the validation of logged values (pure).

See docs/FORMAT.md for the specification these schemas implement.
"""

from __future__ import annotations

import enum
import sys
import warnings
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from tracklib.format.errors import InvalidKeyError, InvalidValueError

FORMAT_VERSION = "1.2"
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


# The largest step a metric part's int64 column holds. A call that would go past it is refused.
MAX_STEP = 2**63 - 1
# Ints up to this convert to a finite float64 on the hot path without a call; bigger ones are
# checked by metric_value (float() of them overflows or rounds to the largest float).
FLOAT_INT_LIMIT = int(sys.float_info.max)


def check_key(key: object, what: str = "metric") -> str:
    """A key must be a non-empty string that Parquet can store (valid UTF-8); ``/``
    namespaces (``train/loss``) are normal."""
    if not isinstance(key, str) or not key:
        raise InvalidKeyError(f"{what} key must be a non-empty string, got {key!r}")
    if not _is_utf8(key):
        raise InvalidKeyError(f"{what} key {key!r}: {_NOT_UTF8}")
    return key


def check_text(value: object, what: str, *, optional: bool = False) -> str | None:
    """A text field (name, group, notes, tag, param value): a ``str`` that is valid UTF-8.

    Lone surrogates (``os.fsdecode`` gives them for a Latin-1 folder name such as
    ``/data/caf\\xe9``) cannot be written to Parquet, so they are refused here, at the
    call, instead of failing every later flush.
    """
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise InvalidValueError(f"{what} must be a string, got {type(value).__name__} {_short(value)}")
    if not _is_utf8(value):
        raise InvalidValueError(f"{what} {_short(value)}: {_NOT_UTF8}")
    return value


_NOT_UTF8 = (
    "contains a lone surrogate, which is not valid UTF-8 and cannot be stored "
    "(os.fsdecode makes these from non-UTF-8 file names); decode the bytes with errors='replace'"
)


def storable(value: Any) -> Any:
    """``value`` with every string in it made valid UTF-8 (lone surrogates as ``\\udcXX``
    escapes): for text tracklib itself captures (argv, error messages, git output), which
    must be kept, not refused."""
    if isinstance(value, str):
        return value if _is_utf8(value) else value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable(v) for v in value]
    return value


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def metric_value(key: str, value: object) -> float:
    """Anything with ``__float__`` that fits a float64 is a metric (NaN and ±inf included);
    the rest is refused."""
    if isinstance(value, (str, bytes, list, tuple, dict, set)) or value is None:
        raise InvalidValueError(
            f"metric {key!r}: {type(value).__name__} value {_short(value)} is not a number; "
            "log numbers as metrics and put text in params or notes"
        )
    try:
        return float(value)  # type: ignore[arg-type]
    except OverflowError:
        raise InvalidValueError(
            f"metric {key!r}: {type(value).__name__} {_short(value)} is too large for a float64 "
            "(metrics are stored as doubles); log float(value) or math.inf if that is what you mean"
        ) from None
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(
            f"metric {key!r}: cannot convert {type(value).__name__} {_short(value)} to float ({exc})"
        ) from None


def _short(value: object) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a value whose repr fails is still named by its type
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


ParamValue = int | float | bool | str | None


def flatten_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, ParamValue]:
    """Nested dicts become dotted keys; int/float/bool/str/None keep their type, the rest is str().

    Every key and value is checked here, exactly as the record encoder will need it, so a
    value that could not be stored is refused at the call (nothing of the call is kept).
    """
    if not isinstance(params, Mapping):
        raise InvalidValueError(f"params must be a mapping, got {type(params).__name__}")
    flat: dict[str, ParamValue] = {}
    for key, value in params.items():
        check_key(key, "param")
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_params(value, prefix=f"{name}."))
            continue
        if not (value is None or isinstance(value, (bool, int, float, str))):
            item = scalar_item(value)
            if isinstance(item, (bool, int, float, str)):
                value = item
            else:
                text = _as_text(name, value)
                warnings.warn(f"param {name!r}: {type(value).__name__} is stored as its str()", stacklevel=3)
                value = text
        flat[name] = _storable_param(name, value)
    return flat


def _as_text(name: str, value: object) -> str:
    try:
        return str(value)
    except Exception as exc:  # noqa: BLE001 - a broken __str__ is the caller's value, named
        raise InvalidValueError(f"param {name!r}: str() of {type(value).__name__} failed: {exc!r}") from None


def _storable_param(name: str, value: ParamValue) -> ParamValue:
    """The value, once it is sure that ``encode_param`` and Parquet take it."""
    if isinstance(value, str):
        check_text(value, f"param {name!r}")
    elif isinstance(value, int) and not isinstance(value, bool):
        try:
            str(value)
        except ValueError:  # beyond Python's int-to-text limit (4,300 digits by default)
            raise InvalidValueError(
                f"param {name!r}: an int of {value.bit_length()} bits is too long to store as text"
            ) from None
    return value


def scalar_item(value: object) -> ParamValue | object:
    """numpy scalars, 0-d arrays and 0-d tensors carry a plain Python value in ``.item()``."""
    if getattr(value, "shape", None) == () and hasattr(value, "item"):
        return value.item()  # type: ignore[attr-defined]
    return value


def encode_param(value: ParamValue) -> tuple[str, str | None]:
    """(type, text) of a param value, as stored in the ``params`` column."""
    if value is None:
        return "null", None
    if isinstance(value, bool):
        return "bool", "true" if value else "false"
    if isinstance(value, int):
        return "int", str(int(value))
    if isinstance(value, float):
        return "float", repr(float(value))
    return "str", str(value)


def decode_param(type_: str | None, text: str | None) -> ParamValue:
    """Inverse of ``encode_param``. Total, because records are untrusted input: an unknown
    type, or a value its type cannot parse (``float`` ``"not-a-number"``), comes back as its
    text (FORMAT.md §11 rule 9), never as an error."""
    if type_ == "null" or text is None:
        return None
    try:
        if type_ == "bool" and text in ("true", "false"):
            return text == "true"
        if type_ == "int":
            return int(text)
        if type_ == "float":
            return float(text)
    except ValueError:
        pass
    return text
