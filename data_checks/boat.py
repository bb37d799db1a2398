"""Great Expectations suites for boat racing's frames (``raceday.boat``): the program's entries,
the results, the payouts and the odds timeline, each expectation with what it protects.

A failing row takes its whole race with it (scope ``race``): a race is priced, staked and
settled as a whole, so a race with one unreadable boat is left out, never half-used. An odds
snapshot's unreadable or absent value (欠場, blank, 0.0) takes that row only (scope ``row``):
a boat left without odds is a boat withdrawn from the market, the others of its race are priced
(``raceday.boat.model.market_probabilities``). Suites run
on the parsed frames plus derived columns, as the horse suites do (``data_checks.suites``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Final

import numpy as np
import pandas as pd

from data_checks.derived import CheckedFrame, _split
from data_checks.gx_runner import Check, Scope, run_suite
from data_checks.suites import CARD_DAYS_AHEAD, between
from raceday.boat.codes import BET_NAMES, CLASSES, FINISH_CODES, RACER_ID_PATTERN, VENUE_CODES
from raceday.boat.finish import payouts_name_the_finish

LANES: Final = (1, 6)
# 勝率 is points per race (1着 10 … 6着 1, bonus points in graded races): the best racers stay
# under 9; 11 leaves room for a short season's bonus points and nothing else.
WIN_RATE: Final = (0.0, 11.0)
PERCENT: Final = (0.0, 100.0)
# ST (start timing): 0-1 s after the start signal; a flying start is before it (F, negative);
# a late start (L) is more than 1 s after it or not timed.
START_TIMING_S: Final = (-1.0, 1.0)
# 展示タイム: the 150 m exhibition lap, 6.4-7.2 s in practice; 6.0-7.8 brackets every venue.
EXHIBITION_S: Final = (6.0, 7.8)
# 1800 m (three laps): 1.45-2.05 (105-125 s); 95-150 s leaves room for rough water. A race
# shortened to two laps (周回短縮, 1200 m in its header) is judged at its pace: the time as if over
# 1800 m.
RACE_TIME_S: Final = (95.0, 150.0)
FULL_RACE_M: Final = 1800
MAX_WIN_ODDS: Final = 9999.9  # the official display's ceiling
PAYOUT_KINDS: Final = ("paid", "special", "void")


def _lane_checks(table: str, *, whole_field: bool = True) -> list[Check]:
    """Lanes 1-6, one boat each; ``whole_field``: all six listed (programs and results list
    a withdrawn boat too; the odds do not)."""
    import great_expectations.expectations as gxe

    # A race short of a boat lost a line: the boat missing may be the winner or a refund.
    six_boats = Check(
        f"{table}_six_boats_per_race",
        lambda: gxe.ExpectColumnValuesToBeInSet(column="boats_in_race", value_set=[6]),
        "probabilities over the whole field, refunds of every boat",
        shows=("race_id",),
    )
    return [
        *([six_boats] if whole_field else []),
        # A lane outside 1-6 is a shifted line: its rates belong to nobody.
        between(
            f"{table}_lane_in_1_6",
            "boat",
            "the lane prior and the lane-keyed model",
            low=LANES[0],
            high=LANES[1],
        ),
        Check(
            f"{table}_lane_present",
            lambda: gxe.ExpectColumnValuesToNotBeNull(column="boat"),
            "natural keys (race_id, boat)",
        ),
        # Two rows for one lane: which boat is in it cannot be known.
        Check(
            f"{table}_one_boat_per_lane",
            lambda: gxe.ExpectColumnValuesToBeUnique(column="lane_key"),
            "one probability and one settlement per boat",
        ),
    ]


def entry_checks() -> list[Check]:
    """The program's boats (B file)."""
    import great_expectations.expectations as gxe

    def rate(column: str, bounds: tuple[float, float]) -> Check:
        return between(
            f"{column}_in_range",
            column,
            "the model's rate features (a shifted field reads as an absurd rate)",
            low=bounds[0],
            high=bounds[1],
        )

    return [
        *_lane_checks("entries"),
        Check(
            "venue_known",
            lambda: gxe.ExpectColumnValuesToBeInSet(
                column="venue_code", value_set=sorted(VENUE_CODES)
            ),
            "the venue's lane prior",
        ),
        # A class the model has no level for would be read as the baseline (B1).
        Check(
            "class_known",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="racer_class", value_set=list(CLASSES)),
            "the class levels of the model",
        ),
        Check(
            "racer_class_present",
            lambda: gxe.ExpectColumnValuesToNotBeNull(column="racer_class"),
            "the class levels of the model",
        ),
        Check(
            "racer_id_is_4_digits",
            lambda: gxe.ExpectColumnValuesToMatchRegex(column="racer_id", regex=RACER_ID_PATTERN),
            "the racer's start and exhibition history",
        ),
        Check(
            "racer_id_present",
            lambda: gxe.ExpectColumnValuesToNotBeNull(column="racer_id"),
            "the racer's start and exhibition history",
        ),
        # One racer in two lanes of a race (a line copied over the next): two boats priced on
        # one racer's rates, and the racer credited with two results of the race.
        Check(
            "racer_once_in_race",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="racer_once", value_set=[True]),
            "the racer's history and the field's probabilities",
            shows=("racer_id",),
        ),
        Check(
            "national_win_rate_present",
            lambda: gxe.ExpectColumnValuesToNotBeNull(column="national_win_rate"),
            "the model's strongest feature",
        ),
        rate("national_win_rate", WIN_RATE),
        rate("local_win_rate", WIN_RATE),
        rate("national_top2_pct", PERCENT),
        rate("local_top2_pct", PERCENT),
        rate("motor_top2_pct", PERCENT),
        rate("boat_top2_pct", PERCENT),
    ]


