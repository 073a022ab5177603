"""What every importer shares (ops/importers/common.py), driven without a source tracker."""

from __future__ import annotations

import tracklib
from tracklib.format.schema import Status
from tracklib.ops.importers.common import SourceRun, metrics_table, write_run
from tracklib.read.store import Store
from tracklib.storage import open_storage

T0 = 1_700_000_000.0


def test_an_imported_run_is_masked_and_its_environment_stored_as_a_live_runs_is(tmp_path, monkeypatch):
    monkeypatch.setenv("DB_PASSWORD", "hunter2-but-longer")
    root = str(tmp_path / "store")
    storage = open_storage(root)
    source = SourceRun(
        run_id="r1",
        name="one",
        status=Status.FINISHED,
        start_time=T0,
        end_time=T0 + 10,
        history=lambda: metrics_table("r1", ["loss"], [0], [0.5], [int((T0 + 1) * 1e6)]),
        params={"dsn": "postgres://hunter2-but-longer@db/x", "lr": 0.1},
        # argv of a non-UTF-8 file name: kept escaped, as a live run keeps its own argv
        environment={"user": "ada", "host": None, "argv": ["train.py", "caf\udce9.csv"]},
    )
    assert write_run(storage, Store(storage), "p", source).action == "imported"
    details = tracklib.open_store(root).run("p", "r1")
    assert details.params["lr"] == 0.1 and "hunter2-but-longer" not in details.params["dsn"]
    assert details.environment["user"] == "ada" and details.environment["host"] is None
    assert details.environment["argv"] == ["train.py", "caf\\udce9.csv"]
    assert write_run(storage, Store(storage), "p", source).action == "unchanged"
