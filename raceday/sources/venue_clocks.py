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

from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from datetime import date
from typing import Final

import pandas as pd

from raceday.codec import post_time_text, race_dates, venue_code_text, zero_filled
from raceday.odds_snapshots import stamp_moments
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


def _stamp_moments_on_venue_clock(nvd_o1: pd.DataFrame) -> pd.Series:
    """``happyo_tsukihi_jifun`` (MMDDhhmm) as moments of its race's days, NaT where unreadable."""
    stamp = zero_filled(nvd_o1["happyo_tsukihi_jifun"].astype("string").str.strip(), 8)
    return stamp_moments(stamp, race_dates(nvd_o1))


def _in_japan_time(
    table: pd.DataFrame,
    column: str,
    moments_on_venue_clock: Callable[[pd.DataFrame], pd.Series],
    layout: str,
    time_zones: Mapping[str, str],
) -> pd.DataFrame:
    """``table`` with ``column`` (its moments on its venue's clock: ``moments_on_venue_clock``)
    written in Japan time in ``layout`` for the venues in ``time_zones``; unreadable ones stay
    as written, and a table without such a venue is returned as it is."""
    if table.empty or column not in table.columns:
        return table
    venue = venue_code_text(table["keibajo_code"])
    moved = venue.isin(list(time_zones)).to_numpy(bool)
    if not moved.any():
        return table
    japan = in_japan_time(moments_on_venue_clock(table), venue, time_zones)
    text = japan.dt.strftime(layout).astype("string")
    rewrite = moved & japan.notna().to_numpy(bool)
    return table.assign(**{column: table[column].astype("string").mask(rewrite, text)})


def races_in_japan_time(nvd_ra: pd.DataFrame, time_zones: Mapping[str, str]) -> pd.DataFrame:
    """``nvd_ra`` with the post times (``hasso_jikoku``) of venues in ``time_zones`` written in
    Japan time (``1915`` in Hong Kong is ``2015``); unreadable ones stay as written."""
    return _in_japan_time(nvd_ra, "hasso_jikoku", _post_moments_on_venue_clock, "%H%M", time_zones)


def odds_in_japan_time(nvd_o1: pd.DataFrame, time_zones: Mapping[str, str]) -> pd.DataFrame:
    """``nvd_o1`` with the publication stamps (``happyo_tsukihi_jifun``, MMDDhhmm) of venues in
    ``time_zones`` written in Japan time; unreadable ones stay as written."""
    column, layout = "happyo_tsukihi_jifun", "%m%d%H%M"
    return _in_japan_time(nvd_o1, column, _stamp_moments_on_venue_clock, layout, time_zones)


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
