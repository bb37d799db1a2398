"""Venues, classes, prize money and track tables: what differs between the NAR and JRA circuits."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from raceday.simulate.arrays import BoolArray, FloatArray, IntArray, TextArray
from raceday.simulate.config import SimulatorConfig

_TRACKS_CSV: Final = Path(__file__).with_name("tracks_nar.csv")
_JRA_TRACKS_CSV: Final = Path(__file__).with_name("tracks_jra.csv")
_MEAN_FIELD: Final = 10.1  # NAR: the mean field the horse population is sized for


@dataclass(frozen=True)
class Venue:
    code: str
    name: str
    track_code: str  # 23 dirt left-handed, 24 dirt right-handed (JRA: per track row)
    night: bool
    max_field: int
    weight: float  # share of the circuit's races
    prize_factor: float


_VENUES: Final = (
    Venue("30", "門別", "24", True, 16, 0.060, 1.0),
    Venue("35", "盛岡", "23", False, 16, 0.055, 0.8),
    Venue("36", "水沢", "24", False, 12, 0.050, 0.6),
    Venue("42", "浦和", "23", False, 12, 0.055, 1.3),
    Venue("43", "船橋", "23", True, 14, 0.060, 1.5),
    Venue("44", "大井", "24", True, 16, 0.100, 2.0),
    Venue("45", "川崎", "23", True, 14, 0.065, 1.5),
    Venue("46", "金沢", "24", False, 12, 0.065, 0.6),
    Venue("47", "笠松", "24", False, 12, 0.070, 0.6),
    Venue("48", "名古屋", "24", False, 12, 0.085, 0.8),
    Venue("50", "園田", "24", False, 12, 0.100, 1.2),
    Venue("51", "姫路", "24", False, 12, 0.035, 0.8),
    Venue("54", "高知", "24", True, 12, 0.090, 0.6),
    Venue("55", "佐賀", "24", False, 12, 0.075, 0.7),
)
_JRA_VENUES: Final = (
    Venue("01", "札幌", "17", False, 16, 0.06, 1.0),
    Venue("02", "函館", "17", False, 16, 0.06, 1.0),
    Venue("03", "福島", "17", False, 16, 0.07, 1.0),
    Venue("04", "新潟", "11", False, 18, 0.10, 1.0),
    Venue("05", "東京", "11", False, 18, 0.15, 1.1),
    Venue("06", "中山", "17", False, 16, 0.15, 1.1),
    Venue("07", "中京", "11", False, 18, 0.10, 1.0),
    Venue("08", "京都", "17", False, 18, 0.12, 1.1),
    Venue("09", "阪神", "17", False, 18, 0.12, 1.1),
    Venue("10", "小倉", "17", False, 18, 0.07, 1.0),
)

CLASS_CODES: Final = ("A1", "A2", "B1", "B2", "B3", "C1", "C2", "C3", "2YO")
TWO_YEAR_OLD: Final = 8  # class index of 2歳 races (class unknown); the same in both circuits
_CLASS_TOP_SHARE: Final = np.array([0.04, 0.10, 0.18, 0.28, 0.40, 0.58, 0.78])
_CLASS_PRIZE: Final = np.array([200, 120, 80, 60, 50, 40, 35, 30, 50]) * 100  # 100 yen units
# JRA: eight classes of older horses by rating, best first, and 新馬 for 2-year-olds.
_JRA_CLASS_CODES: Final = ("G1", "G2", "G3", "OP", "3WIN", "2WIN", "1WIN", "MAIDEN", "NEWCOMER")
JRA_CLASS_TEXT: Final = (
    "オープン", "オープン", "オープン", "オープン", "３勝クラス", "２勝クラス", "１勝クラス",
    "未勝利", "新馬",
)  # fmt: skip
JRA_GRADE: Final = ("A", "B", "C", " ", " ", " ", " ", " ", " ")  # JV-Data grade_code
JRA_CONDITION_CODE: Final = ("999", "999", "999", "999", "016", "010", "005", "703", "701")
# Only each card's best race is open; whether it is graded is drawn (Circuit.top_race_grades).
_JRA_CLASS_TOP_SHARE: Final = np.array([0.0, 0.0, 0.0, 0.05, 0.12, 0.22, 0.42])
_JRA_CLASS_PRIZE: Final = (
    np.array([20000, 6000, 4000, 2200, 1440, 1060, 770, 560, 720]) * 100  # 100 yen units
)


@dataclass(frozen=True)
class Circuit:
    """What differs between the NAR and JRA simulations (the engine is the same)."""

    name: str
    venues: tuple[Venue, ...]
    tracks_csv: Path
    distances: tuple[int, int]  # the table's distance bounds, metres
    class_codes: tuple[str, ...]
    class_top_share: FloatArray
    class_prize: IntArray
    field_mean: tuple[float, float]  # mean entries where the gate takes <= 12, and more
    pool_field: float  # mean field the horse population is sized for
    top_race_grades: FloatArray  # JRA: chances that a card's open race is G1, G2, G3 or OP
    ability_scale: float  # < 1: closer fields (JRA's favourites win less often than NAR's)

    @property
    def n_venues(self) -> int:
        return len(self.venues)

    @property
    def weights(self) -> FloatArray:
        return np.array([v.weight for v in self.venues])


_CIRCUITS: Final = {
    "nar": Circuit(
        "nar", _VENUES, _TRACKS_CSV, (800, 2600), CLASS_CODES, _CLASS_TOP_SHARE, _CLASS_PRIZE,
        (10.2, 10.8), _MEAN_FIELD, np.zeros(0), 1.0,
    ),
    "jra": Circuit(
        "jra", _JRA_VENUES, _JRA_TRACKS_CSV, (1000, 3600), _JRA_CLASS_CODES,
        _JRA_CLASS_TOP_SHARE, _JRA_CLASS_PRIZE, (13.0, 14.8), 14.0,
        np.array([0.08, 0.12, 0.30, 0.50]), 0.8,
    ),
}  # fmt: skip


def circuit_of(config: SimulatorConfig) -> Circuit:
    return _CIRCUITS[config.circuit]


PLACE_PRIZE_SHARE: Final = np.array([1.0, 0.35, 0.2, 0.12, 0.08])


@dataclass(frozen=True)
class Tracks:
    venue: IntArray
    distance: IntArray
    share: FloatArray
    win_time: FloatArray
    first_part: FloatArray
    spread: FloatArray
    rows_by_venue: tuple[IntArray, ...]
    track_code: TextArray  # JV-Data track code: 10-22 turf, 23-29 dirt
    turf: BoolArray


@functools.lru_cache(maxsize=2)
def tracks_of(circuit: str = "nar") -> Tracks:
    spec = _CIRCUITS[circuit]
    path = spec.tracks_csv
    table = pd.read_csv(path, dtype={"keibajo_code": str, "track_code": str})
    codes = [venue.code for venue in spec.venues]
    unknown = set(table["keibajo_code"]) - set(codes)
    low, high = spec.distances
    if unknown or not table["kyori"].between(low, high).all():
        raise ValueError(f"{path.name}: unknown venues {unknown} or distances off {low}-{high}")
    venue = table["keibajo_code"].map({code: i for i, code in enumerate(codes)}).to_numpy(np.int64)
    if "track_code" in table.columns:
        track_code = table["track_code"].to_numpy(dtype=object)
    else:
        track_code = np.array([v.track_code for v in spec.venues], dtype=object)[venue]
    return Tracks(
        venue=venue,
        distance=table["kyori"].to_numpy(np.int64),
        share=table["share"].to_numpy(np.float64),
        win_time=table["win_time_s"].to_numpy(np.float64),
        first_part=table["first_part_s"].to_numpy(np.float64),
        spread=table["spread_s"].to_numpy(np.float64),
        rows_by_venue=tuple(np.flatnonzero(venue == v) for v in range(spec.n_venues)),
        track_code=track_code,
        turf=np.array([int(code) <= 22 for code in track_code.tolist()], dtype=bool),
    )
