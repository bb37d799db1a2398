"""The simulator's ``messy`` profile: what real PC-KEIBA exports hold and clean days never do.

:func:`messy_day` rewrites one clean simulated day (its ``nvd_ra`` / ``nvd_se`` / ``nvd_o1``
text frames and its truth table), deterministically from the seed and the date. Everything it
writes is still valid PC-KEIBA text (the same widths, zero padding and full-width blanks): the
data is messy, not corrupt. What it plants:

* **No racing at all** on one day of every seven, whatever the calendar says.
* **No odds snapshot** (no ``nvd_o1`` rows) on another day of every seven, and for about one
  venue-day in eight on the other days.
* **Blank leader times**: ``zenhan_3f`` / ``zenhan_4f`` ``000`` in every race of one venue
  (chosen by the seed), in about 60% of the races of two more, and in 5% of the others.
* **Unknown codes**: ``tenko_code`` and the going code ``0`` / ``5`` / ``7`` or blank,
  ``kyoso_joken_meisho`` without an NAR class (``Ｄ１``, ``未格付``, ``ＪＲＡ交流``, blank),
  ``grade_code`` ``Z`` / ``9``, and ``seibetsu_code`` ``0`` / ``4`` / blank on runners.
* **Turf races**: 40% of 盛岡's races run on turf (``track_code`` ``11``, the going in
  ``babajotai_code_shiba`` and ``babajotai_code_dirt`` ``0``).
* **Dead heats** (同着) for first in a quarter of the races whose first two share a time (in
  tenths): both ``01``, the same ``soha_time``, the second's ``time_sa`` ``+000``.
* **A one-runner race** each day: every runner but the winner scratched (取消), so
  ``shusso_tosu`` ``01``; the lone starter's odds are ``0010`` (1.0).
* **Blank ``toroku_tosu``** in 3% of the races and **no race name** (``kyosomei_hondai`` and its
  short forms all full-width blanks) in 5%.

The simulator itself adds, in this profile, a full 16-runner field at the venues that allow one
and a venue that races one distance only (see ``raceday.simulate.card``). The truth table
follows the scratches; a dead heat keeps each runner's true (different) finishing time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from raceday.codec import decode_soha_time
from raceday.simulate.encode import DayTables
from raceday.simulate.text import FULL_SPACE, pad

TURF_VENUE: Final = "35"  # 盛岡: the one NAR venue with a turf course
TURF_TRACK_CODE: Final = "11"  # JV-Data 芝・左 (盛岡 is left-handed)
TURF_SHARE: Final = 0.4
BLANK_LEADER_SHARES: Final = (1.0, 0.6, 0.6)  # the seed's three blank-leader venues, in order
BLANK_LEADER_ELSEWHERE: Final = 0.05
NO_ODDS_VENUE_DAY: Final = 0.12
UNKNOWN_CODE_RATE: Final = 0.04  # per race and field (weather, going, class, grade)
UNKNOWN_SEX_RATE: Final = 0.01  # per runner
BLANK_ENTRIES_RATE: Final = 0.03
NAMELESS_RATE: Final = 0.05
DEAD_HEAT_SHARE: Final = 0.25  # of the races whose first two share a time (in tenths)
UNKNOWN_WEATHER: Final = ("0", "7", " ")
UNKNOWN_GOING: Final = ("0", "5", " ")
UNKNOWN_CLASS: Final = ("Ｄ１", "未格付", "ＪＲＡ交流", "")
UNKNOWN_GRADE: Final = ("Z", "9")
UNKNOWN_SEX: Final = ("0", "4", " ")

_KEY: Final = ("kaisai_nen", "kaisai_tsukihi", "keibajo_code", "race_bango")


def no_racing_day(seed: int, day: date) -> bool:
    """True on the one day in seven that the messy profile races nowhere."""
    return (day.toordinal() + seed) % 7 == 0


def no_odds_day(seed: int, day: date) -> bool:
    """True on the one day in seven that has no odds snapshot at all."""
    return (day.toordinal() + seed) % 7 == 3


def blank_leader_venues(seed: int, venue_codes: Sequence[str]) -> tuple[str, ...]:
    """The venues whose leader times are blank: all races at the first, most at the others."""
    rng = np.random.default_rng([seed, 0, 97])
    chosen = rng.choice(len(venue_codes), len(BLANK_LEADER_SHARES), replace=False)
    return tuple(venue_codes[int(i)] for i in chosen)


def messy_day(tables: DayTables, seed: int, day: date, venue_codes: Sequence[str]) -> DayTables:
    """One clean day made messy (see the module docstring); a function of its arguments only."""
    if no_racing_day(seed, day):
        return DayTables(
            ra=tables.ra.iloc[:0], se=tables.se.iloc[:0], o1=tables.o1.iloc[:0],
            truth=tables.truth.iloc[:0],
        )  # fmt: skip
    if tables.ra.empty:
        return tables
    ra, se, o1 = tables.ra.copy(), tables.se.copy(), tables.o1.copy()
    truth = tables.truth.copy()
    rng = np.random.default_rng([seed, day.toordinal(), 97])
    n_races, n_runners = len(ra), len(se)
    # Fixed-size draws, one column per property, so that one property never shifts another.
    u_race = rng.random((n_races, 12))
    u_runner = rng.random((n_runners, 2))
    u_venue = rng.random(len(venue_codes))
    lone_pick = rng.random()

    venue = _strip(ra["keibajo_code"])
    race_ids = _race_ids(ra)
    runner_race = pd.Index(race_ids).get_indexer(_race_ids(se))
    position = _strip(se["kakutei_chakujun"])

    lone = _lone_runner_race(runner_race, position, n_races, lone_pick)
    _scratch_all_but_the_winner(ra, se, o1, truth, lone, runner_race, position, race_ids)
    position = _strip(se["kakutei_chakujun"])
    _dead_heats(se, runner_race, position, u_race[:, 0], exclude=lone)

    shares = dict(zip(blank_leader_venues(seed, venue_codes), BLANK_LEADER_SHARES, strict=True))
    blank_share = venue.map(lambda code: shares.get(code, BLANK_LEADER_ELSEWHERE))
    blank_leader = u_race[:, 1] < blank_share.to_numpy(np.float64)
    ra.loc[blank_leader, "zenhan_3f"] = "000"
    ra.loc[blank_leader, "zenhan_4f"] = "000"

    turf = (venue == TURF_VENUE).to_numpy() & (u_race[:, 2] < TURF_SHARE)
    ra.loc[turf, "track_code"] = TURF_TRACK_CODE
    ra.loc[turf, "babajotai_code_shiba"] = ra.loc[turf, "babajotai_code_dirt"]
    ra.loc[turf, "babajotai_code_dirt"] = "0"

    going_column = np.where(turf, "babajotai_code_shiba", "babajotai_code_dirt")
    bad_going = u_race[:, 3] < UNKNOWN_CODE_RATE
    going = _pick(UNKNOWN_GOING, u_race[:, 4])
    for column in ("babajotai_code_shiba", "babajotai_code_dirt"):
        rows = bad_going & (going_column == column)
        ra.loc[rows, column] = going[rows]
    bad_weather = u_race[:, 5] < UNKNOWN_CODE_RATE
    ra.loc[bad_weather, "tenko_code"] = _pick(UNKNOWN_WEATHER, u_race[:, 6])[bad_weather]
    bad_class = u_race[:, 7] < UNKNOWN_CODE_RATE
    ra.loc[bad_class, "kyoso_joken_meisho"] = pad(
        _pick(UNKNOWN_CLASS, u_race[:, 8]), 30, FULL_SPACE
    )[bad_class]
    bad_grade = u_race[:, 9] < UNKNOWN_CODE_RATE
    ra.loc[bad_grade, "grade_code"] = _pick(UNKNOWN_GRADE, u_race[:, 8])[bad_grade]
    bad_sex = u_runner[:, 0] < UNKNOWN_SEX_RATE
    se.loc[bad_sex, "seibetsu_code"] = _pick(UNKNOWN_SEX, u_runner[:, 1])[bad_sex]

    blank_entries = u_race[:, 10] < BLANK_ENTRIES_RATE
    ra.loc[blank_entries, "toroku_tosu"] = "  "
    nameless = u_race[:, 11] < NAMELESS_RATE
    for column, width in (
        ("kyosomei_hondai", 30), ("kyosomei_ryakusho_10", 10), ("kyosomei_ryakusho_6", 6),
        ("kyosomei_ryakusho_3", 3),
    ):  # fmt: skip
        ra.loc[nameless, column] = FULL_SPACE * width

    if no_odds_day(seed, day):
        o1 = o1.iloc[:0]
    else:
        silent = [
            code for code, u in zip(venue_codes, u_venue, strict=True) if u < NO_ODDS_VENUE_DAY
        ]
        o1 = o1[~_strip(o1["keibajo_code"]).isin(silent).to_numpy()].reset_index(drop=True)
    return DayTables(ra=ra, se=se, o1=o1, truth=truth)


# --- the one-runner race and dead heats ---------------------------------------------------------


def _lone_runner_race(
    runner_race: NDArray[np.intp], position: pd.Series, n_races: int, pick: float
) -> int:
    """The race (row of ``nvd_ra``) that keeps only its winner: one with a winner, or -1."""
    with_winner = np.unique(runner_race[(position == "01").to_numpy()])
    if n_races < 2 or with_winner.size == 0:
        return -1
    return int(with_winner[int(pick * with_winner.size)])


def _scratch_all_but_the_winner(
    ra: pd.DataFrame,
    se: pd.DataFrame,
    o1: pd.DataFrame,
    truth: pd.DataFrame,
    lone: int,
    runner_race: NDArray[np.intp],
    position: pd.Series,
    race_ids: pd.Series,
) -> None:
    """Scratch (取消) every runner of race ``lone`` but its winner, in all four tables."""
    if lone < 0:
        return
    in_race = runner_race == lone
    winner = in_race & (position == "01").to_numpy()
    out = in_race & ~winner
    blanks = {
        "ijo_kubun_code": "1", "nyusen_juni": "00", "kakutei_chakujun": "00",
        "soha_time": "0000", "corner_1": "00", "corner_2": "00", "corner_3": "00",
        "corner_4": "00", "tansho_odds": "0000", "tansho_ninkijun": "00", "kohan_3f": "000",
        "time_sa": "0000", "kakutoku_honshokin": "00000000",
    }  # fmt: skip
    for column, blank in blanks.items():
        se.loc[out, column] = blank
    se.loc[winner, "tansho_odds"] = "0010"
    se.loc[winner, "tansho_ninkijun"] = "01"
    se.loc[winner, "time_sa"] = "-000"
    for c in range(1, 5):
        passed = winner & (_strip(se[f"corner_{c}"]) != "00").to_numpy()
        se.loc[passed, f"corner_{c}"] = "01"
    lone_umaban = str(int(str(se.loc[winner, "umaban"].iloc[0])))
    row = ra.index[lone]
    for slot in range(1, 5):
        column = f"corner_tsuka_juni_{slot}"
        text = str(ra.at[row, column])
        if text[:2] != "00":
            ra.at[row, column] = (text[:2] + lone_umaban).ljust(72)
    ra.at[row, "shusso_tosu"] = "01"
    ra.at[row, "nyusen_tosu"] = "01"

    # The morning snapshot: the others were scratched before it, the lone starter at 1.0.
    umaban = _strip(se.loc[in_race, "umaban"]).tolist()
    odds = ["0010" if w else "0000" for w in winner[in_race].tolist()]
    rank = ["01" if w else "00" for w in winner[in_race].tolist()]
    packed = "".join(u + o + r for u, o, r in zip(umaban, odds, rank, strict=True))
    in_o1 = (_race_ids(o1) == race_ids.iloc[lone]).to_numpy()
    o1.loc[in_o1, "odds_tansho"] = packed.ljust(28 * 8)
    o1.loc[in_o1, "shusso_tosu"] = "01"

    scratched = (truth["race_id"] == race_ids.iloc[lone]).to_numpy() & ~truth["umaban"].isin(
        [int(lone_umaban)]
    ).to_numpy()
    stayed = (truth["race_id"] == race_ids.iloc[lone]).to_numpy() & ~scratched
    truth.loc[scratched, ["started", "finished"]] = False
    truth.loc[scratched, "true_win_prob"] = 0.0
    for column in ("true_first3f_s", "true_first_segment_s", "true_last3f_s", "true_finish_time_s"):
        truth.loc[scratched, column] = np.nan
    truth.loc[stayed, "true_win_prob"] = 1.0


def _dead_heats(
    se: pd.DataFrame,
    runner_race: NDArray[np.intp],
    position: pd.Series,
    u: NDArray[np.float64],
    exclude: int,
) -> None:
    """A quarter of the races whose first two share a time (tenths) end in a dead heat."""
    n_races = u.size
    seconds = decode_soha_time(se["soha_time"]).to_numpy(np.float64, na_value=np.nan)
    first = (position == "01").to_numpy()
    second = (position == "02").to_numpy()
    first_time = np.full(n_races, np.nan)
    second_time = np.full(n_races, np.nan)
    first_time[runner_race[first]] = seconds[first]
    second_time[runner_race[second]] = seconds[second]
    close = np.abs(second_time - first_time) < 0.05  # the same tenth; NaN compares False
    tie = close & (u < DEAD_HEAT_SHARE) & (np.arange(n_races) != exclude)
    tied_first = first & tie[runner_race]
    tied_second = second & tie[runner_race]
    winner_time = pd.Series(se["soha_time"].to_numpy()[first], index=runner_race[first])
    se.loc[tied_second, "soha_time"] = winner_time.reindex(runner_race[tied_second]).to_numpy()
    se.loc[tied_second, ["kakutei_chakujun", "nyusen_juni"]] = "01"
    se.loc[tied_second, "time_sa"] = "+000"
    se.loc[tied_first, "time_sa"] = "-000"


# --- small helpers ------------------------------------------------------------------------------


def _strip(column: pd.Series) -> pd.Series:
    return column.astype("string").str.strip()


def _race_ids(frame: pd.DataFrame) -> pd.Series:
    parts = [_strip(frame[column]) for column in _KEY]
    return (parts[0] + parts[1] + parts[2] + parts[3]).reset_index(drop=True)


def _pick(choices: Sequence[str], u: NDArray[np.float64]) -> NDArray[np.object_]:
    index = np.minimum((u * len(choices)).astype(np.int64), len(choices) - 1)
    return np.array(choices, dtype=object)[index]
