"""W2: a sweep of 1,000 runs x 8 typed params x 3 metrics x 50 steps, then reading it back.

Prints the write time of the whole sweep (one process, runs one after another, as a sweep
driver would; median of --write-repeats sweeps, each into a fresh root). tracklib captures its
default environment (system, argv, git and its diff, packages, GPUs), as MLflow and W&B capture
theirs; the same sweep with ``capture=False`` is written alternately and printed beside it. Git
is captured in the folder the script runs in: run it from a git checkout, as a sweep would run.
Then - in a fresh process, as a dashboard or notebook would - the time of opening the store and
getting the leaderboard (all runs with params and val_acc, sorted) and of the val_loss history
of 20 runs. Medians of --repeats reads. Targets: write >= 20x faster per run than the fastest
peer, leaderboard >= 20x faster than MLflow's search_runs.

Peers write --peer-runs runs (they take 0.1-1 s per run), also --write-repeats times, and are
compared per run. MLflow's
default store is then topped up to --runs runs with one log_batch per run (untimed), so its
search_runs and get_metric_history read as many runs as tracklib's leaderboard. W&B offline
has no local query API: write time only. Without mlflow/wandb (the test venv) peers are skipped.

    .venv/bin/python benchmarks/sweep.py [--runs 1000] [--repeats 5] [--peer-runs 100] [--write-repeats 3]
        [--peers mlflow_sqlite,mlflow_file,wandb_offline | none] [--root EMPTY_DIR] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import peers

import tracklib
from tracklib.write import environment

STEPS = 50


def params(i: int) -> dict:
    return {
        "lr": 10 ** -(1 + i % 4),
        "batch_size": 2 ** (4 + i % 5),
        "optimizer": ["adam", "sgd"][i % 2],
        "dropout": (i % 10) / 20,
        "layers": 1 + i % 4,
        "warmup": i % 3 == 0,
        "seed": i,
        "schedule": ["cosine", "linear", "constant"][i % 3],
    }


def metrics(i: int, step: int) -> dict[str, float]:
    return {
        "train_loss": 1 / (step + 1 + i % 7),
        "val_loss": 1.1 / (step + 1 + i % 5),
        "val_acc": 1 - 1 / (step + 2 + i % 11),  # rises, so last (MLflow) == max (tracklib)
    }


def write_sweep(root: str, runs: int, capture: bool = True) -> float:
    """Seconds to write the sweep; ``capture``: tracklib's default environment capture, or none."""
    started = time.perf_counter()
    for i in range(runs):
        with tracklib.init("sweep", root=root, params=params(i), capture=capture) as run:
            for step in range(STEPS):
                run.log(metrics(i, step))
    return time.perf_counter() - started


READ = """
import json, statistics, sys, time
started = time.perf_counter()
import tracklib
root, repeats = sys.argv[1], int(sys.argv[2])
first = time.perf_counter()
store = tracklib.open_store(root)
board = store.leaderboard("sweep", "val_acc", agg="max")
cold = time.perf_counter() - first
warm = []
for _ in range(repeats):
    t = time.perf_counter(); store.leaderboard("sweep", "val_acc", agg="max"); warm.append(time.perf_counter() - t)
ids = board["run_id"].head(20).tolist()
hist = []
for _ in range(repeats):
    t = time.perf_counter(); h = store.history("sweep", run_ids=ids, keys=["val_loss"]); hist.append(time.perf_counter() - t)
print(json.dumps({"cold": cold, "warm": statistics.median(warm), "history": statistics.median(hist),
                  "rows": len(board), "points": len(h), "with_import": time.perf_counter() - started}))
"""


def run_peers(names: list[str], args: argparse.Namespace, tmp: str) -> tuple[dict, dict, dict | None]:
    """Per-run write figures of each peer, and MLflow's reads of a --runs sweep in a fresh process."""
    skipped = peers.skipped(names) if names else {}  # --peers none: none to skip (skipped([]) checks all)
    written, read = {}, None
    for name in names:
        if name in skipped:
            continue
        folder = os.path.join(tmp, name)
        try:
            each = [
                peers.w2_write(name, f"{folder}-{i}" if i else folder, args.peer_runs, STEPS, params, metrics)
                for i in range(args.write_repeats)
            ]
            seconds = statistics.median(each)
            written[name] = {
                "runs": args.peer_runs,
                "write_s": seconds,
                "write_s_each": each,
                "ms_per_run": seconds / args.peer_runs * 1e3,
            }
            if name == "mlflow_sqlite":
                fill = peers.w2_fill_mlflow(folder, args.peer_runs, args.runs, STEPS, params, metrics)
                read = {"fill_s": fill, **peers.w2_read_mlflow(folder, args.repeats)}
        except Exception as exc:  # a broken peer install must not hide tracklib's figures
            skipped[name] = f"failed: {exc!r}"[:300]
    return written, skipped, read


