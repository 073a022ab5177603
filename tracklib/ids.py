"""Ids and names: time-ordered, globally unique, no coordination between machines."""

from __future__ import annotations

import coolname
from ulid import ULID


def new_id() -> str:
    """A lowercase ULID: sorts by creation time (ms), 80 random bits make collisions moot."""
    return str(ULID()).lower()


def new_run_name() -> str:
    """A readable name such as ``crimson-otter`` for runs the user did not name."""
    return coolname.generate_slug(2)