def result_checks() -> list[Check]:
    """Each boat's result (K file)."""
    import great_expectations.expectations as gxe

    return [
        *_lane_checks("results"),
        # An unknown 着 cannot say whether the boat's tickets are refunded, won or lost.
        Check(
            "finish_code_known",
            lambda: gxe.ExpectColumnValuesToBeInSet(
                column="finish_code", value_set=sorted(FINISH_CODES)
            ),
            "settlement: refunds (F, L, K) against losses (S, 転, …)",
        ),
        # ST in range, negative exactly when the boat is flagged F: a flying start the code
        # does not show (or an F with a clean ST) would refund the wrong tickets.
        Check(
            "finish_code_present",
            lambda: gxe.ExpectColumnValuesToNotBeNull(column="finish_code"),
            "settlement",
        ),
        Check(
            "start_timing_consistent",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="st_consistent", value_set=[True]),
            "the ST index and refunds",
            shows=("finish_code", "start_timing_s"),
        ),
        between(
            "exhibition_time_plausible",
            "exhibition_s",
            "the exhibition index",
            low=EXHIBITION_S[0],
            high=EXHIBITION_S[1],
        ),
        between(
            "race_time_plausible",
            "race_time_at_1800m_s",
            "a shifted result line read as a time",
            low=RACE_TIME_S[0],
            high=RACE_TIME_S[1],
        ),
        between("course_in_1_6", "course", "the course entered", low=1, high=6),
    ]


def payout_checks() -> list[Check]:
    """The payout lines (K file)."""
    import great_expectations.expectations as gxe

    return [
        Check(
            "bet_type_known",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="bet_type", value_set=list(BET_NAMES)),
            "settlement by bet type",
        ),
        Check(
            "payout_kind_present",
            lambda: gxe.ExpectColumnValuesToNotBeNull(column="kind"),
            "settlement: paid, 特払い or 不成立",
        ),
        Check(
            "payout_kind_known",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="kind", value_set=list(PAYOUT_KINDS)),
            "settlement: paid, 特払い or 不成立",
        ),
        # A payout is at least the 100-yen ticket back (元返し), 特払い 70 yen; 0 or less is a
        # misread number.
        between("payout_positive", "payout_yen", "the yen paid on every winning ticket", low=10),
        # A win line naming a boat that did not finish first (or an exacta that is not the
        # first two) contradicts the 着 column: settling from it pays the wrong boat.
        Check(
            "payout_names_the_finish",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="names_the_finish", value_set=[True]),
            "settlement: the boat paid is the boat that won",
            shows=("bet_type", "combination"),
        ),
    ]


