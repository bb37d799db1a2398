"""Start and course (進入 and スタート): boat racing's counterpart of the horses' first 3F.

Per race and boat, known at the morning decision from earlier days only (the K files before the
race day, as :func:`raceday.boat.features.earlier_days_totals` matches them):

- the **expected course**: the lane, moved by the racers' habit of taking a course inside their
  lane (前付け): each racer's share of such starts from lane 2-6, shrunk toward the field's with
  ``INNER_TAKE_PRIOR_STARTS`` starts; a boat that moves in takes the field's mean shift (at most
  to course 1) and pushes the boats it passes out by one, in expectation;
- the **course prior** ``p_course``: the venue's win share by course on earlier days (shrunk
  toward the national shares like the lane prior), read at the expected course (log-linear
  between the two courses around it), normalised per race;
- the **start-timing (ST) and exhibition-time indexes**: the racer's mean difference from the
  venue's standard (the venue's mean on the days before each start; the field's where the venue
  has none), shrunk toward 0 with ``INDEX_PRIOR_STARTS`` starts (negative: quicker than the
  venue's standard), and the expected ST = the venue's standard + the index.

A racer never seen has rate, index 0 from the field's values (neutral); blank lanes, venues or
racers never raise: every value is finite.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from raceday.boat.features import (
    LANE_NUMBERS,
    NATIONAL_LANE_WIN_SHARES,
    PRIOR_STRENGTH_RACES,
    day_numbers,
    key_codes_of,
    totals_before_days,
)

INNER_TAKE_PRIOR_STARTS: Final = 20.0  # a racer's 前付け rate: the field's counts as 20 starts
INDEX_PRIOR_STARTS: Final = 5.0  # the ST / exhibition index leans on 0 as this many starts
DEFAULT_INNER_TAKE_RATE: Final = 0.01  # the field's rate before any history
DEFAULT_SHIFT: Final = 2.0  # courses a boat moving in gains, before any history
DEFAULT_ST_S: Final = 0.15  # a venue's standard ST before any history
DEFAULT_EXHIBITION_S: Final = 6.75
COURSE_COLUMNS: Final = [
    "race_id", "boat", "race_date", "racer_id", "expected_course", "inner_take_rate",
    "inner_take_starts", "p_course", "st_index", "expected_st", "st_starts",
    "exhibition_index", "expected_exhibition", "exhibition_starts",
]  # fmt: skip
HISTORY_NUMBERS: Final = ("boat", "course", "won", "start_timing_s", "exhibition_s")
FIELD: Final = "_field"  # a key shared by every row: the field's (all racers') figures


def _numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    """A column as floats (absent or unreadable: NaN)."""
    if column not in frame:
        return pd.Series(np.nan, index=frame.index, dtype="float64")
    return pd.to_numeric(frame[column], errors="coerce").astype("float64")


def _race_key(card: pd.DataFrame) -> np.ndarray:
    return np.asarray(card["race_id"].astype("string").fillna("<none>").to_numpy())


def lane_positions(card: pd.DataFrame) -> pd.Series:
    """Each boat's place from the inside among its race's boats (1..n): its lane where all six
    run; a blank lane goes outside the others."""
    lane = pd.to_numeric(card["boat"], errors="coerce").astype("float64").fillna(99.0)
    positions = lane.groupby(_race_key(card)).rank(method="first")
    return positions.astype("float64")


def _lane_numbers(frame: pd.DataFrame, column: str = "boat") -> pd.Series:
    """Lanes or courses as integers (not one of 1-6: NA)."""
    lane = _numeric(frame, column)
    return lane.where(lane.isin(LANE_NUMBERS)).astype("Int64")


class _Prepared:
    """A call's history and card with what every earlier-days aggregate of them needs, computed
    once: their race days and, per key set, their key codes (:mod:`raceday.boat.features`)."""

    def __init__(self, history: pd.DataFrame, card: pd.DataFrame) -> None:
        self.history, self.card = history, card
        self.history_day, self.card_day = day_numbers(history), day_numbers(card)
        self._codes: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def codes(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """``key``'s codes for the history's rows and the card's (-1: missing)."""
        if key not in self._codes:
            self._codes[key] = key_codes_of(self.history, self.card, [key])
        return self._codes[key]

    def totals(self, key: str, value: pd.Series, rows: str = "card") -> pd.DataFrame:
        """``earlier_days_totals(history, [key], value, rows)`` for ``rows`` the card or the
        history itself (``FIELD``: one key for every row); ``value`` NaN: a row left out."""
        history_codes, card_codes = self._field_codes() if key == FIELD else self.codes(key)
        frame = self.history if rows == "history" else self.card
        days, codes = (
            (self.history_day, history_codes) if rows == "history" else (self.card_day, card_codes)
        )
        v = value.to_numpy(dtype="float64", na_value=np.nan)
        total, n = totals_before_days((self.history_day, history_codes), v, (days, codes))
        return pd.DataFrame({"total": total, "n": n}, index=frame.index)

    def mean(self, key: str, value: pd.Series, rows: str = "card") -> pd.Series:
        """The mean of ``value`` over earlier days with each row's key (NaN: none)."""
        totals = self.totals(key, value, rows)
        return (totals["total"] / totals["n"].where(totals["n"] > 0)).astype("float64")

    def _field_codes(self) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(len(self.history), dtype="int64"), np.zeros(len(self.card), dtype="int64")


