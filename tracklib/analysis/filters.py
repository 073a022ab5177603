"""A small, safe filter language for the runs table::

    lr < 0.01 and (optimizer in ["adam", "sgd"] or tags contains "baseline")
        and metrics.val/acc >= 0.9 and status = "finished"

A hand-written tokenizer and recursive-descent parser build an immutable AST; a separate
evaluator turns it into pandas column operations. No eval/exec/query: a filter pasted into a
shared dashboard URL can only ever select rows. Missing values never match a comparison (not
even ``!=``), except ``= null``; ``not (x = 1)`` does include them.
"""

from __future__ import annotations

import difflib
import functools
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

MAX_LENGTH = 2_000
MAX_DEPTH = 50
KEYWORDS = {"and", "or", "not", "in", "contains", "true", "false", "null"}
CONSTANTS = {"true": True, "false": False, "null": None}
OPS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<num>-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[^\W\d][\w./-]*)
  | (?P<str>"(?:[^"\\]|\\[\s\S])*"|'(?:[^'\\]|\\[\s\S])*')
  | (?P<op>==|!=|<=|>=|=|<|>)
  | (?P<punct>[()\[\],])
""",
    re.VERBOSE,
)
# An object column whose values share one type is compared like a column of that type.
OBJECT_KINDS = {
    "string": ("text", "string"),
    "boolean": ("boolean", "boolean"),
    "integer": ("numeric", "Float64"),
    "floating": ("numeric", "Float64"),
    "mixed-integer-float": ("numeric", "Float64"),
}

Value = bool | int | float | str | None


class FilterError(ValueError):
    """A filter the user must fix; ``position`` is the 0-based offset to put a caret under."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} at position {position}")
        self.message, self.position = message, position


@dataclass(frozen=True)
class Literal:
    value: Value
    position: int


@dataclass(frozen=True)
class Compare:
    field: str
    op: str  # a key of OPS, "in", "not in" or "contains"
    values: tuple[Literal, ...]  # exactly one, except for in / not in
    position: int


@dataclass(frozen=True)
class Logic:
    op: str  # "and", "or" (n-ary, so long chains stay shallow) or "not" (one operand)
    operands: tuple[Expr, ...]


Expr = Compare | Logic


@dataclass(frozen=True)
class _Token:
    kind: str  # a TOKEN group, "keyword" (text lower-cased) or "end"
    text: str
    position: int


def _tokens(text: str) -> list[_Token]:
    out, pos = [], 0
    while pos < len(text):
        if (match := TOKEN.match(text, pos)) is None:
            what = "unclosed string" if text[pos] in "\"'" else f"unexpected {text[pos]!r}"
            raise FilterError(what, pos)
        kind, word = match.lastgroup or "", match.group()
        if kind == "name" and word.lower() in KEYWORDS:
            kind, word = "keyword", word.lower()
        if kind != "space":
            out.append(_Token(kind, word, pos))
        pos = match.end()
    return out + [_Token("end", "", len(text))]


def _found(token: _Token) -> str:
    return "" if token.kind == "end" else f" but found {token.text!r}"


