"""Many viewers at once: 20 sessions open the same Leaderboard link of a 101,000-run store.

The store is W3's (benchmarks/scale.py: 100,000 compacted runs + 1,000 uncompacted), built
once into a cache folder outside the repository (``--cache``) and reused. Each round starts
the dashboard as a team would (``tracklib ui``: the Streamlit server is that very process,
so its RSS is the server's), warms it with one visit (the cold load of the store is W3's
figure), then:

- alone: ``--singles`` sequential visits, each a new session;
- memory baseline: one session opened and kept open, then the server's RSS;
- at once: ``--sessions`` new sessions open the link together (the baseline one stays open),
  then the server's RSS again. Memory per extra session = (RSS after - baseline) / sessions.

How a session opens the link (``--client``):

- ``websocket`` (default): Streamlit's own protocol, as the browser speaks it: a websocket
  to ``/_stcore/stream`` and one BackMsg asking to run the Leaderboard page with the link's
  query string. Each is a real server session (its script run, widgets, the Arrow table
  sent); the time runs to the table's rows received. This measures the server, which is
  what 20 viewers share: their browsers run on their own machines.
- ``browser``: 20 Playwright contexts of one headless Debian Chromium (never a downloaded
  browser); the time runs to the table's first row in the page. Too heavy for this machine:
  20 tabs rendering Streamlit's frontend on the server's 2 cores measure the tabs (load 33,
  p95 146 s once), not the server. Kept for bigger machines.
- ``mixed``: one real Chromium viewer among 19 websocket sessions, all opening the link at
  once, 5 crowds a round: a viewer's time to a rendered page while the server serves the
  others. Its lone visits are in the browser too (a fresh context: it also downloads the
  frontend's files, which the server serves).

Targets on this 2-core machine: p95 at once <= 3x a lone visit's time (its p50); <= 50 MB
of server memory per extra session. Medians over ``--rounds`` (a fresh server each); the
1-minute load average is printed with each round (other processes share these cores).
Figures only: nothing here is a test.

    .venv/bin/python benchmarks/concurrent_viewers.py [--client websocket|mixed|browser]
        [--sessions 20] [--rounds 3] [--singles 5] [--batches N] [--cache DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import psutil
from scale import PROJECT, build  # W3's store, written as `tracklib compact` leaves it

from tracklib.storage import open_storage

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking"]
LINK = {"project": PROJECT, "metric": "val_acc", "agg": "max"}
FIRST_ROW = '[data-testid="stDataFrame"] [data-testid="glide-cell-1-0"]'
TIMEOUT_MS = 300_000
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "tracklib-bench"


def cached_store(cache: Path, runs: int, live: int) -> Path:
    """W3's store in ``cache``, built once (a marker file says the build finished)."""
    root = cache / f"scale-{runs}-{live}"
    done = root / ".complete"
    if not done.exists():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        began = time.perf_counter()
        build(open_storage(str(root), {}), runs, live)
        done.touch()
        print(f"built {runs:,} + {live:,} runs into {root} in {time.perf_counter() - began:.0f} s")
    return root


