"""Win odds as nvd_o1 sends them: the packed ``odds_tansho`` string (its slots, decoded and
encoded), the MMDDhhmm stamp of a snapshot, and each race's latest snapshot that prices a runner.

A slot's odds and marks are read as :func:`raceday.codec.odds_field_text` reads nvd_se's own odds
fields: ``0000`` or a scratched horse's mark (``----``, ``****``) is a horse not sold.
"""

from __future__ import annotations

from typing import Final

import pandas as pd

from raceday.codec import (
    column_text,
    decode_count,
    decode_tenths,
    encode_count,
    encode_tenths,
    odds_field_text,
    race_dates,
    race_ids,
    zero_filled,
    zero_or_blank,
)

# An nvd_o1 slot: umaban, then odds of 4 digits or a scratched horse's mark (``----``, ``****``),
# then a rank. Its horse is not sold where the odds are ``0000`` (PC-KEIBA's none) or a mark, as
# :func:`odds_field_text` reads nvd_se's own odds fields (:func:`unsold_odds`).
_ODDS_SLOT: Final = r"\d{2}(?:\d{4}|-{4}|\*{4})(?:\d{2}|-{2}|\*{2}| {2})"


def unsold_odds(odds_text: pd.Series) -> pd.Series:
    """True where odds say the horse is not sold: ``0000`` or blank once a scratched horse's
    mark is read (:func:`odds_field_text`): ``0000``, ``----``, ``****``."""
    return zero_or_blank(odds_field_text(odds_text))


def odds_slots(packed: pd.Series) -> pd.DataFrame:
    """``odds_tansho`` of ``nvd_o1`` (umaban 2 + odds 4 tenths + rank 2, repeated) to one row per
    slot: ``source_index, umaban, win_odds, popularity, unsold`` (its odds say the horse is not
    sold, :func:`unsold_odds`; ``win_odds`` then missing)."""
    long = packed.fillna("").astype(str).str.findall(_ODDS_SLOT).explode().dropna()
    slot = long.astype("string")
    odds_text = slot.str[2:6]
    numeric = odds_text.str.fullmatch(r"\d{4}").fillna(False).astype(bool)
    return pd.DataFrame(
        {
            "source_index": long.index.to_numpy(dtype="int64"),
            "umaban": decode_count(slot.str[0:2]).array,
            "win_odds": decode_tenths(odds_text.where(numeric, "0000")).astype("float64").array,
            "popularity": decode_count(slot.str[6:8].where(numeric, "00")).array,
            "unsold": unsold_odds(odds_text).to_numpy(bool),
        }
    )


def decode_odds_string(packed: pd.Series) -> pd.DataFrame:
    """``odds_tansho`` to ``source_index, umaban, win_odds, popularity``, one row per horse
    priced (:func:`odds_slots`): slots whose umaban is ``00`` or whose horse is not sold
    (scratched, not on sale) are left out."""
    slots = odds_slots(packed)
    priced = (slots["umaban"].notna() & slots["win_odds"].notna()).to_numpy(bool)
    return slots.loc[priced, ["source_index", "umaban", "win_odds", "popularity"]].reset_index(
        drop=True
    )


def encode_odds_string(umaban: pd.Series, win_odds: pd.Series, popularity: pd.Series) -> str:
    """One race's runners to a packed ``odds_tansho`` string (inverse of the decoder)."""
    parts = (
        encode_count(umaban, 2) + encode_tenths(win_odds, 4) + encode_count(popularity, 2)
    ).tolist()
    return "".join(parts)


_HALF_YEAR = pd.Timedelta(days=183)


def _stamp(year: pd.Series, mmddhhmm: pd.Series) -> pd.Series:
    text = year.astype("string") + mmddhhmm.astype("string").str.strip().str.zfill(8)
    return pd.to_datetime(text, format="%Y%m%d%H%M", errors="coerce")


