"""The plain-Python test of small record tables (rules._plainly_usable) answers as the
vectorised checks do: on hostile record tables, clean_records with and without it gives the
same rows, the same repairs and the same problems, and it only ever lets through a table
the vectorised checks would return untouched."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tracklib.format import rules
from tracklib.format.schema import RECORD_SCHEMA
from tracklib.storage.parquet import conform

from mutations import HOSTILE_TEXT, NESTED, NUMBERS, mutate_column, mutate_entry

RUN = "01J8ZK5YV1W3Q2C4M6N8P0R2T4"
OTHER = "01J8ZK5YV1W3Q2C4M6N8P0R2T5"
PATHS = {
    "records": f"records/project=p/run_id={RUN}/01J8ZK6000000000000000000A.parquet",
    "index": "index/project=p/01J8ZK6000000000000000000A.parquet",
    "elsewhere": "metrics/p/x.parquet",
}
RECORD_COLUMNS = [f.name for f in RECORD_SCHEMA]
TIME = datetime(2025, 6, 1, 12, tzinfo=UTC)


def record(run_id: str = RUN) -> pa.Table:
    """One record row as a writer makes it: every field a reader checks is set."""
    summary = {"last": 0.5, "last_step": 9, "min": 0.1, "min_step": 0, "max": 0.9, "max_step": 3, "count": 10}
    row = {
        "format_version": "1.2",
        "run_id": run_id,
        "project": "p",
        "name": "brave-otter-7",
        "group": None,
        "tags": ["t", "sweep"],
        "notes": None,
        "status": "finished",
        "error": None,
        "start_time": TIME,
        "end_time": TIME,
        "heartbeat_time": TIME,
        "record_time": TIME,
        "seq": 3,
        "host": "h",
        "git_commit": None,
        "params": [
            {"key": "lr", "type": "float", "value": "0.1"},
            {"key": "opt", "type": "str", "value": "adam"},
        ],
        "summary": [{"key": "acc", **summary}, {"key": "loss", **summary}],
        "artifacts": [{"name": "model", "path": "a/model.pt", "size": 3, "sha256": "0" * 64}],
    }
    return pa.Table.from_pylist([row], schema=RECORD_SCHEMA)


def set_value(table: pa.Table, column: str, value) -> pa.Table:
    field = table.schema.field(column)
    if pa.types.is_timestamp(field.type) and value is not None:  # microseconds, any int64
        array = pa.array([value] * table.num_rows, pa.int64()).view(field.type)
    else:
        array = pa.array([value] * table.num_rows, field.type)
    return table.set_column(table.schema.get_field_index(column), column, array)


IDENTITY = st.tuples(
    st.sampled_from(["run_id", "project"]),
    st.one_of(
        HOSTILE_TEXT, st.sampled_from([None, RUN, OTHER, RUN + "\n", "p", "p\n", "q", "P", "-x", "a" * 65])
    ),
)
TIMES = st.tuples(
    st.sampled_from(["start_time", "end_time", "heartbeat_time", "record_time"]),
    st.one_of(
        NUMBERS,
        st.sampled_from([-62_135_596_800_000_000, -62_135_596_800_000_001, 253_402_300_799_999_999]),
        st.just(253_402_300_800_000_000),
    ),
)
COLUMN = st.tuples(
    st.sampled_from(RECORD_COLUMNS), st.sampled_from(["null", "text", "number"]), HOSTILE_TEXT, NUMBERS
)
TAGS = st.one_of(st.none(), st.lists(st.one_of(st.none(), HOSTILE_TEXT), max_size=3))


@st.composite
def entry_mutation(draw):
    column = draw(st.sampled_from(sorted(NESTED)))
    field = draw(st.sampled_from(NESTED[column]))
    value = draw(st.one_of(st.none(), HOSTILE_TEXT, NUMBERS, st.sampled_from(["lr", "acc", "model"])))
    return column, field, value, draw(st.booleans())


MUTATION = st.one_of(
    st.tuples(st.just("identity"), IDENTITY),
    st.tuples(st.just("time"), TIMES),
    st.tuples(st.just("column"), COLUMN),
    st.tuples(st.just("entry"), entry_mutation()),
    st.tuples(st.just("tags"), TAGS),
    st.tuples(st.just("seq"), st.one_of(st.none(), NUMBERS)),
)


def mutated(table: pa.Table, mutation) -> pa.Table:
    """``table`` mutated, then conformed to the record schema as a reader does (a mutation
    the reader would refuse as unreadable leaves the table as it was)."""
    kind, args = mutation
    try:
        if kind == "identity":
            changed = set_value(table, *args)
        elif kind == "time":
            changed = set_value(table, *args)
        elif kind == "column":
            changed = mutate_column(table, *args)
        elif kind == "entry":
            changed = mutate_entry(table, *args)
        elif kind == "tags":
            changed = set_value(table, "tags", args)
        else:
            changed = set_value(table, "seq", args)
        return conform(changed.replace_schema_metadata(None), RECORD_SCHEMA)
    except (pa.ArrowException, ValueError, TypeError, KeyError):
        return table


def hostile_table(rows: list[pa.Table], shape: str) -> pa.Table:
    table = pa.concat_tables(rows)  # one chunk per row
    if shape == "combined":
        return table.combine_chunks()
    if shape == "sliced":  # chunks that start inside their buffers
        return pa.concat_tables([record(), table, record()]).combine_chunks().slice(1, table.num_rows)
    return table


def outcome(table: pa.Table, path: str):
    try:
        cleaned, problems = rules.clean_records(table, path)
    except Exception as exc:  # noqa: BLE001 - both paths must fail alike, too
        return ("raised", type(exc), str(exc)), None
    # repr: NaN (a hostile summary value) equals itself there; times are in range once cleaned
    return (cleaned.schema, repr(cleaned.to_pylist()), problems), cleaned


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    data=st.data(),
    place=st.sampled_from(sorted(PATHS)),
    rows=st.integers(1, 3),
    shape=st.sampled_from(["chunks", "combined", "sliced"]),
)
def test_the_plain_check_and_the_vectorised_checks_agree(data, place, rows, shape):
    path = PATHS[place]
    tables = []
    for i in range(rows):
        table = record(RUN if place == "records" or i == 0 else f"01J8ZK5YV1W3Q2C4M6N8P0R2A{i}")
        for mutation in data.draw(st.lists(MUTATION, max_size=2), label=f"row {i} mutations"):
            table = mutated(table, mutation)
        tables.append(table)
    table = hostile_table(tables, shape)

    fast, fast_table = outcome(table, path)
    with mock.patch.object(rules, "_FEW_ROWS", -1):  # the vectorised checks alone
        detailed, _ = outcome(table, path)
    assert fast == detailed
    where = rules.location(path)
    plain = where is not None and rules._plainly_usable(table, where)
    event(
        "let through" if plain else "raised" if fast[0] == "raised" else f"checked, problems: {bool(fast[2])}"
    )
    if plain:  # let through, as the vectorised checks would: untouched, no problems
        checked, problems = rules._checked_records(table, path, where)
        assert fast_table is table and checked is table and problems == fast[2] == []


def test_a_writers_snapshot_takes_the_plain_check_and_a_hostile_one_does_not():
    where = rules.location(PATHS["records"])
    assert rules._plainly_usable(record(), where)
    assert rules._plainly_usable(pa.concat_tables([record(), record()]), where)
    hostile = [
        set_value(record(), "run_id", RUN + "\n"),  # Python's $ would take it; RE2's does not
        set_value(record(), "run_id", OTHER),
        set_value(record(), "project", "q"),
        set_value(record(), "tags", ["t", None]),
        set_value(record(), "end_time", 253_402_300_800_000_000),
        set_value(record(), "name", None),
        mutate_entry(record(), "summary", "key", "acc", extra=False),  # a repeated key
        mutate_entry(record(), "params", "key", "", extra=False),
    ]
    for table in hostile:
        assert not rules._plainly_usable(table, where)
        cleaned, problems = rules.clean_records(table, PATHS["records"])
        assert problems or cleaned is not table


@pytest.mark.parametrize("rows", [rules._FEW_ROWS, rules._FEW_ROWS + 1])
def test_tables_beyond_a_few_rows_take_the_vectorised_checks(rows):
    table = pa.concat_tables([record()] * rows)
    with mock.patch.object(rules, "_plainly_usable", wraps=rules._plainly_usable) as plain:
        assert rules.clean_records(table, PATHS["records"]) == (table, [])
    assert plain.called == (rows <= rules._FEW_ROWS)
