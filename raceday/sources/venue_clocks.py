"""Venues that keep another clock: their post times and odds stamps read in Japan time.

Every moment the pipeline computes is naive Japan time (:mod:`raceday.japan_time`): the day's
timetable, a race's decision at its post less the lead, the odds a decision may see. An export
of races abroad writes them on its venue's clock (Hong Kong's posts and tote stamps in Hong Kong
time, an hour behind Japan's), so a source's rows of such a venue are read into Japan time once,
as they are read (:class:`VenueClocksInJapanTime`, around every source by
:func:`raceday.sources.factory.open_source`); the venues and their time zones come from the
reference table (``config/reference/venue_time_zones.csv``), handed in by the caller.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import date
from typing import Final

import pandas as pd

from raceday.codec import post_time_text, race_dates, stamp_moments, venue_code_text, zero_filled
from raceday.sources.base import RaceSource, RawDay

JAPAN_ZONE: Final = "Asia/Tokyo"


def in_japan_time(local: pd.Series, venue: pd.Series, time_zones: Mapping[str, str]) -> pd.Series:
    """Naive moments on each row's venue clock (``venue``: its keibajo code; ``time_zones``:
    code -> IANA zone) as naive Japan time; a venue without a zone keeps Japan's, and a moment
    that clock never shows (a daylight-saving gap) or shows twice is NaT."""
    moments = pd.Series(pd.to_datetime(local).to_numpy(), index=local.index)
    for code, zone in time_zones.items():
        at_venue = (venue == code).to_numpy(bool)
        if zone == JAPAN_ZONE or not at_venue.any():
            continue
        clock = moments[at_venue].dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
        moments[at_venue] = clock.dt.tz_convert(JAPAN_ZONE).dt.tz_localize(None)
    return moments


def _post_moments_on_venue_clock(nvd_ra: pd.DataFrame) -> pd.Series:
    """``hasso_jikoku`` on its race day, NaT where it is no HHMM time."""
    day = pd.to_datetime(race_dates(nvd_ra), errors="coerce").dt.strftime("%Y%m%d")
    return pd.to_datetime(day + post_time_text(nvd_ra), format="%Y%m%d%H%M", errors="coerce")


def races_in_japan_time(nvd_ra: pd.DataFrame, time_zones: Mapping[str, str]) -> pd.DataFrame:
    """``nvd_ra`` with the post times (``hasso_jikoku``) of venues in ``time_zones`` written in
    Japan time (``1915`` in Hong Kong is ``2015``); unreadable ones stay as written."""
    if nvd_ra.empty or "hasso_jikoku" not in nvd_ra.columns:
        return nvd_ra
    venue = venue_code_text(nvd_ra["keibajo_code"])
    moved = venue.isin(list(time_zones)).to_numpy(bool)
    if not moved.any():
        return nvd_ra
    local = _post_moments_on_venue_clock(nvd_ra)
    japan = in_japan_time(local, venue, time_zones)
    text = japan.dt.strftime("%H%M").astype("string")
    rewrite = moved & japan.notna().to_numpy(bool)
    return nvd_ra.assign(hasso_jikoku=nvd_ra["hasso_jikoku"].astype("string").mask(rewrite, text))


def odds_in_japan_time(nvd_o1: pd.DataFrame, time_zones: Mapping[str, str]) -> pd.DataFrame:
    """``nvd_o1`` with the publication stamps (``happyo_tsukihi_jifun``, MMDDhhmm) of venues in
    ``time_zones`` written in Japan time; unreadable ones stay as written."""
    if nvd_o1.empty or "happyo_tsukihi_jifun" not in nvd_o1.columns:
        return nvd_o1
    venue = venue_code_text(nvd_o1["keibajo_code"])
    moved = venue.isin(list(time_zones)).to_numpy(bool)
    if not moved.any():
        return nvd_o1
    stamp = zero_filled(nvd_o1["happyo_tsukihi_jifun"].astype("string").str.strip(), 8)
    japan = in_japan_time(stamp_moments(stamp, race_dates(nvd_o1)), venue, time_zones)
    text = japan.dt.strftime("%m%d%H%M").astype("string")
    rewrite = moved & japan.notna().to_numpy(bool)
    stamps = nvd_o1["happyo_tsukihi_jifun"].astype("string")
    return nvd_o1.assign(happyo_tsukihi_jifun=stamps.mask(rewrite, text))


class VenueClocksInJapanTime:
    """A source whose venues abroad are read in Japan time (:func:`races_in_japan_time`,
    :func:`odds_in_japan_time`): their races are timed, decided and their odds seen at the
    moment they really post, not an hour early (Hong Kong read as Japan time)."""

    def __init__(self, source: RaceSource, time_zones: Mapping[str, str]) -> None:
        self.source = source
        self.name = source.name
        self.time_zones = dict(time_zones)

    def venues(self, start: date, end: date) -> list[str]:
        """The inner source's venues."""
        return self.source.venues(start, end)

    def days_held(self) -> tuple[date, date] | None:
        """The inner source's first and last race day, where it can say."""
        held = getattr(self.source, "days_held", None)
        return held() if callable(held) else None

    def read_days(self, start: date, end: date, venues: Collection[str] | None = None) -> RawDay:
        """The inner source's rows, its venues abroad in Japan time."""
        raw = self.source.read_days(start, end, venues)
        if not self.time_zones or raw.is_empty:
            return raw
        return replace(
            raw,
            nvd_ra=races_in_japan_time(raw.nvd_ra, self.time_zones),
            nvd_o1=odds_in_japan_time(raw.nvd_o1, self.time_zones),
        )
