"""What console capture costs a print(): ns per call with capture on and off, median of 5.

Each round starts a run on a local store (capture ``["console"]`` or ``False``), prints
``--prints`` typical training lines (``step 1234 loss 0.123456``) to a real file (/dev/null
behind a TextIOWrapper, as a redirected job's log would be: the terminal's own cost is left
out), and finishes the run. The time covers the prints only, while the run's flushing thread
builds, masks and writes the parts beside them (the GIL it takes is part of the cost); a
last column times finish (the final part).

Usage: .venv/bin/python benchmarks/console_capture.py [--prints 200000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time

import tracklib


def one_round(capture: bool, prints: int, root: str) -> tuple[float, float]:
    """ns per print, and seconds of finish, for one run."""
    sink = io.TextIOWrapper(open(os.devnull, "wb"), encoding="utf-8", line_buffering=False)  # noqa: SIM115
    saved = sys.stdout
    sys.stdout = sink
    try:
        run = tracklib.init("bench", root=root, capture=["console"] if capture else False)
        started = time.perf_counter()
        for step in range(prints):
            print(f"step {step} loss {1 / (step + 1):.6f}")
        elapsed = time.perf_counter() - started
        finishing = time.perf_counter()
        run.finish()
        finished = time.perf_counter() - finishing
    finally:
        sys.stdout = saved
        sink.close()
    return elapsed / prints * 1e9, finished


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prints", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    results: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    with tempfile.TemporaryDirectory() as root:
        for _ in range(args.rounds):  # alternate, so a busy moment hits both alike
            for capture in (False, True):
                results[capture].append(one_round(capture, args.prints, root))
    print(f"{args.prints:,} prints per run, median of {args.rounds} runs each, load {os.getloadavg()[0]:.1f}")
    for capture in (False, True):
        loop = statistics.median(ns for ns, _ in results[capture])
        # the lines not yet written when the loop ends are built by finish: count it too
        whole = statistics.median(ns + s * 1e9 / args.prints for ns, s in results[capture])
        finish = statistics.median(s for _, s in results[capture])
        print(
            f"capture {'on ' if capture else 'off'}: {loop:,.0f} ns per print in the loop, "
            f"{whole:,.0f} ns with finish's share (finish {finish:.2f} s)"
        )


if __name__ == "__main__":
    main()
