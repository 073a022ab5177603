"""Run W1-W4 and write benchmarks/results.md: machine, versions, and per workload the figures,
the peers' figures, the ratios and whether each target is met.

Each workload runs as a subprocess of the interpreter running this script (`make bench`: the
.venv-bench one, which has the peers), its output shown as it goes. W1 and W2 hand their figures
over with --json. W4 (curves.py) has no --json, so its printed lines are parsed. W3 (scale.py)
is run when it exists, with --json if its --help offers it. Output that cannot be read goes
into the report verbatim.

    .venv-bench/bin/python benchmarks/run_all.py [--out benchmarks/results.md] [--quick]
        [--only W2[,W4...]] [--extra "W2=--runs 100 --peer-runs 10"]

--only runs just the workloads named (the others are reported as not run) and then needs --out:
a partial report must not overwrite benchmarks/results.md. --extra passes arguments to one
workload's script, after --quick's (the later of two equal options wins); repeat it per workload.
For example, W2 alone at small sizes into a scratch file:

    .venv-bench/bin/python benchmarks/run_all.py --only W2 --quick --out /tmp/w2.md
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import time
from importlib.metadata import PackageNotFoundError, requires, version

HERE = os.path.dirname(os.path.abspath(__file__))
# --quick: a smoke test of the whole pipeline in about a minute; its figures mean nothing.
QUICK = {
    "W1": ["--repeats", "2", "--peer-steps", "50", "--peer-repeats", "1"],
    "W2": ["--runs", "50", "--repeats", "2", "--peer-runs", "5"],
    "W3": ["--runs", "2000", "--live", "50", "--roots", "local"],
    "W4": ["--runs", "5", "--steps", "10000", "--repeats", "2"],
}
PEER_DISTS = ("mlflow-skinny", "mlflow", "wandb", "sqlalchemy", "alembic")
SCRIPTS = {"W1": "log_overhead.py", "W2": "sweep.py", "W3": "scale.py", "W4": "curves.py"}


def run(workload: str, extra: list[str], tmp: str) -> dict:
    """Run one script, teeing its output; returns its command, output, seconds, JSON figures."""
    script = os.path.join(HERE, SCRIPTS[workload])
    command = [sys.executable, script, *extra]
    json_path = None
    if workload in ("W1", "W2") or (workload == "W3" and "--json" in _help(script)):
        json_path = os.path.join(tmp, f"{workload}.json")
        command += ["--json", json_path]
    print(f"\n=== {workload}: {' '.join(_short(command))}", flush=True)
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in proc.stdout:
        print(line, end="", flush=True)
        lines.append(line)
    proc.wait()
    result = {
        "command": _short(command),
        "output": "".join(lines),
        "seconds": time.perf_counter() - started,
        "returncode": proc.returncode,
        "figures": None,
    }
    if proc.returncode == 0 and json_path and os.path.exists(json_path):
        with open(json_path) as f:
            result["figures"] = json.load(f)
    return result


def _help(script: str) -> str:
    return subprocess.run([sys.executable, script, "--help"], capture_output=True, text=True).stdout


def _short(command: list[str]) -> list[str]:
    """The command as a reader would type it: relative paths, no temporary JSON path."""
    out = [os.path.relpath(c) if os.path.isabs(c) and os.path.exists(c) else c for c in command]
    if "--json" in out:
        out = out[: out.index("--json")] + ["--json", "FILE"]
    return out


# --- the report -------------------------------------------------------------------------------


def num(value: float) -> str:
    """Three significant figures, thousands separated: 0.104, 12.3, 1,870."""
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if value >= 0.001 else f"{value:.2e}"


def ratio(peer: float, ours: float) -> str:
    return f"{peer / ours:,.0f}×" if peer / ours >= 10 else f"{peer / ours:.2g}×"


def status(met: bool | None) -> str:
    return "—" if met is None else ("**met**" if met else "**missed**")


def table(rows: list[tuple]) -> list[str]:
    head = ["Figure", "tracklib", "Peer", "Peer figure", "Ratio (peer ÷ tracklib)", "Target", "Status"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for figure, ours, peer, theirs, rat, target, met in rows:
        cells = [figure, ours, peer or "—", theirs or "—", rat or "—", target or "—", status(met)]
        out.append("| " + " | ".join(cells) + " |")
    return out


def w1_section(fig: dict) -> list[str]:
    ours, short, labels = fig["tracklib"], fig["tracklib_at_peer_steps"], fig["labels"]
    rows = [
        (
            "µs/point in the loop",
            num(ours["us_per_point"]),
            None,
            None,
            None,
            "≤ 0.3 µs",
            ours["us_per_point"] <= 0.3,
        ),
        (
            f"init → finish, {ours['steps']:,} steps, s",
            num(ours["total_s"]),
            None,
            None,
            None,
            "≤ 0.2 s",
            ours["total_s"] <= 0.2,
        ),
    ]
    targets = {"mlflow_sqlite": 1000, "wandb_offline": 100}
    for name, p in fig["peers"].items():
        r = p["us_per_point"] / ours["us_per_point"]
        target = targets.get(name)
        rows.append(
            (
                "µs/point in the loop",
                num(ours["us_per_point"]),
                labels[name],
                num(p["us_per_point"]),
                ratio(p["us_per_point"], ours["us_per_point"]),
                f"≥ {target:,}×" if target else None,
                r >= target if target else None,
            )
        )
    for name, p in fig["peers"].items():
        rows.append(
            (
                f"µs/point incl. init+finish, {p['steps']:,} steps",
                num(short["us_per_point_total"]),
                labels[name],
                num(p["us_per_point_total"]),
                ratio(p["us_per_point_total"], short["us_per_point_total"]),
                None,
                None,
            )
        )
    peer_steps = next(iter(fig["peers"].values()))["steps"] if fig["peers"] else None
    lines = [
        f"tracklib: 1 run × {fig['metrics']} metrics × {ours['steps']:,} steps, median of {ours['repeats']}."
    ]
    if peer_steps:
        p = next(iter(fig["peers"].values()))
        lines.append(
            f"Peers (slow per point) log {peer_steps:,} steps, median of {p['repeats']}; compared"
            f" per point. The incl.-init+finish rows compare tracklib at the same {peer_steps:,} steps"
            " (fixed costs weigh more on a short run)."
        )
    return lines + [""] + table(rows) + _skipped(fig)


def w2_section(fig: dict) -> list[str]:
    """Defaults against defaults: the peer rows use tracklib's default-capture sweep (sweep.py's
    "tracklib"); one row sets it against the same sweep with capture=False ("tracklib_capture_off")."""
    ours, labels, read = fig["tracklib"], fig["labels"], fig["mlflow_read"]
    bare = fig.get("tracklib_capture_off")  # absent from sweep.py's JSON before it wrote both
    write = "write, ms/run, tracklib default capture" if bare else "write, ms/run"
    rows = [(write, num(ours["ms_per_run"]), None, None, None, None, None)]
    if bare:
        cost = ours["ms_per_run"] / bare["ms_per_run"]
        rows.append(
            (
                "write, ms/run: default capture vs capture=False",
                num(ours["ms_per_run"]),
                "tracklib, capture=False",
                num(bare["ms_per_run"]),
                f"{cost:.2f}× (default ÷ capture=False)",
                "default capture within 1.5× of capture=False",
                cost <= 1.5,
            )
        )
    fastest = min(fig["peers"], key=lambda n: fig["peers"][n]["ms_per_run"]) if fig["peers"] else None
    for name, p in fig["peers"].items():
        r = p["ms_per_run"] / ours["ms_per_run"]
        rows.append(
            (
                write,
                num(ours["ms_per_run"]),
                labels[name] + (" (fastest peer)" if name == fastest else ""),
                num(p["ms_per_run"]),
                ratio(p["ms_per_run"], ours["ms_per_run"]),
                "≥ 20× fastest peer" if name == fastest else None,
                r >= 20 if name == fastest else None,
            )
        )
    rows.append(("open + leaderboard, fresh process, s", num(ours["cold"]), None, None, None, None, None))
    if read:
        mlflow = "MLflow search_runs (sqlite)"
        rows += [
            (
                "open + leaderboard, fresh process, s",
                num(ours["cold"]),
                mlflow,
                num(read["cold"]),
                ratio(read["cold"], ours["cold"]),
                "≥ 20×",
                read["cold"] / ours["cold"] >= 20,
            ),
            (
                "leaderboard, warm, s",
                num(ours["warm"]),
                mlflow,
                num(read["warm"]),
                ratio(read["warm"], ours["warm"]),
                "≥ 20×",
                read["warm"] / ours["warm"] >= 20,
            ),
            (
                "val_loss history of 20 runs, s",
                num(ours["history"]),
                "MLflow get_metric_history ×20",
                num(read["history"]),
                ratio(read["history"], ours["history"]),
                None,
                None,
            ),
            (
                "import + all reads, s",
                num(ours["with_import"]),
                "MLflow",
                num(read["with_import"]),
                ratio(read["with_import"], ours["with_import"]),
                None,
                None,
            ),
        ]
    head = f"tracklib: {fig['runs']:,} runs × 8 typed params × 3 metrics × {fig['steps']} steps, written in one process"
    if bare:
        lines = [
            f"{head} with tracklib's default environment capture (system, argv, git and its diff, packages,"
            f" GPUs; {_git_captured(fig)}): {num(ours['write_s'])} s, median of {_each(ours)}. The same sweep"
            f" with `capture=False`, written alternately with it: {num(bare['write_s'])} s, median of"
            f" {_each(bare)}. The tracklib column is the default-capture figure throughout; the"
            " `capture=False` figure is in the Peer figure column of its own row. The reads are of the"
            f" first default-capture sweep, in a fresh process, warm figures median of {fig['repeats']}."
        ]
    else:
        lines = [
            f"{head} ({num(ours['write_s'])} s, median of {_each(ours)}); sweep.py's JSON has no"
            " `capture=False` figure, so which capture this sweep used is not recorded (sweep.py wrote it"
            " with `capture=False` until it wrote both). Reads in a fresh process, warm figures median of"
            f" {fig['repeats']}."
        ]
    if fig["peers"]:
        n = next(iter(fig["peers"].values()))["runs"]
        lines.append(
            f"Peers write {n:,} runs the same way (per-step `log_metrics` / `run.log`), median of as many"
            " sweeps; compared per run with tracklib's "
            + ("default-capture figure" if bare else "figure")
            + ". "
            + "; ".join(f"{fig['labels'][name]}: {_each(p)}" for name, p in fig["peers"].items())
            + "."
        )
        captures = []
        if any(name.startswith("mlflow") for name in fig["peers"]):
            captures.append(
                "MLflow runs with its default capture (its default run context: source, user, git commit)"
            )
        if "wandb_offline" in fig["peers"]:
            captures.append(
                "W&B offline runs with its default git and metadata capture; its system-metrics sampler"
                " and console capture are off (benchmarks/peers.py), as tracklib records neither by default"
            )
        lines.append("Capture: " + "; ".join(captures) + ".")
    if read:
        lines.append(
            f"MLflow's sqlite store is then topped up to {read['rows']:,} runs with one `log_batch` per run"
            f" (untimed, {read['fill_s']:.0f} s), so `search_runs(order_by=['metrics.val_acc DESC'])` reads"
            " as many runs as tracklib's leaderboard, also in a fresh process."
        )
    if "wandb_offline" in fig["peers"]:
        lines.append("W&B offline has no local query API: write time only.")
    return lines + [""] + table(rows) + _skipped(fig)


def _git_captured(fig: dict) -> str:
    """Where sweep.py captured git, and the state it found there (what git capture costs)."""
    where = (fig.get("capture") or {}).get("cwd")
    state = (fig.get("capture") or {}).get("git", "state not recorded")
    if not where:
        return f"git: {state}"
    here = "this repository's checkout" if where == os.path.dirname(HERE) else f"`{where}`"
    return f"git captured in {here}: {state}"


def _each(figures: dict) -> str:
    """The seconds of each sweep written, as '3 sweeps: 2.4, 2.5, 2.3 s' (older JSON: one)."""
    each = figures.get("write_s_each") or [figures["write_s"]]
    return f"{len(each)} sweep(s): {', '.join(num(x) for x in each)} s"


def _skipped(fig: dict) -> list[str]:
    return [f"\nSkipped {fig['labels'][name]}: {why}" for name, why in fig["skipped"].items()]


# scale.py's --json: {"W3": {"local" | "s3": {figure: seconds, ...}}}; cold target per root.
W3_FIGURES = [
    ("cold", "cold open_store().runs(), s", {"local": 3.0, "s3": 10.0, "s3-history": 10.0}),
    ("warm_unchanged", "warm runs(), nothing new, s", {}),
    ("refresh_after_10", "warm refresh after 10 new runs, s", {"local": 0.3, "s3": 0.3, "s3-history": 0.3}),
    ("leaderboard", "leaderboard (warm), s", {}),
    ("apptest_first", "Leaderboard page, first load (AppTest), s", {}),
    ("apptest_rerun", "Leaderboard page, rerun (AppTest), s", {}),
    ("runs_page", "Runs page, after the Leaderboard (AppTest), s", {}),
]
W3_MEMORY = [
    ("table_mb", "runs table + summary, MB"),
    ("reader_peak_mb", "peak RSS after reading, MB"),
    ("dashboard_peak_mb", "peak RSS with the dashboard pages, MB"),
]


def w3_section(fig: dict | None) -> list[str]:
    roots = (fig or {}).get("W3")
    if not isinstance(roots, dict) or not roots:
        return []
    rows, lines = [], []
    for root, r in roots.items():
        if "runs" in r:
            lines.append(
                f"{root} root: {r['runs']:,} runs ({r.get('build', 0):.0f} s to write), read in a fresh process."
                + (
                    " The uncompacted runs started an hour before (a store not compacted for an hour)."
                    if root.endswith("-history")
                    else ""
                )
            )
        for key, label, limits in W3_FIGURES:
            if isinstance(r.get(key), (int, float)):
                limit = limits.get(root)
                met = r[key] <= limit if limit else None
                rows.append(
                    (
                        f"{root}: {label}",
                        num(r[key]),
                        None,
                        None,
                        None,
                        f"≤ {limit:g} s" if limit else None,
                        met,
                    )
                )
        rows += [
            (f"{root}: {label}", f"{r[key]:.0f}", None, None, None, None, None)
            for key, label in W3_MEMORY
            if isinstance(r.get(key), (int, float))
        ]
        if r.get("apptest_errors"):
            lines.append(f"{root}: a dashboard page raised: {r['apptest_errors']}")
    return (
        lines + ["Peers are not run on W3 and W4 (the issue compares them on W1 and W2).", ""] + table(rows)
    )


def w4_section(output: str) -> list[str]:
    cold = re.search(r"chart data, cold store:\s*([\d.]+) s", output)
    warm = re.search(r"chart data, warm store:\s*([\d.]+) s", output)
    head = re.search(r"W4 curves: (.*)", output)
    if not (cold and warm):
        return []
    rows = [
        ("chart data, cold store, s", cold.group(1), None, None, None, None, None),
        ("chart data, warm store, s", warm.group(1), None, None, None, "≤ 1 s", float(warm.group(1)) <= 1),
    ]
    return (
        ([head.group(1) + ". Parsed from its output (curves.py has no --json)."] if head else [])
        + [""]
        + table(rows)
    )


def machine() -> list[str]:
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    peers = [f"{d} {v}" for d in PEER_DISTS if (v := _version(d)) != "not installed"]
    deps = [
        re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0] for r in requires("tracklib") or [] if "extra ==" not in r
    ]
    return [
        f"- CPU: {model}, {cores} cores available",
        f"- tracklib source: {_git()}",
        f"- Python {platform.python_version()} ({sys.executable and os.path.relpath(sys.executable)}),"
        f" {platform.system()} {platform.release()}",
        f"- tracklib {_version('tracklib')}; its dependencies: "
        + ", ".join(f"{d} {_version(d)}" for d in deps),
        "- peers: " + (", ".join(peers) or "none installed (pip install -e '.[bench]')"),
        "- MLflow is `mlflow-skinny` (same tracking client and stores, no UI/server): every full `mlflow`"
        " release on PyPI pins `pyarrow<26`, below tracklib's `pyarrow>=26` (see the `bench` extra).",
    ]


def _git() -> str:
    """The commit measured, and whether tracklib/ had uncommitted changes (they were measured too)."""
    git = ["git", "-C", os.path.dirname(HERE)]
    try:
        commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "tracklib"], capture_output=True, text=True
        ).stdout
    except OSError:
        return "unknown (no git)"
    return f"commit {commit.strip() or 'unknown'}" + (" + uncommitted changes in tracklib/" if dirty else "")


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


TARGETS = {
    "W1": "≤ 0.3 µs/point in the loop; ≥ 100× W&B offline, ≥ 1,000× MLflow default (per point)",
    "W2": "write (tracklib's default capture) ≥ 20× faster than the fastest peer; default capture within"
    " 1.5× of capture=False; leaderboard ≥ 20× faster than MLflow's search_runs",
    "W3": "cold ≤ 3 s local, ≤ 10 s S3; warm refresh ≤ 0.3 s",
    "W4": "chart data ≤ 1 s (warm)",
}
TITLES = {
    "W1": "W1 — log overhead (benchmarks/log_overhead.py)",
    "W2": "W2 — sweep write and read back (benchmarks/sweep.py)",
    "W3": "W3 — scale (benchmarks/scale.py)",
    "W4": "W4 — metric curves (benchmarks/curves.py)",
}


def report(results: dict[str, dict | None], argv: list[str], elapsed: float, quick: bool, load: str) -> str:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        "# Benchmark results",
        "",
        f"Generated {now} by `{' '.join(argv)}` in {elapsed / 60:.1f} min."
        " Regenerate with `make bench`; ratios are peer time ÷ tracklib time (how many times faster"
        " tracklib is; below 1× it is slower). Medians throughout.",
        "",
        "## Machine",
        "",
        *machine(),
        f"- load average (1 min) at start → end: {load}; the figures are only as quiet as the machine"
        " was (other processes share these cores)",
    ]
    if quick:
        out[2:2] = ["**--quick: tiny sizes to test the pipeline; these figures mean nothing.**", ""]
    for workload in SCRIPTS:
        res = results.get(workload)
        out += ["", f"## {TITLES[workload]}", "", f"Targets: {TARGETS[workload]}.", ""]
        if workload not in results:
            out.append("Not run: left out by --only.")
            continue
        if res is None:
            out.append(f"Not run: benchmarks/{SCRIPTS[workload]} does not exist yet.")
            continue
        out += [f"Command: `{' '.join(res['command'])}` ({res['seconds']:.0f} s)", ""]
        if res["returncode"] != 0:
            out += [
                f"**Failed** (exit {res['returncode']}); last output:",
                "",
                "```",
                *_tail(res["output"]),
                "```",
            ]
            continue
        if workload == "W4":
            body = w4_section(res["output"])
        else:
            body = {"W1": w1_section, "W2": w2_section, "W3": w3_section}[workload](res["figures"])
        if not body:
            body = ["Figures not parsed; the script's output:", "", "```", *_tail(res["output"], 40), "```"]
        out += body
    return "\n".join(out) + "\n"


def _workloads(value: str) -> list[str]:
    names = [v.strip().upper() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in SCRIPTS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"not a workload: {value!r} (choose from {', '.join(SCRIPTS)})")
    return names


def _extra(value: str) -> tuple[str, list[str]]:
    workload, sep, more = value.partition("=")
    if not sep or workload.strip().upper() not in SCRIPTS:
        raise argparse.ArgumentTypeError(f"expected WORKLOAD=ARGS, e.g. 'W2=--runs 100': {value!r}")
    return workload.strip().upper(), shlex.split(more)


def _tail(output: str, n: int = 20) -> list[str]:
    return output.rstrip().splitlines()[-n:]


def _sections(text: str) -> list[tuple[str, str]]:
    """(heading, whole text) of each ``## `` section of a report; a workload's heading is its
    name alone ("## W1"), whatever its title says."""
    parts = re.split(r"(?m)^(?=## )", text)
    return [(part.splitlines()[0].split(" — ")[0], part) for part in parts if part.startswith("## ")]


def with_other_sections(written: str, before: str) -> str:
    """``written`` followed by the sections of the previous report it does not make itself:
    the benchmarks measured on their own (dashboard, viewers, costs) keep their figures."""
    made = {heading for heading, _ in _sections(written)}
    kept = [part for heading, part in _sections(before) if heading not in made]
    return written.rstrip("\n") + "\n\n" + "".join(kept).rstrip("\n") + "\n" if kept else written


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", help="the report to write (default: benchmarks/results.md)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to test the pipeline")
    parser.add_argument(
        "--only",
        type=_workloads,
        default=list(SCRIPTS),
        metavar="W2[,W4...]",
        help="run only these workloads (comma-separated); needs --out",
    )
    parser.add_argument(
        "--extra",
        action="append",
        default=[],
        type=_extra,
        metavar="'W2=--runs 100 ...'",
        help="more arguments for one workload's script, after --quick's; repeat per workload",
    )
    args = parser.parse_args()
    results_md = os.path.join(HERE, "results.md")
    if args.only != list(SCRIPTS) and (not args.out or os.path.abspath(args.out) == results_md):
        parser.error("--only writes a partial report: give --out (not benchmarks/results.md)")
    args.out = args.out or results_md
    extra: dict[str, list[str]] = {}
    for workload, more in args.extra:
        extra.setdefault(workload, []).extend(more)
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    results: dict[str, dict | None] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for workload, script in SCRIPTS.items():
            if workload not in args.only:
                continue  # not in results: the report says --only left it out
            if not os.path.exists(os.path.join(HERE, script)):
                print(f"\n=== {workload}: skipped, benchmarks/{script} does not exist", flush=True)
                results[workload] = None
                continue
            sizes = (QUICK[workload] if args.quick else []) + extra.get(workload, [])
            results[workload] = run(workload, sizes, tmp)
    argv = [os.path.relpath(sys.executable), os.path.relpath(__file__), *sys.argv[1:]]
    written = report(
        results, argv, time.perf_counter() - started, args.quick, f"{load_before:.1f} → {os.getloadavg()[0]:.1f}"
    )
    if os.path.exists(args.out):
        with open(args.out) as f:
            written = with_other_sections(written, f.read())
    with open(args.out, "w") as f:
        f.write(written)
    print(f"\nwrote {os.path.relpath(args.out)} in {(time.perf_counter() - started) / 60:.1f} min")


if __name__ == "__main__":
    main()
