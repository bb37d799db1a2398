"""From stored days to what the model learns from and predicts on: the results history the
features aggregate, the day's boats with their features and decision odds, and the training
rows of earlier days (each with the features and the morning odds it had on its own day)."""

from __future__ import annotations

from datetime import date, time
from typing import Final

import pandas as pd

from raceday.boat.codes import RACER_ID_PATTERN
from raceday.boat.course import course_features
from raceday.boat.features import card_features
from raceday.boat.model import market_probabilities, priced_boats
from raceday.boat.settle import boat_refunded
from raceday.boat.source import odds_known_by

HISTORY_DAYS: Final = 180  # the days a boat day learns from (model, ST and exhibition means)


def results_history(entries: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """Each boat that took part in an earlier race: venue, racer, lane, won (1/0), ST,
    exhibition time and course (進入); refunded boats (F, L, K) count for ST and exhibition,
    not for lane wins."""
    frame = results.astype({"race_id": "string"}).merge(
        entries[["race_id", "boat", "racer_id"]].astype({"race_id": "string"}),
        on=["race_id", "boat"],
        how="left",
        suffixes=("_result", ""),
    )
    racer = raced_by(frame["racer_id"], frame.get("racer_id_result", frame["racer_id"]))
    refunded = boat_refunded(frame["finish_code"])
    won = frame["position"].astype("Float64").eq(1).fillna(False).astype("float64")
    return pd.DataFrame(
        {
            "race_id": frame["race_id"],
            "race_date": pd.to_datetime(frame["race_date"]),
            "venue_code": frame["race_id"].str[8:10],
            "racer_id": racer.astype("string"),
            "boat": frame["boat"].astype("Int64"),
            "won": won.where(~refunded),
            "start_timing_s": pd.to_numeric(frame["start_timing_s"], errors="coerce"),
            "exhibition_s": pd.to_numeric(frame["exhibition_s"], errors="coerce"),
            "course": pd.to_numeric(frame["course"], errors="coerce").astype("Int64"),
        }
    )


def raced_by(program_racer: pd.Series, result_racer: pd.Series) -> pd.Series:
    """Who raced each boat: the K file's racer where it reads as a registration number (a 選手変更
    on the day puts another racer in the boat, and the result is theirs), else the program's."""
    result_racer = result_racer.astype("string")
    named = result_racer.str.contains(RACER_ID_PATTERN).fillna(False).astype(bool)
    return result_racer.where(named, program_racer.astype("string"))


def morning_moments(race_id: pd.Series, at: time) -> pd.Series:
    """Each race's decision moment: its day at ``at`` (indexed by race_id)."""
    ids = pd.Series(race_id.astype("string").unique())
    days = pd.to_datetime(ids.str[:8], format="%Y%m%d", errors="coerce")
    offset = pd.Timedelta(hours=at.hour, minutes=at.minute)
    return pd.Series((days + offset).to_numpy(), index=ids.to_numpy())


def day_card(entries: pd.DataFrame, odds: pd.DataFrame, at: time) -> pd.DataFrame:
    """The boats that run for the bettor: the program's, with the odds known at ``at`` (a
    withdrawn boat without odds left out), dated and placed (``race_date``, ``venue_code``)."""
    card = entries.assign(
        race_id=entries["race_id"].astype("string"),
        venue_code=entries["race_id"].astype("string").str[8:10],
        race_date=pd.to_datetime(entries["race_id"].astype("string").str[:8], format="%Y%m%d"),
    )
    known = odds_known_by(odds.astype({"race_id": "string"}), morning_moments(card["race_id"], at))
    return priced_boats(card, known)


def day_boats(
    entries: pd.DataFrame,
    odds: pd.DataFrame,
    history: pd.DataFrame,
    at: time,
    course: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The day's boats to predict (:func:`day_card`) with their features and lane prior;
    ``course``: the start-and-course stage's rows of these boats (None: computed here, as for
    earlier days' training rows)."""
    boats = day_card(entries, odds, at)
    course = course_features(boats, history) if course is None else course
    features = card_features(boats, history, course)  # the rates, filled: replace the raw ones
    return pd.concat(
        [boats.drop(columns=list(features.columns), errors="ignore"), features], axis=1
    )


def training_rows(
    entries: pd.DataFrame, results: pd.DataFrame, odds: pd.DataFrame, at: time
) -> pd.DataFrame:
    """Earlier days' boats that ran for the bettor (not refunded), each with the features and
    morning market of its own day, and ``won``."""
    history = results_history(entries, results)
    boats = day_boats(entries, odds, history, at)
    outcome = history[["race_id", "boat", "won"]]
    rows = boats.merge(outcome, on=["race_id", "boat"], how="inner")
    rows = rows[rows["won"].notna()].reset_index(drop=True)
    return rows.assign(p_market=market_probabilities(rows["race_id"], rows["win_odds"]))


def history_window(race_date: date, days: int) -> date:
    """The first day of the history a day learns from."""
    return (pd.Timestamp(race_date) - pd.Timedelta(days=days)).date()
