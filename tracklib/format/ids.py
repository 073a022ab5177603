"""Ids and names: time-ordered, globally unique, no coordination between machines."""

from __future__ import annotations

import random

import coolname
from ulid import ULID


def new_id() -> str:
    """A lowercase ULID: sorts by creation time (ms), 80 random bits make collisions moot."""
    return str(ULID()).lower()


_NAME_RANDOM = random.SystemRandom()


def new_run_name() -> str:
    """A readable name such as ``crimson-otter`` for runs the user did not name.

    Drawn from the OS's randomness: training scripts seed the global ``random`` (Lightning's
    ``seed_everything``, HF's ``set_seed``), which made every run of a seeded script alike.
    """
    coolname.replace_random(_NAME_RANDOM)  # coolname's own generator; nothing else uses it
    return coolname.generate_slug(2)
