"""What a link may set on a page: its keys and the values each one accepts (pure; no streamlit).

A link is untrusted input. Streamlit seeds a bound widget from the address before the page's
code sees the value, and some values make it raise (a number input given ``inf`` or
``-1e309``), so every page checks its keys here first; a value no widget may take is dropped
(the widget shows its default) or clamped, with a notice that says so.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from tracklib.analysis.asof import ASOF_EXAMPLE, parse_asof

MAX_TEXT = 2_000  # characters of a filter expression a link may carry
QUOTED = 60  # characters of a bad value quoted back in a notice


class Rule(Protocol):
    """One URL key: ``fix`` gives the value to keep (maybe clamped), None when it is not valid."""

    many: bool

    def fix(self, value: str) -> str | None: ...

    def refusal(self, key: str, shown: str) -> str: ...


@dataclass(frozen=True)
class Number:
    """A finite number from ``low`` to ``high`` (clamped into it); a whole one when ``whole``."""

    low: float
    high: float
    whole: bool = False
    many = False

    def fix(self, value: str) -> str | None:
        try:
            number = float(value)
        except ValueError:
            return None
        if not math.isfinite(number) or (self.whole and not number.is_integer()):
            return None
        clamped = min(max(number, self.low), self.high)
        if self.whole:
            return str(int(clamped))  # Streamlit reads whole numbers with int(): not "1e3", not "５"
        return value if clamped == number else repr(clamped)

    def refusal(self, key: str, shown: str) -> str:
        kind = "a whole number" if self.whole else "a number"
        span = f"from {_number(self.low)} to {_number(self.high)}"
        return f"The link's {key}={shown} is not {kind} {span}; showing the default instead."


@dataclass(frozen=True)
class Flag:
    """``true`` or ``false``, in any case."""

    many = False

    def fix(self, value: str) -> str | None:
        return value.lower() if value.lower() in ("true", "false") else None

    def refusal(self, key: str, shown: str) -> str:
        return f"The link's {key}={shown} is not true or false; showing the default instead."


@dataclass(frozen=True)
class Day:
    """A ``YYYY-MM-DD`` date from ``low`` to ``high`` (a widget's own bounds)."""

    low: dt.date
    high: dt.date
    many = False

    def fix(self, value: str) -> str | None:
        try:
            day = dt.datetime.strptime(value, "%Y-%m-%d").date()
        except ValueError:
            return None
        return day.isoformat() if self.low <= day <= self.high else None

    def refusal(self, key: str, shown: str) -> str:
        return f"The link's {key}={shown} is not a date from {self.low} to {self.high}; showing the default instead."


@dataclass(frozen=True)
class Moment:
    """A UTC second ``YYYY-MM-DDTHH:MM:SSZ`` that has passed: a pinned link's time."""

    many = False

    def fix(self, value: str) -> str | None:
        return value if parse_asof(value, dt.datetime.now(dt.UTC)) is not None else None

    def refusal(self, key: str, shown: str) -> str:
        return (
            f"The link's {key}={shown} is not a past UTC time like {ASOF_EXAMPLE}; showing live data instead."
        )


@dataclass(frozen=True)
class Span:
    """Two finite numbers ``a,b`` from ``low`` to ``high`` in one value (a brush's side), put in order."""

    low: float
    high: float
    many = False

    def fix(self, value: str) -> str | None:
        parts = value.split(",") if len(value) <= 64 else []
        try:
            numbers = sorted(float(part) for part in parts)
        except ValueError:
            return None
        if len(numbers) != 2 or not all(math.isfinite(n) and self.low <= n <= self.high for n in numbers):
            return None
        return value if [float(p) for p in parts] == numbers else ",".join(repr(n) for n in numbers)

    def refusal(self, key: str, shown: str) -> str:
        span = f"from {_number(self.low)} to {_number(self.high)}"
        return f"The link's {key}={shown} is not two numbers {span}; showing no brush instead."


@dataclass(frozen=True)
class Text:
    """Free text (a filter expression) of at most ``limit`` characters."""

    limit: int = MAX_TEXT
    many = False

    def fix(self, value: str) -> str | None:
        return value if len(value) <= self.limit else None

    def refusal(self, key: str, shown: str) -> str:
        return f"The link's {key} is longer than {self.limit:,} characters ({shown}); showing the default instead."


@dataclass(frozen=True)
class Choice:
    """One of ``options`` (as the widget shows them), or several when ``many``; ``options=None``
    in a declaration: the page gives them (``Keys.rules``)."""

    options: Collection[str] | None
    many: bool = False
    unknown: str = ""  # how a notice names a value that is not an option

    def fix(self, value: str) -> str | None:
        if self.options is None:
            raise TypeError("a Choice declared without options is checked through Keys.rules()")
        return value if value in self.options else None

    def refusal(self, key: str, shown: str) -> str:
        if self.unknown:
            return f"{self.unknown} {shown}; showing the default instead."
        return f"The link's {key}={shown} is not an option here; showing the default instead."


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def quoted(value: str) -> str:
    """A value from a link, cut short enough to quote in one line."""
    flat = " ".join(value.split()) if value.strip() else repr(value)
    return flat if len(flat) <= QUOTED else flat[: QUOTED - 1] + "…"


def clean(
    rules: Mapping[str, Rule], given: Mapping[str, Sequence[str]]
) -> tuple[dict[str, list[str]], list[str]]:
    """The values to write back for each key whose link values must change, and the notices.

    An empty value asks for nothing and is dropped quietly; a key given more than once keeps
    its last value unless the rule takes several; repeated options are kept once.
    ``clean`` of its own output changes nothing, so rewriting a link ends.
    """
    changes: dict[str, list[str]] = {}
    notices: list[str] = []
    for key, rule in rules.items():
        values = list(given.get(key) or [])
        if not values:
            continue
        wanted = values if rule.many else values[-1:]
        kept: list[str] = []
        for value in wanted:
            if value == "" and not isinstance(rule, Text):
                continue
            fixed = rule.fix(value)
            if fixed is None:
                notices.append(rule.refusal(key, quoted(value)))
            elif fixed not in kept:
                if isinstance(rule, Number) and float(fixed) != float(value):
                    notices.append(f"The link's {key}={quoted(value)} is out of range; showing {fixed}.")
                kept.append(fixed)
        if kept != values:
            changes[key] = kept
    return changes, notices


@dataclass(frozen=True)
class Key:
    """One key a page's link may carry, declared once.

    ``rule`` checks its values before any widget bound to it is drawn. A ``Choice`` whose
    options come from the project (metric names, tags, params) is declared with
    ``options=None`` and gets them from the page at each run (``Keys.rules``). ``rule=None``
    marks values the page checks where it reads them (run ids: the run picker keeps only the
    project's) and hands to the Share control itself. ``shared=False`` keeps a key out of the
    Share link.
    """

    name: str
    rule: Rule | None = None
    shared: bool = True


class Keys:
    """A page's URL keys: ``guard_url`` checks ``rules()``, each bound widget takes
    ``bind(name)``, and the Share link carries ``shared``. Adding a key is one ``Key`` here."""

    def __init__(self, *keys: Key) -> None:
        self._keys = {key.name: key for key in keys}
        if len(self._keys) != len(keys):
            raise ValueError(f"a URL key is declared twice: {[key.name for key in keys]}")

    def __getitem__(self, name: str) -> Key:
        return self._keys[name]  # KeyError: the page reads a key it did not declare

    def __iter__(self) -> Iterator[Key]:
        return iter(self._keys.values())

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._keys)

    @property
    def shared(self) -> tuple[Key, ...]:
        return tuple(key for key in self if key.shared)

    def pick(self, *names: str) -> Keys:
        """These keys only (a page that checks some keys before it knows the others' options)."""
        return Keys(*(self[name] for name in names))

    def bind(self, name: str) -> dict[str, str]:
        """A widget's ``key`` and ``bind`` for a declared, checked key: ``st.x(..., **keys.bind(name))``."""
        if self[name].rule is None:
            raise ValueError(f"URL key {name!r} has no rule: a widget bound to it would take any value")
        return {"key": name, "bind": "query-params"}

    def rules(self, **options: Collection[str]) -> dict[str, Rule]:
        """Each checked key's rule, the project's ``options`` filled into the Choices that take them."""
        rules: dict[str, Rule] = {}
        for key in self:
            rule = key.rule
            if rule is None:
                continue
            if isinstance(rule, Choice) and rule.options is None:
                if key.name not in options:
                    raise ValueError(f"URL key {key.name!r} takes its options from the page; none given")
                rule = replace(rule, options=options[key.name])
            elif key.name in options:
                raise ValueError(f"URL key {key.name!r} has fixed options; the page gave some")
            rules[key.name] = rule
        unknown = set(options) - set(self._keys)
        if unknown:
            raise ValueError(f"options given for undeclared URL keys: {sorted(unknown)}")
        return rules


# The keys the frame (sidebar) reads on every page: a link names a store and a project; Live
# mode is not shared; a pinned link's time (no widget holds it) the Share link adds itself.
FRAME = Keys(
    Key("root", Choice(None, unknown="This dashboard is not configured to open a store named")),
    Key("project", Choice(None, unknown="There is no project")),
    Key("live", Flag(), shared=False),
    Key("asof", Moment(), shared=False),
)
