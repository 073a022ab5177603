"""Images on the Run and Compare pages: what ``run.log_image`` stored, and artifacts that are
images, shown from bytes the store read and checked, never from a path or URL of a record.

Every byte is untrusted (anyone who can write to the store can write a file): a logged image
is shown only if the store found it under the run's media folder with a PNG header within the
pixel limit, and Pillow verifies it; an artifact only if its name says png/jpg/gif/webp, its
content is that format and it is within the limits. Keys and captions are shown as text.
"""

from __future__ import annotations

import io
import numbers

import pandas as pd
import streamlit as st

from tracklib.dashboard import data, widgets
from tracklib.dashboard.frame import Context
from tracklib.format.errors import TracklibError
from tracklib.format.png import MAX_PIXELS, MAX_PNG_BYTES

PER_ROW = 4  # images side by side, in the gallery and on Compare
PREVIEW_SUFFIXES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF", ".webp": "WEBP"}


def run_images(ctx: Context, run_id: str) -> None:
    """Each key of the run as a gallery, with a slider over the steps that key has."""
    st.subheader("Images")
    images = _as_of(ctx, data.load_images(ctx.root, ctx.project, run_id, ctx.token))
    if images.empty:
        st.caption("No images logged.")
        return
    for i, (key, rows) in enumerate(images.groupby("key", sort=True)):
        st.markdown(f"**{widgets.md_escape(key)}**")
        step = _step_slider(sorted(rows["step"].unique().tolist()), f"images-{run_id}-{i}")
        shown = rows[rows["step"] == step]
        per_row = min(PER_ROW, len(shown))  # one image per step (the usual) gets the page's width
        for start in range(0, len(shown), per_row):
            batch = shown.iloc[start : start + per_row]
            for column, row in zip(st.columns(per_row), batch.itertuples(), strict=False):
                with column:
                    _image(ctx, run_id, row)


def compare_images(ctx: Context, run_ids: list[str], names: dict[str, str]) -> None:
    """One key at one step, side by side for the compared runs."""
    frames = {r: _as_of(ctx, data.load_images(ctx.root, ctx.project, r, ctx.token)) for r in run_ids}
    keys = sorted(set().union(*(set(f["key"]) for f in frames.values())))
    if not keys:
        return
    st.subheader("Images")
    key = st.selectbox("Image key", keys, key="compare-image-key")
    steps = sorted(set().union(*(set(f.loc[f["key"] == key, "step"].tolist()) for f in frames.values())))
    step = _step_slider(steps, "compare-image-step")
    for start in range(0, len(run_ids), PER_ROW):  # 49 columns in one row were slivers
        row_ids = run_ids[start : start + PER_ROW]
        for column, run_id in zip(st.columns(PER_ROW), row_ids, strict=False):
            with column:
                st.text(names.get(run_id, run_id))
                rows = frames[run_id]
                rows = rows[(rows["key"] == key) & (rows["step"] == step)]
                if rows.empty:
                    st.caption("No image at this step.")
                for row in rows.itertuples():
                    _image(ctx, run_id, row)


def artifact_preview(ctx: Context, run_id: str, name: object, path: object, size: object = None) -> None:
    """An artifact named like an image whose content is that image format, shown inline; one
    recorded as larger than a preview may be is not read (a 300 MB scan.png, every visit)."""
    wanted = PREVIEW_SUFFIXES.get(("." + str(name).rsplit(".", 1)[-1].lower()) if "." in str(name) else "")
    if wanted is None or (isinstance(size, numbers.Real) and size > MAX_PNG_BYTES):
        return
    try:
        content = data.read_artifact_cached(ctx.root, str(path), ctx.project, run_id)
    except (TracklibError, OSError):
        return  # the download button says why a crafted path is refused; a missing file shows nothing
    if len(content) <= MAX_PNG_BYTES and verified_format(content) == wanted:
        st.image(content, width=320, output_format=wanted if wanted in ("PNG", "JPEG") else "auto")


def verified_format(content: bytes) -> str | None:
    """Pillow's name of the image format of ``content`` if it decodes as one within the pixel
    limit (checked from the header, before any pixel is decoded), else None."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(content)) as image:
            if image.width * image.height > MAX_PIXELS:
                return None
            found = image.format
            image.verify()
        return found
    except Exception:  # noqa: BLE001 - untrusted bytes: anything Pillow refuses is no image
        return None


def _as_of(ctx: Context, images: pd.DataFrame) -> pd.DataFrame:
    """A pinned view shows the images logged by the pin, as its curves show the points."""
    pinned = ctx.loaded.asof
    return images if pinned is None else images[images["time"] <= pd.Timestamp(pinned)]


def _step_slider(steps: list[int], key: str) -> int:
    if len(steps) == 1:
        st.caption(f"step {steps[0]}")
        return steps[0]
    return st.select_slider("Step", options=steps, value=steps[-1], key=key)


def _image(ctx: Context, run_id: str, row: pd.Series) -> None:
    try:
        content = data.read_image(ctx.root, str(row.path), ctx.project, run_id)
    except (TracklibError, OSError) as exc:
        st.caption(widgets.md_escape(f"Not shown: {exc}"))
        return
    if verified_format(content) != "PNG":
        st.caption("Not shown: the file is not a valid PNG image.")
        return
    # lossless, as stored, at its own size (never blown up), narrowed only to fit its column
    st.image(content, width="content", output_format="PNG")
    if isinstance(row.caption, str) and row.caption:
        st.text(row.caption)
