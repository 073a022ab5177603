"""What a stored image must be (FORMAT.md §18): a PNG within the size limits, checked from
its header alone, so writer and reader agree without decoding a byte of pixels."""

from __future__ import annotations

import struct

from tracklib.format.errors import InvalidImageError

SIGNATURE = b"\x89PNG\r\n\x1a\n"
# 4096 x 4096: a big plot or a grid of samples fits; a 100-megapixel scan does not. Past it a
# writer refuses at the call, and a reader (the dashboard) refuses to decode a crafted file.
MAX_PIXELS = 4096 * 4096
MAX_PNG_BYTES = 16 * 1024 * 1024  # the encoded file: the upload queue and a browser stay light
MAX_SOURCE_BYTES = 64 * 1024 * 1024  # an image file given by path, before it is decoded


def png_size(data: bytes, what: str = "image") -> tuple[int, int]:
    """(width, height) from the PNG header (signature, then the IHDR chunk), or
    InvalidImageError when ``data`` is no PNG or breaks a limit."""
    if len(data) < 24 or not data.startswith(SIGNATURE) or data[12:16] != b"IHDR":
        raise InvalidImageError(f"{what} is not a PNG file (no PNG signature and IHDR header)")
    width, height = struct.unpack(">II", data[16:24])
    check_size(width, height, len(data), what)
    return width, height


def check_size(width: int, height: int, nbytes: int | None, what: str = "image") -> None:
    """Refuse empty images and those past MAX_PIXELS or (encoded) MAX_PNG_BYTES."""
    if width < 1 or height < 1:
        raise InvalidImageError(f"{what} is empty ({width}x{height} pixels)")
    if width * height > MAX_PIXELS:
        raise InvalidImageError(
            f"{what} has {width}x{height} = {width * height:,} pixels, more than the limit of "
            f"{MAX_PIXELS:,} (4096x4096); downscale it first"
        )
    if nbytes is not None and nbytes > MAX_PNG_BYTES:
        raise InvalidImageError(
            f"{what} is {nbytes:,} bytes as PNG, more than the limit of {MAX_PNG_BYTES:,} (16 MiB)"
        )
