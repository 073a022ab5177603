"""run.log_dataset on object stores (moto's S3 server, real s3fs): fingerprints from the
objects' ETags, never their bodies; and no secret of a source URL or of storage_options
reaches the store."""

from __future__ import annotations

import string
import uuid
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tracklib

from servers import free_port

FILES = {"a.csv": b"x,y\n1,2\n", "sub/b.bin": bytes(range(256)) * 40, "sub/deep/c.txt": b"hello"}


@pytest.fixture
def s3(s3_server, s3_bucket):
    """A fresh prefix of the test bucket, and an s3fs that writes objects there."""
    import s3fs

    fs = s3fs.S3FileSystem(**s3_server.storage_options(), skip_instance_cache=True)
    return fs, f"{s3_bucket}/{uuid.uuid4().hex}"


@pytest.fixture
def s3_operations(monkeypatch):
    """Every S3 API operation the process asks for from now on (GetObject is a body read)."""
    from aiobotocore.client import AioBaseClient

    operations: list[str] = []
    original = AioBaseClient._make_api_call

    async def counted(self, operation_name, api_params):
        operations.append(operation_name)
        return await original(self, operation_name, api_params)

    monkeypatch.setattr(AioBaseClient, "_make_api_call", counted)
    return operations


def _logged(root, source: str, options: dict, name: str = "train", operations=None) -> tuple[str, dict]:
    """Log ``source`` in a new run; its run id and the dataset read back. ``operations``: the
    S3 operations counter, cleared before the call and marked ``__end__`` after it."""
    with root.init("p", capture=False) as run:
        if operations is not None:
            operations.clear()
        run.log_dataset(name, source, storage_options=options)
        if operations is not None:
            operations.append("__end__")
    datasets = root.store().run("p", run.id).datasets.set_index("name")
    return run.id, datasets.loc[name].to_dict()


def test_a_prefix_round_trips_through_a_store_on_s3_without_reading_any_object(
    s3_root, s3, s3_server, s3_operations
):
    fs, prefix = s3
    for rel, data in FILES.items():
        fs.pipe(f"{prefix}/data/{rel}", data)
    source, options = f"s3://{prefix}/data", s3_server.storage_options()
    _, first = _logged(s3_root, source, options, operations=s3_operations)
    assert "GetObject" not in s3_operations[: s3_operations.index("__end__")]
    assert (first["kind"], first["source"], first["files"]) == ("remote-folder", source, 3)
    assert first["bytes"] == sum(len(v) for v in FILES.values())
    assert _logged(s3_root, source, options)[1]["fingerprint"] == first["fingerprint"]
    fs.pipe(f"{prefix}/data/a.csv", FILES["a.csv"])  # the same bytes again: the same ETag
    assert _logged(s3_root, source, options)[1]["fingerprint"] == first["fingerprint"]
    fs.pipe(f"{prefix}/data/a.csv", b"x,y\n1,3\n")  # one byte
    one_byte = _logged(s3_root, source, options)[1]["fingerprint"]
    fs.pipe(f"{prefix}/data/a.csv", FILES["a.csv"])
    fs.pipe(f"{prefix}/data/new.txt", b"")
    added = _logged(s3_root, source, options)[1]["fingerprint"]
    fs.rm(f"{prefix}/data/new.txt")
    fs.mv(f"{prefix}/data/sub/b.bin", f"{prefix}/data/sub/b2.bin")
    renamed = _logged(s3_root, source, options)[1]["fingerprint"]
    assert len({first["fingerprint"], one_byte, added, renamed}) == 4
    fs.mv(f"{prefix}/data/sub/b2.bin", f"{prefix}/data/sub/b.bin")
    assert (
        _logged(s3_root, source, options, operations=s3_operations)[1]["fingerprint"] == first["fingerprint"]
    )
    during_the_call = s3_operations[: s3_operations.index("__end__")]
    assert "GetObject" not in during_the_call and "ListObjectsV2" in during_the_call


def test_a_large_object_is_fingerprinted_from_its_metadata_alone(local_root, s3, s3_server, s3_operations):
    fs, prefix = s3
    size = 64 * 2**20
    fs.pipe(f"{prefix}/big.bin", b"\1" * size)
    _, dataset = _logged(
        local_root, f"s3://{prefix}/big.bin", s3_server.storage_options(), operations=s3_operations
    )
    assert (dataset["kind"], dataset["files"], dataset["bytes"]) == ("remote-file", 1, size)
    during_the_call = s3_operations[: s3_operations.index("__end__")]
    assert "GetObject" not in during_the_call
    assert len(during_the_call) <= 3  # a HEAD (and a listing), not 64 MB of ranged reads


