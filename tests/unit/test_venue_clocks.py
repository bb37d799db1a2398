"""Venues that keep another clock: a Hong Kong export writes its post times and odds stamps in
Hong Kong time (UTC+8, an hour behind Japan's); read through the configured source they are the
Japan-time moments every stage computes with."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd

from config import load_settings
from raceday.racetime import timetable
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.sources.base import RawDay
from raceday.sources.files import write_tables
from raceday.sources.timeline import published_at
from tasks.ingest import configured_source

DAY = date(2026, 9, 2)


def hong_kong_night(raw: RawDay) -> RawDay:
    """One venue's card recoded as Hong Kong's (``G0``) night at Happy Valley: race 1 posts at
    19:15 Hong Kong time, each next race 30 minutes later, odds stamped 10 minutes before post
    and the morning's at 09:00, all on Hong Kong's clock."""
    venue = raw.nvd_ra["keibajo_code"].iloc[0]

    def of_venue(table: pd.DataFrame) -> pd.DataFrame:
        rows = table[table["keibajo_code"] == venue].assign(keibajo_code="G0")
        return rows.reset_index(drop=True)

    nvd_ra, nvd_o1 = of_venue(raw.nvd_ra), of_venue(raw.nvd_o1)
    post = {f"{r:02d}": 19 * 60 + 15 + 30 * (r - 1) for r in range(1, 13)}
    nvd_ra["hasso_jikoku"] = nvd_ra["race_bango"].map(
        lambda r: f"{post[r] // 60:02d}{post[r] % 60:02d}"
    )
    before = nvd_o1["race_bango"].map(lambda r: post[r] - 10)
    late = [f"0902{m // 60:02d}{m % 60:02d}" for m in before]
    first = ~nvd_o1.duplicated(["race_bango"])
    nvd_o1["happyo_tsukihi_jifun"] = pd.Series(late).where(~first.to_numpy(), "09020900").to_numpy()
    return RawDay(nvd_ra=nvd_ra, nvd_se=of_venue(raw.nvd_se), nvd_o1=nvd_o1)


def test_a_hong_kong_race_is_timed_and_its_odds_seen_in_japan_time(tmp_path: Path) -> None:
    """Happy Valley's race 1 posting 19:15 Hong Kong time posts at 20:15 in Japan: it is decided
    at 20:10 (lead 5), not at 19:10 (an hour early, when its odds were not out), and its odds
    stamped 19:05 there were published at 20:05 here."""
    raw = hong_kong_night(simulate_days(DAY, DAY, SimulatorConfig(races_per_day=24)).raw)
    write_tables(raw, tmp_path)
    source = configured_source(load_settings(source=f"files:{tmp_path}"))
    read = source.read_days(DAY, DAY)

    slots = timetable(read.races, lead_minutes=5, close_minutes=2).slots
    assert slots[0].race_id == "20260902G001"
    assert slots[0].post_at == datetime(2026, 9, 2, 20, 15)
    assert slots[0].decide_at == datetime(2026, 9, 2, 20, 10)
    first_race = (read.nvd_o1["race_bango"] == "01").to_numpy()
    stamps = sorted(published_at(read.nvd_o1[first_race]).unique())
    assert stamps == [pd.Timestamp("2026-09-02 10:00"), pd.Timestamp("2026-09-02 20:05")]