def odds_checks() -> list[Check]:
    """The odds timeline (boat_odds.csv)."""
    import great_expectations.expectations as gxe

    return [
        *_lane_checks("odds", whole_field=False),
        # One boat's value takes its row only: 欠場 (withdrawn) is shown in place of odds daily,
        # and taking the race's odds with it left the whole race unpriced and unbet.
        between(
            "win_odds_in_range",
            "win_odds",
            "the market's probabilities and Kelly's prices",
            low=1.0,
            high=MAX_WIN_ODDS,
            scope="row",
        ),
        Check(
            "win_odds_present",
            lambda: gxe.ExpectColumnValuesToNotBeNull(column="win_odds"),
            "the market's probabilities",
            scope="row",
        ),
        # Without its publication time a snapshot cannot be placed before or after a decision.
        Check(
            "published_at_present",
            lambda: gxe.ExpectColumnValuesToNotBeNull(column="published_at"),
            "point-in-time odds",
        ),
    ]


ENTRY_NUMBERS: Final = (
    "national_win_rate", "national_top2_pct", "local_win_rate", "local_top2_pct",
    "motor_top2_pct", "boat_top2_pct",
)  # fmt: skip
RESULT_NUMBERS: Final = ("exhibition_s", "start_timing_s", "race_time_s", "course", "position")


def _numbers(frame: pd.DataFrame, columns: tuple[str, ...]) -> tuple[pd.DataFrame, pd.Series]:
    """``columns`` as floats, and per row whether every value present parsed (text in a
    number field is corruption, not a missing value)."""
    parsed = frame.copy()
    parses = pd.Series(True, index=frame.index)
    for column in columns:
        if column not in frame:
            continue
        number = pd.to_numeric(frame[column], errors="coerce").astype("float64")
        number = number.where(np.isfinite(number))
        parses &= number.notna() | frame[column].isna()
        parsed[column] = number
    return parsed, parses


def _lane(boat: pd.Series) -> pd.Series:
    """The lane as a whole number (a fraction or text: 0, which no lane check lets through)."""
    number = pd.to_numeric(boat, errors="coerce").astype("float64")
    whole = number.where(number.isna() | (number == np.round(number)), 0.0)
    return whole.where(np.isfinite(whole) | whole.isna(), 0.0).astype("Float64")


def _prepared(frame: pd.DataFrame, race_date: pd.Timestamp, keyed: tuple[str, ...]) -> pd.DataFrame:
    """The frame with row ids, its race date (from the race id, else ``race_date``),
    ``umaban`` (the quarantine's runner column), the lane as a number and a key that is
    missing when the lane is (GE's uniqueness skips missing values)."""
    race_id = frame["race_id"].astype("string")
    lane = _lane(frame["boat"])
    key = race_id
    for column in keyed:
        part = lane.astype("Int64").astype("string") if column == "boat" else frame[column]
        key = key + "|" + part.astype("string").fillna("")
    if "boat" in keyed:
        key = key.where(lane.notna())
    dated = pd.to_datetime(race_id.str[:8], format="%Y%m%d", errors="coerce")
    return frame.assign(
        row_id=np.arange(len(frame)),
        race_id=race_id,
        race_date=dated.fillna(race_date).astype("datetime64[ns]"),
        boat=lane,
        umaban=lane.astype("Int64"),
        lane_key=key,
        boats_in_race=race_id.groupby(race_id.fillna("").to_numpy()).transform("size"),
    )


def _dated_checks(as_of: date | None, max_days_ahead: int, name: str) -> list[Check]:
    """The check that a race is dated at most ``max_days_ahead`` days after ``as_of`` (today in
    Japan; none without it), on the ``days_after_today`` column :func:`_prepared` adds: results
    of a day not yet run are a mis-dated file, a program weeks ahead cannot be bet on (the horse
    suites' ``results_not_in_future`` and ``card_not_too_far_ahead``)."""

    if as_of is None:
        return []
    return [
        between(
            name,
            "days_after_today",
            "point-in-time correctness: no result or stake for a day not yet run",
            high=max_days_ahead,
            shows=("race_date",),
        )
    ]


