"""What ``run.log_image`` costs the training loop: the PNG encoding happens at the call (the
upload runs in the background), so its time is the call's. Times the call on a local store
for a 256 x 256 and a 1024 x 1024 RGB image, smooth (a gradient with a little noise, like a
photo or a sample grid) and worst case (uniform noise, incompressible), and a matplotlib
figure; median of ``--repeat`` calls each, and the PNG size. For scale, Pillow's PNG
encoding alone at zlib level 1 (its fastest that compresses), which tracklib does not use:
it was no faster than the default on this machine.

    .venv/bin/python benchmarks/log_image.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time

import numpy as np
from PIL import Image

import tracklib


def images(size: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:size, 0:size] / size
    smooth = np.stack([x, y, (x + y) / 2], axis=-1) * 230 + rng.integers(0, 25, (size, size, 3))
    return {
        f"{size}x{size} smooth": smooth.astype(np.uint8),
        f"{size}x{size} noise": rng.integers(0, 256, (size, size, 3), dtype=np.uint8),
    }


def timed(call, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    arrays = {**images(256), **images(1024)}
    with tempfile.TemporaryDirectory() as root, tracklib.init("bench", root=root, capture=False) as run:
        run.log_image("warm-up", arrays["256x256 smooth"])
        for name, array in arrays.items():
            ms = timed(lambda a=array: run.log_image("x", a), args.repeat)
            buffer = io.BytesIO()
            Image.fromarray(array).save(buffer, format="PNG")
            level1_ms = timed(
                lambda a=array: Image.fromarray(a).save(io.BytesIO(), format="PNG", compress_level=1),
                args.repeat,
            )
            print(
                f"log_image {name:>18}: median of {args.repeat} {ms:7.1f} ms, "
                f"PNG {len(buffer.getvalue()) / 1e6:5.2f} MB | Pillow at zlib level 1: {level1_ms:7.1f} ms"
            )
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("matplotlib not installed: figure not timed")
            return
        figure, axes = plt.subplots(figsize=(6.4, 4.8), dpi=100)
        axes.plot(np.random.default_rng(1).random(1000).cumsum())
        ms = timed(lambda: run.log_image("figure", figure), args.repeat)
        print(
            f"log_image matplotlib figure 640x480 (savefig, bbox tight): median of {args.repeat} {ms:.1f} ms"
        )
        plt.close(figure)


if __name__ == "__main__":
    main()
