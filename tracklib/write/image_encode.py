"""Turn what ``run.log_image`` accepts into PNG bytes, at the call, refusing what cannot be
stored with an error that says why (FORMAT.md §18 has the limits).

Accepted: Pillow images; numpy arrays H x W (gray), H x W x 3 (RGB), H x W x 4 (RGBA) of
uint8 (0-255) or float (0.0-1.0, scaled by 255 and rounded); anything with ``savefig`` (a
matplotlib figure, saved as PNG with a tight bounding box); a path to an image file
(decoded by Pillow and re-encoded as PNG). Pillow comes with Streamlit, a dependency of
tracklib, but is imported only here, and only when needed.
"""

from __future__ import annotations

import io
import os
from typing import Any

from tracklib.format.errors import InvalidImageError, InvalidValueError
from tracklib.format.png import MAX_SOURCE_BYTES, check_size, png_size

_PNG_MODES = {"1", "L", "LA", "P", "RGB", "RGBA", "I;16"}  # stored as they are
_TO_RGB = {"CMYK", "YCbCr", "LAB", "HSV"}


def to_png(image: Any) -> tuple[bytes, int, int]:
    """PNG bytes, width and height of ``image`` (see the module docstring for the kinds)."""
    if isinstance(image, (str, os.PathLike)):
        return _from_file(os.fspath(image))
    if hasattr(image, "savefig") and callable(image.savefig):  # matplotlib, without importing it
        return _from_figure(image)
    pil = _pillow()
    if isinstance(image, pil.Image):
        return _from_pillow(image)
    if hasattr(image, "__array_interface__") or type(image).__module__ == "numpy":
        return _from_pillow(_array_to_pillow(image))
    raise InvalidValueError(
        "log_image takes a PIL image, a numpy array (HxW, HxWx3 or HxWx4), a matplotlib "
        f"figure or the path of an image file, got {type(image).__name__}"
    )


def _pillow() -> Any:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - streamlit depends on Pillow
        raise ImportError(
            "run.log_image needs Pillow (a dependency of tracklib and of Streamlit): pip install pillow"
        ) from None
    return Image


def _from_pillow(image: Any) -> tuple[bytes, int, int]:
    check_size(image.width, image.height, None)
    if image.mode in _TO_RGB:
        image = image.convert("RGB")
    elif image.mode not in _PNG_MODES:
        raise InvalidImageError(
            f"a PIL image of mode {image.mode!r} has no lossless PNG form here; convert it to "
            "'L', 'RGB' or 'RGBA' first"
        )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")  # Pillow's default zlib level: level 1 was no faster here
    data = buffer.getvalue()
    check_size(image.width, image.height, len(data))
    return data, image.width, image.height


def _array_to_pillow(array: Any) -> Any:
    import numpy as np

    array = np.asarray(array)
    if array.ndim == 3 and array.shape[2] in (3, 4):
        mode = "RGB" if array.shape[2] == 3 else "RGBA"
    elif array.ndim == 2:
        mode = "L"
    else:
        raise InvalidImageError(
            f"an image array must be HxW (gray), HxWx3 (RGB) or HxWx4 (RGBA), got shape {array.shape}"
        )
    check_size(array.shape[1], array.shape[0], None)
    if array.dtype == np.uint8:
        pixels = array
    elif np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all() or array.min() < 0.0 or array.max() > 1.0:
            raise InvalidImageError(
                "a float image array must hold values in [0.0, 1.0] (no NaN or inf), got "
                f"{_range(array)}; scale it, or pass uint8 values 0-255"
            )
        pixels = np.rint(array.astype(np.float64) * 255.0).astype(np.uint8)
    else:
        raise InvalidImageError(
            f"an image array must be uint8 (0-255) or float (0.0-1.0), got dtype {array.dtype}"
        )
    return _pillow().fromarray(np.ascontiguousarray(pixels), mode=mode)


def _range(array: Any) -> str:
    import numpy as np

    finite = array[np.isfinite(array)]
    span = f"{finite.min():g} to {finite.max():g}" if finite.size else "no finite value"
    return span + (" and NaN or inf" if finite.size != array.size else "")


def _from_figure(figure: Any) -> tuple[bytes, int, int]:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    data = buffer.getvalue()
    width, height = png_size(data, "the figure saved as PNG")
    return data, width, height


def _from_file(path: str) -> tuple[bytes, int, int]:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"log_image: {path!r} is not a file")
    size = os.path.getsize(path)
    if size > MAX_SOURCE_BYTES:
        raise InvalidImageError(f"{path!r} is {size:,} bytes, more than {MAX_SOURCE_BYTES:,} (64 MiB)")
    pil = _pillow()
    from PIL import UnidentifiedImageError

    try:
        with pil.open(path) as opened:  # reads the header only: the size is checked before decoding
            check_size(opened.width, opened.height, None, repr(path))
            opened.load()
            image = opened.copy()
    except (UnidentifiedImageError, SyntaxError, OSError, ValueError) as exc:
        if isinstance(exc, InvalidImageError):
            raise
        raise InvalidImageError(f"{path!r} is not an image Pillow can read ({exc})") from None
    return _from_pillow(image)
