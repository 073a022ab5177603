"""The Run page's image gallery in Chromium, in a copy of the 49-run demo plus one run that
logged images (a sample grid at three steps, a matplotlib figure, a hostile caption) and an
image artifact: the browser decodes every image shown, the step slider swaps the image, the
caption is plain text, and the artifact previews inline."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image

import tracklib

from browser_support import ARTIFACTS, open_page
from e2e.conftest import Server, start_streamlit, stop
from servers import require

pytestmark = pytest.mark.e2e

CAPTION = "<img src=x onerror=alert(1)> **not bold**"


def _samples(step: int) -> np.ndarray:
    """A 4 x 4 grid of 32-pixel tiles whose colours move with the step: easy to tell apart."""
    tiles = np.zeros((128, 128, 3), np.uint8)
    for row in range(4):
        for col in range(4):
            hue = (row * 4 + col + step * 5) % 16
            tiles[row * 32 : row * 32 + 30, col * 32 : col * 32 + 30] = (
                hue * 16,
                255 - hue * 16,
                (80 * step) % 256,
            )
    return tiles


@pytest.fixture(scope="module")
def gallery(e2e_store, tmp_path_factory) -> Iterator[tuple[Server, str, int]]:
    matplotlib = require("matplotlib", "dev")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    base = tmp_path_factory.mktemp("gallery")
    root = str(base / "store")
    shutil.copytree(e2e_store[0], root)
    Image.fromarray(_samples(9)).save(base / "confusion.png")
    with tracklib.init("digits", root=root, name="run-with-images", capture=False) as run:
        for step in range(3):
            run.log({"val/acc": 0.5 + step / 10}, step=step)
            run.log_image("samples", _samples(step), caption=CAPTION)
        figure, axes = plt.subplots(figsize=(4, 3), dpi=80)
        axes.plot([0, 1, 2], [0.5, 0.6, 0.7], marker="o")
        axes.set_title("val/acc")
        run.log_image("curve", figure)
        plt.close(figure)
        run.log_artifact(base / "confusion.png")
    server = start_streamlit(root)
    yield server, run.id, len(tracklib.open_store(root).runs("digits"))
    stop(server)


def _decoded(images) -> list[tuple[str, int]]:
    """(src, naturalWidth) of each image: 0 would mean the browser could not decode it."""
    return [
        (images.nth(i).get_attribute("src"), images.nth(i).evaluate("e => e.naturalWidth"))
        for i in range(images.count())
    ]


def test_the_gallery_shows_each_key_and_the_slider_swaps_the_image(gallery, page):
    server, run_id, runs = gallery
    assert runs >= 40
    open_page(page, f"{server.url}/run?project=digits&run={run_id}", "gallery-top")
    main = page.locator('[data-testid="stMain"]')
    heading = main.get_by_role("heading", name="Images", exact=True)
    heading.scroll_into_view_if_needed()
    images = main.locator('[data-testid="stImage"] img')
    images.first.wait_for(timeout=30_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stImage\"] img')].every(i => i.complete)"
    )
    shown = _decoded(images)
    assert len(shown) == 3, shown  # curve, samples (step 2), the artifact preview
    assert all(width > 0 for _, width in shown), shown
    assert main.get_by_text(CAPTION, exact=True).is_visible()  # the caption as text
    assert page.locator("strong", has_text="not bold").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    main.get_by_text(CAPTION, exact=True).scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "gallery-step-2.png"), full_page=True)
    before = shown[1][0]
    slider = main.get_by_role("slider").first
    slider.focus()
    page.keyboard.press("Home")
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    page.wait_for_function(
        "(old) => { const i = document.querySelectorAll('[data-testid=\"stImage\"] img');"
        " return i.length === 3 && i[1].getAttribute('src') !== old && i[1].complete && i[1].naturalWidth > 0; }",
        arg=before,
        timeout=30_000,
    )
    assert slider.get_attribute("aria-valuetext") == "0"
    main.get_by_text(CAPTION, exact=True).scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "gallery-step-0.png"), full_page=True)
    images.nth(2).scroll_into_view_if_needed()  # the artifact confusion.png, previewed
    page.screenshot(path=str(ARTIFACTS / "gallery-artifact-preview.png"), full_page=True)
