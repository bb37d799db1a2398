"""The expectation suites, one per input table, with what each expectation protects.

Suites run on decoded frames plus derived columns (``data_checks.frames``), so each expectation
is a plain Great Expectations expectation over whole columns. Map expectations skip missing
values: "when present" rules need nothing more, and "must be present" rules say so explicitly.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import partial
from typing import Any, Final

from data_checks.frames import FIRST_600M_KM, LEADER_PACE_MIN_S_PER_KM
from data_checks.gx_runner import Check, Scope
from raceday import codec
from raceday.codec import UNKNOWN_CODE, VENUE_CODE_PATTERN
from raceday.sport import Circuit, distance_bounds, other_sport_venues, venue_codes

# MSSs as codec.soha_time_text gives it (zero-filled to four); blank = not recorded
SOHA_TIME_PATTERN: Final = r"^(?:[0-9][0-5][0-9][0-9])?$"
# Finish times: 50-90 s per 1000 m brackets every real NAR pace (winners run 56-75 s/km; the
# slowest finishers of a heavy track stay under 85).
PACE_S_PER_KM: Final = (50.0, 90.0)
# A last 3F (600 m) between 50 and 90 s/km.
LAST3F_S: Final = (30.0, 54.0)
# 0 is "unknown": not recorded (a blank field, a turf race's empty dirt going) or another
# circuit's code (Hong Kong's going); raceday.codec decodes every such code to it and every stage
# treats it as a category of its own, so it is no reason to set the race aside. The checks guard
# the decoded values (a decoder that let another value through would break going features).
GOING_CODES: Final = [UNKNOWN_CODE, *codec.GOING_CODES]  # unknown, 良, 稍重, 重, 不良
WEATHER_CODES: Final = [UNKNOWN_CODE, *codec.WEATHER_CODES]  # unknown, 晴, 曇, 雨, 小雨, 雪, 小雪
# Win odds (docs/VALIDATION.md, "Odds bounds"): the JV/NV-Data field is 4 digits of tenths, so
# 999.9 is its ceiling, and also the display cap real NAR pools show for long shots.
MAX_WIN_ODDS: Final = 999.9
# Race dates (docs/VALIDATION.md, "Dates"): no NAR source we read holds races before 1990, so an
# earlier year is a corrupt kaisai_nen; a card is fixed a few days before its race day, so one
# dated more than a week after today (Japan) cannot exist yet.
FIRST_RACE_YEAR: Final = 1990
CARD_DAYS_AHEAD: Final = 7
# Weight carried (斤量, kg): JRA and NAR flat and jump races carry about 48-66 kg (apprentice
# allowances below, the Grand Jump's 63 above); 40-70 leaves room, and outside it is another unit
# (an overseas export's pounds, 113-135, read as tenths of a kg: 11.3-13.5) or a shifted field.
WEIGHT_CARRIED_KG: Final = (40.0, 70.0)
# Σ 1/odds of a race's field: 1/(1 - takeout) = 1.25-1.33 for a 20-25% takeout, plus rounding
# down to tenths (real NAR: 1.27 on average, NAR_REFERENCE.md). Only a favourite held at the
# 1.0 minimum payout (元返し) lowers it, never below 1.0; 1.5 leaves room for rounding.
OVERROUND: Final = (1.0, 1.5)


def venue_codes_for(circuits: Sequence[Circuit]) -> frozenset[str]:
    """The venues a race table may hold: every venue of ``circuits`` (with their venues), from
    whichever circuit's tables (each flows through every stage, learned per venue). A code of
    none of them is kept as a venue of its own (:func:`venue_in_scope_pattern`)."""
    return venue_codes(circuits)


# Codes in the circuits' tables that are another sport (ban-ei 83, sleds over 200 m).
OTHER_SPORT_VENUE_CODES: Final = other_sport_venues()
# Distances any circuit runs (NAR flat 800-3000 m, JRA up to 4250 m over jumps).
DISTANCE_M: Final = distance_bounds()


def between(
    name: str,
    column: str,
    protects: str,
    *,
    low: float | None = None,
    high: float | None = None,
    strict: bool = False,
    scope: Scope = "race",
    shows: tuple[str, ...] = (),
) -> Check:
    """The check that ``low <= column <= high`` (``strict``: ``<`` at both ends) on each row where
    ``column`` is known; a bound left ``None`` is open."""
    bounds: dict[str, Any] = {}
    if low is not None:
        bounds["min_value"] = low
    if high is not None:
        bounds["max_value"] = high
    if strict:
        bounds |= {"strict_min": True, "strict_max": True}
    return Check(name, partial(between_expectation, column, **bounds), protects, scope, shows)


def between_expectation(column: str, **bounds: Any) -> Any:
    """Great Expectations' ``ExpectColumnValuesToBeBetween`` on ``column`` with ``bounds``
    (``min_value``, ``max_value``, ``strict_min``, ``strict_max``)."""
    import great_expectations.expectations as gxe

    return gxe.ExpectColumnValuesToBeBetween(column=column, **bounds)


def at_least(
    name: str, larger: str, smaller: str, protects: str, *, shows: tuple[str, ...] = ()
) -> Check:
    """The check that ``larger >= smaller`` on each row where both are known."""
    import great_expectations.expectations as gxe

    return Check(
        name,
        lambda: gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=larger,
            column_B=smaller,
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        ),
        protects,
        shows=shows,
    )


def venue_in_scope_pattern(known: Collection[str]) -> str:
    """A regex the in-scope venue codes match: the ``known`` ones (every circuit's) and any other
    venue code but another sport's: two digits, or a race abroad (``G0``,
    :data:`raceday.codec.VENUE_CODE_PATTERN`; ``fields_parse`` sets anything else aside)."""
    listed = "|".join(sorted(known))
    banned = "|".join(sorted(OTHER_SPORT_VENUE_CODES))
    return rf"^(?:{listed}|(?!(?:{banned})$)(?:{VENUE_CODE_PATTERN}))$"


# The checks whose failure is the provider's word, not a fault of the input: the race was
# cancelled, or its record withdrawn. Results stored for such a race are taken back.
RETRACTING_CHECKS: Final = ("race_not_cancelled", "record_not_withdrawn")


def record_kind_checks() -> list[Check]:
    """A race's or runner's データ区分 (``data_checks.frames.with_record_kinds``): 9, the race
    was cancelled (weather, an accident): it is not run, so it is not priced or bet, and a bet
    placed before the cancellation is refunded at night; 0, the provider withdrew the record
    (sent by mistake): it is not the race as the provider has it."""
    import great_expectations.expectations as gxe

    return [
        Check(
            RETRACTING_CHECKS[0],
            lambda: gxe.ExpectColumnValuesToBeInSet(column="race_cancelled", value_set=[False]),
            "no bet on a race that is not run",
        ),
        Check(
            RETRACTING_CHECKS[1],
            lambda: gxe.ExpectColumnValuesToBeInSet(column="record_withdrawn", value_set=[False]),
            "only records the provider stands by",
        ),
    ]


def field_checks() -> list[Check]:
    """The checks of a record's fields as read (``data_checks.frames``), the same on every table:
    each present, parsed and fitting its column."""
    import great_expectations.expectations as gxe

    return [
        # A short (truncated) line or a null leaves fields the pipeline reads undefined.
        Check(
            "required_fields_present",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="missing_fields", value_set=[""]),
            "every decoded field comes from a real value",
        ),
        # Text in a numeric field ("1O5", "12.5", "-38") would decode to "missing" and hide
        # corruption.
        Check(
            "fields_parse",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="unparsable_fields", value_set=[""]),
            "decoding: a corrupt field is not a missing one",
        ),
        # Text longer than its column (a shifted record): the store would refuse the whole day.
        Check(
            "fields_fit_the_store",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="overlong_fields", value_set=[""]),
            "one transaction per stage: a value too long for its column fails the whole write",
        ),
    ]


def race_checks(venue_codes: Collection[str], phase: str, *, dated: bool = False) -> list[Check]:
    """The race table (nvd_ra as ingested); ``dated`` (today is known) adds the upper date
    bound: results not after today, cards not more than a week ahead."""
    import great_expectations.expectations as gxe

    venues = sorted(venue_codes)
    checks = [
        # A second identical copy of a row (a re-import) would double the race: set the copy aside.
        Check(
            "row_not_repeated",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="repeated_row", value_set=[False]),
            "one row per race after a re-import",
            scope="row",
            shows=("race_id",),
        ),
        # A race key that is incomplete cannot join its runners or be stored idempotently.
        Check(
            "race_key_complete",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="race_key_valid", value_set=[True]),
            "joins and natural keys",
            shows=("race_id",),
        ),
        # The same race twice with different values: no way to know which one is right.
        Check(
            "race_id_unique",
            lambda: gxe.ExpectColumnValuesToBeUnique(column="race_id_if_first_copy"),
            "one row per race; bets keyed by race",
        ),
        *field_checks(),
        # kaisai_nen/kaisai_tsukihi that do not form a date (e.g. 0231) cannot be placed in time.
        Check(
            "race_date_parses",
            lambda: gxe.ExpectColumnValuesToNotBeNull(column="race_date"),
            "point-in-time ordering",
            shows=("race_id",),
        ),
        # A year before any NAR record we read (1899 from a zeroed or shifted field).
        between(
            "race_date_not_before_1990",
            "race_year",
            "point-in-time ordering and history windows",
            low=FIRST_RACE_YEAR,
            shows=("race_date",),
        ),
        # A venue code is two digits. Ban-ei (83, sled racing over 200 m) is another
        # sport whose times would poison any standard. Any other code outside NAR and JRA (an
        # overseas venue in a user's own export) is a venue of its own: standards, pools and
        # the model learn it from its history like any new venue (validation logs a warning).
        Check(
            "venue_in_scope",
            lambda: gxe.ExpectColumnValuesToMatchRegex(
                column="keibajo_code", regex=venue_in_scope_pattern(venues)
            ),
            "venue-specific standards and reports",
        ),
        # Without a distance nothing about the race's times can be judged or standardised.
        Check(
            "distance_present",
            lambda: gxe.ExpectColumnValuesToNotBeNull(column="distance_m"),
            "standard times and first-3F rules keyed by distance",
        ),
        # Each circuit's distances (raceday.sport): NAR flat races run 800-3000 m, JRA's
        # 1000-3600 m and its jump races up to 4250 m (the Nakayama Grand Jump); anything else
        # is a decoding error or another sport.
        between(
            "distance_in_range",
            "distance_m",
            "standard times and first-3F rules keyed by distance",
            low=DISTANCE_M[0],
            high=DISTANCE_M[1],
        ),
        # A race without a field size cannot be normalised or checked against its runners.
        Check(
            "field_size_present",
            lambda: gxe.ExpectColumnValuesToNotBeNull(column="field_size"),
            "per-race normalisation of probabilities",
        ),
        # A field of 0 or more than 18 starters cannot be priced.
        between(
            "field_size_between_1_and_18",
            "field_size",
            "per-race normalisation of probabilities",
            low=1,
            high=18,
        ),
        # Going 0-4 (unknown/良/稍重/重/不良) after decoding: another value is a decoder bug.
        Check(
            "going_code_known",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="going_code", value_set=GOING_CODES),
            "going features and track variants",
        ),
        # Weather 0-6 (unknown/晴/曇/雨/小雨/雪/小雪) after decoding: another value is a bug.
        Check(
            "weather_code_known",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="weather_code", value_set=WEATHER_CODES),
            "weather features",
        ),
        *record_kind_checks(),
        # A race with no runner rows cannot be predicted or settled.
        between("race_has_runners", "runner_count", "prediction and settlement of the race", low=1),
        # Every runner scratched: nothing to price, every bet refunded.
        between(
            "race_has_starters",
            "starters",
            "prediction of a race that is run",
            low=1,
            shows=("field_size",),
        ),
        # The leader's first 600 m (when present): 30 s up to a pace that eases with distance.
        between(
            "leader_first3f_not_too_fast",
            "leader_first3f_s",
            "the first-3F leader anchor (a 4F or seconds-for-tenths mix-up)",
            low=LEADER_PACE_MIN_S_PER_KM * FIRST_600M_KM,
            shows=("distance_m",),
        ),
        at_least(
            "leader_first3f_not_too_slow",
            "leader_first3f_upper_s",
            "leader_first3f_s",
            "the first-3F leader anchor (a 4F or seconds-for-tenths mix-up)",
            shows=("distance_m",),
        ),
    ]
    if phase == "card":
        # A card lists every runner of the field, scratched ones too: fewer rows than its field
        # size (a JRA-VAN database's race abroad holds only the Japanese horses) would price and
        # stake part of a race, each share of the market and each probability over that part.
        checks.append(
            at_least(
                "card_lists_the_field",
                "listed_runners",
                "field_size",
                "market shares and probabilities over the whole field",
            )
        )
    if phase == "results":
        # The field size counts the runners that started: no fewer than the certain starters...
        checks.append(
            at_least(
                "field_size_not_below_starters",
                "field_size",
                "starters",
                "per-race normalisation and corner/finish position bounds",
            )
        )
        # ...and no more than the runners not scratched (all scratched: the race was not run).
        checks.append(
            at_least(
                "field_size_not_above_unscratched",
                "unscratched",
                "field_size",
                "per-race normalisation and corner/finish position bounds",
            )
        )
    if phase == "results":
        # Finishers' positions run 1..n (dead heats share a place: 1, 1, 3): no gap, no clash.
        checks.append(
            Check(
                "finish_positions_in_order",
                lambda: gxe.ExpectColumnValuesToBeInSet(column="finish_order_ok", value_set=[True]),
                "settlement: exactly one winner (or a dead heat) per race",
                shows=("finish_positions",),
            )
        )
    if phase == "card" and dated:
        # A card weeks ahead (2027 typed for 2026) would be predicted and staked on a day that
        # cannot be settled for weeks.
        checks.append(
            between(
                "card_not_too_far_ahead",
                "days_after_today",
                "stakes only on cards that can exist",
                high=CARD_DAYS_AHEAD,
                shows=("race_date",),
            )
        )
    if phase == "results" and dated:
        # Results of a day that has not happened are a mis-dated record, not a result.
        checks.append(
            between(
                "results_not_in_future",
                "days_after_today",
                "point-in-time correctness",
                high=0,
                shows=("race_date",),
            )
        )
    return checks


def runner_checks(phase: str) -> list[Check]:
    """The runner table (nvd_se as ingested); ``results`` adds the checks on results."""
    import great_expectations.expectations as gxe

    checks = [
        # A second identical copy of a row (a re-import) would double the runner: set it aside.
        Check(
            "row_not_repeated",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="repeated_row", value_set=[False]),
            "one row per runner after a re-import",
            scope="row",
        ),
        *record_kind_checks(),  # a runner's record: its race set aside with it
        # A runner whose race is not in the race table cannot be priced or stored.
        Check(
            "runner_has_race",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="race_known", value_set=[True]),
            "joins between runners and races",
            scope="row",
        ),
        # Two different rows for one horse number: a corrupted file, no way to pick one.
        Check(
            "runner_key_unique",
            lambda: gxe.ExpectCompoundColumnsToBeUnique(
                column_list=["race_id_if_first_copy", "umaban_if_first_copy"],
                ignore_row_if="any_value_is_missing",
            ),
            "one row per runner; bets keyed by race and horse",
        ),
        *field_checks(),
        # Without a horse number a runner cannot be bet on or joined to its odds.
        Check(
            "umaban_present",
            lambda: gxe.ExpectColumnValuesToNotBeNull(column="umaban"),
            "bets keyed by race and horse",
        ),
        # Without a horse id a runner has no history and cannot be followed.
        Check(
            "horse_id_present",
            lambda: gxe.ExpectColumnValuesToNotBeNull(column="horse_id"),
            "past-performance features",
        ),
        # One horse cannot run twice in a race: two rows with its id are a corrupt record (a key
        # shifted onto another runner), and the race's field would be wrong.
        Check(
            "horse_once_in_race",
            lambda: gxe.ExpectColumnValuesToBeInSet(
                column="horse_repeated_in_race", value_set=[False]
            ),
            "one runner per horse: its history and its odds",
        ),
        # A horse runs in one race a day: the same horse in two races of the day is a race
        # copied under another venue code or race number (or a shifted key); both are set aside,
        # as two different copies of one race are (which is the real one cannot be known).
        Check(
            "horse_once_a_day",
            lambda: gxe.ExpectColumnValuesToBeInSet(
                column="horse_in_another_race", value_set=[False]
            ),
            "one runner per horse a day: its history, its form and the day's field",
        ),
        # A horse number above the number of entries means the row belongs to another race.
        at_least("umaban_within_entries", "entries", "umaban", "bets placed on horses that exist"),
        # Odds below 1.0 do not exist in a pari-mutuel pool (minimum payout 100 yen per 100).
        between("win_odds_at_least_1", "win_odds", "market probabilities and stakes", low=1.0),
        # Weight carried (斤量) in kg (:data:`WEIGHT_CARRIED_KG`): another unit or a shifted
        # field would be every weight feature of the horse's race.
        between(
            "weight_carried_plausible",
            "weight_carried_kg",
            "weight-carried features",
            low=WEIGHT_CARRIED_KG[0],
            high=WEIGHT_CARRIED_KG[1],
        ),
        # A corner position beyond the starters is a shifted or corrupted field (00 = none).
        at_least(
            "corner_within_field",
            "field_size",
            "corner_max",
            "the pace/corner layer of the first-3F estimate",
            shows=("corner_1", "corner_2", "corner_3", "corner_4"),
        ),
    ]
    if phase == "card":
        checks += [
            # A starter missing from its race's odds snapshot would inflate the others' shares.
            Check(
                "runner_has_snapshot_odds",
                lambda: gxe.ExpectColumnValuesToBeInSet(
                    column="missing_snapshot_odds", value_set=[False]
                ),
                "market probabilities normalised over the whole field",
            ),
        ]
    if phase == "results":
        checks += [
            # MSSs with seconds >= 60 (or text) is not a time: decoding would invent one.
            Check(
                "soha_time_decodes",
                lambda: gxe.ExpectColumnValuesToMatchRegex(
                    column="soha_time_raw", regex=SOHA_TIME_PATTERN
                ),
                "finish times (a common bug divides MSSs by ten)",
            ),
            # 50-90 s per 1000 m brackets every real NAR pace; outside it the time is wrong.
            between(
                "finish_time_plausible",
                "pace_s_per_km",
                "speed indexes and standard times",
                low=PACE_S_PER_KM[0],
                high=PACE_S_PER_KM[1],
                shows=("finish_time_s", "distance_m"),
            ),
            # A last 3F is a 600 m time: 30-54 s; outside, the field is shifted or mis-scaled.
            between(
                "last3f_plausible",
                "last3f_s",
                "agari indexes and the short-race first 3F",
                low=LAST3F_S[0],
                high=LAST3F_S[1],
            ),
            # The last 3F is part of the finish time: it must be the smaller.
            Check(
                "last3f_within_finish_time",
                lambda: gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A="finish_time_s",
                    column_B="last3f_s",
                    ignore_row_if="either_value_is_missing",
                ),
                "first-3F = finish - last 3F on short races",
            ),
            # A finisher without a time cannot be indexed; non-finishers are flagged, not dropped.
            Check(
                "finisher_has_time",
                lambda: gxe.ExpectColumnValuesToBeInSet(
                    column="finisher_without_time", value_set=[False]
                ),
                "indexes and standards",
            ),
            # A finisher without final odds: a winning bet on it would be paid nothing.
            Check(
                "finisher_has_final_odds",
                lambda: gxe.ExpectColumnValuesToBeInSet(
                    column="finisher_without_odds", value_set=[False]
                ),
                "settlement of win bets and the market's log loss",
            ),
            # No position without a reason: a non-finisher must carry its ijo_kubun_code.
            Check(
                "non_finisher_flagged",
                lambda: gxe.ExpectColumnValuesToBeInSet(
                    column="non_finisher_unflagged", value_set=[False]
                ),
                "refunds (取消/除外) and the finishing order",
                shows=("finish_pos", "abnormal_code"),
            ),
            # A more popular horse never pays more: a favourite at 999.9 would settle absurdly.
            Check(
                "final_odds_follow_popularity",
                lambda: gxe.ExpectColumnValuesToBeInSet(
                    column="odds_above_a_less_popular", value_set=[False]
                ),
                "settlement at odds a real pool can show",
                shows=("win_odds", "popularity"),
            ),
            # The final pool's Σ 1/odds, as the snapshot's (``overround_plausible``): prices all
            # 1.0 or written ten times too long would settle bets and price the market absurdly.
            between(
                "final_overround_plausible",
                "race_overround",
                "settlement at odds a real pool can show, the market's log loss",
                low=OVERROUND[0],
                high=OVERROUND[1],
                shows=("win_odds", "popularity"),
            ),
            # Positions beyond the starters are corrupt.
            at_least(
                "finish_pos_within_field", "field_size", "finish_pos", "settlement of win bets"
            ),
        ]
    return checks


def odds_checks() -> list[Check]:
    """The bet-time odds: the snapshot (nvd_o1), else a replay's final odds (nvd_se)."""
    import great_expectations.expectations as gxe

    return [
        # Odds below 1.0 cannot be offered; staking on them would be nonsense.
        between("snapshot_odds_at_least_1", "win_odds", "stakes sized on bet-time odds", low=1.0),
        # More than 4 digits of tenths (99999): no such field; it would decode as 9999.9.
        Check(
            "odds_field_is_4_digits",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="odds_malformed", value_set=[False]),
            "stakes sized on odds the source can hold",
            shows=("odds_raw",),
        ),
        # 999.9 is the field's ceiling and the pools' display cap: above it is corruption.
        between(
            "odds_at_most_999_9",
            "win_odds",
            "stakes sized on odds a real pool shows",
            high=MAX_WIN_ODDS,
        ),
        # A more popular horse never pays more than a less popular one (a favourite at 999.9).
        Check(
            "odds_follow_popularity",
            lambda: gxe.ExpectColumnValuesToBeInSet(
                column="odds_above_a_less_popular", value_set=[False]
            ),
            "market probabilities and stakes from a consistent market",
            shows=("popularity",),
        ),
        # Σ 1/odds of a pool with 20-25% takeout: a wrong price moves it out of range.
        between(
            "overround_plausible",
            "race_overround",
            "market probabilities normalised over a real pool",
            low=OVERROUND[0],
            high=OVERROUND[1],
        ),
        # Text longer than its column (a shifted record): the store would refuse the whole day.
        Check(
            "fields_fit_the_store",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="overlong_fields", value_set=[""]),
            "one transaction per stage: a value too long for its column fails the whole write",
        ),
        # One price per horse: a snapshot naming a horse twice (a slot misread) says nothing.
        Check(
            "snapshot_horse_priced_once",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="umaban_repeated", value_set=[False]),
            "stakes sized on one price per horse",
        ),
        # A snapshot prices a horse the race card lacks: the card and the market disagree on
        # who runs (a runner row lost to a broken key, or a corrupt snapshot row), so the
        # field's probabilities would be normalised over the wrong horses: the race is set aside.
        Check(
            "snapshot_runner_known",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="runner_known", value_set=[True]),
            "stakes placed on horses that exist, priced against the whole field",
        ),
    ]
