"""What ``run.log_dataset`` costs on a local folder: it hashes every byte (SHA-256, streamed)
synchronously, once, at the call. Builds a folder of ``--gb`` GB (``--files`` files of random
bytes) once under ``--dir``, then times ``run.log_dataset`` on it ``--repeat`` times and prints
MB/s (median). For scale, it also prints hashlib's SHA-256 and BLAKE2b rates over one file.

    .venv/bin/python benchmarks/dataset_fingerprint.py [--gb 1] [--files 64] [--repeat 3]

The files were just written, so they are read from the page cache: the rate is the hashing's
(CPU), an upper bound for data that must first come off a disk or a network mount.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import tempfile
import time
from pathlib import Path

import tracklib

CHUNK = 8 * 2**20


def build(folder: Path, total: int, files: int) -> None:
    """``files`` files of random bytes totalling ``total`` bytes, unless already there."""
    size = total // files
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        path = folder / f"part-{i:04d}.bin"
        if path.exists() and path.stat().st_size == size:
            continue
        with open(path, "wb") as out:
            left = size
            while left:
                out.write(os.urandom(min(CHUNK, left)))
                left -= min(CHUNK, left)


def rate(seconds: float, total: int) -> float:
    return total / 2**20 / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=1.0)
    parser.add_argument("--files", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "tracklib-bench-dataset"))
    args = parser.parse_args()
    folder = Path(args.dir) / f"{args.gb:g}gb-{args.files}"
    total = int(args.gb * 2**30) // args.files * args.files
    build(folder, total, args.files)
    print(f"folder: {folder} ({args.files} files, {total / 2**20:,.0f} MB)")

    times = []
    with tempfile.TemporaryDirectory() as store:
        with tracklib.init("bench", root=store, capture=False) as run:
            for _ in range(args.repeat):
                started = time.perf_counter()
                dataset = run.log_dataset("train", folder)
                times.append(time.perf_counter() - started)
    assert dataset.bytes == total and dataset.files == args.files
    median = statistics.median(times)
    print(
        f"run.log_dataset: median of {args.repeat} {median:.2f} s = {rate(median, total):,.0f} MB/s"
        f"  (all: {', '.join(f'{t:.2f}' for t in times)} s)"
    )

    one = folder / "part-0000.bin"
    for algorithm in ("sha256", "blake2b"):
        runs = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            with open(one, "rb") as handle:
                hashlib.file_digest(handle, algorithm)
            runs.append(time.perf_counter() - started)
        print(
            f"hashlib {algorithm} over one file: {rate(statistics.median(runs), one.stat().st_size):,.0f} MB/s"
        )
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
