"""A horse's sums over its runs, and runs folded into them.

What a horse's career, venue and going statistics sum (:data:`SUM_COLUMNS`: runs, wins, top-3
finishes, speed), each run's part of them (:func:`run_sums`), and :class:`FoldedRuns`: the sums
of runs a history no longer holds, which :func:`raceday.ratings.features.build_features` adds to
the runs it is given. The speed is summed as integers, so a sum continued from folded runs is
exact in any order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from raceday.arrow_text import text_isin
from raceday.codec import GOING_CODES, UNKNOWN_CODE, known_or_unknown

DRY_GOING: Final = 1  # 良; 稍重 / 重 / 不良 are "wet"
# What a run's part of the sums reads (:func:`run_sums`, :meth:`FoldedRuns.of_runs`).
RUN_SUM_COLUMNS: Final = [
    "horse_id", "race_date", "keibajo_code", "going_code", "finish_pos", "speed_index",
]  # fmt: skip
# A horse's speed indexes are summed as integers of millionths of a point (a mean moves by at
# most 5e-7): integer sums are exact in any order, so the sums of runs no longer held
# (:class:`FoldedRuns`) continue bit for bit where pandas' compensated float sums would not.
SPEED_SUM_UNITS: Final = 1_000_000
SPEED_SUM_LIMIT: Final = 1e6  # points: a value beyond (a broken index) is summed as the limit

GOING_GROUPS: Final = ("dry", "wet", "unknown")  # :func:`going_group_codes` indexes these


def going_group_codes(going_code: pd.Series) -> np.ndarray:
    """The going group of each code as its position in :data:`GOING_GROUPS` (0 ``dry``,
    1 ``wet``, 2 ``unknown``): what the statistics group and join by (a group-by of text
    hashes every value again; of these small integers it does not)."""
    code = known_or_unknown(going_code, GOING_CODES).to_numpy()
    return np.where(code == UNKNOWN_CODE, 2, np.where(code == DRY_GOING, 0, 1)).astype(np.int8)


def speed_units(speed: pd.Series) -> np.ndarray:
    """Each speed index as an integer of :data:`SPEED_SUM_UNITS` (missing: 0; beyond
    ±:data:`SPEED_SUM_LIMIT` points, the limit: a million runs cannot overflow the sum)."""
    values = pd.to_numeric(speed).astype("float64").to_numpy()
    clipped = np.clip(np.nan_to_num(values, nan=0.0), -SPEED_SUM_LIMIT, SPEED_SUM_LIMIT)
    return np.rint(clipped * SPEED_SUM_UNITS).astype(np.int64)


def speed_mean(speed_sum: pd.Series | np.ndarray, speed_n: pd.Series | np.ndarray) -> np.ndarray:
    """The mean speed of sums in :data:`SPEED_SUM_UNITS` over ``speed_n`` runs (NaN for none)."""
    total = np.asarray(speed_sum, dtype=np.float64)
    count = np.asarray(speed_n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / (count * SPEED_SUM_UNITS), np.nan)


SUM_COLUMNS: Final = ["runs", "wins", "top3", "speed_sum", "speed_n"]
GROUP_SUM_COLUMNS: Final = ["runs", "speed_sum", "speed_n"]


def run_sums(runs: pd.DataFrame) -> pd.DataFrame:
    """Each run's part of a horse's sums (:data:`SUM_COLUMNS`, integers): one run, a win, a
    top-3 finish, its speed index in :data:`SPEED_SUM_UNITS` and whether it has one."""
    finish = runs["finish_pos"].astype("float64")
    return pd.DataFrame(
        {
            "runs": np.ones(len(runs), dtype=np.int64),
            "wins": (finish == 1).astype("int64").to_numpy(),
            "top3": (finish <= 3).astype("int64").to_numpy(),
            "speed_sum": speed_units(runs["speed_index"]),
            "speed_n": runs["speed_index"].notna().astype("int64").to_numpy(),
        },
        index=runs.index,
    )


def _summed(frame: pd.DataFrame, keys: list[str], columns: list[str]) -> pd.DataFrame:
    """``columns`` summed, and the last ``race_date`` (when ``frame`` has it), per ``keys``."""
    how: dict[str, str] = dict.fromkeys(columns, "sum")
    if "race_date" in frame:
        how["race_date"] = "max"
    return frame.groupby(keys, sort=False, dropna=False).agg(how).reset_index()


@dataclass(frozen=True)
class FoldedRuns:
    """Sums of runs that are no longer held, per horse: a backfill's held careers
    (``SettledRuns``) keep each horse's last five runs (``features.LAST_K``) before the held
    days and fold the earlier ones into these, so the careers a chunk's features read stop
    growing with the years. What ``features.build_features`` needs of the folded runs (every
    other statistic reads the last five runs): the horse's sums (:data:`SUM_COLUMNS`), and per
    venue and per going group (:func:`going_group_codes`) the sums
    (:data:`GROUP_SUM_COLUMNS`) and the last one's day. Keyed by horse id (blank for a missing
    one, as ``features.past_runs`` groups). The sums are integers: folding in any order gives
    what summing every run gives."""

    horse: pd.DataFrame  # horse_id, SUM_COLUMNS
    venue: pd.DataFrame  # horse_id, keibajo_code, race_date, GROUP_SUM_COLUMNS
    going: pd.DataFrame  # horse_id, going_group, race_date, GROUP_SUM_COLUMNS

    @classmethod
    def of_runs(cls, runs: pd.DataFrame) -> FoldedRuns:
        """The sums of ``runs`` (run rows with :data:`RUN_SUM_COLUMNS`)."""
        frame = run_sums(runs).assign(
            horse_id=runs["horse_id"].astype("string").fillna("").to_numpy(),
            keibajo_code=runs["keibajo_code"].astype("string").to_numpy(),
            going_group=going_group_codes(runs["going_code"]),
            race_date=pd.to_datetime(runs["race_date"]).astype("datetime64[ns]").to_numpy(),
        )
        return cls(
            horse=_summed(frame.drop(columns="race_date"), ["horse_id"], SUM_COLUMNS),
            venue=_summed(frame, ["horse_id", "keibajo_code"], GROUP_SUM_COLUMNS),
            going=_summed(frame, ["horse_id", "going_group"], GROUP_SUM_COLUMNS),
        )

    @classmethod
    def none(cls) -> FoldedRuns:
        """No run folded."""
        columns = {name: pd.Series(dtype="float64") for name in RUN_SUM_COLUMNS}
        columns["horse_id"] = pd.Series(dtype="string")
        columns["keibajo_code"] = pd.Series(dtype="string")
        columns["race_date"] = pd.Series(dtype="datetime64[ns]")
        return cls.of_runs(pd.DataFrame(columns))

    def __len__(self) -> int:
        """The horses with folded runs."""
        return len(self.horse)

    def plus(self, runs: pd.DataFrame) -> FoldedRuns:
        """These sums and those of ``runs`` (run rows with :data:`RUN_SUM_COLUMNS`)."""
        more = FoldedRuns.of_runs(runs)
        if not len(self):
            return more

        def both(mine: pd.DataFrame, theirs: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
            columns = SUM_COLUMNS if keys == ["horse_id"] else GROUP_SUM_COLUMNS
            return _summed(pd.concat([mine, theirs], ignore_index=True), keys, columns)

        return FoldedRuns(
            horse=both(self.horse, more.horse, ["horse_id"]),
            venue=both(self.venue, more.venue, ["horse_id", "keibajo_code"]),
            going=both(self.going, more.going, ["horse_id", "going_group"]),
        )

    def of_horses(self, horses: pd.Index, keep: bool = True) -> FoldedRuns:
        """The sums of ``horses`` only (``keep``), or of every other horse."""

        def chosen(frame: pd.DataFrame) -> pd.DataFrame:
            among = text_isin(frame["horse_id"], horses).to_numpy()
            return frame[among if keep else ~among].reset_index(drop=True)

        return FoldedRuns(chosen(self.horse), chosen(self.venue), chosen(self.going))

    def keyed_by(self, horse: np.ndarray, venue: np.ndarray, going: np.ndarray) -> FoldedRuns:
        """The same sums keyed by integer horse codes (``features.horse_codes``: of the rows
        of ``self.horse``, ``self.venue`` and ``self.going``), a horse without one (-1) left
        out."""

        def recoded(frame: pd.DataFrame, codes: np.ndarray) -> pd.DataFrame:
            return frame.assign(horse_id=codes)[codes >= 0].reset_index(drop=True)

        return FoldedRuns(
            recoded(self.horse, horse), recoded(self.venue, venue), recoded(self.going, going)
        )


def folded_rows(horses_in_order: np.ndarray, kept: int) -> np.ndarray:
    """Which of a horse's runs before a day fold into its sums: of runs in horse-date order
    (``horses_in_order``: the horse of each, a horse's runs together), every one with at
    least ``kept`` runs of its horse after it — all but each horse's last ``kept``."""
    last_of_horse = np.append(horses_in_order[1:] != horses_in_order[:-1], True)
    ends = np.flatnonzero(last_of_horse)
    rows = np.arange(horses_in_order.size)
    return ends[np.searchsorted(ends, rows)] - rows >= kept
