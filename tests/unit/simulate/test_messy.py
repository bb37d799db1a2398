"""The simulator's messy profile: each thing real exports hold is in a simulated week, by seed,
and every value is still PC-KEIBA text of the clean tables' widths."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pandas as pd
import pytest

from raceday import codec
from raceday.schema import NVD_O1_COLUMNS, NVD_RA_COLUMNS, NVD_SE_COLUMNS
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import SimulatedDays, simulate_days
from raceday.simulate.messy import no_odds_day, no_racing_day
from raceday.sources.simulator import SimulatorSource

MESSY = SimulatorConfig(profile="messy")
FIRST, LAST = date(2026, 11, 16), date(2026, 11, 22)  # one week, 200 races offered a day
WEEK = [FIRST + timedelta(days=offset) for offset in range(7)]


@pytest.fixture(scope="module")
def messy() -> SimulatedDays:
    return simulate_days(FIRST, LAST, MESSY)


@pytest.fixture(scope="module")
def clean() -> SimulatedDays:
    return simulate_days(FIRST, LAST)


@pytest.fixture(scope="module")
def simulated(messy: SimulatedDays) -> SimulatedDays:
    """The days whose ``races`` and ``runners`` the tests read (conftest): the messy ones."""
    return messy


def test_messy_days_are_a_function_of_the_seed() -> None:
    """The same config gives the same messy tables; another seed gives other ones."""
    day = date(2026, 11, 18)
    first = simulate_days(day, day, replace(MESSY, races_per_day=40))
    second = simulate_days(day, day, replace(MESSY, races_per_day=40))
    for name in ("nvd_ra", "nvd_se", "nvd_o1"):
        pd.testing.assert_frame_equal(getattr(first.raw, name), getattr(second.raw, name))
    pd.testing.assert_frame_equal(first.truth, second.truth)
    other = simulate_days(day, day, replace(MESSY, races_per_day=40, seed=8))
    assert not first.raw.nvd_ra["zenhan_3f"].equals(other.raw.nvd_ra["zenhan_3f"])


@pytest.mark.parametrize(
    ("table", "columns"),
    [("nvd_ra", NVD_RA_COLUMNS), ("nvd_se", NVD_SE_COLUMNS), ("nvd_o1", NVD_O1_COLUMNS)],
)
def test_messy_tables_are_still_fixed_width_pckeiba_text(
    messy: SimulatedDays, clean: SimulatedDays, table: str, columns: tuple[str, ...]
) -> None:
    """Messy, not corrupt: the schema's columns, text only, each the clean column's width."""
    frame, reference = getattr(messy.raw, table), getattr(clean.raw, table)
    assert tuple(frame.columns) == columns
    assert all(isinstance(dtype, pd.StringDtype) for dtype in frame.dtypes)
    assert not frame.isna().any().any()
    widths = frame.apply(lambda column: column.str.len())
    clean_widths = reference.apply(lambda column: column.str.len())
    assert (widths.nunique() == 1).all(), widths.nunique()[widths.nunique() > 1]
    pd.testing.assert_series_equal(widths.iloc[0], clean_widths.iloc[0])


def test_a_day_without_racing_and_days_without_an_odds_snapshot(
    messy: SimulatedDays, races: pd.DataFrame
) -> None:
    """One day of the week races nowhere; another has no nvd_o1 rows; some venue-days neither."""
    raced = set(races["race_date"].dt.date)
    silent = [day for day in WEEK if no_racing_day(MESSY.seed, day)]
    assert len(silent) == 1 and silent[0] not in raced and len(raced) == 6
    snapshot = codec.decode_races(messy.raw.nvd_o1.assign(kyori="0000"))
    with_odds = set(zip(snapshot["race_date"].dt.date, snapshot["keibajo_code"], strict=True))
    venue_days = set(zip(races["race_date"].dt.date, races["keibajo_code"], strict=True))
    no_odds = {day for day, _venue in venue_days - with_odds}
    assert any(no_odds_day(MESSY.seed, day) for day in no_odds)
    assert any(not no_odds_day(MESSY.seed, day) for day in no_odds)  # venue-days too


def test_leader_times_are_blank_at_whole_venues(races: pd.DataFrame) -> None:
    """zenhan_3f 000 (decoded NaN) in every race of some venue, most of others, a few elsewhere."""
    blank = races["leader_first3f_s"].isna().groupby(races["keibajo_code"]).mean()
    assert (blank == 1.0).sum() >= 1
    assert (blank.between(0.3, 0.99)).sum() >= 1
    assert (blank < 0.3).sum() >= 5


def test_codes_outside_the_known_sets_and_blanks(
    messy: SimulatedDays, races: pd.DataFrame, runners: pd.DataFrame
) -> None:
    """Going, weather, class, grade and sex codes nobody documented, or blank."""
    ra, se = messy.raw.nvd_ra, messy.raw.nvd_se
    going = pd.concat([ra["babajotai_code_dirt"], ra["babajotai_code_shiba"]])
    assert {"5", " "} <= set(going) and set(ra["tenko_code"]) >= {"0", "7", " "}
    assert (races["weather_code"] == 0).any()  # decoded as unknown
    older = ~ra["kyoso_joken_meisho"].str.contains("２歳")
    assert (races["class_code"].eq("unknown") & older).sum() >= 5
    assert {"Z", "9"} <= set(ra["grade_code"])
    assert {"0", "4", " "} <= set(se["seibetsu_code"])
    assert (runners["sex_code"] == 0).any()  # decoded as unknown


def test_turf_races_carry_their_going_in_the_shiba_column(messy: SimulatedDays) -> None:
    """Turf (track 10-22) and dirt (23-29) races; each race's going in its surface's column."""
    ra = messy.raw.nvd_ra
    track = ra["track_code"].astype(int)
    turf, dirt = track.between(10, 22), track.between(23, 29)
    assert turf.sum() >= 10 and dirt.sum() >= 500 and (turf | dirt).all()
    assert (ra.loc[turf, "babajotai_code_dirt"] == "0").all()
    assert ra.loc[turf, "babajotai_code_shiba"].isin(["1", "2", "3", "4"]).mean() > 0.8
    assert (ra.loc[dirt, "babajotai_code_shiba"] == "0").all()


def test_scratches_dead_heats_and_fields_of_one_and_sixteen(
    messy: SimulatedDays, races: pd.DataFrame, runners: pd.DataFrame
) -> None:
    """Scratched runners, dead heats for first (same time, both 1st), 1- and 16-runner races."""
    assert (runners["abnormal_code"] == 1).sum() >= 20
    winners = runners[runners["finish_pos"] == 1]
    per_race = winners.groupby("race_id")["finish_time_s"].agg(["size", "nunique"])
    heats = per_race[per_race["size"] == 2]
    assert len(heats) >= 3 and (heats["nunique"] == 1).all()
    assert (per_race["size"] <= 2).all()
    gate_of_16 = races[races["keibajo_code"].isin(["30", "35", "44"])]
    largest = gate_of_16["entries"].fillna(gate_of_16["field_size"])
    per_venue_day = largest.groupby([gate_of_16["race_date"], gate_of_16["keibajo_code"]]).max()
    assert (per_venue_day == 16).mean() >= 0.9  # a full field wherever the gate takes 16
    lone = races.loc[races["field_size"] == 1, "race_id"]
    assert len(lone) == 6  # one a racing day
    lone_runners = runners[runners["race_id"].isin(lone)]
    starters = lone_runners[lone_runners["abnormal_code"] == 0]
    assert len(starters) == 6 and (starters["finish_pos"] == 1).all()
    assert (lone_runners.groupby("race_id").size() >= 5).all()  # the rest were scratched
    truth = messy.truth[messy.truth["race_id"].isin(lone)]
    assert truth.loc[truth["started"], "true_win_prob"].eq(1.0).all()
    assert truth["started"].sum() == 6


def test_one_venue_races_one_distance_only(races: pd.DataFrame) -> None:
    """Some venue cards the same distance in every race of the week; the others do not."""
    distances = races.groupby("keibajo_code")["distance_m"].nunique()
    counts = races.groupby("keibajo_code").size()
    assert ((distances == 1) & (counts >= 20)).sum() == 1
    assert (distances > 1).sum() >= 10


def test_blank_entries_and_missing_race_names(messy: SimulatedDays, races: pd.DataFrame) -> None:
    """toroku_tosu blank in a few races, and races without a name (full-width blanks)."""
    assert (messy.raw.nvd_ra["toroku_tosu"] == "  ").sum() >= 10
    assert races["entries"].isna().sum() >= 10
    assert races["race_name"].fillna("").str.strip().eq("").sum() >= 20


def test_the_source_skips_the_day_without_racing() -> None:
    """SimulatorSource lists no venue on the empty day; a venue read is that venue's rows."""
    source = SimulatorSource(replace(MESSY, races_per_day=40))
    empty = next(day for day in WEEK if no_racing_day(MESSY.seed, day))
    assert source.venues(empty, empty) == []
    racing = next(day for day in WEEK if not no_racing_day(MESSY.seed, day))
    venues = source.venues(racing, racing)
    whole = source.read_days(racing, racing)
    one = source.read_days(racing, racing, venues[:1])
    expected = whole.nvd_se[whole.nvd_se["keibajo_code"] == venues[0]].reset_index(drop=True)
    pd.testing.assert_frame_equal(one.nvd_se, expected)
