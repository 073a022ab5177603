"""The dashboard in a real browser: each page's time to idle, and a Curves control change.

Seeds a store of 41 runs x 2,000 steps (two metrics, three groups), starts ``streamlit run
app.py`` on 127.0.0.1 and drives Debian's Chromium headless through Playwright (never a
downloaded browser). Prints, as medians of ``--repeats``:

- per page, the time from navigation to idle (script done, no skeleton, every chart drawn);
- per Curves control under the chart (smoothing slider, x axis radio, log y checkbox), the
  time from the change to the chart drawn again (Vega redraws in the browser), and to the
  page idle again (the panel then reruns only to write the link).

Targets on a quiet machine: <= 2 s per page, <= 0.5 s per control change. Figures only.

    .venv/bin/python benchmarks/dashboard_controls.py [--runs 41] [--steps 2000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

import tracklib

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
PROJECT = "bench"
PAGES = ("", "runs", "leaderboard", "curves", "compare", "sweeps")
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'

# Resolves once every chart on the page has drawn (a canvas or svg inside each vega-embed).
CHARTS_DRAWN = """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].every(
    e => e.querySelector('.vega-embed canvas, .vega-embed svg.marks'))"""

# The first chart's picture; a change of it means the chart was drawn again.
PICTURE = """() => { const e = document.querySelector('.vega-embed');
  if (!e) return '';
  const c = e.querySelector('canvas');
  return c ? c.toDataURL() : (e.querySelector('svg.marks') || e).innerHTML; }"""

SLIDE = """(value) => { const input = document.querySelector('.vega-embed .vega-bindings input[type=range]');
  input.value = value; input.dispatchEvent(new Event('input', {bubbles: true})); }"""


def seed(root: str, runs: int, steps: int) -> None:
    rng = np.random.default_rng(0)
    for i in range(runs):
        decay = steps / (2 + i % 7)
        loss = np.exp(-np.arange(steps) / decay) + rng.normal(0, 0.03, steps)
        acc = 1 - loss / 2
        params = {"lr": 10 ** -(1 + i % 4), "layers": 1 + i % 3}
        with tracklib.init(PROJECT, root=root, params=params, group=f"g{i % 3}", capture=False) as run:
            for step in range(steps):
                run.log({"train/loss": float(loss[step]), "val/acc": float(acc[step])}, step=step)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(root: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true"]
    command += ["--browser.gatherUsageStats", "false"]
    env = os.environ | {"TRACKLIB_ROOT": root, "TRACKLIB_ROOTS": ""}
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
            return process, url
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("streamlit did not start")


def idle(page) -> None:
    page.wait_for_selector(IDLE, timeout=120_000)
    page.wait_for_selector('[data-testid="stSkeleton"]', state="detached", timeout=120_000)
    page.wait_for_function(CHARTS_DRAWN, timeout=120_000)


def page_idle(page, url: str) -> float:
    began = time.perf_counter()
    page.goto(url)
    idle(page)
    return time.perf_counter() - began


def redrawn(page, change) -> tuple[float, float]:
    """Seconds from ``change()`` to the first chart's picture differing from before (what
    the user sees), and to the page idle again (the panel's rerun that writes the link)."""
    before = page.evaluate(PICTURE)
    began = time.perf_counter()
    change()
    page.wait_for_function(f"(before) => ({PICTURE})() !== before", arg=before, timeout=60_000)
    drawn = time.perf_counter() - began
    page.wait_for_selector(IDLE, timeout=60_000)
    return drawn, time.perf_counter() - began


def control(label: str, times: list[tuple[float, float]]) -> str:
    drawn, written = zip(*times, strict=True)
    return f"  {label:<33} drawn {median(list(drawn))}; link written {median(list(written))}"


def median(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s (runs: {', '.join(f'{v:.2f}' for v in values)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=41)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--root", help="an existing store (seeded if it has no project 'bench')")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    root = args.root or tempfile.mkdtemp(prefix="dashboard-bench-")
    if PROJECT not in tracklib.open_store(root).projects():
        began = time.perf_counter()
        seed(root, args.runs, args.steps)
        print(f"seeded {args.runs} runs x {args.steps} steps in {time.perf_counter() - began:.1f} s")
    ids = tracklib.open_store(root).runs(PROJECT)["run_id"].tolist()
    process, url = start(root)
    base = f"{url}/{{page}}?project={PROJECT}"
    every_run = "&".join(f"runs={run_id}" for run_id in ids)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-quic"]
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page_idle(page, base.format(page=""))  # warm the server's caches once
            print(f"time to idle per page (median of {args.repeats}):")
            for name in PAGES:
                extra = f"&{every_run}" if name == "curves" else ""
                times = [page_idle(page, base.format(page=name) + extra) for _ in range(args.repeats)]
                print(f"  /{name or '(overview)':<12} {median(times)}")

            curves = base.format(page="curves") + f"&{every_run}&metrics=train/loss"
            print(
                f"Curves with {len(ids)} runs, one control change to chart drawn (median of {args.repeats}):"
            )
            page_idle(page, curves)
            slides = [redrawn(page, lambda v=v: page.evaluate(SLIDE, v)) for v in (0.6, 0.9, 0.3, 0.95, 0.0)]
            print(control("smoothing slider (in the chart)", slides[: args.repeats]))
            axes = []
            for k in range(args.repeats):
                choice = "time" if k % 2 == 0 else "step"
                radio = page.locator(f'.vega-embed .vega-bindings input[type=radio][value="{choice}"]').first
                axes.append(redrawn(page, radio.check))
            print(control("x axis (in the chart)", axes))
            logs = []
            checkbox = page.locator(".vega-embed .vega-bindings input[type=checkbox]").first
            for _ in range(args.repeats):
                logs.append(redrawn(page, checkbox.click))
            print(control("log y (in the chart)", logs))
            browser.close()
    finally:
        process.terminate()
        process.wait(10)


if __name__ == "__main__":
    main()
