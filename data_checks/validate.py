"""Decode a raw day, validate it, and split it into what is valid and what is quarantined.

A failing row sets its whole race aside when the race cannot be priced without it (checks of
scope ``race``); a failing race takes its runners with it (one quarantine row stands for the
race). Checks of scope ``row`` set aside the row alone (a repeated copy, a runner without a
race); a check of scope ``input`` refuses the whole input. Parts of the input the source could
not read are quarantined as ``input`` rows. The rest goes on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd

from data_checks.derived import suite_outcome
from data_checks.frames import (
    missing_snapshot_odds,
    odds_above_a_less_popular,
    overlong_fields,
    race_check_frame,
    race_overround,
    runner_check_frame,
)
from data_checks.gx_runner import FAILURE_COLUMNS, Check, SuiteOutcome
from data_checks.suites import (
    odds_checks,
    race_checks,
    runner_checks,
    venue_in_scope_pattern,
)
from raceday.arrow_text import text_isin
from raceday.codec import (
    digits_are_malformed,
    entries_or_fallback,
    odds_field_text,
    venue_code_text,
)
from raceday.errors import InputError
from raceday.odds_snapshots import latest_snapshot_slots, priced_slots, unsold_slots
from raceday.pipeline import FINAL_ODDS_SNAPSHOT
from raceday.schema import NVD_O1_REQUIRED, NVD_RA_REQUIRED, NVD_SE_REQUIRED
from raceday.sources.base import RawDay, RejectedInput
from raceday.sources.timeline import timed_races
from raceday.store.catalogs.races import ODDS

Phase = Literal["card", "results"]
QUARANTINE_COLUMNS = ["race_date", "table_name", "race_id", "umaban", "check_name", "detail"]
INVALID_RUNNER_CHECK = "race_has_invalid_runner"
INPUT_CHECK = "input_readable"
RACE_ID_WIDTH = 16  # quarantine.race_id
MAX_UMABAN = 99  # two digits in PC-KEIBA


@dataclass(frozen=True)
class ValidatedDay:
    """Valid decoded frames, the quarantined rows, and each suite's outcome."""

    races: pd.DataFrame
    runners: pd.DataFrame
    odds: pd.DataFrame
    quarantine: pd.DataFrame
    outcomes: tuple[SuiteOutcome, ...]
    # a card's races its bet-time odds price no runner of (stored, neither predicted nor bet),
    # found once with those odds (tasks.validate.with_betting_odds); empty otherwise
    unpriced: tuple[str, ...] = ()


def require_columns(raw: RawDay) -> None:
    """Refuse an input whose tables lack columns the pipeline needs (one clear line)."""
    tables = [("nvd_ra", raw.nvd_ra, NVD_RA_REQUIRED), ("nvd_se", raw.nvd_se, NVD_SE_REQUIRED)]
    if not raw.nvd_o1.empty:
        tables.append(("nvd_o1", raw.nvd_o1, NVD_O1_REQUIRED))
    for table, frame, required in tables:
        missing = [column for column in required if column not in frame.columns]
        if missing:
            raise InputError(f"{table} lacks required column(s): {', '.join(missing)}")


def _empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame(columns=QUARANTINE_COLUMNS)


def storable(quarantine: pd.DataFrame) -> pd.DataFrame:
    """Quarantine rows as the table can hold them: a garbage key cannot break the write.

    A corrupt record may decode to a race id longer than the column or a horse number beyond
    any integer column; the detail keeps the values, the key columns keep what fits.
    """
    umaban = pd.to_numeric(quarantine["umaban"], errors="coerce")
    return quarantine.assign(
        race_id=quarantine["race_id"].astype("string").str.slice(0, RACE_ID_WIDTH),
        umaban=umaban.where(umaban.between(0, MAX_UMABAN)).astype("Int64"),
    )


def _no_failures() -> pd.DataFrame:
    return pd.DataFrame(columns=FAILURE_COLUMNS)


def _quarantine_rows(frame: pd.DataFrame, failures: pd.DataFrame, table_name: str) -> pd.DataFrame:
    if failures.empty:
        return _empty_quarantine()
    failing = frame.set_index("row_id").loc[failures["row_id"]]
    return pd.DataFrame(
        {
            "race_date": failing["race_date"].to_numpy(),
            "table_name": table_name,
            "race_id": failing["race_id"].to_numpy(),
            "umaban": failing["umaban"].to_numpy() if "umaban" in failing else pd.NA,
            "check_name": failures["check_name"].to_numpy(),
            "detail": failures["detail"].to_numpy(),
        }
    )


