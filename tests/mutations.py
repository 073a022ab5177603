"""Real store files, mutated the way a hostile or broken writer could: shared by the reader
and the dashboard tests of untrusted store content."""

from __future__ import annotations

import os
import shutil
import uuid

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import strategies as st

import tracklib
from tracklib.ops.compact import compact

INTACT = 4  # runs no mutation touches


def write_base_store(root) -> list[str]:
    """Six finished runs of project "p", compacted into one index file; their ids."""
    ids = []
    for i in range(INTACT + 2):
        params = {"lr": 10.0**-i, "depth": i, "opt": "adam", "flag": i % 2 == 0, "none": None}
        with tracklib.init("p", root=str(root), params=params, tags=["t"], capture=("system",)) as run:
            for step in range(3):
                run.log({"acc": 0.1 * step + i, "loss": 1.0 / (step + 1)}, step=step)
            ids.append(run.id)
    compact(str(root), "p")  # every run is folded into one index file
    return ids


def copy_split(base, ids, root):
    """A copy of the base store with its index split into one record file per run, so a
    mutation of one file touches one run."""
    shutil.copytree(base, root, symlinks=True)
    split_index(root, ids)
    return root


def files_of(root, kind):
    return sorted(
        os.path.join(folder, name)
        for folder, _, names in os.walk(root / kind)
        for name in names
        if name.endswith(".parquet")
    )


def split_index(root, ids):
    """The index file of the base store, split into one file per run: a record file each, so
    a mutation of one file touches one run."""
    (index_file,) = files_of(root, "index")
    table = pq.read_table(index_file)
    metadata = table.schema.metadata
    os.remove(index_file)
    for run_id in ids:
        row = table.filter(pa.compute.equal(table["run_id"], run_id))
        path = root / "records" / "project=p" / f"run_id={run_id}" / f"{uuid.uuid4().hex[:26]}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(row.replace_schema_metadata(metadata), path)


HOSTILE_TEXT = st.sampled_from(
    [
        "",
        "[Re-login](https://evil.example)",
        "![x](https://evil.example/a.png)",
        "<img src=x onerror=alert(1)>",
        ":red[x] $x$ **b**",
        "x" * 100_000,
        "../../etc/passwd",
        "a/b",
        "acc.min",
        "metrics.acc",
        "not-a-number",
        "99999999999999999999999999999",
        "-1e999",
        "nan",
        "\x00\x1b[31m",
    ]
)
NUMBERS = st.sampled_from([None, -1, 0, 2**62, -(2**63), 2**63 - 1])


def mutate_column(table: pa.Table, name: str, how: str, text: str, number: int | None) -> pa.Table:
    column = table[name]
    n = table.num_rows
    if how == "null":
        new = pa.nulls(n, column.type)
    elif how == "text":
        new = pa.array([text] * n, pa.string())
    elif how == "number":
        new = pa.array([number] * n, pa.int64())
    else:  # "drop": the column is missing
        return table.drop_columns([name])
    return table.set_column(table.schema.get_field_index(name), name, new)


NESTED = {
    "params": ("key", "type", "value"),
    "summary": ("key", "last", "last_step", "min", "min_step", "max", "max_step", "count"),
    "artifacts": ("name", "path", "size", "sha256"),
}


def mutate_entry(table: pa.Table, column: str, field: str, value, extra: bool) -> pa.Table:
    """One field of every entry of a list<struct> column set to ``value`` (None for null);
    ``extra`` appends an entry copying the first one (a duplicate key)."""
    rows = table[column].to_pylist()
    for entries in rows:
        entries = entries if entries is not None else []
        if extra and entries:
            entries.append(dict(entries[0]))
        for entry in entries:
            entry[field] = value
    struct = table.schema.field(column).type.value_type
    if value is not None and not isinstance(value, type(None)):
        wanted = struct.field(field).type
        if pa.types.is_string(wanted):
            rows = [[{**e, field: str(e[field])} for e in r or []] for r in rows]
        elif pa.types.is_floating(wanted) and isinstance(value, int):
            rows = [[{**e, field: float(e[field])} for e in r or []] for r in rows]
        elif isinstance(value, str):  # a text where a number belongs: retype the field
            struct = pa.struct([(f.name, pa.string() if f.name == field else f.type) for f in struct])
    array = pa.array(rows, pa.list_(struct))
    return table.set_column(table.schema.get_field_index(column), column, array)


def rewrite(path, table: pa.Table, metadata) -> None:
    pq.write_table(table.replace_schema_metadata(metadata), path)
