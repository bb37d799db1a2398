"""Venue lanes: a day read venue by venue joins to the day read whole; a venue that cannot be
read is a rejected input named after it while the others go on; every venue failing fails."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import raceday.sources.simulator as simulator
from raceday.errors import InputError, SourceUnavailable
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.simulate.encode import DayTables
from raceday.sources.base import (
    RawDay,
    RejectedInput,
    join_lanes,
    rows_of_venues,
    venue_codes,
    venue_location,
    venues_down,
    venues_in,
)
from raceday.sources.files import FilesSource, write_tables
from raceday.sources.lanes import (
    LaneOutcome,
    join_outcomes,
    lanes_summary,
    most_attempts,
)
from raceday.sources.simulator import SimulatorSource

DAY = date(2025, 7, 1)
CONFIG = SimulatorConfig(races_per_day=40)  # three venues on DAY
NAMES = {"44": "大井", "45": "川崎"}
TABLES = ("nvd_ra", "nvd_se", "nvd_o1")


def whole_day() -> RawDay:
    return simulate_days(DAY, DAY, CONFIG).raw


def assert_same_rows(left: RawDay, right: RawDay) -> None:
    """Equal tables as sets of rows (lanes come venue after venue)."""
    for table in TABLES:
        ordered = [
            getattr(raw, table).sort_values(list(getattr(raw, table).columns), ignore_index=True)
            for raw in (left, right)
        ]
        pd.testing.assert_frame_equal(*ordered, obj=table)


def test_the_simulators_venues_read_one_by_one_join_to_the_whole_day_exactly() -> None:
    source = SimulatorSource(CONFIG)
    whole = source.read_days(DAY, DAY)
    venues = source.venues(DAY, DAY)
    assert len(venues) >= 2 and venues == venues_in(whole)
    joined = join_lanes([source.read_days(DAY, DAY, [venue]) for venue in venues])
    for table in TABLES:  # same rows, same order, same dtypes: byte-identical output
        pd.testing.assert_frame_equal(getattr(joined, table), getattr(whole, table), obj=table)


def test_reading_the_simulators_venues_simulates_the_day_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    simulated: list[date] = []
    real = simulator.simulate_day

    def counted(config: SimulatorConfig, day: date) -> DayTables:
        simulated.append(day)
        return real(config, day)

    simulator._cached_day.cache_clear()
    monkeypatch.setattr(simulator, "simulate_day", counted)
    source = SimulatorSource(replace_seed(CONFIG))
    for venue in source.venues(DAY, DAY):
        source.read_days(DAY, DAY, [venue])
    assert simulated == [DAY]


def replace_seed(config: SimulatorConfig) -> SimulatorConfig:
    """A config no other test has cached a day for."""
    return SimulatorConfig(seed=config.seed + 1, races_per_day=config.races_per_day)


def test_the_simulator_lists_no_venue_on_a_day_without_races() -> None:
    source = SimulatorSource(SimulatorConfig(races_per_day=0))
    assert source.venues(DAY, DAY) == []
    assert source.read_days(DAY, DAY, ["44"]).is_empty


def test_files_in_venue_parts_read_by_venue_join_to_the_whole_read(tmp_path: Path) -> None:
    """A part directory per venue, one corrupt: its rejection is reported once, every row of
    the readable parts is in exactly one lane."""
    raw = whole_day()
    venues = venues_in(raw)
    for venue in venues:
        write_tables(rows_of_venues(raw, [venue]), tmp_path / venue)
    (tmp_path / venues[0] / "nvd_se.csv").write_bytes(b"\x00\x01garbage\xff")
    source = FilesSource(tmp_path)
    whole = source.read_days(DAY, DAY)
    assert source.venues(DAY, DAY) == venues[1:]
    joined = join_lanes([source.read_days(DAY, DAY, [venue]) for venue in venues[1:]])
    assert_same_rows(joined, whole)
    assert [Path(item.location).name for item in joined.rejected] == [venues[0]]


def test_files_lanes_keep_rows_of_a_venue_only_some_tables_name(tmp_path: Path) -> None:
    """Runners of a venue without race rows still reach validation through a lane."""
    raw = whole_day()
    orphan = raw.nvd_se["keibajo_code"] == raw.nvd_se["keibajo_code"].iloc[0]
    se = raw.nvd_se.copy()
    se.loc[orphan, "keibajo_code"] = "99"
    write_tables(RawDay(raw.nvd_ra, se, raw.nvd_o1), tmp_path)
    source = FilesSource(tmp_path)
    assert "99" in source.venues(DAY, DAY)
    lanes = join_lanes([source.read_days(DAY, DAY, [v]) for v in source.venues(DAY, DAY)])
    assert_same_rows(lanes, source.read_days(DAY, DAY))


def lane(venue: str) -> LaneOutcome:
    return LaneOutcome(venue, attempts=1, raw=rows_of_venues(whole_day(), [venue]))


def test_a_failed_lane_is_a_rejected_input_named_after_its_venue() -> None:
    venues = venues_in(whole_day())
    down = LaneOutcome("44", attempts=4, error=SourceUnavailable("timed out"))
    day = join_outcomes([lane(v) for v in venues if v != "44"] + [down], NAMES)
    assert "44" not in set(day.nvd_ra["keibajo_code"]) and not day.nvd_ra.empty
    assert day.rejected == (
        RejectedInput("venue 44 (大井)", "SourceUnavailable: timed out (after 4 attempts)"),
    )
    assert venues_down(day) == ["44 (大井)"]
    assert "44 大井 DOWN: SourceUnavailable" in lanes_summary([down], NAMES)


def test_every_lane_failing_raises_the_first_lanes_error() -> None:
    first = SourceUnavailable("source down")
    outcomes = [
        LaneOutcome("44", attempts=4, error=first),
        LaneOutcome("45", attempts=1, error=InputError("bad")),
    ]
    with pytest.raises(SourceUnavailable) as raised:
        join_outcomes(outcomes, NAMES)
    assert raised.value is first
    assert most_attempts(outcomes) == 4


def test_lanes_that_all_answer_complete_and_report_rejections_once() -> None:
    part = RejectedInput("/in/44", "not UTF-8")
    one, two = (
        LaneOutcome(v, attempts=n, raw=RawDay(*[getattr(lane(v).raw, t) for t in TABLES], (part,)))
        for v, n in zip(venues_in(whole_day())[:2], (1, 3), strict=True)
    )
    day = join_outcomes([one, two], NAMES)
    assert day.rejected == (part,)
    assert venues_down(day) == []
    assert most_attempts([one, two]) == 3


def test_venue_location_names_unknown_venues_plainly() -> None:
    assert venue_location("44", "大井") == "venue 44 (大井)"
    assert venue_location("", None) == "venue ? (unknown venue)"


def test_files_venue_reads_use_the_snapshot_the_venues_were_listed_from(tmp_path: Path) -> None:
    """A file rewritten between two venues' reads: the run's lanes still see one version."""
    raw = whole_day()
    write_tables(raw, tmp_path)
    before = FilesSource(tmp_path).read_days(DAY, DAY)
    source = FilesSource(tmp_path)
    venues = source.venues(DAY, DAY)
    first = source.read_days(DAY, DAY, venues[:1])
    write_tables(RawDay(raw.nvd_ra.iloc[:1], raw.nvd_se, raw.nvd_o1), tmp_path)
    rest = join_lanes([source.read_days(DAY, DAY, [venue]) for venue in venues[1:]])
    assert_same_rows(join_lanes([first, rest]), before)
    assert len(FilesSource(tmp_path).read_days(DAY, DAY).nvd_ra) == 1  # a new run sees the change


@given(
    codes=st.lists(st.sampled_from(["44", "45", " 45", "", None, "99"]), max_size=30),
    venues=st.lists(st.sampled_from(["44", "45", "", "99", "30"]), min_size=1, max_size=3),
)
def test_a_lanes_rows_are_the_rows_of_its_venues_in_order_whether_they_follow_each_other_or_not(
    codes: list[str | None], venues: list[str]
) -> None:
    """A venue's rows are sliced when they follow one another, taken when not (rows_at): the
    same rows, in the same order, indexed from 0, as a mask of the table gives."""
    frame = pd.DataFrame(
        {"keibajo_code": pd.array(codes, dtype="string"), "row": list(range(len(codes)))},
        index=pd.RangeIndex(100, 100 + len(codes)),  # not from 0: the lane's is
    )
    raw = RawDay(nvd_ra=frame, nvd_se=frame.iloc[::-1], nvd_o1=frame.iloc[:0])
    lane = rows_of_venues(raw, venues)
    for table in TABLES:
        whole = getattr(raw, table)
        expected = whole[venue_codes(whole).isin(set(venues)).to_numpy()].reset_index(drop=True)
        pd.testing.assert_frame_equal(getattr(lane, table), expected, obj=table)
