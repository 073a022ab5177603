"""The checks and the encoding of what users log (pure): keys, text, metric values, params.

Every value is checked at the call, exactly as the encoders will need it, so a value that
could not be stored is refused there rather than failing a later flush. See docs/FORMAT.md.
"""

from __future__ import annotations

import operator
import sys
import warnings
from collections.abc import Mapping
from typing import Any

from tracklib.format.errors import InvalidKeyError, InvalidStepError, InvalidValueError

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


def check_step(step: object) -> int:
    """An explicit ``step`` of ``log``: an int (not a bool) from 0 to ``MAX_STEP``."""
    if isinstance(step, bool):
        raise InvalidStepError(f"step must be an integer >= 0, got {step!r}")
    try:
        value = operator.index(step)  # type: ignore[arg-type]
    except TypeError:
        raise InvalidStepError(f"step must be an integer >= 0, got {type(step).__name__} {step!r}") from None
    if not 0 <= value <= MAX_STEP:
        raise InvalidStepError(f"step must be an integer from 0 to {MAX_STEP} (int64), got {value}")
    return value
