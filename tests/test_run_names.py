"""Generated run names end up in links sent to stakeholders: plain words, in a familiar shape."""

from __future__ import annotations

import re

from tracklib.format.ids import ADJECTIVES, ANIMALS, new_run_name

# Words a general-purpose list offered (coolname gave "sexy-hamster"); none may come back.
UNWANTED = {
    "sexy",
    "naked",
    "drunk",
    "dead",
    "killer",
    "stupid",
    "ugly",
    "fat",
    "crazy",
    "evil",
    "bloody",
    "nasty",
}


def test_generated_names_are_adjective_animal_number_from_the_curated_lists():
    for _ in range(2000):
        adjective, animal, number = re.fullmatch(r"([a-z]+)-([a-z]+)-(\d{1,3})", new_run_name()).groups()
        assert adjective in ADJECTIVES and animal in ANIMALS and 0 <= int(number) < 1000
    assert not UNWANTED & (set(ADJECTIVES) | set(ANIMALS))