class _Parser:
    """Recursive descent; depth counts '(' and 'not', so hostile nesting fails fast and clearly.

    A token's text identifies it: strings keep their quotes and keywords are lower-cased.
    """

    def __init__(self, text: str) -> None:
        self.tokens, self.i = _tokens(text), 0

    def take(self) -> _Token:
        self.i += 1
        return self.tokens[self.i - 1]

    def expect(self, text: str, what: str, opener: _Token | None = None) -> None:
        if (token := self.take()).text == text:
            return
        if opener is not None and token.kind == "end":
            raise FilterError(f"unclosed {opener.text!r}", opener.position)
        raise FilterError(f"expected {what}{_found(token)}", token.position)

    def chain(self, depth: int, op: str = "or") -> Expr:
        """``or`` of ``and`` of unary terms, so ``and`` binds tighter."""

        def term() -> Expr:
            return self.chain(depth, "and") if op == "or" else self.unary(depth)

        items = [term()]
        while self.tokens[self.i].text == op:
            self.i += 1
            items.append(term())
        return items[0] if len(items) == 1 else Logic(op, tuple(items))

    def unary(self, depth: int) -> Expr:
        token = self.take()
        if token.text in ("(", "not") and depth >= MAX_DEPTH:
            raise FilterError(f"nested more than {MAX_DEPTH} levels deep", token.position)
        if token.text == "not":
            return Logic("not", (self.unary(depth + 1),))
        if token.text == "(":
            inner = self.chain(depth + 1)
            self.expect(")", "')'", opener=token)
            return inner
        if token.kind != "name":
            raise FilterError(f"expected a field name or '('{_found(token)}", token.position)
        op = self.take()
        if op.text in ("in", "not"):
            if op.text == "not":
                self.expect("in", "'in' after 'not'")
            name = "not in" if op.text == "not" else "in"
            return Compare(token.text, name, self.items(), token.position)
        if op.kind != "op" and op.text != "contains":
            raise FilterError(f"expected an operator after {token.text!r}{_found(op)}", op.position)
        value = self.value(after=op.text)
        if value.value is None and op.text not in ("=", "==", "!="):
            raise FilterError("null can only be compared with = or !=", value.position)
        return Compare(token.text, op.text.replace("==", "="), (value,), token.position)

    def items(self) -> tuple[Literal, ...]:
        self.expect("[", "'[' after 'in'")
        bracket, out = self.tokens[self.i - 1], []
        if self.tokens[self.i].text != "]":
            out.append(self.value(after="["))
        while out and self.tokens[self.i].text == ",":
            self.i += 1
            out.append(self.value(after=","))
        self.expect("]", "',' or ']'", opener=bracket)
        return tuple(out)

    def value(self, after: str) -> Literal:
        token = self.take()
        if token.kind == "num":
            small_int = re.fullmatch(r"-?\d{1,18}", token.text)  # huge ints become floats
            return Literal(int(token.text) if small_int else float(token.text), token.position)
        if token.kind == "str":
            return Literal(re.sub(r"\\([\s\S])", r"\1", token.text[1:-1]), token.position)
        if token.text in CONSTANTS:
            return Literal(CONSTANTS[token.text], token.position)
        raise FilterError(f"expected a value after {after!r}{_found(token)}", token.position)


def parse(text: str) -> Expr:
    """Syntax only (no frame needed): the AST of ``text``, or a FilterError saying where."""
    if not isinstance(text, str):
        raise FilterError("a filter must be text", 0)
    if len(text) > MAX_LENGTH:
        raise FilterError(f"filter is longer than {MAX_LENGTH} characters", MAX_LENGTH)
    parser = _Parser(text)
    expr = parser.chain(0)
    if (token := parser.tokens[parser.i]).kind != "end":
        raise FilterError(f"expected 'and', 'or' or the end{_found(token)}", token.position)
    return expr


def _resolve(expr: Expr, columns: list[str]) -> Expr:
    if isinstance(expr, Logic):
        return Logic(expr.op, tuple(_resolve(e, columns) for e in expr.operands))
    # exact column, then params.<f>, metrics.<f>, and last the short form of a derived
    # column: "val/acc.max" is metrics_max.val/acc unless a metric key is literally that
    stem, _, agg = expr.field.rpartition(".")
    derived = (f"metrics_{agg}.{stem}",) if agg in ("min", "max") and stem else ()
    for name in (expr.field, f"params.{expr.field}", f"metrics.{expr.field}", *derived):
        if name in columns:
            return replace(expr, field=name)
    short = {c.removeprefix("params.").removeprefix("metrics."): c for c in columns}
    short |= {c: c for c in columns}
    close = dict.fromkeys(short[m] for m in difflib.get_close_matches(expr.field, short, n=4))
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise FilterError(f"unknown field {expr.field!r}{hint}", expr.position)


def compile_filter(text: str, columns: Iterable[str]) -> Expr:
    """Parse, then bind names to columns: exact, else ``params.<name>``, else ``metrics.<name>``."""
    return _resolve(parse(text), [c for c in columns if isinstance(c, str)])


def fields(expr: Expr) -> set[str]:
    """The column names a compiled filter reads, for the dashboard to show."""
    if isinstance(expr, Compare):
        return {expr.field}
    return set().union(*(fields(e) for e in expr.operands))


def _kind(value: Any) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return "missing"
    if isinstance(value, (bool, np.bool_)):
        return "boolean"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "numeric" if value == value else "missing"
    if isinstance(value, str):
        return "text"
    return "date" if isinstance(value, datetime) else "other"


def _typed(column: pd.Series) -> tuple[str, pd.Series]:
    """The column's kind (numeric, text, ...), converting an object column whose values agree."""
    dtype, api = column.dtype, pd.api.types
    for kind, test in (
        ("boolean", api.is_bool_dtype),
        ("numeric", api.is_numeric_dtype),
        ("date", api.is_datetime64_any_dtype),
    ):
        if test(dtype):
            return kind, column
    if isinstance(dtype, pd.StringDtype):
        return "text", column
    inferred = api.infer_dtype(column, skipna=True) if pd.api.types.is_object_dtype(dtype) else "mixed"
    if inferred in OBJECT_KINDS:
        kind, target = OBJECT_KINDS[inferred]
        return kind, column.astype(target)
    return "mixed", column  # lists (tags) and mixed params: compared value by value


