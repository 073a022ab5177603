"""The Run page's System section: a run's system/* samples as small multiples against minutes
since its start, apart from its Curves; none for a run without them; pickers list them last."""

from __future__ import annotations

import json
import time

import pyarrow as pa
import pytest
from page_open import open_page
from streamlit.testing.v1 import AppTest

import tracklib

RUN_PAGE = "tracklib/dashboard/views/run.py"
CURVES_PAGE = "tracklib/dashboard/views/curves.py"


@pytest.fixture(scope="module")
def store_with_samples(tmp_path_factory) -> tuple[str, str, str]:
    """A run sampled every second for ~2.5 s of busy work beside one logged without samples."""
    root = str(tmp_path_factory.mktemp("system") / "store")
    with tracklib.init("digits", root=root, name="sampled", capture=False, system_metrics=1) as run:
        end, step = time.monotonic() + 2.5, 0
        while time.monotonic() < end:
            sum(i * i for i in range(2000))
            run.log({"train/loss": 1.0 / (step + 1), "val/acc": step / (step + 1)})
            step += 1
    with tracklib.init("digits", root=root, name="plain", capture=False) as plain:
        plain.log({"train/loss": 0.5, "val/acc": 0.9})
    return root, run.id, plain.id


def _open(root: str, monkeypatch, page: str, **params: str) -> AppTest:
    return open_page(root, monkeypatch, page, **params)


def _rows(chart) -> list[dict]:
    """The rows Streamlit sends beside the chart's spec (Arrow, as the browser gets them)."""
    return [
        row for d in chart.proto.datasets for row in pa.ipc.open_stream(d.data.data).read_all().to_pylist()
    ]


def test_the_run_page_shows_the_samples_in_a_system_section(store_with_samples, monkeypatch):
    root, run_id, _ = store_with_samples
    at = _open(root, monkeypatch, RUN_PAGE, run=run_id)
    assert not at.exception
    headers = [h.value for h in at.subheader]
    assert headers.index("Curves") < headers.index("System") < headers.index("Artifacts")
    curves, system = at.get("vega_lite_chart")[:2]
    assert {row["key"] for row in _rows(curves)} == {"train/loss", "val/acc"}  # no system/* among them
    rows = _rows(system)
    keys = {row["key"] for row in rows}
    assert {"cpu_percent", "process_cpu_percent", "process_rss_mb", "memory_percent", "net_recv_mb_s"} <= keys
    assert all(0 <= row["minutes"] <= 0.1 for row in rows)  # sampled within the run's ~2.5 s
    assert all(row["value"] > 0 for row in rows if row["key"] == "process_rss_mb")
    spec = json.loads(system.proto.spec)
    assert spec["spec"]["layer"][0]["encoding"]["x"]["field"] == "minutes"


def test_a_run_without_samples_has_no_system_section(store_with_samples, monkeypatch):
    root, _, plain_id = store_with_samples
    at = _open(root, monkeypatch, RUN_PAGE, run=plain_id)
    assert not at.exception
    assert "System" not in [h.value for h in at.subheader]
    assert len(at.get("vega_lite_chart")) == 1


def test_the_curves_metric_picker_lists_system_metrics_last(store_with_samples, monkeypatch):
    root, _, _ = store_with_samples
    at = _open(root, monkeypatch, CURVES_PAGE)
    assert not at.exception
    picker = next(m for m in at.multiselect if m.label.startswith("Metrics"))
    options = list(picker.options)
    assert options[:2] == ["train/loss", "val/acc"] and len(options) > 2
    assert all(option.startswith("system/") for option in options[2:])
    assert not any(value.startswith("system/") for value in picker.value)  # the defaults are the user's