def start_server(root: Path, port: int) -> subprocess.Popen[bytes]:
    """``tracklib ui`` (it execs Streamlit: the child's pid is the server's)."""
    command = [sys.executable, "-m", "tracklib.cli", "ui", "--root", str(root), "--port", str(port)]
    env = os.environ | {"TRACKLIB_ROOTS": "", "TRACKLIB_SPOOL": str(root.parent / "spool")}
    process = subprocess.Popen(
        command, cwd=root.parent, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"tracklib ui exited with {process.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).close()
            return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("tracklib ui did not answer its health check")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 1e6


def cpu_s(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


async def browser_session(browser, base: str):
    """A new browser context on the link: (seconds to the table's first row, its closer)."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    began = time.perf_counter()
    await page.goto(f"{base}/leaderboard?{urlencode(LINK)}", timeout=TIMEOUT_MS)
    await page.wait_for_selector(FIRST_ROW, state="attached", timeout=TIMEOUT_MS)
    took = time.perf_counter() - began
    if await page.locator('[data-testid="stException"]').count():
        raise RuntimeError("the page shows an exception")
    return took, context.close


async def websocket_session(_browser, base: str):
    """A Streamlit session over its own websocket, as the browser opens it (one BackMsg
    asking to run the Leaderboard page with the link's query string): (seconds to the
    table's rows received, its closer). The connection stays open, so the session lives."""
    import pyarrow as pa
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    began = time.perf_counter()
    socket = await websockets.connect(
        base.replace("http", "ws", 1) + "/_stcore/stream", subprotocols=["streamlit"], max_size=None
    )
    ask = BackMsg()
    ask.rerun_script.query_string = urlencode(LINK)
    ask.rerun_script.page_name = "leaderboard"
    await socket.send(ask.SerializeToString())
    rows = None
    while True:
        message = ForwardMsg.FromString(await asyncio.wait_for(socket.recv(), TIMEOUT_MS / 1000))
        kind = message.WhichOneof("type")
        if kind == "delta" and message.delta.new_element.WhichOneof("type") == "dataframe":
            table = message.delta.new_element.dataframe.arrow_data.data
            rows = pa.ipc.open_stream(table).read_all().num_rows
            took = time.perf_counter() - began
        elif kind == "delta" and message.delta.new_element.WhichOneof("type") == "exception":
            raise RuntimeError(f"the page raised: {message.delta.new_element.exception.message}")
        elif kind == "script_finished":
            break
    if not rows:
        raise RuntimeError("the Leaderboard page sent no table rows")

    async def drain() -> None:  # keep reading, so the server never waits on this client
        async for _ in socket:
            pass

    reader = asyncio.ensure_future(drain())

    async def close() -> None:
        await socket.close()
        reader.cancel()

    return took, close


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def settle(pid: int, seconds: float = 3.0) -> float:
    """RSS once the server has been idle a moment (its sessions' reruns are done)."""
    await asyncio.sleep(seconds)
    return rss_mb(pid)


CLIENTS = {  # how a lone viewer opens the link; how the crowd does; whose times count
    "websocket": ("websocket", "websocket", "all"),
    "browser": ("browser", "browser", "all"),
    "mixed": ("browser", "websocket", "first"),  # one real browser among websocket sessions
}


async def one_round(client: str, browser, root: Path, sessions: int, singles: int, batches: int) -> dict:
    opener = {"websocket": websocket_session, "browser": browser_session}
    alone_kind, crowd_kind, counted = CLIENTS[client]
    lone, crowd = opener[alone_kind], opener[crowd_kind]
    port = free_port()
    server = start_server(root, port)
    base = f"http://127.0.0.1:{port}"
    try:
        rss_start = rss_mb(server.pid)
        warm, close = await lone(browser, base)  # the cold load of the store
        await close()
        alone = []
        for _ in range(singles):
            cpu = cpu_s(server.pid)
            took, close = await lone(browser, base)
            alone.append((took, cpu_s(server.pid) - cpu))
            await close()
        _, close_first = await lone(browser, base)  # stays open: the memory baseline
        rss_one = await settle(server.pid)
        times, cpu_many, opened = [], 0.0, []
        for batch in range(batches):  # the last batch stays open for the memory figure
            if batch:
                for _, close in opened:
                    await close()
                await asyncio.sleep(1)
            cpu = cpu_s(server.pid)
            openers = [lone if counted == "first" else crowd] + [crowd] * (sessions - 1)
            opened = await asyncio.gather(*(open_session(browser, base) for open_session in openers))
            cpu_many += cpu_s(server.pid) - cpu
            times += [t for t, _ in (opened[:1] if counted == "first" else opened)]
        rss_many = await settle(server.pid)
        for _, close in opened:
            await close()
        await close_first()
        return {
            "load": os.getloadavg()[0],
            "rss_start": rss_start,
            "warm_first": warm,
            "single_p50": statistics.median(t for t, _ in alone),
            "single_p95": p95([t for t, _ in alone]),
            "single_cpu": statistics.median(c for _, c in alone),
            "many_p50": statistics.median(times),
            "many_p95": p95(times),
            "many_cpu_per_visit": cpu_many / (sessions * batches),
            "rss_one": rss_one,
            "rss_many": rss_many,
            "mb_per_session": (rss_many - rss_one) / sessions,
        }
    finally:
        server.terminate()
        server.wait(20)


def report(label: str, r: dict, sessions: int) -> None:
    print(
        f"{label}: load {r['load']:.2f}; first visit (cold store) {r['warm_first']:.1f} s; "
        f"alone p50 {r['single_p50']:.2f} s p95 {r['single_p95']:.2f} s (server CPU {r['single_cpu']:.2f} s/visit); "
        f"{sessions} at once p50 {r['many_p50']:.2f} s p95 {r['many_p95']:.2f} s "
        f"(server CPU {r['many_cpu_per_visit']:.2f} s/visit); "
        f"RSS {r['rss_start']:.0f} MB idle, {r['rss_one']:.0f} MB with 1 session, "
        f"{r['rss_many']:.0f} MB with {sessions + 1}: {r['mb_per_session']:.1f} MB per extra session"
    )


async def main_async(args: argparse.Namespace) -> None:
    from playwright.async_api import async_playwright

    root = cached_store(Path(args.cache), args.runs, args.live)
    print(f"{args.client} sessions, uptime load before: {os.getloadavg()}")
    rounds = []
    async with async_playwright() as playwright:
        browser = None
        if args.client != "websocket":
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for k in range(args.rounds):
            batches = args.batches or (5 if args.client == "mixed" else 1)
            result = await one_round(args.client, browser, root, args.sessions, args.singles, batches)
            report(f"round {k + 1}", result, args.sessions)
            rounds.append(result)
        if browser is not None:
            await browser.close()
    med = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
    ratio = med["many_p95"] / med["single_p50"]
    print(
        f"\nmedian of {args.rounds} rounds ({args.runs + args.live:,} runs, {args.client} sessions, 2 cores):"
    )
    report("median", med, args.sessions)
    print(
        f"  p95 with {args.sessions} at once / p50 alone: {ratio:.2f}x (target <= 3x: "
        f"{'met' if ratio <= 3 else 'missed'})"
    )
    print(
        f"  server memory per extra session: {med['mb_per_session']:.1f} MB (target <= 50 MB: "
        f"{'met' if med['mb_per_session'] <= 50 else 'missed'})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--client", choices=tuple(CLIENTS), default="websocket")
    parser.add_argument(
        "--batches", type=int, default=0, help="crowds per round (default: 5 for mixed, else 1)"
    )
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--singles", type=int, default=5, help="sequential lone visits per round")
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--live", type=int, default=1_000)
    parser.add_argument("--cache", default=str(DEFAULT_CACHE), help="where the store is built once")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
