"""The public surface: exactly what __all__ promises, and a light import."""

from __future__ import annotations

import subprocess
import sys

import pytest

import tracklib


def test_exported_members_are_the_documented_ones():
    assert sorted(tracklib.__all__) == sorted(
        [
            "FORMAT_VERSION",
            "FormatVersionError",
            "InvalidImageError",
            "InvalidKeyError",
            "InvalidStepError",
            "InvalidValueError",
            "ResumeConflictError",
            "Run",
            "RunDetails",
            "RunFinishedError",
            "RunNotFoundError",
            "Status",
            "Store",
            "StoreError",
            "TracklibError",
            "UnsafePathError",
            "__version__",
            "init",
            "open_store",
        ]
    )
    for name in tracklib.__all__:
        assert hasattr(tracklib, name)


def test_import_pulls_in_no_dashboard_or_cloud_library():
    code = "import sys, tracklib; print(sorted(m for m in ('streamlit','altair','s3fs','gcsfs','sklearn') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_writing_and_refreshing_a_local_store_loads_no_cloud_library(tmp_path):
    code = (
        "import sys, tracklib; root = sys.argv[1]; store = tracklib.open_store(root)\n"
        "for _ in range(2):\n"
        "    tracklib.init('p', root=root, capture=False).finish(); store.runs('p')\n"
        "print(sorted(m for m in ('s3fs', 'gcsfs', 'botocore') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "store")], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"  # s3fs alone takes half a second to import


def test_errors_subclass_the_builtins_callers_catch():
    assert issubclass(tracklib.InvalidValueError, TypeError)
    assert issubclass(tracklib.InvalidKeyError, ValueError)
    assert issubclass(tracklib.RunNotFoundError, LookupError)
    assert all(
        issubclass(getattr(tracklib, n), tracklib.TracklibError)
        for n in tracklib.__all__
        if n.endswith("Error") and n != "TracklibError"
    )


def test_missing_bucket_and_read_only_root_fail_at_init(s3_server, tmp_path):
    with pytest.raises(tracklib.StoreError, match="no-such-bucket"):
        tracklib.init("digits", root="s3://no-such-bucket/x", storage_options=s3_server.storage_options())
    blocker = tmp_path / "a-file"
    blocker.write_text("")  # a root below a file can never be created (mode bits don't stop root)
    with pytest.raises(tracklib.StoreError, match="cannot be created"):
        tracklib.init("digits", root=str(blocker / "store"))


def test_unreadable_and_foreign_files_are_skipped_with_one_warning_each(local_root, tmp_path):
    with local_root.init() as run:
        run.log({"loss": 1.0})
    records = tmp_path / "store" / "records" / "project=digits" / f"run_id={run.id}"
    (records / "01zzzzzzzzzzzzzzzzzzzzzzzz.parquet").write_bytes(b"PAR1 truncated")
    (records / "notes.txt").write_text("someone's notes")
    store = local_root.store()
    with pytest.warns(UserWarning, match="01zzzzzzzzzzzzzzzzzzzzzzzz.parquet") as caught:
        runs = store.runs("digits")
    assert len(caught) == 1 and runs["run_id"].tolist() == [run.id]