def _rejected_rows(rejected: tuple[RejectedInput, ...]) -> pd.DataFrame:
    if not rejected:
        return _empty_quarantine()
    return pd.DataFrame(
        {
            "race_date": pd.NaT,
            "table_name": "input",
            "race_id": pd.NA,
            "umaban": pd.NA,
            "check_name": INPUT_CHECK,
            "detail": [
                json.dumps({"location": item.location, "reason": item.reason}, ensure_ascii=False)
                for item in rejected
            ],
        }
    )


def refuse_on_input_scope(outcomes: tuple[SuiteOutcome, ...]) -> None:
    """Raise InputError when a check of scope ``input`` failed: the whole input is refused."""
    for outcome in outcomes:
        refused = outcome.failures[outcome.failures["scope"] == "input"]
        if not refused.empty:
            name = refused["check_name"].iloc[0]
            raise InputError(
                f"input refused by check {name} ({len(refused)} rows of {outcome.suite})"
            )


def _set_aside_by_rows(
    races: pd.DataFrame, reasons: pd.DataFrame, already: set[str]
) -> pd.DataFrame:
    """One row per race set aside because of its rows elsewhere (runners, odds), with the checks."""
    reasons = reasons[~reasons["race_id"].isin(already)]
    if reasons.empty:
        return _empty_quarantine()
    checks = reasons.groupby("race_id")["check_name"].agg(lambda names: sorted(set(names)))
    dates = races.drop_duplicates("race_id").set_index("race_id")["race_date"]
    return pd.DataFrame(
        {
            "race_date": checks.index.map(dates).to_numpy(),
            "table_name": "races",
            "race_id": checks.index.to_numpy(),
            "umaban": pd.NA,
            "check_name": INVALID_RUNNER_CHECK,
            "detail": [json.dumps({"failed_checks": names}) for names in checks],
        }
    )


def _race_scoped(frame: pd.DataFrame, failures: pd.DataFrame) -> pd.DataFrame:
    """race_id and check of each failure whose scope sets aside the whole race."""
    scoped = failures[failures["scope"] == "race"]
    return pd.DataFrame(
        {
            "race_id": frame.loc[scoped["row_id"], "race_id"].to_numpy(dtype=object),
            "check_name": scoped["check_name"].to_numpy(dtype=object),
        }
    )


ODDS_COLUMNS = ["race_id", "umaban", "snapshot_at", "win_odds", "popularity"]
ODDS_WIDTH = 4  # tansho_odds: 4 digits of tenths


def betting_snapshot(snapshot: pd.DataFrame, results: RawDay | None) -> pd.DataFrame:
    """The odds stakes are sized on: each race's snapshot, else (a replay of a race the source
    has no timed snapshot of, :func:`raceday.sources.timeline.timed_races`) its final odds from
    the ``nvd_se`` of ``results``, marked ``snapshot_at == "final"``; ``odds_raw`` /
    ``odds_malformed`` keep the final odds field as written and whether it is no field (a
    5-digit ``99999`` decodes, but is none; a capped ``99+`` is one,
    :func:`raceday.codec.odds_field_text`)."""
    checked = snapshot[ODDS_COLUMNS].assign(odds_raw=pd.NA, odds_malformed=False)
    if results is None or results.nvd_se.empty:
        return checked.astype({"odds_raw": "string"})
    final = results.runners
    raw_odds = results.nvd_se["tansho_odds"].reset_index(drop=True).astype("string").str.strip()
    priced = text_isin(final["race_id"], snapshot["race_id"]) | text_isin(
        final["race_id"], timed_races(results.nvd_o1)
    )
    fallback = ~priced & final["win_odds"].notna()
    replay = final.loc[fallback, ["race_id", "umaban", "win_odds", "popularity"]].assign(
        snapshot_at=FINAL_ODDS_SNAPSHOT,
        odds_raw=raw_odds[fallback],
        odds_malformed=digits_are_malformed(odds_field_text(raw_odds[fallback]), ODDS_WIDTH),
    )
    frames = [frame for frame in (checked, replay[checked.columns]) if not frame.empty]
    if not frames:
        return checked.astype({"odds_raw": "string"})
    both = pd.concat(frames, ignore_index=True)
    return both.astype({"odds_raw": "string", "odds_malformed": bool})


