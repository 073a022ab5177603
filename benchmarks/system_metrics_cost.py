"""The cost of init(system_metrics=...): on run.log() in a training loop, and of one sample.

log(): one run steps through a training-like loop (a little pure-Python work, then one log()
of 10 metrics, timed alone) for --seconds of wall time, with system metrics off and on at
--interval seconds (1 s, the smallest allowed: the worst case; the default 10 s samples ten
times less), alternating, --repeats times each. Prints the median ns per log() call and us
per step of each and their ratios. The samples are taken on the runtime's flushing thread, so what
the loop pays is the GIL that thread takes while sampling.

One sample: SystemSampler.sample() called --samples times on this thread (psutil readings,
plus NVML per GPU when nvidia-ml-py finds one), median ms; and the sampler's start (priming
the counters, looking for NVML), median ms.

    .venv/bin/python benchmarks/system_metrics_cost.py [--repeats 5] [--seconds 4] [--interval 1]
        [--samples 50]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time

import tracklib
from tracklib.write.buffer import Scheduler
from tracklib.write.system_metrics import SystemSampler

METRICS = {f"metric_{i}": 0.1 * i for i in range(10)}
WORK = 2000  # sum(range(2000)): ~20-40 us here, a small model's step on the CPU


def ns_per_log(root: str, seconds: float, system_metrics: float | bool) -> tuple[float, float, int]:
    """(ns per log() call, us per step, samples written) over ``seconds`` of a training-like
    loop: each step does ~WORK of pure Python (holding the GIL, as a loop does between
    kernels), then one log() of 10 metrics, timed on its own."""
    run = tracklib.init("bench", root=root, capture=False, system_metrics=system_metrics)
    steps, in_log, log, clock = 0, 0, run.log, time.perf_counter_ns
    start = time.perf_counter()
    end = start + seconds
    while time.perf_counter() < end:
        sum(range(WORK))
        before = clock()
        log(METRICS)
        in_log += clock() - before
        steps += 1
    elapsed = time.perf_counter() - start
    run.finish()
    history = tracklib.open_store(root).history("bench", run_ids=[run.id], keys=["system/cpu_percent"])
    return in_log / steps, elapsed / steps * 1e6, len(history)


def sample_ms(samples: int) -> tuple[float, float]:
    """(median ms of one sample, median ms to start a sampler)."""
    starts, taken = [], []
    for _ in range(5):
        began = time.perf_counter()
        sampler = SystemSampler(lambda entry: None, 3600, Scheduler())
        starts.append((time.perf_counter() - began) * 1e3)
        sampler.stop()
    sampler = SystemSampler(lambda entry: None, 3600, Scheduler())
    for _ in range(samples):
        began = time.perf_counter()
        sampler.sample()
        taken.append((time.perf_counter() - began) * 1e3)
    sampler.stop()
    return statistics.median(taken), statistics.median(starts)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--samples", type=int, default=50)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # says whether a GPU was found
    off, on, step_off, step_on, written = [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeats):
            ns, step, _ = ns_per_log(os.path.join(tmp, f"off{i}"), args.seconds, False)
            off.append(ns)
            step_off.append(step)
            ns, step, samples = ns_per_log(os.path.join(tmp, f"on{i}"), args.seconds, args.interval)
            on.append(ns)
            step_on.append(step)
            written.append(samples)
    one, start = sample_ms(args.samples)
    print(
        f"cpus {os.cpu_count()}, load {os.getloadavg()[0]:.1f}, {args.repeats} repeats of {args.seconds:g} s"
    )
    print(
        f"log() off: median {statistics.median(off):,.0f} ns/call (all {[round(x) for x in off]}); "
        f"step {statistics.median(step_off):.1f} us"
    )
    print(
        f"log() on, every {args.interval:g} s: median {statistics.median(on):,.0f} ns/call "
        f"(all {[round(x) for x in on]}); step {statistics.median(step_on):.1f} us; samples per run {written}"
    )
    print(
        f"ratio on/off: log() {statistics.median(on) / statistics.median(off):.3f}, "
        f"step {statistics.median(step_on) / statistics.median(step_off):.3f}"
    )
    print(f"one sample: median {one:.2f} ms of {args.samples}; starting a sampler: median {start:.2f} ms")


if __name__ == "__main__":
    main()