def _git_state() -> str:
    """Whether the working folder is a git checkout, and a dirty one (what git capture costs)."""
    found = environment.capture(("git",))
    if not found:
        return "not a git work tree"
    return f"git commit {found['git_commit'][:7]}, {'dirty' if found['git_dirty'] else 'clean'}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--peer-runs", type=int, default=100)
    parser.add_argument(
        "--write-repeats",
        type=int,
        default=3,
        choices=range(1, 11),
        metavar="1..10",
        help="sweeps written per tool; the median counts",
    )
    peers.add_arguments(parser)
    args = parser.parse_args()
    names = peers.chosen(args)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("TRACKLIB_SPOOL", os.path.join(tmp, "spool"))
        roots = [os.path.join(args.root or tmp, f"sweep-{i}") for i in range(args.write_repeats)]
        bare_roots = [f"{r}-capture-off" for r in roots]
        if any(os.path.exists(r) for r in roots + bare_roots):
            parser.error(f"{args.root} already holds sweep-* folders: give an empty --root")
        each, each_bare = [], []
        for r, bare in zip(roots, bare_roots):  # alternately, so both see the same machine
            each.append(write_sweep(r, args.runs))  # a fresh root each, on one filesystem
            each_bare.append(write_sweep(bare, args.runs, capture=False))
        written, written_bare = statistics.median(each), statistics.median(each_bare)
        root = roots[0]  # the reads below use the first sweep
        out = subprocess.run(
            [sys.executable, "-c", READ, root, str(args.repeats)], capture_output=True, text=True, check=True
        ).stdout
        read = json.loads(out)
        theirs, skipped, mlflow_read = run_peers(names, args, tmp)
    ms_per_run = written / args.runs * 1000
    ms_per_run_bare = written_bare / args.runs * 1000
    print(f"W2 sweep: {args.runs} runs x 8 params x 3 metrics x {STEPS} steps (local root)")
    print(
        f"  tracklib from {os.path.dirname(tracklib.__file__)}; git captured in {os.getcwd()}: {_git_state()}"
    )
    print(
        f"  write the sweep:                 {written:.2f} s  ({ms_per_run:.2f} ms per run; median of"
        f" {args.write_repeats}: {', '.join(f'{x:.2f}' for x in each)} s; default capture)"
    )
    print(
        f"  write it with capture=False:     {written_bare:.2f} s  ({ms_per_run_bare:.2f} ms per run;"
        f" {', '.join(f'{x:.2f}' for x in each_bare)} s; capture costs {ms_per_run / ms_per_run_bare:.2f}x)"
    )
    print(
        f"  open + leaderboard, fresh:       {read['cold']:.3f} s  ({read['rows']} runs; "
        f"{read['with_import']:.2f} s including import and all reads)"
    )
    print(f"  leaderboard, warm, median:       {read['warm']:.3f} s")
    print(f"  val_loss history of 20 runs:     {read['history']:.3f} s  ({read['points']} points)")
    if theirs:
        print(f"Peers write {args.peer_runs} runs; ratio = peer / tracklib, per run")
        for name, fig in theirs.items():
            print(
                f"  {peers.LABELS[name]:30} write: {fig['write_s']:.2f} s  ({fig['ms_per_run']:.1f} ms per run,"
                f" {fig['ms_per_run'] / ms_per_run:,.1f}x)"
            )
    if mlflow_read:
        m = mlflow_read
        print(
            f"MLflow (default sqlite store), topped up to {m['rows']} runs in {m['fill_s']:.0f} s with log_batch;"
            " fresh process; ratio = MLflow / tracklib"
        )
        print(
            f"  open + search_runs, fresh:       {m['cold']:.3f} s  ({m['cold'] / read['cold']:,.1f}x; "
            f"{m['with_import']:.2f} s including import and all reads)"
        )
        print(f"  search_runs, warm, median:       {m['warm']:.3f} s  ({m['warm'] / read['warm']:,.1f}x)")
        print(
            f"  get_metric_history x 20 runs:    {m['history']:.3f} s  ({m['history'] / read['history']:,.1f}x)"
        )
    if "wandb_offline" in theirs:
        print("  W&B offline: write time only (no local query API for offline runs)")
    for name, why in skipped.items():
        print(f"  skipped {peers.LABELS[name]}: {why}")
    if args.json:
        figures = {
            "workload": "W2",
            "command": [os.path.basename(sys.executable), *sys.argv],
            "runs": args.runs,
            "steps": STEPS,
            "repeats": args.repeats,
            "tracklib": {"write_s": written, "write_s_each": each, "ms_per_run": ms_per_run, **read},
            "tracklib_capture_off": {
                "write_s": written_bare,
                "write_s_each": each_bare,
                "ms_per_run": ms_per_run_bare,
            },
            "capture": {"cwd": os.getcwd(), "git": _git_state()},
            "peers": theirs,
            "mlflow_read": mlflow_read,
            "skipped": skipped,
            "labels": peers.LABELS,
        }
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1)


if __name__ == "__main__":
    main()