def _fields_parse_check(scope: Scope = "race") -> Check:
    import great_expectations.expectations as gxe

    return Check(
        "fields_parse",
        lambda: gxe.ExpectColumnValuesToBeInSet(column="fields_parse", value_set=[True]),
        "decoding: a corrupt number is not a missing one",
        scope=scope,
    )


def _checked(
    suite: str, frame: pd.DataFrame, checks: list[Check], race_date: pd.Timestamp,
    keyed: tuple[str, ...] = ("boat",), numbers: tuple[str, ...] = (),
    numbers_scope: Scope = "race", as_of: date | None = None,
) -> CheckedFrame:  # fmt: skip
    parsed, parses = _numbers(frame.reset_index(drop=True), numbers)
    prepared = _prepared(parsed.assign(fields_parse=parses.to_numpy()), race_date, keyed)
    if as_of is not None:
        days_after = (prepared["race_date"] - pd.Timestamp(as_of)).dt.days
        prepared = prepared.assign(days_after_today=days_after.astype("Int64"))
    outcome = run_suite(suite, prepared, [*checks, _fields_parse_check(numbers_scope)])
    valid = parsed.assign(boat=prepared["umaban"], race_id=prepared["race_id"])
    checked = _split(valid, prepared, outcome, suite)
    return CheckedFrame(checked.valid, checked.quarantine, outcome)


def check_entries(
    entries: pd.DataFrame, race_date: pd.Timestamp, as_of: date | None = None
) -> CheckedFrame:
    """The program's boats; a race with a broken boat (or, with ``as_of``, dated more than
    ``CARD_DAYS_AHEAD`` days after it) is left out."""
    racer_id = entries["racer_id"].astype("string")
    with_venue = entries.assign(
        venue_code=entries["race_id"].astype("string").str[8:10],
        racer_id=racer_id,
        racer_class=entries["racer_class"].astype("string"),
        racer_once=racer_once_in_race(entries["race_id"], racer_id),
    )
    checks = [*entry_checks(), *_dated_checks(as_of, CARD_DAYS_AHEAD, "card_not_too_far_ahead")]
    return _checked(
        "boat_entries", with_venue, checks, race_date, numbers=ENTRY_NUMBERS, as_of=as_of
    )


def racer_once_in_race(race_id: pd.Series, racer_id: pd.Series) -> pd.Series:
    """Whether each boat's racer is in no other lane of its race (a missing racer id counts as
    once: ``racer_id_present`` says it)."""
    key = pd.DataFrame({"race": race_id.astype("string"), "racer": racer_id.astype("string")})
    twice = key.duplicated(keep=False) & key["racer"].notna()
    return ~twice


def start_timing_consistent(finish_code: pd.Series, start_timing_s: pd.Series) -> pd.Series:
    """ST present and in range only as the code allows: negative only for F, any (or none) for
    L, K and a blank start; otherwise 0-1 s or missing."""
    code = finish_code.astype("string").fillna("")
    st = pd.to_numeric(start_timing_s, errors="coerce").astype("float64")
    missing = np.isnan(st)
    in_range = (st >= START_TIMING_S[0]) & (st <= START_TIMING_S[1])
    flying = code.eq("F").to_numpy()
    late_or_out = code.str.match(r"^[LK欠]").fillna(False).to_numpy(dtype=bool)
    ok = missing | late_or_out | (in_range & np.where(flying, st < 0, st >= 0))
    return pd.Series(ok, index=finish_code.index)


def race_time_at_1800m(results: pd.DataFrame, distance_m: pd.Series) -> pd.Series:
    """Each boat's race time as if over 1800 m, by its race's distance (``distance_m``, by race
    id; a race without one is taken as 1800 m); not a number: missing (``fields_parse``)."""
    time_s = pd.to_numeric(results["race_time_s"], errors="coerce").astype("float64")
    metres = pd.to_numeric(results["race_id"].map(distance_m), errors="coerce").astype("float64")
    scale = FULL_RACE_M / metres.where(metres > 0, float(FULL_RACE_M))  # NaN > 0 is False
    return (time_s * scale.to_numpy()).astype("Float64")