def test_a_missing_object_raises_at_the_call(local_root, s3, s3_server):
    _, prefix = s3
    with local_root.init("p", capture=False) as run:
        with pytest.raises(FileNotFoundError, match="no object or prefix"):
            run.log_dataset(
                "train", f"s3://{prefix}/nothing-here", storage_options=s3_server.storage_options()
            )


def test_an_unreachable_store_warns_and_keeps_the_dataset_without_a_fingerprint(local_root):
    options = {"endpoint_url": f"http://127.0.0.1:{free_port()}", "key": "k", "secret": "s"}
    with local_root.init("p", capture=False) as run:
        run.log_params({"lr": 0.1})
        with pytest.warns(RuntimeWarning, match="could not read the metadata"):
            run.log_dataset("train", "s3://bucket/data", storage_options=options)
        run.log({"loss": 1.0})
    store = local_root.store()
    details = store.run("p", run.id)
    assert details.params == {"lr": 0.1} and details.summary["key"].tolist() == ["loss"]
    row = details.datasets.iloc[0]
    assert (row["name"], row["source"], row["kind"]) == ("train", "s3://bucket/data", "remote")
    assert row["fingerprint"] is None and row["files"] is pd_na()
    assert store.runs("p")["datasets.train"].isna().all()


def pd_na():
    import pandas as pd

    return pd.NA


SECRETS = st.text(alphabet=string.ascii_letters + string.digits, min_size=10, max_size=30).map(
    lambda s: "Zq" + s  # never a word that occurs in a store by chance
)
QUERY_NAMES = st.sampled_from(["X-Amz-Signature", "X-Amz-Credential", "sig", "token", "access_token"])


def _store_bytes(root: Path) -> bytes:
    return b"".join(path.read_bytes() for path in root.rglob("*") if path.is_file())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(password=SECRETS, signature=SECRETS, query=QUERY_NAMES, key=SECRETS, secret=SECRETS)
def test_no_secret_of_a_source_url_or_of_storage_options_reaches_the_store(
    tmp_path, s3_server, s3, password, signature, query, key, secret
):
    fs, prefix = s3
    fs.pipe(f"{prefix}/data/f.csv", b"1")
    store_root = tmp_path / f"store-{uuid.uuid4().hex}"
    port = free_port()  # nothing listens there: the dataset is kept without a fingerprint
    url = f"http://user:{password}@127.0.0.1:{port}/d.csv?a=1&{query}={signature}"
    options = s3_server.storage_options() | {"key": key, "secret": secret}  # moto takes any key
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with tracklib.init("p", root=str(store_root), capture=False) as run:
            run.log_dataset("web", url)
            s3_set = run.log_dataset("bucket", f"s3://{prefix}/data", storage_options=options)
    assert s3_set.fingerprint is not None and s3_set.files == 1
    stored = _store_bytes(store_root)
    for value in (password, signature, key, secret):
        assert value.encode() not in stored
        assert not any(value in str(w.message) for w in caught)
    source = (
        tracklib.open_store(str(store_root)).run("p", run.id).datasets.set_index("name").loc["web", "source"]
    )
    assert source == f"http://***@127.0.0.1:{port}/d.csv?a=1&{query}=***"


def test_any_fsspec_url_works_memory_here(local_root):
    import fsspec

    fs = fsspec.filesystem("memory")
    prefix = f"/datasets-{uuid.uuid4().hex}"
    fs.pipe({f"{prefix}/a.csv": b"1", f"{prefix}/sub/b.csv": b"22"})
    _, first = _logged(local_root, f"memory://{prefix}", {})
    assert (first["kind"], first["files"], first["bytes"]) == ("remote-folder", 2, 3)
    assert _logged(local_root, f"memory://{prefix}", {})[1]["fingerprint"] == first["fingerprint"]
    fs.pipe(f"{prefix}/sub/b.csv", b"23")  # a new object: its creation time is its version here
    assert _logged(local_root, f"memory://{prefix}", {})[1]["fingerprint"] != first["fingerprint"]
