"""The one small interface every race source implements, and the raw day it returns."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Protocol

import pandas as pd

from raceday.schema import NVD_O1_COLUMNS, NVD_RA_COLUMNS, NVD_SE_COLUMNS

# Raw result fields, blanked in the race card a morning run sees (PC-KEIBA zero-fills them).
_SE_RESULT_FIELDS = {
    "nyusen_juni": "00", "kakutei_chakujun": "00", "dochaku_kubun": "0", "dochaku_tosu": "0",
    "soha_time": "0000", "chakusa_code_1": "   ", "chakusa_code_2": "   ", "chakusa_code_3": "   ",
    "corner_1": "00", "corner_2": "00", "corner_3": "00", "corner_4": "00",
    "tansho_odds": "0000", "tansho_ninkijun": "00", "kakutoku_honshokin": "00000000",
    "kakutoku_fukashokin": "00000000", "kohan_4f": "000", "kohan_3f": "000", "time_sa": "0000",
    "aiteuma_joho_1": "", "aiteuma_joho_2": "", "aiteuma_joho_3": "", "kyakushitsu_hantei": "",
}  # fmt: skip
SCRATCHED_BEFORE_BETTING = "1"  # 出走取消: announced before the card is published
_RA_RESULT_FIELDS = {
    "nyusen_tosu": "00", "lap_time": "0" * 75, "zenhan_3f": "000", "zenhan_4f": "000",
    "kohan_3f": "000", "kohan_4f": "000", "corner_tsuka_juni_1": "", "corner_tsuka_juni_2": "",
    "corner_tsuka_juni_3": "", "corner_tsuka_juni_4": "",
}  # fmt: skip


@dataclass(frozen=True)
class RejectedInput:
    """A part of the input the source could not read at all (validation quarantines it)."""

    location: str  # the file or part directory, as the user named it
    reason: str


@dataclass(frozen=True)
class RawDay:
    """PC-KEIBA tables for one or more days, as raw text (column names as in PC-KEIBA).

    ``rejected`` lists parts of the input that could not be read (e.g. one venue's corrupt
    file) while the rest could: the day goes on without them and they are quarantined.
    """

    nvd_ra: pd.DataFrame
    nvd_se: pd.DataFrame
    nvd_o1: pd.DataFrame
    rejected: tuple[RejectedInput, ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when the source had no races."""
        return self.nvd_ra.empty and self.nvd_se.empty


def empty_raw_day() -> RawDay:
    """A day without races."""
    return RawDay(
        nvd_ra=pd.DataFrame(columns=list(NVD_RA_COLUMNS), dtype="string"),
        nvd_se=pd.DataFrame(columns=list(NVD_SE_COLUMNS), dtype="string"),
        nvd_o1=pd.DataFrame(columns=list(NVD_O1_COLUMNS), dtype="string"),
    )


def card_only(raw: RawDay) -> RawDay:
    """The race card as known in the morning: result fields blanked, odds snapshot kept."""
    nvd_se = raw.nvd_se.copy()
    for column, blank in _SE_RESULT_FIELDS.items():
        if column in nvd_se.columns:
            nvd_se[column] = blank
    if "ijo_kubun_code" in nvd_se.columns:
        # Only a withdrawal before the card is known in the morning; later scratches are results.
        scratched = (
            nvd_se["ijo_kubun_code"].astype("string").str.strip() == SCRATCHED_BEFORE_BETTING
        )
        nvd_se["ijo_kubun_code"] = nvd_se["ijo_kubun_code"].where(scratched, "0")
    nvd_ra = raw.nvd_ra.copy()
    for column, blank in _RA_RESULT_FIELDS.items():
        if column in nvd_ra.columns:
            nvd_ra[column] = blank
    return replace(raw, nvd_ra=nvd_ra, nvd_se=nvd_se)


class RaceSource(Protocol):
    """Where races come from: the simulator, CSV/Parquet files or a PC-KEIBA database."""

    name: str

    def read_days(self, start: date, end: date) -> RawDay:
        """Every race from ``start`` to ``end`` inclusive (an empty RawDay when none)."""
        ...
