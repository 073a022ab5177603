"""The demo's images, drawn from the real validation digits with numpy and Pillow only.

Matplotlib is not a dependency of the demo (a figure also costs ~0.1 s to encode, times
two images, three epochs and 49 runs), so both pictures are plain pixel arrays with
Pillow's built-in font for the labels.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

TILE = 48  # one 8x8 digit, upscaled 6x
LABEL_HEIGHT = 16
GAP = 6
PER_ROW = 8
MAX_TILES = 24
CELL = 34  # one confusion-matrix cell
MARGIN = 22  # room for the digit labels along the top and the left
BLUE = np.array([31, 119, 180], dtype=np.float64)


def misclassified_grid(pixels: np.ndarray, truth: np.ndarray, predicted: np.ndarray) -> Image.Image | None:
    """The first ``MAX_TILES`` digits the model got wrong, dark ink on white, each labelled
    ``<true> as <predicted>``; None when it got every one right.

    ``pixels``: rows of 64 intensities in 0..1 (the 8x8 digits, flattened).
    """
    wrong = np.flatnonzero(truth != predicted)[:MAX_TILES]
    if len(wrong) == 0:
        return None
    rows = -(-len(wrong) // PER_ROW)
    columns = min(len(wrong), PER_ROW)
    width = GAP + columns * (TILE + GAP)
    height = GAP + rows * (TILE + LABEL_HEIGHT + GAP)
    canvas = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=12)
    for slot, index in enumerate(wrong):
        ink = np.round(255 * (1.0 - pixels[index].reshape(8, 8))).astype(np.uint8)
        digit = Image.fromarray(ink).resize((TILE, TILE), Image.Resampling.NEAREST)
        left = GAP + (slot % PER_ROW) * (TILE + GAP)
        top = GAP + (slot // PER_ROW) * (TILE + LABEL_HEIGHT + GAP)
        canvas.paste(digit, (left, top))
        draw.rectangle((left - 1, top - 1, left + TILE, top + TILE), outline=200)
        label = f"{truth[index]} as {predicted[index]}"
        draw.text((left + TILE / 2, top + TILE + 2), label, fill=0, font=font, anchor="mt")
    return canvas


def confusion_image(truth: np.ndarray, predicted: np.ndarray, classes: int = 10) -> Image.Image:
    """A confusion matrix: one row per true digit, one column per predicted digit, each cell
    shaded by its share of the row (square root, so a few mistakes still show) and showing its
    count (empty cells stay blank)."""
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (truth, predicted), 1)
    shade = np.sqrt(counts / np.maximum(counts.sum(axis=1, keepdims=True), 1))
    cells = 255.0 + shade[..., None] * (BLUE - 255.0)  # white -> blue
    pixels = np.kron(cells, np.ones((CELL, CELL, 1))).astype(np.uint8)
    size = MARGIN + classes * CELL
    canvas = Image.new("RGB", (size, size), "white")
    canvas.paste(Image.fromarray(pixels), (MARGIN, MARGIN))
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=12)
    for digit in range(classes):
        middle = MARGIN + digit * CELL + CELL / 2
        draw.text((middle, MARGIN / 2), str(digit), fill="black", font=font, anchor="mm")  # predicted
        draw.text((MARGIN / 2, middle), str(digit), fill="black", font=font, anchor="mm")  # true
    for (row, column), count in np.ndenumerate(counts):
        if count:
            colour = "white" if shade[row, column] > 0.6 else "black"
            centre = (MARGIN + column * CELL + CELL / 2, MARGIN + row * CELL + CELL / 2)
            draw.text(centre, str(count), fill=colour, font=font, anchor="mm")
    draw.rectangle((MARGIN, MARGIN, size - 1, size - 1), outline=(160, 160, 160))
    return canvas