def check_results(
    results: pd.DataFrame, race_date: pd.Timestamp, distance_m: pd.Series,
    as_of: date | None = None,
) -> CheckedFrame:  # fmt: skip
    """Each boat's result; a race with a broken result (or, with ``as_of``, dated after it) is
    left out (its bets refunded). ``distance_m`` (by race id): the K races' distances, for the
    race time's bounds."""
    with_flags = results.assign(
        st_consistent=start_timing_consistent(results["finish_code"], results["start_timing_s"]),
        race_time_at_1800m_s=race_time_at_1800m(results, distance_m),
    )
    checks = [*result_checks(), *_dated_checks(as_of, 0, "results_not_in_future")]
    checked = _checked(
        "boat_results", with_flags, checks, race_date, numbers=RESULT_NUMBERS, as_of=as_of
    )
    return CheckedFrame(
        checked.valid.drop(columns=["st_consistent", "race_time_at_1800m_s"]),
        checked.quarantine,
        checked.outcome,
    )


def check_payouts(
    payouts: pd.DataFrame, results: pd.DataFrame, race_date: pd.Timestamp
) -> CheckedFrame:
    """The payout lines, each against its race's finishing order (``results``); a race with a
    broken line is left out."""
    frame = payouts.assign(
        boat=pd.Series(pd.NA, index=payouts.index, dtype="Int64"),
        names_the_finish=payouts_name_the_finish(payouts, results),
    )
    checked = _checked(
        "boat_payouts",
        frame,
        payout_checks(),
        race_date,
        ("bet_type", "combination"),
        numbers=("payout_yen", "popularity"),
    )
    valid = checked.valid.drop(columns=["boat", "names_the_finish"])
    return CheckedFrame(valid, checked.quarantine, checked.outcome)


def check_odds(odds: pd.DataFrame, race_date: pd.Timestamp) -> CheckedFrame:
    """The odds snapshots; a row whose value is unreadable or absent (欠場) is set aside alone,
    the race's other rows kept; a race with a broken lane or time loses its odds (the lane prior
    prices it), never its place on the card."""
    timed = odds.assign(
        published_at=pd.to_datetime(odds["published_at"], errors="coerce", format="ISO8601")
    )
    return _checked(
        "boat_odds", timed, odds_checks(), race_date, ("boat", "snapshot"),
        numbers=("win_odds",), numbers_scope="row",
    )  # fmt: skip


@dataclass(frozen=True)
class ValidCard:
    """The program and odds that passed: races with every boat valid, their boats, the odds
    rows that passed (a row with an unreadable value set aside alone); the suites' outcomes for
    the record."""

    races: pd.DataFrame
    entries: pd.DataFrame
    odds: pd.DataFrame
    checked: tuple[CheckedFrame, ...]
    set_aside_before: frozenset[str] = frozenset()  # races the reader set aside (a cut block)

    @property
    def quarantine(self) -> pd.DataFrame:
        """Every row set aside."""
        return _quarantine_of(self.checked)


@dataclass(frozen=True)
class ValidResults:
    """The results that passed: the K races (status), boats' results and payouts of races
    whose every line passed; ``set_aside``: races with a broken line (their bets refunded)."""

    races: pd.DataFrame
    results: pd.DataFrame
    payouts: pd.DataFrame
    set_aside: frozenset[str]
    checked: tuple[CheckedFrame, ...]

    @property
    def quarantine(self) -> pd.DataFrame:
        """Every row set aside."""
        return _quarantine_of(self.checked)


def _quarantine_of(checked: tuple[CheckedFrame, ...]) -> pd.DataFrame:
    frames = [item.quarantine for item in checked if not item.quarantine.empty]
    return pd.concat(frames, ignore_index=True) if frames else checked[0].quarantine


def _races_of(frame: pd.DataFrame) -> set[str]:
    return set(frame["race_id"].dropna().astype(str))