def _literal(field: str, kind: str, column: pd.Series, lit: Literal) -> Any:
    """The literal in the column's type, or a FilterError rather than a silent no-match."""
    shown = str(lit.value).lower() if isinstance(lit.value, bool) else repr(lit.value)
    if kind == "date" and isinstance(lit.value, str):
        stamp = pd.to_datetime(lit.value, utc=True, errors="coerce")  # naive means UTC
        if stamp is pd.NaT:
            raise FilterError(f"cannot read {shown} as a date", lit.position)
        return stamp if column.dt.tz is not None else stamp.tz_convert(None)
    if kind != _kind(lit.value):
        kind_name = "a date" if kind == "date" else kind
        raise FilterError(f"{field} is {kind_name} but {shown} is {_kind(lit.value)}", lit.position)
    return lit.value


def _loose(column: pd.Series, op: str, values: list[Any]) -> pd.Series:
    """Value by value, for lists and mixed columns: only values of the literal's kind match."""

    def same(a: Any, b: Any) -> bool:
        return _kind(a) == _kind(b) and bool(a == b)

    def one(x: Any) -> bool:
        if op == "contains" and isinstance(x, (list, tuple, np.ndarray)):
            return any(same(item, values[0]) for item in x)
        if op == "contains":
            return isinstance(x, str) and isinstance(values[0], str) and values[0] in x
        if op in ("in", "not in"):
            return any(same(x, v) for v in values) == (op == "in")
        if _kind(x) != _kind(values[0]):
            return op == "!="
        return bool(OPS[op](x, values[0]))

    return column.map(lambda x: _kind(x) != "missing" and one(x))


def _compare(cmp: Compare, kind: str, column: pd.Series, present: np.ndarray) -> np.ndarray:
    has_null = any(lit.value is None for lit in cmp.values)
    if cmp.op in OPS and has_null:
        return ~present if cmp.op == "=" else present
    if kind == "mixed":
        result = _loose(column, cmp.op, [v.value for v in cmp.values if v.value is not None])
    else:
        values = [_literal(cmp.field, kind, column, v) for v in cmp.values if v.value is not None]
        if cmp.op == "contains" and kind != "text":
            raise FilterError(f"contains needs a text or list field but {cmp.field} is {kind}", cmp.position)
        if cmp.op == "contains":
            result = column.str.contains(values[0], regex=False)
        elif cmp.op in ("in", "not in"):
            result = column.isin(values) == (cmp.op == "in")
        else:
            result = OPS[cmp.op](column, values[0])
    matched = result.to_numpy(dtype=bool, na_value=False) & present
    return (matched | ~present) if cmp.op == "in" and has_null else matched  # `in [.., null]`


def evaluate(expr: Expr, frame: pd.DataFrame) -> pd.Series:
    """A bool Series aligned to ``frame.index``: True where the row matches a compiled ``expr``."""
    columns = list(frame.columns)

    @functools.cache  # once per column, not per use
    def typed(field: str) -> tuple[str, pd.Series, np.ndarray]:
        kind, column = _typed(frame[field])
        return kind, column, column.notna().to_numpy(dtype=bool)

    def mask(e: Expr) -> np.ndarray:
        if isinstance(e, Logic):
            masks = [mask(operand) for operand in e.operands]
            if e.op == "not":
                return ~masks[0]
            return functools.reduce(np.logical_and if e.op == "and" else np.logical_or, masks)
        if (count := columns.count(e.field)) != 1:
            what = "unknown field" if count == 0 else "ambiguous field (duplicate column)"
            raise FilterError(f"{what} {e.field!r}", e.position)
        try:
            return _compare(e, *typed(e.field))
        except FilterError:
            raise
        except (TypeError, ValueError, OverflowError) as exc:  # pandas refusing an odd column
            raise FilterError(f"cannot compare {e.field}: {exc}", e.position) from exc

    return pd.Series(mask(expr), index=frame.index, dtype=bool)


def apply_filter(frame: pd.DataFrame, text: str) -> pd.DataFrame:
    """The rows of ``frame`` matching ``text``; a blank filter keeps them all."""
    if isinstance(text, str) and not text.strip():
        return frame
    return frame.loc[evaluate(compile_filter(text, frame.columns), frame)]
