"""The ``tracklib`` command: ``ls``, ``demo``, ``ui``, ``sync``, ``compact``, ``import``, ``snapshot``,
``reproduce``.
``main(argv) -> exit code``."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence

import pandas as pd

from tracklib import config

BASE_PATH = re.compile(r"([A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*)?")  # no '//', query, '%' or space
LS_METRICS = 4  # metric columns shown by `tracklib ls`; the dashboard shows them all


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tracklib", description="Serverless experiment tracking.")
    commands = parser.add_subparsers(dest="command", required=True)

    ls = commands.add_parser("ls", help="print the runs of a store in the terminal")
    _root_argument(ls)
    ls.add_argument("--project", help="only this project (default: every project)")

    demo = commands.add_parser("demo", help="write a real demo sweep (digits, scikit-learn)")
    _root_argument(demo)
    demo.add_argument("--project", default="digits")
    demo.add_argument("--if-empty", action="store_true", help="do nothing if the root has runs")

    ui = commands.add_parser("ui", help="serve the dashboard")
    _root_argument(ui)
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=8501)
    ui.add_argument(
        "--base-path", default="", help="serve under this URL path, e.g. /tracking (behind a reverse proxy)"
    )

    sync = commands.add_parser("sync", help="upload what the local spool kept while the store was away")
    sync.add_argument("--root", help="only this root (default: every spooled root)")

    compact = commands.add_parser(
        "compact", help="fold ended runs into few files (safe while runs write and dashboards read)"
    )
    _root_argument(compact)
    compact.add_argument("--project", help="only this project (default: every project)")

    importer = commands.add_parser(
        "import", help="copy runs from MLflow or TensorBoard (importing again adds only what is new)"
    )
    sources = importer.add_subparsers(dest="source", required=True)
    mlflow = sources.add_parser("mlflow", help="runs of an MLflow store: mlflow.db, mlruns/ or a server")
    mlflow.add_argument(
        "tracking_uri", help="sqlite:///mlflow.db, a mlflow.db file, an mlruns/ folder or a tracking URI"
    )
    mlflow.add_argument(
        "--experiment", action="append", help="only this experiment, by name or id (repeatable)"
    )
    mlflow.add_argument("--artifacts", action="store_true", help="also copy the runs' artifact files")
    tensorboard = sources.add_parser("tensorboard", help="runs of a TensorBoard log directory")
    tensorboard.add_argument("logdir", help="the folder given to tensorboard --logdir")
    for source in (mlflow, tensorboard):
        _root_argument(source)
        source.add_argument("--project", required=True, help="the project the runs go to")

    snap = commands.add_parser(
        "snapshot", help="save a dashboard share link (Leaderboard, Curves, Sweeps) as one HTML file"
    )
    snap.add_argument("url", help="the page's Share link, e.g. http://host:8501/leaderboard?root=team&...")
    snap.add_argument("--out", required=True, help="the HTML file to write")
    snap.add_argument("--publish", action="store_true", help="also store it under the store's snapshots/")
    snap.add_argument("--expires", default="7d", help="how long a pre-signed S3/GCS link works (default 7d)")

    reproduce = commands.add_parser(
        "reproduce", help="the steps back to a run's starting point: commit, patch, packages, command"
    )
    reproduce.add_argument("run_id", help="the run's id")
    reproduce.add_argument("--project", required=True, help="the run's project")
    _root_argument(reproduce)
    reproduce.add_argument("--out", help="write reproduce.sh, changes.patch, requirements.txt to this folder")

    args = parser.parse_args(argv)
    handlers = {
        "ls": _ls,
        "demo": _demo,
        "ui": _ui,
        "sync": _sync,
        "compact": _compact,
        "import": _import,
        "snapshot": _snapshot,
        "reproduce": _reproduce,
    }
    return handlers[args.command](args)


def _root_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root", help=f"store root URL (default: ${config.ENV_ROOT} or {config.DEFAULT_ROOT})"
    )


def _ls(args: argparse.Namespace) -> int:
    from tracklib.read.store import open_store

    store = open_store(args.root)
    projects = [args.project] if args.project else store.projects()
    if not projects:
        print(f"no runs in {store.root}")
        return 0
    for project in projects:
        runs = store.runs(project)
        print(f"{project}: {len(runs)} run(s) in {store.root}")
        if not runs.empty:
            print(runs_for_terminal(runs).to_string(index=False))
        print()
    return 0


def runs_for_terminal(runs: pd.DataFrame) -> pd.DataFrame:
    """A narrow view of the runs table: who, how it went, and the first few metrics."""
    from tracklib.read.query import metric_column, metric_names

    metrics = [metric_column(key) for key in metric_names(runs)]
    view = runs[["run_id", "name", "status", "start_time", "duration_s", *metrics[:LS_METRICS]]].copy()
    view["start_time"] = view["start_time"].dt.strftime("%Y-%m-%d %H:%M:%S")
    view["duration_s"] = view["duration_s"].round(1)
    return view.rename(columns=lambda c: c.removeprefix("metrics."))


def _demo(args: argparse.Namespace) -> int:
    from tracklib.ops.demo import run_demo
    from tracklib.read.store import open_store

    root = config.resolve_root(args.root)
    if args.if_empty and open_store(root).projects():
        print(f"{root} already has runs; not writing the demo sweep")
        return 0
    print(f"writing the demo sweep to {root} ...", flush=True)
    try:
        ids = run_demo(root=root, project=args.project)
    except ImportError as exc:  # scikit-learn is an extra: say how to get it, no traceback
        print(f"tracklib demo: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(ids)} runs to {root} (project {args.project!r})")
    return 0


def _ui(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    import tracklib.dashboard

    script = Path(tracklib.dashboard.__file__).with_name("streamlit_app.py")
    base = args.base_path.strip("/")
    if not BASE_PATH.fullmatch(base) or {".", ".."} & set(base.split("/")):
        print(
            f"tracklib ui: --base-path {args.base_path!r} is not a URL path "
            "(letters, digits, '-', '_', '.', '~' between '/', e.g. /tracking)",
            file=sys.stderr,
        )
        return 2
    env = os.environ.copy()
    if args.root:
        env[config.ENV_ROOT] = args.root
    url = f"http://{args.host}:{args.port}/{base}{'/' if base else ''}"
    print(f"tracklib dashboard for {config.resolve_root(args.root)} on {url}", flush=True)
    print(f"health check: {url}_stcore/health", flush=True)
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.address",
        args.host,
        "--server.port",
        str(args.port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",  # no source watching: it cost 1-2 s on every page load
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--client.showErrorDetails",
        "none",
        "--runner.postScriptGC",  # a full collection after every rerun: 66% of the server's CPU
        "false",  # with 20 viewers of a 100,000-run store (benchmarks/concurrent_viewers.py)
        "--theme.primaryColor",
        "#4f46e5",
    ]
    if base:
        command += ["--server.baseUrlPath", base]
    # Become the Streamlit server (no child process): signals such as Ctrl-C or a service
    # manager's SIGTERM reach it directly, and nothing is left running behind us.
    os.execve(sys.executable, command, env)
    return 0  # not reached


def _sync(args: argparse.Namespace) -> int:
    from tracklib.storage import open_storage
    from tracklib.write.spool import Spool, spooled_roots

    roots = [args.root] if args.root else spooled_roots(config.spool_dir())
    failed = 0
    for root in roots:
        spool = Spool(config.spool_dir(), root)
        result = spool.sync(open_storage(root))
        failed += result.failed
        print(f"{root}: uploaded {result.uploaded}, still waiting {result.failed}")
    if not roots:
        print("nothing waits in the spool")
    return 1 if failed else 0


def _compact(args: argparse.Namespace) -> int:
    from tracklib.ops.compact import compact

    reports = compact(args.root, args.project)
    for report in reports:
        print(report)
    if not reports:
        print(f"no runs in {config.resolve_root(args.root)}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from tracklib.ops import importers

    try:
        if args.source == "mlflow":
            report = importers.import_mlflow(
                args.tracking_uri,
                project=args.project,
                root=args.root,
                experiments=args.experiment,
                artifacts=args.artifacts,
            )
        else:
            report = importers.import_tensorboard(args.logdir, project=args.project, root=args.root)
    except (ImportError, FileNotFoundError, ValueError) as exc:  # missing extra, source or experiment
        print(f"tracklib import {args.source}: {exc}", file=sys.stderr)
        return 2
    print(report)
    return 0


def _snapshot(args: argparse.Namespace) -> int:
    import streamlit.logger

    # no warnings that Streamlit runs without its server: the page runs headlessly on purpose
    streamlit.logger.set_log_level("error")
    from tracklib.dashboard import snapshot_cli

    return snapshot_cli.command(args.url, args.out, publish=args.publish, expires=args.expires)


def _reproduce(args: argparse.Namespace) -> int:
    from tracklib.format.errors import TracklibError
    from tracklib.ops import reproduce

    try:
        found = reproduce.load(args.run_id, args.project, args.root)
    except (TracklibError, ValueError) as exc:  # no such run or project, a malformed name
        print(f"tracklib reproduce: {exc}", file=sys.stderr)
        return 2
    if args.out is None:
        print(found.steps(inline_files=True), end="")
        return 0
    for path in reproduce.write(found, args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
