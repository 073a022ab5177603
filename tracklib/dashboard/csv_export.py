"""Tables as CSV that a spreadsheet opens as data, never as formulas (pure).

Run names, tags and params are untrusted, and Excel, LibreOffice and Google Sheets run a cell
that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return before one) as a
formula: ``=HYPERLINK(...)`` or ``=cmd|...`` in a run name would act on the reader's machine.
As OWASP recommends (CSV Injection), such *text* cells and column names get a leading single
quote, which spreadsheets show as text. Numbers are never touched: ``-0.5`` stays a number,
and so does a text cell that is exactly a number (no spreadsheet reads it as a formula).
"""

from __future__ import annotations

import re

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def neutralised(value: object) -> object:
    """``value`` with a leading ``'`` if it is text a spreadsheet would run as a formula."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def safe_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The table with its text cells and column names neutralised; other columns as they are."""
    safe = table.copy()
    for position in range(len(table.columns)):
        column = table.iloc[:, position]
        if _holds_text(column):
            safe.isetitem(position, column.astype(object).map(neutralised))
    safe.columns = [neutralised(str(c)) for c in table.columns]
    return safe


def _holds_text(column: pd.Series) -> bool:
    dtype = column.dtype
    return (
        pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
    )


def csv_text(table: pd.DataFrame, lineterminator: str = "\r\n") -> str:
    """The table as CSV (RFC 4180 line ends by default), safe to open in a spreadsheet."""
    return safe_frame(table).to_csv(index=False, lineterminator=lineterminator)
