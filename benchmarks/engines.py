"""Which engine should build the runs table? pyarrow+pandas (tracklib's reader), DuckDB, Polars.

The same W3 project (100,000 compacted runs in an index file plus 1,000 uncompacted runs,
on a local root) is turned into the leaderboard - every run with its 8 params decoded to
their types and the max of val_acc, sorted - by each engine straight from the files, in a
fresh process each (cold: reading and parsing included), median of --repeats.

    .venv/bin/python benchmarks/engines.py [--runs 100000] [--live 1000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale import PROJECT, build  # noqa: E402

from tracklib.storage import open_storage  # noqa: E402

PARAMS = {
    "lr": "DOUBLE",
    "batch_size": "BIGINT",
    "optimizer": "VARCHAR",
    "dropout": "DOUBLE",
    "layers": "BIGINT",
    "warmup": "BOOLEAN",
    "seed": "BIGINT",
    "schedule": "VARCHAR",
}

COMMON = """
import glob, json, os, sys, time
root, project = sys.argv[1], sys.argv[2]
PARAMS = json.loads(sys.argv[3])
started = time.perf_counter()
files = sorted(glob.glob(f"{root}/records/project={project}/run_id=*/*.parquet"))
files += sorted(glob.glob(f"{root}/index/project={project}/*.parquet"))
"""

ENGINES = {
    "tracklib (pyarrow + pandas)": """
import tracklib
board = tracklib.open_store(root).leaderboard(project, "val_acc", agg="max")
rows, best = len(board), float(board["metrics_max.val_acc"].iloc[0])
""",
    "DuckDB": """
import duckdb
params = ", ".join(
    f"CAST(list_filter(params, lambda p: p.key = '{k}')[1].value AS {t}) AS \\"params.{k}\\""
    for k, t in PARAMS.items()
)
board = duckdb.sql(f'''
    WITH newest AS (
        SELECT * FROM read_parquet($files, hive_partitioning = false)
        QUALIFY row_number() OVER (PARTITION BY run_id ORDER BY seq DESC, record_time DESC) = 1)
    SELECT run_id, name, status, list_filter(summary, lambda s: s.key = 'val_acc')[1].max AS val_acc, {params}
    FROM newest ORDER BY val_acc DESC NULLS LAST, start_time DESC
''', params={"files": files}).to_arrow_table()
rows, best = board.num_rows, board["val_acc"][0].as_py()
""",
    "Polars": """
import polars as pl
records = pl.read_parquet(files, hive_partitioning=False)
newest = records.sort(["seq", "record_time"], descending=True).unique("run_id", keep="first")
best = (newest.select("run_id", "summary").explode("summary").unnest("summary")
        .filter(pl.col("key") == "val_acc").select("run_id", val_acc="max"))
params = (newest.select("run_id", "params").explode("params").unnest("params")
          .pivot(on="key", index="run_id", values="value"))
casts = {"DOUBLE": pl.Float64, "BIGINT": pl.Int64, "VARCHAR": pl.String}
params = params.with_columns(
    [pl.col(k) == "true" if t == "BOOLEAN" else pl.col(k).cast(casts[t]) for k, t in PARAMS.items()]
)
board = (newest.select("run_id", "name", "status", "start_time").join(best, on="run_id", how="left")
         .join(params, on="run_id", how="left")
         .sort(["val_acc", "start_time"], descending=[True, True], nulls_last=True))
rows, best = board.height, board["val_acc"][0]
""",
}

TAIL = """
print(json.dumps({"seconds": time.perf_counter() - started, "rows": rows, "best": best}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--live", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "store")
        build(open_storage(root), args.runs, args.live)
        print(
            f"Leaderboard of {args.runs} compacted + {args.live} uncompacted runs, local root, cold process"
        )
        for engine, code in ENGINES.items():
            times, result = [], {}
            for _ in range(args.repeats):
                out = subprocess.run(
                    [sys.executable, "-c", COMMON + code + TAIL, root, PROJECT, json.dumps(PARAMS)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                result = json.loads(out.stdout)
                times.append(result["seconds"])
            print(
                f"  {engine:28s} {statistics.median(times):6.2f} s  "
                f"({result['rows']} rows, best val_acc {result['best']:.4f}; all: "
                f"{', '.join(f'{t:.2f}' for t in times)})"
            )


if __name__ == "__main__":
    main()
