"""Boat racing's codes: venues, finish codes and the refund rules they carry."""

from __future__ import annotations

import pytest

from raceday.boat.codes import CLASSES, FINISH_CODES, VENUE_NAMES, finish_position


def test_the_24_venues_run_from_kiryu_to_omura() -> None:
    """場コード 01-24, 01 桐生 to 24 大村, each once."""
    assert sorted(VENUE_NAMES) == [f"{n:02d}" for n in range(1, 25)]
    assert (VENUE_NAMES["01"], VENUE_NAMES["02"], VENUE_NAMES["24"]) == ("桐生", "戸田", "大村")


@pytest.mark.parametrize("code", ["F", "L", "L0", "L1", "K", "K0", "K1", "欠"])
def test_void_starts_and_withdrawals_are_refunded_and_did_not_start(code: str) -> None:
    """F, L0/L1 and K0/K1: the boat's tickets are refunded; it is not in the race for betting."""
    assert FINISH_CODES[code].refunded and not FINISH_CODES[code].started
    assert finish_position(code) is None


@pytest.mark.parametrize("code", ["S0", "S1", "S2", "転", "落", "沈", "妨", "エ", "不", "失"])
def test_disqualified_boats_started_and_are_not_refunded(code: str) -> None:
    """A disqualified boat started: tickets on it lose, nothing is refunded."""
    assert FINISH_CODES[code].started and not FINISH_CODES[code].refunded
    assert not FINISH_CODES[code].finished


def test_positions_are_finishes() -> None:
    """01-06 are finishing positions."""
    assert [finish_position(f"{n:02d}") for n in range(1, 7)] == [1, 2, 3, 4, 5, 6]
    assert finish_position("07") is None


def test_classes_best_first() -> None:
    """A1 is the best class, B2 the lowest."""
    assert CLASSES == ("A1", "A2", "B1", "B2")