def inner_take(prepared: _Prepared) -> pd.DataFrame:
    """Per boat: the racer's share of earlier starts from lane 2-6 taken inside the lane
    (``inner_take_rate``, shrunk toward the field's), those starts (``inner_take_starts``) and
    the field's mean courses gained when moving in (``shift``)."""
    history = prepared.history
    lane, course = _numeric(history, "boat"), _numeric(history, "course")
    started = (lane >= 2) & course.notna()
    took_inner = (course < lane).astype("float64").where(started)
    own = prepared.totals("racer_id", took_inner)
    field_rate = prepared.mean(FIELD, took_inner).fillna(DEFAULT_INNER_TAKE_RATE)
    shift = prepared.mean(FIELD, (lane - course).where(started & (took_inner > 0)))
    rate = (own["total"] + field_rate * INNER_TAKE_PRIOR_STARTS) / (
        own["n"] + INNER_TAKE_PRIOR_STARTS
    )
    return pd.DataFrame(
        {"inner_take_rate": rate, "inner_take_starts": own["n"],
         "shift": shift.fillna(DEFAULT_SHIFT)},
        index=prepared.card.index,
    )  # fmt: skip


def expected_courses(card: pd.DataFrame, rate: pd.Series, shift: pd.Series) -> pd.Series:
    """Each boat's expected course: its place from the inside, minus what it gains moving in
    (rate × shift, at most to course 1), plus, for each boat outside it, that boat's rate times
    the share of its shift that reaches past this boat (so a race's courses keep their sum)."""
    place = lane_positions(card)
    gain = np.minimum(shift.to_numpy(dtype="float64"), place.to_numpy() - 1.0)
    boats = pd.DataFrame(
        {"race": _race_key(card), "place": place.to_numpy(), "rate": rate.to_numpy(),
         "gain": gain, "row": np.arange(len(card))}
    )  # fmt: skip
    pairs = boats.merge(boats, on="race", suffixes=("", "_outer"))
    pairs = pairs[pairs["place_outer"] > pairs["place"]]
    reach = (pairs["gain_outer"] - (pairs["place_outer"] - pairs["place"]) + 1.0).clip(0.0, 1.0)
    pushed = (pairs["rate_outer"] * reach).groupby(pairs["row"]).sum()
    pushed_out = pushed.reindex(np.arange(len(card)), fill_value=0.0).to_numpy()
    expected = place.to_numpy() - rate.to_numpy() * gain + pushed_out
    runners = place.groupby(_race_key(card)).transform("size").to_numpy(dtype="float64")
    return pd.Series(np.clip(expected, 1.0, runners), index=card.index, dtype="float64")