def stamp_moments(stamp: pd.Series, race_day: pd.Series) -> pd.Series:
    """MMDDhhmm stamps of races on ``race_day`` as moments; NaT when a stamp cannot be read
    (``final`` included: the final odds of a replay have no publication time).

    The stamp has no year: it is the race's year, or the year before for a snapshot stamped more
    than half a year after its race (a January race's odds published in December)."""
    day = pd.to_datetime(race_day, errors="coerce")
    text = stamp.astype("string")
    same_year = _stamp(day.dt.year.astype("Int64"), text)
    earlier = _stamp((day.dt.year - 1).astype("Int64"), text)
    moment = same_year.where(~(same_year - day > _HALF_YEAR), earlier)
    return moment.astype("datetime64[ns]")


ODDS_SNAPSHOT_COLUMNS: Final = ["race_id", "umaban", "snapshot_at", "win_odds", "popularity"]


def decode_odds_snapshot(nvd_o1: pd.DataFrame) -> pd.DataFrame:
    """``nvd_o1`` snapshots to one row per runner from each race's latest snapshot with odds:
    the latest by when it was published (:func:`stamp_moments`: a January 1st race's 12/31
    snapshot is the earliest, not the last by its text), an unreadable stamp before any
    readable one. A snapshot pricing no runner (its odds blank, or ``0000`` all) is not the
    market: it hid the earlier snapshot, and its race went unpriced without a word."""
    return priced_slots(latest_snapshot_slots(nvd_o1))


def unsold_runners(nvd_o1: pd.DataFrame) -> pd.DataFrame:
    """``race_id, umaban`` of the horses the snapshot :func:`decode_odds_snapshot` reads says
    are not sold (:func:`unsold_odds`): scratched, on the card or since (a late 取消)."""
    return unsold_slots(latest_snapshot_slots(nvd_o1))


def priced_slots(slots: pd.DataFrame) -> pd.DataFrame:
    """The priced horses of snapshot slots (:func:`latest_snapshot_slots`)."""
    priced = (slots["umaban"].notna() & slots["win_odds"].notna()).to_numpy(bool)
    return slots.loc[priced, ODDS_SNAPSHOT_COLUMNS].reset_index(drop=True)


def unsold_slots(slots: pd.DataFrame) -> pd.DataFrame:
    """``race_id, umaban`` of the horses snapshot slots say are not sold."""
    unsold = (slots["umaban"].notna() & slots["unsold"]).to_numpy(bool)
    return slots.loc[unsold, ["race_id", "umaban"]].reset_index(drop=True)


def latest_snapshot_slots(nvd_o1: pd.DataFrame) -> pd.DataFrame:
    """Every slot (:func:`odds_slots`) of each race's latest snapshot pricing a runner:
    :data:`ODDS_SNAPSHOT_COLUMNS` and ``unsold``."""
    if nvd_o1.empty:
        empty = odds_slots(pd.Series(dtype="string")).drop(columns="source_index")
        return empty.assign(
            race_id=pd.Series(dtype="string"), snapshot_at=pd.Series(dtype="string")
        )[[*ODDS_SNAPSHOT_COLUMNS, "unsold"]]
    header = pd.DataFrame(
        {
            "race_id": race_ids(nvd_o1),
            "snapshot_at": zero_filled(column_text(nvd_o1, "happyo_tsukihi_jifun"), 8),  # MMDDhhmm
        },
        index=nvd_o1.index,
    )
    moments = stamp_moments(header["snapshot_at"], race_dates(nvd_o1))
    slots = odds_slots(nvd_o1["odds_tansho"])  # every snapshot's: which ones price
    pricing = (slots["umaban"].notna() & slots["win_odds"].notna()).to_numpy(bool)
    priced = header.index.isin(slots.loc[pricing, "source_index"].unique())
    order = header[priced].assign(moment=moments[priced])
    order = order.sort_values("moment", kind="stable", na_position="first")
    latest = order.groupby("race_id").tail(1).drop(columns="moment")
    merged = slots.merge(latest, left_on="source_index", right_index=True)
    return merged[[*ODDS_SNAPSHOT_COLUMNS, "unsold"]].reset_index(drop=True)