def _odds_frame(odds: pd.DataFrame, runners: pd.DataFrame) -> pd.DataFrame:
    card = runners[["race_id", "umaban", "race_date"]].drop_duplicates(["race_id", "umaban"])
    known = odds[["race_id", "umaban"]].merge(
        card.assign(runner_known=True), on=["race_id", "umaban"], how="left"
    )
    return odds.assign(
        row_id=np.arange(len(odds)),
        runner_known=known["runner_known"].notna().to_numpy(),
        race_date=pd.to_datetime(known["race_date"]).to_numpy(),
        overlong_fields=overlong_fields(odds, ODDS),
        odds_above_a_less_popular=odds_above_a_less_popular(odds).to_numpy(),
        race_overround=race_overround(odds).to_numpy(),
        umaban_repeated=odds.duplicated(["race_id", "umaban"], keep=False).to_numpy(),
    )


def race_odds_failures(
    odds: pd.DataFrame, runners: pd.DataFrame, unsold: tuple[int, ...] = ()
) -> list[str]:
    """The checks one race's snapshot fails at race time: the card's odds suite (as the
    morning's validation runs it on every snapshot) and every runner still in the race priced
    (``runner_has_snapshot_odds``, the morning's rule: a runner the snapshot says is not sold,
    ``unsold``: horse numbers, is withdrawn, not missing); ``[]`` when it may be bet on.
    ``odds``: the snapshot's priced runners (:func:`raceday.sources.timeline.race_market_at`);
    ``runners``: the race's card."""
    frame = _odds_frame(betting_snapshot(odds, None), runners)
    outcome = suite_outcome("odds_race_time", frame, odds_checks(), gx_result=False)
    failed = set(outcome.failed_checks)
    said_unsold = runners.loc[runners["umaban"].isin(unsold), ["race_id", "umaban"]]
    if missing_snapshot_odds(runners, odds, said_unsold).any():
        failed.add("runner_has_snapshot_odds")
    return sorted(failed)


def _kept(frame: pd.DataFrame, failures: pd.DataFrame, race_ids: pd.Series) -> np.ndarray:
    """Rows that failed nothing and whose race is kept."""
    passed = ~frame["row_id"].isin(set(failures["row_id"]))
    mask: np.ndarray = (passed & text_isin(frame["race_id"], race_ids)).to_numpy(dtype=bool)
    return mask


