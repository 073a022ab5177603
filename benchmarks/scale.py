"""W3: a project of 100,000 compacted runs plus 1,000 new uncompacted ones, read cold and warm.

On a local root and on the S3 test server (moto's standalone server on 127.0.0.1, through
s3fs as users read buckets). The 100,000 ended runs are written as `tracklib compact`
leaves them (one index file of their newest records); the 1,000 new runs as a finished
writer leaves them before compaction (its final record snapshot and one metric part each).
Then, in a fresh process per root: cold `open_store(...).runs(...)`, a warm refresh after
10 new runs really logged with `tracklib.init`, the leaderboard, and the dashboard's
Leaderboard page through Streamlit's AppTest (first load, then a rerun), then the Runs page;
and the memory: the runs table's size and the process's peak RSS.
Targets: cold <= 3 s local and <= 10 s on S3; warm refresh <= 0.3 s.

The root "s3-history" is the S3 case once more with the 1,000 uncompacted runs started an
hour earlier (a store nobody compacted for an hour): a refresh lists only run folders that
can have changed, so its cost follows what is recent, not what the folder holds.

    .venv/bin/python benchmarks/scale.py [--runs 100000] [--live 1000] [--roots local,s3,s3-history] [--json F]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
from sweep import params  # the W2 sweep's 8 typed params
from ulid import ULID

from tracklib.compaction import write_index
from tracklib.format import layout
from tracklib.format.ids import new_id
from tracklib.format.record import RunState, record_table
from tracklib.format.schema import FORMAT_VERSION, METRICS_SCHEMA, RECORD_SCHEMA, Status
from tracklib.format.summary import MetricSummary
from tracklib.format.values import encode_param
from tracklib.storage import Storage, open_storage
from tracklib.storage.parquet import table_to_bytes

REPO = Path(__file__).resolve().parents[1]
PROJECT = "scale"
METRICS = ("train_loss", "val_loss", "val_acc")
T0 = 1_750_000_000.0


def summary_of(i: int) -> list[dict]:
    acc = 0.5 + (i * 7919 % 1000) / 2000
    values = {"train_loss": 1 - acc + 0.05, "val_loss": 1 - acc, "val_acc": acc}
    return [
        {
            "key": k,
            "last": v,
            "last_step": 49,
            "min": v * 0.9,
            "min_step": 40,
            "max": v,
            "max_step": 49,
            "count": 50,
        }
        for k, v in values.items()
    ]


def _timestamps(seconds: list[float]) -> pa.Array:
    return pa.array([int(s * 1e6) for s in seconds], pa.int64()).cast(pa.timestamp("us", "UTC"))


def compacted_index(runs: int) -> pa.Table:
    """The newest records of ``runs`` ended runs, column by column (fast to build)."""
    ts = _timestamps([T0 + i for i in range(runs)])
    columns = {
        "format_version": [FORMAT_VERSION] * runs,
        "run_id": [f"c{i:08d}" for i in range(runs)],
        "project": [PROJECT] * runs,
        "name": [f"run-{i}" for i in range(runs)],
        "group": [f"g{i % 10}" for i in range(runs)],
        "tags": [[]] * runs,
        "notes": [None] * runs,
        "status": ["finished"] * runs,
        "error": [None] * runs,
        "start_time": ts,
        "end_time": ts,
        "heartbeat_time": ts,
        "record_time": ts,
        "seq": [2] * runs,
        "host": ["bench"] * runs,
        "git_commit": [None] * runs,
        "params": [
            [dict(zip(("key", "type", "value"), (k, *encode_param(v)))) for k, v in params(i).items()]
            for i in range(runs)
        ],
        "summary": [summary_of(i) for i in range(runs)],
        "artifacts": [[]] * runs,
    }
    return pa.table(columns, schema=RECORD_SCHEMA).sort_by("run_id")


HISTORY_AGE_S = 3600.0


def live_run_files(i: int, age_s: float = 0.0) -> list[tuple[str, bytes]]:
    """What a finished, not yet compacted run leaves: its final record and one metric part
    (at finish the writer deletes the session's earlier snapshots)."""
    run_id = str(ULID.from_timestamp(time.time() - age_s)).lower() if age_s else new_id()
    state = RunState(
        run_id=run_id, project=PROJECT, name=f"new-{i}", start_time=time.time(), params=params(i)
    )
    rows = pa.table(
        {
            "run_id": [run_id] * 150,
            "key": [k for k in METRICS for _ in range(50)],
            "step": [s for _ in METRICS for s in range(50)],
            "value": [1 / (s + 1) for _ in METRICS for s in range(50)],
            "time": _timestamps([T0] * 150),
        }
    ).cast(METRICS_SCHEMA)
    state.summary = {k: MetricSummary(0.5, 49, 0.1, 3, 0.9, 40, 50) for k in METRICS}
    state.status, state.end_time, state.seq = Status.FINISHED, time.time(), 2
    return [
        (layout.part_path(layout.METRICS, PROJECT, run_id, new_id()), table_to_bytes(rows)),
        (
            layout.part_path(layout.RECORDS, PROJECT, run_id, new_id()),
            table_to_bytes(record_table(state, time.time())),
        ),
    ]


def build(storage: Storage, runs: int, live: int, live_age_s: float = 0.0) -> float:
    started = time.perf_counter()
    write_index(storage, PROJECT, compacted_index(runs))  # as `tracklib compact` writes it
    with ThreadPoolExecutor(16) as pool:
        list(
            pool.map(
                lambda item: storage.write_bytes(*item),
                (f for i in range(live) for f in live_run_files(i, live_age_s)),
            )
        )
    return time.perf_counter() - started


READ = r"""
import json, os, statistics, sys, time
started = time.perf_counter()
import tracklib
imported = time.perf_counter() - started
root, options, project = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
out = {"import": imported}
t = time.perf_counter(); store = tracklib.open_store(root, options); runs = store.runs(project)
out["cold"] = time.perf_counter() - t; out["runs"] = len(runs)
warm = []
for _ in range(3):
    t = time.perf_counter(); store.runs(project); warm.append(time.perf_counter() - t)
out["warm_unchanged"] = statistics.median(warm)
for i in range(10):
    with tracklib.init(project, root=root, storage_options=options, params={"lr": 0.5, "seed": i}, capture=False) as run:
        run.log({"val_acc": 0.99, "val_loss": 0.01})
t = time.perf_counter(); runs = store.runs(project); out["refresh_after_10"] = time.perf_counter() - t
out["runs_after"] = len(runs)
boards = []
for _ in range(3):
    t = time.perf_counter(); board = store.leaderboard(project, "val_acc", agg="max"); boards.append(time.perf_counter() - t)
out["leaderboard"] = statistics.median(boards)
def peak_mb():  # VmHWM: ru_maxrss would carry the parent's peak over fork and exec
    status = open("/proc/self/status").read()
    return int(status.split("VmHWM:")[1].split()[0]) * 1024 / 1e6
runs, summary = store.runs_and_summary(project)
out["table_mb"] = (runs.memory_usage(deep=True).sum() + summary.memory_usage(deep=True).sum()) / 1e6
out["reader_peak_mb"] = peak_mb()
del runs, summary, board
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(os.path.join(sys.argv[4], "app.py"), default_timeout=300)
at.secrets["tracklib"] = {"roots": {"bench": root}, "storage_options": {"bench": options}}
at.query_params["project"] = project
at.switch_page("tracklib/dashboard/views/leaderboard.py")
t = time.perf_counter(); at.run(); out["apptest_first"] = time.perf_counter() - t
out["apptest_errors"] = [e.value for e in at.exception]
out["apptest_rows"] = len(at.dataframe[0].value) if len(at.dataframe) else 0
t = time.perf_counter(); at.run(); out["apptest_rerun"] = time.perf_counter() - t
at.switch_page("tracklib/dashboard/views/runs.py")
t = time.perf_counter(); at.run(); out["runs_page"] = time.perf_counter() - t
out["apptest_errors"] += [e.value for e in at.exception]
out["runs_page_rows"] = len(at.dataframe[0].value) if len(at.dataframe) else 0
out["dashboard_peak_mb"] = peak_mb()
out["rss_mb"] = int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
print(json.dumps(out))
"""


def measure(url: str, options: dict, env: dict) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", READ, url, json.dumps(options), PROJECT, str(REPO)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--live", type=int, default=1_000)
    parser.add_argument("--roots", default="local,s3,s3-history")

    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = os.environ | {"TRACKLIB_SPOOL": os.path.join(tmp, "spool")}
        for kind in args.roots.split(","):
            if kind == "local":
                url, options, server = os.path.join(tmp, "store"), {}, None
            else:
                sys.path.insert(0, str(REPO / "tests"))
                from servers import S3_CREDENTIALS, S3Server

                os.environ.update({k: os.environ.get(k, v) for k, v in S3_CREDENTIALS.items()})
                server = S3Server().start()
                server.make_bucket("bench")
                url, options = "s3://bench/tracking", server.storage_options()
                env = env | S3_CREDENTIALS
            try:
                built = build(
                    open_storage(url, options),
                    args.runs,
                    args.live,
                    HISTORY_AGE_S if kind.endswith("-history") else 0.0,
                )
                result = measure(url, options, env)
            finally:
                if server is not None:
                    server.stop()
            result["build"] = built
            figures[kind] = result
            print_figures(kind, args, result)
    if args.json:
        Path(args.json).write_text(json.dumps({"W3": figures}, indent=2))