def course_prior(prepared: _Prepared, expected: pd.Series) -> pd.Series:
    """The venue's win share by course on earlier days (shrunk toward the national shares)
    at each boat's expected course, log-linear between courses, normalised per race."""
    history, card = prepared.history, prepared.card
    won = history.assign(course=_lane_numbers(history, "course"))
    # Every boat at every course, matched in one pass over the history (course-major rows).
    courses = np.repeat(np.asarray(LANE_NUMBERS), len(card))
    boats = card[["venue_code"]]
    at_course = pd.concat([boats] * len(LANE_NUMBERS), ignore_index=True).assign(
        course=pd.array(courses, dtype="Int64")
    )
    history_codes, rows_codes = key_codes_of(won, at_course, ["venue_code", "course"])
    at_days = np.tile(prepared.card_day, len(LANE_NUMBERS))
    total, n = totals_before_days(
        (prepared.history_day, history_codes),
        won["won"].to_numpy(dtype="float64", na_value=np.nan),
        (at_days, rows_codes),
    )
    totals = {"total": total, "n": n}
    national = pd.Series(courses).map(NATIONAL_LANE_WIN_SHARES).to_numpy(dtype="float64")
    shrunk = (totals["total"] + national * PRIOR_STRENGTH_RACES) / (
        totals["n"] + PRIOR_STRENGTH_RACES
    )
    log_shares = np.log(np.clip(shrunk, 1e-6, None)).reshape(len(LANE_NUMBERS), len(card)).T
    at = np.clip(expected.to_numpy(dtype="float64"), 1.0, 6.0) - 1.0
    low = np.floor(at).astype(int)
    high = np.minimum(low + 1, len(LANE_NUMBERS) - 1)
    rows = np.arange(len(card))
    weight = at - low
    log_share = (1 - weight) * log_shares[rows, low] + weight * log_shares[rows, high]
    share = pd.Series(np.exp(log_share), index=card.index)
    return (share / share.groupby(_race_key(card)).transform("sum")).astype("float64")


def venue_index(prepared: _Prepared, value: str, default: float) -> pd.DataFrame:
    """The racer's ``value`` relative to the venue's standard (``index``, shrunk toward 0),
    the venue's standard at each boat's race plus the index (``expected``) and the starts
    the index rests on (``starts``)."""
    values = prepared.history[value]
    residual = values - _venue_standard(prepared, values, "history")
    own = prepared.totals("racer_id", residual)
    index = own["total"] / (own["n"] + INDEX_PRIOR_STARTS)
    expected = _venue_standard(prepared, values, "card").fillna(default) + index
    return pd.DataFrame(
        {"index": index, "expected": expected, "starts": own["n"]}, index=prepared.card.index
    )


def _venue_standard(prepared: _Prepared, values: pd.Series, rows: str) -> pd.Series:
    """Each row's (the history's or the card's) venue mean of ``values`` on the days before it;
    the field's where the venue has none (NaN: no earlier day at all)."""
    venue = prepared.mean("venue_code", values, rows)
    field = prepared.mean(FIELD, values, rows)
    return venue.fillna(field)


def course_features(card: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """``COURSE_COLUMNS`` for each boat of ``card`` (``race_id, race_date, venue_code, boat,
    racer_id``) from ``history`` (earlier results: ``race_date, venue_code, racer_id, boat,
    course, won, start_timing_s, exhibition_s``): each row sees only days before its own."""
    history = history.reset_index(drop=True)  # any index in, rows matched by position
    history = history.assign(
        **{column: _numeric(history, column) for column in HISTORY_NUMBERS},
        **{column: history.get(column) for column in ("race_date", "venue_code", "racer_id")},
    )
    labels, card = card.index, card.reset_index(drop=True)
    prepared = _Prepared(history, card)  # days and key codes once for every aggregate
    taking = inner_take(prepared)
    expected = expected_courses(card, taking["inner_take_rate"], taking["shift"])
    start = venue_index(prepared, "start_timing_s", DEFAULT_ST_S)
    exhibition = venue_index(prepared, "exhibition_s", DEFAULT_EXHIBITION_S)
    return pd.DataFrame(
        {
            "race_id": card["race_id"].astype("string"),
            "boat": _lane_numbers(card),
            "race_date": pd.to_datetime(card["race_date"], errors="coerce", format="ISO8601"),
            "racer_id": card["racer_id"].astype("string"),
            "expected_course": expected,
            "inner_take_rate": taking["inner_take_rate"],
            "inner_take_starts": taking["inner_take_starts"].astype("int64"),
            "p_course": course_prior(prepared, expected),
            "st_index": start["index"],
            "expected_st": start["expected"],
            "st_starts": start["starts"].astype("int64"),
            "exhibition_index": exhibition["index"],
            "expected_exhibition": exhibition["expected"],
            "exhibition_starts": exhibition["starts"].astype("int64"),
        },
    )[COURSE_COLUMNS].set_axis(labels)
