"""The cost of checking untrusted rows (tracklib/format/rules.py) on a big index file.

Every record row a reader uses passes through ``rules.clean``: the vectorised checks of
identity and order, and of repeated or keyless param/summary/artifact entries. Prints the
median over --repeats of the seconds it takes for --runs runs of 8 params and 4 metrics
each (the shape of the W3 index), and the share of one decode of the same file it adds.
Then the same for --files one-row record files (a live run's snapshot each: the W3 store's
1,000 uncompacted runs), checked one file at a time as the reader does.

    .venv/bin/python benchmarks/row_checks.py [--runs 100000] [--files 1000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq

from tracklib.format import rules
from tracklib.format.schema import RECORD_SCHEMA
from tracklib.storage.parquet import bytes_to_table, table_to_bytes

PARAMS = ("lr", "wd", "batch", "depth", "optimizer", "seed", "dropout", "warmup")
METRICS = ("acc", "loss", "val/acc", "val/loss")


def index_table(runs: int) -> pa.Table:
    now = datetime.now(tz=UTC)
    params = [{"key": k, "type": "float", "value": "0.1"} for k in PARAMS]
    summary = [
        {
            "key": k,
            "last": 1.0,
            "last_step": 9,
            "min": 0.0,
            "min_step": 0,
            "max": 1.0,
            "max_step": 9,
            "count": 10,
        }
        for k in METRICS
    ]
    columns = {
        "format_version": ["1.2"] * runs,
        "run_id": [f"{i:026d}" for i in range(runs)],
        "project": ["p"] * runs,
        "name": ["run"] * runs,
        "group": [None] * runs,
        "tags": [["sweep"]] * runs,
        "notes": [None] * runs,
        "status": ["finished"] * runs,
        "error": [None] * runs,
        "start_time": [now] * runs,
        "end_time": [now] * runs,
        "heartbeat_time": [now] * runs,
        "record_time": [now] * runs,
        "seq": [3] * runs,
        "host": ["host"] * runs,
        "git_commit": [None] * runs,
        "params": [params] * runs,
        "summary": [summary] * runs,
        "artifacts": [[]] * runs,
    }
    return pa.table(columns, schema=RECORD_SCHEMA)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    index(args.runs, args.repeats)
    record_files(args.files, args.repeats)


def index(runs: int, repeats: int) -> None:
    table = index_table(runs)
    data = table_to_bytes(table)
    checks, decodes = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        decoded = pq.ParquetFile(pa.BufferReader(data)).read()
        decodes.append(time.perf_counter() - start)
        start = time.perf_counter()
        _, problems = rules.clean(decoded, "index/project=p/x.parquet")
        checks.append(time.perf_counter() - start)
        assert not problems
    check, decode = statistics.median(checks), statistics.median(decodes)
    print(f"row checks: {runs:,} runs x {len(PARAMS)} params x {len(METRICS)} metrics, median of {repeats}")
    print(f"  rules.clean:      {check:.3f} s")
    print(f"  Parquet decode:   {decode:.3f} s")
    print(f"  checks / decode:  {check / decode:.2f}")


def record_files(files: int, repeats: int) -> None:
    """One-row record files, one per run folder: the case where a check's fixed cost counts."""
    row = index_table(1)
    paths = [f"records/project=p/run_id={row['run_id'][0]}/{i:026d}.parquet" for i in range(files)]
    data = table_to_bytes(row)
    checks, decodes = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        decoded = [bytes_to_table(data, path) for path in paths]
        decodes.append(time.perf_counter() - start)
        start = time.perf_counter()
        found = [rules.clean(table, path)[1] for table, path in zip(decoded, paths)]
        checks.append(time.perf_counter() - start)
        assert not any(found)
    check, decode = statistics.median(checks), statistics.median(decodes)
    print(f"row checks: {files:,} one-row record files, one at a time, median of {repeats}")
    print(f"  rules.clean:      {check:.3f} s ({check / files * 1e3:.3f} ms per file)")
    print(f"  Parquet decode:   {decode:.3f} s ({decode / files * 1e3:.3f} ms per file)")
    print(f"  checks / decode:  {check / decode:.2f}")


if __name__ == "__main__":
    main()