def print_figures(kind: str, args: argparse.Namespace, r: dict) -> None:
    target = 3 if kind == "local" else 10
    print(
        f"W3 scale, {kind} root: {args.runs} compacted runs + {args.live} uncompacted ({r['build']:.1f} s to write)"
    )
    print(
        f"  cold open_store().runs():        {r['cold']:.2f} s  (target <= {target}; {r['runs']} runs; import {r['import']:.2f} s)"
    )
    print(f"  warm, nothing new:               {r['warm_unchanged']:.3f} s")
    print(
        f"  warm refresh after 10 new runs:  {r['refresh_after_10']:.3f} s  (target <= 0.3; {r['runs_after']} runs)"
    )
    print(f"  leaderboard (warm, median of 3): {r['leaderboard']:.3f} s")
    print(
        f"  dashboard Leaderboard page (AppTest): first {r['apptest_first']:.2f} s, rerun {r['apptest_rerun']:.2f} s, "
        f"{r['apptest_rows']} rows shown, errors: {r['apptest_errors'] or 'none'}"
    )
    print(
        f"  dashboard Runs page (AppTest):   {r['runs_page']:.2f} s, {r['runs_page_rows']} rows sent (one page)"
    )
    print(
        f"  memory: runs table + summary {r['table_mb']:.0f} MB ({r['table_mb'] * 1e6 / r['runs_after']:.0f} B/run); "
        f"peak RSS {r['reader_peak_mb']:.0f} MB reading, {r['dashboard_peak_mb']:.0f} MB with both pages; "
        f"RSS after {r['rss_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