def validate_card(
    races: pd.DataFrame, entries: pd.DataFrame, odds: pd.DataFrame, race_date: pd.Timestamp,
    set_aside_before: frozenset[str] = frozenset(), *, as_of: date | None = None,
) -> ValidCard:  # fmt: skip
    """The program's boats and the odds timeline validated; a race with a broken boat is left
    out of the day, an odds row with an unreadable value is set aside alone;
    ``set_aside_before``: the races the reader set aside (a race whose block the file cut),
    left out as well and said to be; ``as_of`` (today in Japan): a race dated more than
    ``CARD_DAYS_AHEAD`` days after it is left out."""
    checked_entries = check_entries(entries, race_date, as_of)
    checked_odds = check_odds(odds, race_date)
    left_out = (
        _races_of(checked_entries.quarantine)
        | (_races_of(races) - _races_of(checked_entries.valid))
        | set(set_aside_before)
    )
    kept_races = races[~races["race_id"].astype(str).isin(left_out)].reset_index(drop=True)
    kept = _races_of(kept_races)
    valid_entries = checked_entries.valid
    valid_odds = checked_odds.valid
    return ValidCard(
        kept_races,
        valid_entries[valid_entries["race_id"].astype(str).isin(kept)].reset_index(drop=True),
        valid_odds[valid_odds["race_id"].astype(str).isin(kept)].reset_index(drop=True),
        (checked_entries, checked_odds),
        frozenset(set_aside_before),
    )


def validate_results(
    races: pd.DataFrame, results: pd.DataFrame, payouts: pd.DataFrame, race_date: pd.Timestamp,
    set_aside_before: frozenset[str] = frozenset(), *, as_of: date | None = None,
) -> ValidResults:  # fmt: skip
    """The results and payouts validated; a race with a broken line, or whose payouts name
    boats its finishing order does not, is set aside whole, as are ``set_aside_before``: the
    races the reader set aside (a race whose block the file cut: none of it read); ``as_of``
    (today in Japan): a race dated after it is set aside (results of a day not yet run)."""
    distances = (
        races.drop_duplicates("race_id").set_index("race_id")["distance_m"]
        if "distance_m" in races
        else pd.Series(dtype="Int64")  # a frame of races without distances: each 1800 m
    )
    checked_results = check_results(results, race_date, distances, as_of)
    checked_payouts = check_payouts(payouts, results, race_date)
    set_aside = (
        _races_of(checked_results.quarantine)
        | _races_of(checked_payouts.quarantine)
        | set(set_aside_before)
    )
    keep_results = ~checked_results.valid["race_id"].astype(str).isin(set_aside)
    keep_payouts = ~checked_payouts.valid["race_id"].astype(str).isin(set_aside)
    valid = checked_results.valid[keep_results.to_numpy()].reset_index(drop=True)
    known = valid["finish_code"].astype("string").map(FINISH_CODES)
    valid = valid.assign(
        started=known.map(lambda code: code.started).astype("boolean"),
        refunded=known.map(lambda code: code.refunded).astype("boolean"),
    )
    return ValidResults(
        races[~races["race_id"].astype(str).isin(set_aside)].reset_index(drop=True),
        valid,
        checked_payouts.valid[keep_payouts.to_numpy()].reset_index(drop=True),
        frozenset(set_aside),
        (checked_results, checked_payouts),
    )


def visible(text: str) -> str:
    """``text`` with its control characters shown (``\\x1a``, ``\\x00``): a line of one
    invisible byte read as an empty detail."""
    return "".join(
        f"\\x{ord(char):02x}" if unicodedata.category(char) == "Cc" else char for char in text
    )


def rejected_lines(rejected: pd.DataFrame, table_name: str, race_date: date) -> pd.DataFrame:
    """The lines a parser could not read (``raceday.boat.files``: truncated, unknown code, bad
    number, garbage), as quarantine rows: the reason is the check, the line (its control
    characters shown, :func:`visible`) the detail."""
    return pd.DataFrame(
        {
            "race_date": pd.Timestamp(race_date),
            "table_name": table_name,
            "race_id": pd.Series(pd.NA, index=rejected.index, dtype="string"),
            "umaban": pd.Series(pd.NA, index=rejected.index, dtype="Int64"),
            "check_name": ("unreadable_line: " + rejected["reason"].astype("string")).str[:120],
            "detail": (
                "line "
                + rejected["line_number"].astype("string")
                + ": "
                + rejected["line"].astype("string").map(visible, na_action="ignore")
            ).str[:2000],
        }
    )