def _decoded_snapshot(raw: RawDay, phase: Phase) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each race's latest snapshot of those given, and the horses it says are not sold: the
    card's view holds only the snapshots published by its deadlines
    (``tasks.validate.card_view``); results do not need it (the card stored it)."""
    odds = raw.nvd_o1.reset_index(drop=True)
    slots = latest_snapshot_slots(odds if phase == "card" else odds.iloc[0:0])
    return priced_slots(slots), unsold_slots(slots)


def venues_of_no_circuit(nvd_ra: pd.DataFrame, venue_codes: Collection[str]) -> list[str]:
    """The venue codes of ``nvd_ra`` (raw; as stored: :func:`venue_code_text`) outside
    ``venue_codes`` (NAR's and JRA's) that validation keeps, learned like any new venue (Hong
    Kong's ``G0``); not those it sets aside (another sport's, no venue code: ``venue_in_scope``);
    none when the table has no venue column (validation refuses it). Said once a read, by the
    ingest (:mod:`tasks.ingest`), not by each validation of what it read."""
    if "keibajo_code" not in nvd_ra.columns:
        return []
    codes = venue_code_text(nvd_ra["keibajo_code"]).dropna().astype(str)
    in_scope = re.compile(venue_in_scope_pattern(venue_codes))  # others: venue_in_scope
    return sorted(code for code in set(codes) - set(venue_codes) if in_scope.fullmatch(code))


@dataclass(frozen=True)
class DayFrames:
    """What a phase's suites judge: the decoded tables, the frames each suite runs on (with the
    derived columns its checks read) and what the source could not read. Built once per
    input by :func:`day_frames`; :func:`judge_day` decides on them and never changes them."""

    phase: Phase
    races: pd.DataFrame
    runners: pd.DataFrame
    bet_odds: pd.DataFrame
    race_frame: pd.DataFrame
    runner_frame: pd.DataFrame
    odds_frame: pd.DataFrame
    suites: tuple[tuple[str, pd.DataFrame, list[Check]], ...]
    rejected: tuple[RejectedInput, ...]


def day_frames(
    raw: RawDay,
    *,
    phase: Phase,
    venue_codes: Collection[str],
    as_of: date | None = None,
    results: RawDay | None = None,
) -> DayFrames:
    """The frames :func:`validate_day` judges (arguments as there); an input without the
    columns the pipeline needs is refused here."""
    require_columns(raw)
    raw_ra, raw_se = raw.nvd_ra.reset_index(drop=True), raw.nvd_se.reset_index(drop=True)
    runners = raw.runners  # decoded once per RawDay: shared, so derived from, never changed
    entries = entries_or_fallback(raw.races, runners)  # toroku_tosu absent or blank
    races = raw.races.assign(entries=entries)
    snapshot, unsold = _decoded_snapshot(raw, phase)
    bet_odds = betting_snapshot(snapshot, results if phase == "card" else None)
    dated = as_of is not None

    race_frame = race_check_frame(races, raw_ra, runners, as_of=as_of if dated else None)
    cancelled = race_frame.loc[race_frame["race_cancelled"].to_numpy(bool), "race_id"]
    runner_frame = runner_check_frame(runners, raw_se, races, snapshot, unsold, cancelled)
    odds_frame = _odds_frame(bet_odds, runners)
    suites = [
        (f"races_{phase}", race_frame, race_checks(venue_codes, phase, dated=dated)),
        (f"runners_{phase}", runner_frame, runner_checks(phase)),
    ]
    if phase == "card":
        suites.append(("odds_card", odds_frame, odds_checks()))
    return DayFrames(
        phase, races, runners, bet_odds, race_frame, runner_frame, odds_frame, tuple(suites),
        raw.rejected,
    )  # fmt: skip


def judge_day(frames: DayFrames, *, gx_result: bool = True) -> ValidatedDay:
    """Run the suites on ``frames`` and split them into what is valid and what is quarantined
    (``gx_result`` as in :func:`validate_day`)."""
    outcomes = [suite_outcome(*suite, gx_result=gx_result) for suite in frames.suites]
    refuse_on_input_scope(tuple(outcomes))
    race_frame, runner_frame, odds_frame = frames.race_frame, frames.runner_frame, frames.odds_frame
    race_failures, runner_failures = outcomes[0].failures, outcomes[1].failures
    odds_failures = outcomes[2].failures if frames.phase == "card" else _no_failures()

    # A race is set aside by its own failures, or by a race-scoped failure of its rows elsewhere.
    own = race_failures.loc[race_failures["scope"] != "row", "row_id"]
    races_failing = set(race_frame.loc[own, "race_id"].dropna())
    reasons = pd.concat(
        [_race_scoped(runner_frame, runner_failures), _race_scoped(odds_frame, odds_failures)],
        ignore_index=True,
    )
    reasons = reasons[reasons["race_id"].isin(race_frame["race_id"].dropna())]
    set_aside = races_failing | set(reasons["race_id"])
    keep_race = (
        ~race_frame["row_id"].isin(set(race_failures["row_id"]))
        & race_frame["race_id"].notna()
        & ~race_frame["race_id"].isin(set_aside)
    )
    valid_races = frames.races[keep_race.to_numpy()].reset_index(drop=True)

    quarantined = [
        _rejected_rows(frames.rejected),
        _quarantine_rows(race_frame, race_failures, "races"),
        _set_aside_by_rows(frames.races, reasons, races_failing),
        _quarantine_rows(runner_frame, runner_failures, "runners"),
        _quarantine_rows(odds_frame, odds_failures, "odds"),
    ]
    non_empty = [frame for frame in quarantined if not frame.empty]
    quarantine = pd.concat(non_empty, ignore_index=True) if non_empty else _empty_quarantine()
    kept_ids = valid_races["race_id"]
    runners, bet_odds = frames.runners, frames.bet_odds
    return ValidatedDay(
        races=valid_races,
        runners=runners[_kept(runner_frame, runner_failures, kept_ids)].reset_index(drop=True),
        odds=bet_odds.loc[_kept(odds_frame, odds_failures, kept_ids), ODDS_COLUMNS].reset_index(
            drop=True
        ),
        quarantine=storable(quarantine[QUARANTINE_COLUMNS]),
        outcomes=tuple(outcomes),
    )


def validate_day(
    raw: RawDay,
    *,
    phase: Phase,
    venue_codes: Collection[str],
    as_of: date | None = None,
    results: RawDay | None = None,
    gx_result: bool = True,
) -> ValidatedDay:
    """Validate one or more days of raw tables; invalid rows and races go to quarantine.

    ``as_of`` (today, in Japan) makes results dated after it fail (results of a day not yet
    run), and cards dated more than a week after it.
    ``results`` (the card phase of a source with results, e.g. a replay) is the day with its
    final odds: races without a snapshot are sized on them, so they are checked like one.
    Without ``gx_result`` (no Data Docs page wanted: a backfill) a suite whose every check
    certainly holds is passed by pandas alone (:func:`data_checks.derived.suite_outcome`): the
    same outcome, only without GX's objects; anything else runs GX as before.
    """
    frames = day_frames(raw, phase=phase, venue_codes=venue_codes, as_of=as_of, results=results)
    return judge_day(frames, gx_result=gx_result)
