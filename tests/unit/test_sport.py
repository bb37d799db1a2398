"""The seam (raceday/sport.py): each circuit's codes are its own, each decodes only its own
classes, and the generic stages never name a circuit."""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path
from typing import Final

import pandas as pd
import pytest

from config.reference import circuits, load_venues
from raceday.codec import UNKNOWN_CLASS, normalise_class
from raceday.sport import (
    CIRCUITS,
    JRA,
    NAR,
    Circuit,
    circuit_named,
    circuit_of_prefix,
    circuit_of_venue,
    class_ranks,
    distance_bounds,
    racing_label,
)

REPO: Final = Path(__file__).resolve().parents[2]
# The stages that must not know which circuit runs, and the domain packages they call.
GENERIC_STAGES: Final = (
    "tasks/validate.py",
    "tasks/predict.py",
    "tasks/stake.py",
    "tasks/record.py",
    "raceday/staking",
    "raceday/model",
)
# A circuit's name as a word or a part of an identifier (nar_venue_codes, JRA_CLASSES), any case.
CIRCUIT_WORD: Final = re.compile(
    "|".join(rf"(?<![a-z]){re.escape(c.name)}(?![a-z])" for c in CIRCUITS), re.IGNORECASE
)
# A condition name of each circuit and the class it decodes to.
CONDITION_NAMES: Final = {
    "nar": {"Ｃ３－１": "C3", "Ａ１": "A1", "B2": "B2"},
    "jra": {"３歳未勝利": "MDN", "２歳新馬": "NEW", "３勝クラス": "3W", "オープン": "OP"},
}


def test_every_circuit_has_venues_and_none_shares_a_code() -> None:
    """venues.csv gives each circuit its venues; no keibajo code belongs to two circuits (races of
    several circuits share one store, keyed by venue), and another sport's codes are no venue."""
    built = circuits()
    assert [circuit.name for circuit in built] == [circuit.name for circuit in CIRCUITS]
    assert all(circuit.venue_codes for circuit in built)
    for one, other in itertools.combinations(built, 2):
        assert one.venue_codes.isdisjoint(other.venue_codes), (one.name, other.name)
    every = frozenset().union(*(circuit.venue_codes for circuit in built))
    assert every == frozenset(load_venues()["keibajo_code"])
    assert all(circuit.other_sport_venues.isdisjoint(every) for circuit in built)
    assert [circuit_of_venue(code, built) for code in ("44", "05", "83")] == [*built, None]


def test_names_and_prefixes_are_unique_and_found() -> None:
    assert len({c.name for c in CIRCUITS}) == len({c.table_prefix for c in CIRCUITS}) == 2
    assert circuit_named("jra") is JRA and circuit_of_prefix("nvd") is NAR
    with pytest.raises(ValueError, match="nar, jra"):
        circuit_named("boat")


@pytest.mark.parametrize("circuit", CIRCUITS, ids=lambda c: c.name)
def test_each_circuit_decodes_its_own_classes_and_no_other(circuit: Circuit) -> None:
    """A circuit alone decodes its own condition names and leaves the others' unknown; together
    (the default) every circuit's names decode."""
    own = CONDITION_NAMES[circuit.name]
    others = {
        text: code
        for name, names in CONDITION_NAMES.items()
        if name != circuit.name
        for text, code in names.items()
    }
    assert normalise_class(pd.Series(list(own)), (circuit,)).tolist() == list(own.values())
    assert set(normalise_class(pd.Series(list(others)), (circuit,))) == {UNKNOWN_CLASS}
    assert set(own.values()) <= set(circuit.class_ladder)
    assert normalise_class(pd.Series(list(others))).tolist() == list(others.values())


def test_class_ladders_rank_best_first_and_distances_cover_every_circuit() -> None:
    ranks = class_ranks()
    assert (ranks["A1"], ranks["C4"], ranks["OP"], ranks["NEW"]) == (1, 12, 1, 6)
    assert len(ranks) == sum(len(c.class_ladder) for c in CIRCUITS)  # no code on two ladders
    assert distance_bounds() == (800, 4250)


def _generic_files() -> list[Path]:
    files: list[Path] = []
    for entry in GENERIC_STAGES:
        path = REPO / entry
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


def circuit_mentions(source: str) -> list[str]:
    """Where a source names a circuit: its name as a word or part of an identifier anywhere
    (code, strings, comments), or a string naming one of its tables (``"nvd_ra"``)."""
    found = [match.group(0) for match in CIRCUIT_WORD.finditer(source)]
    prefixes = tuple(circuit.table_prefix for circuit in CIRCUITS)
    texts = [node.value for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Constant)]
    found.extend(text for text in texts if isinstance(text, str) and text.startswith(prefixes))
    return found


def test_a_days_venues_say_which_racing_it_is() -> None:
    """The report's heading: a JRA day is not called NAR's; a venue no circuit races at (a
    race abroad) is named as such; both circuits in one store are both named."""
    known = circuits()
    assert racing_label(["44", "45"], known) == "NAR 地方競馬"
    assert racing_label(["05", "06"], known) == "JRA 中央競馬"
    assert racing_label(["05", "44", "44"], known) == "NAR 地方競馬 + JRA 中央競馬"
    assert racing_label(["G0"], known) == "other venues"
    assert racing_label(["05", "G0"], known) == "JRA 中央競馬 + other venues"
    assert racing_label([], known) == "no races"


def test_the_check_finds_a_circuit_named() -> None:
    assert circuit_mentions('from config.reference import nar_venue_codes\nx = "nvd_ra"\n') == [
        "nar",
        "nvd_ra",
    ]
    assert circuit_mentions('"""JRA races."""\nnarrow = binary = 1\n') == ["JRA"]


@pytest.mark.parametrize("path", _generic_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_generic_stages_name_no_circuit(path: Path) -> None:
    """The seam stays a seam: the generic stages ask the circuits in force (raceday.sport,
    config.reference.circuits()) and never name one."""
    assert circuit_mentions(path.read_text(encoding="utf-8")) == []
