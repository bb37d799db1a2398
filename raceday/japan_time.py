"""Japan's clock, where the races run: its time zone and today's date there.

Apart from :mod:`raceday.pipeline` (pandas) so that a command's start (``raceday --help``, the
CLI's date defaults) needs no data library.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

JAPAN_TIME = timezone(timedelta(hours=9))  # Asia/Tokyo: no daylight saving


def today_in_japan() -> date:
    """Today's date in Asia/Tokyo, where the races run: results dated later cannot exist yet,
    and a scheduled run without a date runs today's."""
    return datetime.now(JAPAN_TIME).date()
