"""Another sport's rows (ban-ei, venue 83 in NAR's tables) are left out as a source is read:
no lane lists the venue, no table holds its rows, and a day without any is the same object."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import date

import pandas as pd
import pytest

from raceday.sources.base import OtherSportsLeftOut, RawDay, rows_of_venues, venues_in

DAY = date(2026, 11, 1)


def table(codes: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"keibajo_code": codes, "race_bango": [str(n) for n in range(len(codes))]})


class StandIn:
    """A source of one fixed day: its venues are the codes of its rows."""

    name = "stand-in"

    def __init__(self, raw: RawDay) -> None:
        self.raw = raw

    def venues(self, start: date, end: date) -> list[str]:
        return venues_in(self.raw)

    def read_days(self, start: date, end: date, venues: Collection[str] | None = None) -> RawDay:
        return rows_of_venues(self.raw, venues)


def test_ban_ei_rows_are_left_out_of_every_table_and_of_the_lanes() -> None:
    raw = RawDay(
        nvd_ra=table(["44", "83", "８３", "45"]),
        nvd_se=table(["44", "44", "83", " 83 ", "45"]),
        nvd_o1=table(["83", "44"]),
    )
    source = OtherSportsLeftOut(StandIn(raw), {"83"})
    assert source.name == "stand-in"
    assert source.venues(DAY, DAY) == ["44", "45"]  # full width and padded: ban-ei too
    read = source.read_days(DAY, DAY)
    assert read.nvd_ra["keibajo_code"].tolist() == ["44", "45"]
    assert read.nvd_se["keibajo_code"].tolist() == ["44", "44", "45"]
    assert read.nvd_o1["keibajo_code"].tolist() == ["44"]
    assert source.read_days(DAY, DAY, ["83"]).is_empty


def test_a_day_without_ban_ei_is_read_as_it_is() -> None:
    raw = RawDay(nvd_ra=table(["44"]), nvd_se=table(["44", "44"]), nvd_o1=table(["44"]))
    assert OtherSportsLeftOut(StandIn(raw), {"83"}).read_days(DAY, DAY) is raw


def test_a_day_of_only_ban_ei_says_so(caplog: pytest.LogCaptureFixture) -> None:
    """A ban-ei-only day reads as no race: the log says why, not an empty source."""
    raw = RawDay(nvd_ra=table(["83"]), nvd_se=table(["83", "83"]), nvd_o1=table(["83"]))
    with caplog.at_level(logging.WARNING, logger="raceday.sources.base"):
        assert OtherSportsLeftOut(StandIn(raw), {"83"}).venues(DAY, DAY) == []
    assert "is another sport's (83): its races are left out" in caplog.text
