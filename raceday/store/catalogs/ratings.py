"""Catalog of what is derived per runner and day: first-3F estimates, indexes, track variants
and the model's features (with the settled runs and people counts they are built from)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import (
    Boolean,
    Connection,
    Float,
    Integer,
    Select,
    String,
    and_,
    case,
    delete,
    false,
    func,
    or_,
    select,
)

from raceday.arrow_text import text_isin
from raceday.ratings.career_sums import FoldedRuns, folded_rows
from raceday.ratings.features import (
    CARD_COLUMNS,
    HISTORY_COLUMNS,
    LAST_K,
    PEOPLE_ROLES,
    RUN_WITHOUT_FINISH_CODES,
    STATISTICS_COLUMNS,
    BuiltFeatures,
    CardHistory,
    horse_date_order,
    people_daily_counts,
    run_rows,
    run_rows_between,
)
from raceday.store.catalogs.races import RACES, RUNNER_KEY, RUNNERS, RunnerWindow
from raceday.store.models import FEATURES_TABLE, First3F, RunnerIndex, TrackVariant, table_of
from raceday.store.repository import (
    as_stored,
    fetch_frame,
    insert_rows,
    read_rows,
    replace_rows,
)

FIRST3F = table_of(First3F)
INDEXES = table_of(RunnerIndex)
TRACK_VARIANTS = table_of(TrackVariant)

_FEATURE_WRITE_CHUNK = 20_000  # rows per executemany: bounded memory on year-long backfills


def write_by_runner(connection: Connection, table_name: str, frame: pd.DataFrame) -> int:
    """Store a per-runner derived frame (first3f, indexes) by its natural key."""
    table = {"first3f": FIRST3F, "indexes": INDEXES}[table_name]
    return replace_rows(connection, table, frame, RUNNER_KEY)


def read_indexes(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """Stored indexes dated ``start``..``end``."""
    return read_rows(connection, INDEXES, start=start, end=end)


def indexed_days_after(connection: Connection, after: date) -> tuple[date, date] | None:
    """The first and last race dates after ``after`` with stored indexes: the later days
    already run; None when there is none."""
    query = select(func.min(INDEXES.c.race_date), func.max(INDEXES.c.race_date)).where(
        INDEXES.c.race_date > after
    )
    first, last = connection.execute(query).one()
    return None if first is None else (first, last)


def write_track_variants(connection: Connection, variants: pd.DataFrame) -> int:
    """Store track variants by (race_date, keibajo_code, surface)."""
    return replace_rows(
        connection, TRACK_VARIANTS, variants, ["race_date", "keibajo_code", "surface"]
    )


# --- the runs features are built from ---------------------------------------------------------


def _runs_query() -> Select[Any]:
    """Runner rows with their race's columns and their indexes (runs without indexes kept)."""
    race_columns = {"distance_m", "class_code", "going_code", "field_size", "entries"}
    index_columns = {"speed_index", "ten_index", "agari_index", "composite_index"}
    wanted = dict.fromkeys([*HISTORY_COLUMNS, *CARD_COLUMNS])
    selected = [
        RACES.c[name] if name in race_columns
        else INDEXES.c[name] if name in index_columns
        else RUNNERS.c[name]
        for name in wanted
    ]  # fmt: skip
    return (
        select(*selected, RACES.c.has_results)
        .select_from(RUNNERS)
        .join(RACES, RACES.c.race_id == RUNNERS.c.race_id)
        .outerjoin(
            INDEXES,
            and_(INDEXES.c.race_id == RUNNERS.c.race_id, INDEXES.c.umaban == RUNNERS.c.umaban),
        )
    )


def _frame(connection: Connection, query: Select[Any]) -> pd.DataFrame:
    # driver values: dates as text on SQLite
    return _in_run_dtypes(fetch_frame(connection, query), query)


def _in_run_dtypes(frame: pd.DataFrame, query: Select[Any]) -> pd.DataFrame:
    """``frame`` (the rows of ``query``, as the driver gives them) in the dtypes the runs
    are held in, column by column in place."""
    for column in query.selected_columns:
        values = frame[column.name]
        if isinstance(column.type, Boolean):
            frame[column.name] = values.astype("boolean")
        elif isinstance(column.type, Float):
            frame[column.name] = pd.to_numeric(values).astype("float64")
        elif isinstance(column.type, Integer):
            frame[column.name] = pd.to_numeric(values).astype("Int64")
        elif isinstance(column.type, String):
            frame[column.name] = values.astype("string")
    frame["race_date"] = pd.to_datetime(frame["race_date"]).astype("datetime64[ns]")
    return frame


def read_feature_history(
    connection: Connection, before: date, horse_ids: Iterable[str]
) -> pd.DataFrame:
    """Every settled run of ``horse_ids`` dated before ``before`` (with its indexes)."""
    settled = and_(RACES.c.has_results.is_(True), RUNNERS.c.race_date < before)
    ids = sorted(set(horse_ids))
    frames = [
        _frame(
            connection,
            _runs_query().where(settled, RUNNERS.c.horse_id.in_(ids[first : first + 500])),
        )
        for first in range(0, len(ids), 500)
    ]
    if not frames:
        return _frame(connection, _runs_query().where(false()))
    return pd.concat(frames, ignore_index=True)


def read_people_window(connection: Connection, start: date, before: date) -> pd.DataFrame:
    """Runs and wins per jockey and per trainer over the settled days ``start`` up to
    ``before``, as one row per person dated ``start`` (the shape of
    :func:`raceday.ratings.features.people_daily_counts`, summed: exact for cards dated
    ``before``)."""
    is_run = or_(
        RUNNERS.c.finish_pos.is_not(None), RUNNERS.c.abnormal_code.in_(RUN_WITHOUT_FINISH_CODES)
    )
    frames = []
    for role in PEOPLE_ROLES:
        person = RUNNERS.c[role]
        query = (
            select(
                person.label("person_id"),
                func.count().label("runs"),
                func.sum(case((RUNNERS.c.finish_pos == 1, 1), else_=0)).label("wins"),
            )
            .select_from(RUNNERS)
            .join(RACES, RACES.c.race_id == RUNNERS.c.race_id)
            .where(
                RACES.c.has_results.is_(True),
                RUNNERS.c.race_date >= start,
                RUNNERS.c.race_date < before,
                is_run,
                person.is_not(None),
                func.trim(person) != "",
            )
            .group_by(person)
        )
        result = connection.execute(query)
        frames.append(
            pd.DataFrame.from_records(
                [tuple(row) for row in result], columns=["person_id", "runs", "wins"]
            ).assign(role=role, race_date=pd.Timestamp(start))
        )
    out = pd.concat(frames, ignore_index=True)
    return out.astype(
        {"person_id": "string", "runs": "int64", "wins": "int64", "race_date": "datetime64[ns]"}
    )[["role", "person_id", "race_date", "runs", "wins"]]


def read_settled_runs(connection: Connection, end: date, after: date | None = None) -> pd.DataFrame:
    """Every settled run dated up to ``end`` (and after ``after``), with its indexes."""
    settled = and_(RACES.c.has_results.is_(True), RUNNERS.c.race_date <= end)
    if after is not None:
        settled = and_(settled, RUNNERS.c.race_date > after)
    return _frame(connection, _runs_query().where(settled))


@dataclass(frozen=True)
class WrittenRuns:
    """The settled runs of results just written (:func:`written_runs`), for a holder of the
    runs read so far (:class:`SettledRuns`) to take instead of reading them back."""

    runs: pd.DataFrame  # as read_settled_runs reads them (columns, dtypes, values, order)
    indexed: npt.NDArray[np.bool_]  # which of them have an index row
    races: frozenset[str]  # the settled races written (with their runs, or without any)

    def stored_between(self, connection: Connection, after: date, end: date) -> pd.DataFrame | None:
        """What :func:`read_settled_runs` (``end``, ``after``) reads now, when the store holds
        no other settled run of those days than these: the same settled races (a race's
        runners are written whole with it, so the same runs, and these were written with
        their values) and as many of their runs with an index row (these were written with
        theirs). None when anything else is stored for those days — a race settled before
        and not written again, a race's results taken back, an index row left from an earlier
        run — or these runs reach past them: the caller reads them."""
        days = self.runs["race_date"]
        if not days.between(pd.Timestamp(after), pd.Timestamp(end), inclusive="right").all():
            return None
        dated = and_(RUNNERS.c.race_date > after, RUNNERS.c.race_date <= end)
        counted = (
            select(func.count(), func.count(INDEXES.c.race_id))
            .select_from(RUNNERS)
            .join(RACES, RACES.c.race_id == RUNNERS.c.race_id)
            .outerjoin(
                INDEXES,
                and_(INDEXES.c.race_id == RUNNERS.c.race_id, INDEXES.c.umaban == RUNNERS.c.umaban),
            )
            .where(RACES.c.has_results.is_(True), dated)
        )
        runs, indexed = connection.execute(counted).one()
        if runs != len(self.runs) or indexed != int(self.indexed.sum()):
            return None
        settled = select(RACES.c.race_id).where(
            RACES.c.has_results.is_(True), RACES.c.race_date > after, RACES.c.race_date <= end
        )
        if set(connection.execute(settled).scalars()) != self.races:
            return None
        return self.runs


def written_runs(races: pd.DataFrame, runners: pd.DataFrame, indexes: pd.DataFrame) -> WrittenRuns:
    """What :func:`read_settled_runs` reads of the settled races ``races`` once they are
    written with their ``runners`` (the results' write,
    :func:`~raceday.store.catalogs.races.write_races_and_runners`) and their runs' ``indexes``
    (:func:`write_by_runner`), built from the frames instead of read back
    (:meth:`WrittenRuns.stored_between` says when the store holds just those): the same
    columns, dtypes and values (each frame as its write stores it:
    :func:`~raceday.store.repository.as_stored`), the runs of a race not among ``races`` left
    out (the join) and those without an index row with none, in the order SQLite reads them
    (by the runners' day index: by day, then in the order written)."""
    query = _runs_query()
    names = [column.name for column in query.selected_columns]
    of_race = [name for name in names if name in RACES.c and name not in RUNNERS.c]
    of_index = [name for name in names if name in INDEXES.c and name not in RUNNERS.c]
    of_runner = [name for name in names if name not in of_race and name not in of_index]
    race_rows = as_stored(races.assign(has_results=True), RACES, only=["race_id", *of_race])
    index_rows = as_stored(indexes, INDEXES, only=[*RUNNER_KEY, *of_index])
    stored = as_stored(runners, RUNNERS, only=of_runner).reset_index(drop=True)
    stored = stored[text_isin(stored["race_id"], race_rows["race_id"]).to_numpy()]
    stored = stored.merge(race_rows, on="race_id", how="left", validate="many_to_one")
    stored = stored.merge(
        index_rows.assign(_indexed=True), on=RUNNER_KEY, how="left", validate="one_to_one"
    )
    # SQLite reads them by its index of the runners' days: by day, then by rowid (as written)
    order = np.argsort(stored["race_date"].to_numpy(), kind="stable")
    stored = stored.iloc[order].reset_index(drop=True)
    indexed = stored["_indexed"].notna().to_numpy()
    runs = _in_run_dtypes(stored[names].copy(), query)
    return WrittenRuns(runs, indexed, frozenset(race_rows["race_id"].dropna().astype(str)))


def read_window_and_careers(
    connection: Connection, horse_ids: Iterable[str], window_from: date, last_day: date
) -> pd.DataFrame:
    """Every settled run dated ``window_from`` up to (not on) ``last_day`` and every earlier
    run of ``horse_ids``: what build_features of those horses' cards dated up to ``last_day``
    reads, the people counted from the window's runs."""
    window = read_settled_runs(
        connection, last_day - timedelta(days=1), after=window_from - timedelta(days=1)
    )
    earlier = read_feature_history(connection, window_from, horse_ids)
    return pd.concat([window, earlier], ignore_index=True)


def read_runs_and_cards(
    connection: Connection, start: date, end: date, history: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every settled run up to ``end`` (history) and every stored runner ``start``..``end``.

    ``history``: the settled runs up to ``end`` when the caller holds them already (not read).
    """
    if history is None:
        history = read_settled_runs(connection, end)
    in_range = history["race_date"].between(pd.Timestamp(start), pd.Timestamp(end))
    cards = pd.concat(
        [history[in_range], _unsettled_runs(connection, start, end)], ignore_index=True
    )
    return history, cards


# --- features ---------------------------------------------------------------------------------


def write_features(
    connection: Connection,
    features: pd.DataFrame,
    feature_set: str,
    start: date,
    end: date,
    *,
    races: Iterable[str] | None = None,
) -> int:
    """Replace the features of ``feature_set`` dated ``start``..``end`` with ``features``; with
    ``races``, only those races' (a day's card: a stored race it set aside keeps its features,
    as it keeps its card and predictions)."""
    dated = and_(
        FEATURES_TABLE.c.feature_set == feature_set,
        FEATURES_TABLE.c.race_date >= start,
        FEATURES_TABLE.c.race_date <= end,
    )
    if races is None:
        connection.execute(delete(FEATURES_TABLE).where(dated))
    else:
        ids = list(dict.fromkeys(races))
        for first in range(0, len(ids), 500):
            of_races = FEATURES_TABLE.c.race_id.in_(ids[first : first + 500])
            connection.execute(delete(FEATURES_TABLE).where(and_(dated, of_races)))
    rows = features.assign(feature_set=feature_set)
    written = 0
    for first in range(0, len(rows), _FEATURE_WRITE_CHUNK):
        written += insert_rows(
            connection, FEATURES_TABLE, rows.iloc[first : first + _FEATURE_WRITE_CHUNK]
        )
    return written


def read_features(
    connection: Connection, start: date, end: date, feature_set: str | None = None
) -> pd.DataFrame:
    """Stored features dated ``start``..``end`` (optionally of one feature set)."""
    where = {"feature_set": feature_set} if feature_set else None
    return read_rows(connection, FEATURES_TABLE, start=start, end=end, where=where)


def _horse_keys(runs: pd.DataFrame) -> pd.Series:
    """The horse of each run as :func:`raceday.ratings.features.past_runs` groups them (no id:
    ``""``, one group)."""
    return runs["horse_id"].astype("string").fillna("")


def _of_horses(runs: pd.DataFrame, horse_ids: pd.Index) -> np.ndarray:
    """Which ``runs`` are of ``horse_ids``."""
    return text_isin(_horse_keys(runs), horse_ids).to_numpy()


@dataclass
class SettledRuns:
    """The settled runs (with their indexes) read so far, for a process that settles days in
    date order and builds features after each step (a backfill: every chunk's features and
    every training). Each step reads only the days settled since the last one, so it is valid
    only while no day it holds is rewritten — one backfill run, which writes each chunk's days
    before it reads them and never an earlier day.

    Memory is bounded by ``held_days``: before each read, a horse without a run in the
    ``held_days`` days before the first day read is evicted (its id remembered, its runs
    dropped), so what is held is every run of those days and the careers of the horses that
    ran in them (a chunk's features need no read beyond them while ``held_days`` is at least
    the people window). Of a career, the runs before the held days but the last
    :data:`~raceday.ratings.features.LAST_K` are folded into sums (``folded``:
    :class:`~raceday.ratings.career_sums.FoldedRuns`, all build_features needs of them), so the
    careers held stop growing with the years. A horse is held whole or not
    at all: an evicted horse that runs again, or is on a card, has its runs read back from the
    store, so :meth:`history_for` gives build_features exactly what the whole history gives
    (a request reaching before the held days reads its window from the store).

    The jockeys' and trainers' daily runs and wins are counted once, as each day's runs are
    read (``people``), so a chunk's features read the cards' horses' runs only, not every run
    of the people window again."""

    held_days: int | None = None  # None: nothing is ever evicted
    blocks: list[pd.DataFrame] = field(default_factory=list)  # as read, in order, evictions out
    through: date | None = None
    held_from: date | None = None  # every settled run dated on or after it is held (None: all)
    evicted: set[str] = field(default_factory=set)  # horses whose runs are all in the store only
    runs_through: int = 0  # settled runs dated up to ``through``, held or not
    read_back: int = 0  # horses whose runs were read back (on a card, or running again)
    # The day of each held horse's last held run, kept as blocks come (an eviction then reads
    # the horses, not every held run).
    last_runs: pd.Series = field(default_factory=lambda: pd.Series(dtype="datetime64[ns]"))
    # The people's daily counts (:func:`people_daily_counts`) of each block of days read, from
    # ``held_from`` on (the held days): every run counted, evicted horses' included.
    people: list[pd.DataFrame] = field(default_factory=list)
    # The sums of each held horse's runs folded out of the blocks (:meth:`_fold_before`).
    folded: FoldedRuns = field(default_factory=FoldedRuns.none)
    folded_runs: int = 0  # runs folded so far (of horses held or evicted since)
    # The runner rows reference times and the first-3F model learn from, held the same way.
    reference_window: RunnerWindow = field(default_factory=RunnerWindow)
    # The features built from these runs (each chunk's): a training takes its window's from
    # here. Nothing is kept unless the holder says how many days (``for_training``).
    built: BuiltFeatures = field(default_factory=BuiltFeatures)
    # The runs of the results last written (:meth:`wrote`): the next read of their days takes
    # them instead, when they are what the store holds (:meth:`WrittenRuns.stored_between`).
    written: WrittenRuns | None = None
    taken_as_written: int = 0  # the reads of the days written that took the runs written

    @classmethod
    def for_training(cls, window_days: int, held_days: int | None = None) -> SettledRuns:
        """Settled runs that keep the features built for the last ``window_days`` days (a
        backfill that trains on windows of that many days) and hold the horses that ran in
        the last ``held_days`` days."""
        return cls(held_days=held_days, built=BuiltFeatures(keep_days=window_days))

    def extend(self, connection: Connection, end: date) -> None:
        """Evict the horses gone ``held_days`` before the first new day, then read the runs
        settled after ``through`` up to ``end`` (an evicted horse among them held again, with
        its runs read back)."""
        if self.through is not None and end <= self.through:
            return
        if self.through is not None and self.held_days is not None:
            self._evict(self.through + timedelta(days=1 - self.held_days))
        new = self._written_or_read(connection, end)
        returning = self._evicted_among(new)
        if len(returning) and self.through is not None:
            earlier = self.through + timedelta(days=1)
            self._hold(read_feature_history(connection, earlier, returning))
            self.evicted -= set(returning)
            self.read_back += len(returning)
        self._hold(new)
        self.people.append(people_daily_counts(new[run_rows(new)]))
        self.through, self.runs_through = end, self.runs_through + len(new)

    def wrote(self, written: WrittenRuns) -> None:
        """The settled runs of results just written (:func:`written_runs`), for the next read
        of their days (:meth:`extend`) to take instead of reading them back."""
        self.written = written

    def _written_or_read(self, connection: Connection, end: date) -> pd.DataFrame:
        """The runs settled after ``through`` up to ``end``: those last written when they are
        what the store holds for those days, else read (:func:`read_settled_runs`)."""
        written, self.written = self.written, None
        if written is not None and self.through is not None:
            runs = written.stored_between(connection, self.through, end)
            if runs is not None:
                self.taken_as_written += 1
                return runs
        return read_settled_runs(connection, end, after=self.through)

    def holding(self) -> str:
        """What is held, for the log: runs held of those settled, horses evicted, read back."""
        held = sum(len(block) for block in self.blocks)
        return (
            f"{held} held of {self.runs_through} ({self.folded_runs} folded into sums); "
            f"{len(self.evicted)} horses evicted, {self.read_back} read back so far; "
            f"{self.taken_as_written} chunk(s) of runs taken as written, not read back"
        )

    def _evicted_among(self, runs: pd.DataFrame) -> pd.Index:
        if not self.evicted:
            return pd.Index([], dtype="string")
        horses = pd.Series(_horse_keys(runs).unique())
        evicted = pd.Index(list(self.evicted), dtype="string")
        return pd.Index(horses[text_isin(horses, evicted)])

    def _hold(self, block: pd.DataFrame) -> None:
        """Hold ``block`` and count its runs' days in the horses' last runs."""
        self.blocks.append(block)
        last = block["race_date"].groupby(_horse_keys(block), sort=False).max()
        both = pd.concat([self.last_runs, last]) if len(self.last_runs) else last
        self.last_runs = both.groupby(level=0, sort=False).max()

    def _evict(self, held_from: date) -> None:
        """Drop the horses whose last run is before ``held_from`` (a block without one of
        them is kept as it is, not copied)."""
        last = self.last_runs
        gone = pd.Index(last.index[(last < pd.Timestamp(held_from)) & (last.index != "")])
        if len(gone):
            kept = []
            for block in self.blocks:
                of_gone = _of_horses(block, gone)
                kept.append(block[~of_gone].reset_index(drop=True) if of_gone.any() else block)
            self.blocks = [block for block in kept if len(block)]
            self.last_runs = last.drop(gone)
            self.evicted |= set(gone)
            if len(self.folded):
                self.folded = self.folded.of_horses(gone, keep=False)
        self.held_from = held_from
        self.people = _counts_since(self.people, pd.Timestamp(held_from))
        self._fold_before(pd.Timestamp(held_from))

    def _fold_before(self, cutoff: pd.Timestamp) -> None:
        """Fold each horse's runs dated before ``cutoff`` but its last ``LAST_K`` into
        ``folded`` and drop them from the blocks: no read of the blocks reaches before the
        held days (cards and people windows before them are read from the store), and
        build_features needs no more of a run before the first card's day than its sums and
        the last ``LAST_K`` runs (rows without a run stay: they are few)."""
        before = []  # (block, positions of its runs before the cutoff)
        for number, block in enumerate(self.blocks):
            if len(block) and block["race_date"].min() < cutoff:
                positions = np.flatnonzero(run_rows_between(block, before=cutoff))
                if positions.size:
                    before.append((number, positions))
        if not before:
            return
        keys = pd.concat(
            [self.blocks[number][["horse_id", "race_date", "race_id"]].iloc[positions]
             for number, positions in before],
            ignore_index=True,
        )  # fmt: skip
        where = np.concatenate(
            [np.column_stack([np.full(positions.size, number), positions])
             for number, positions in before]
        )  # fmt: skip
        keys["horse_id"] = _horse_keys(keys)
        keys["race_date"] = pd.to_datetime(keys["race_date"]).astype("datetime64[ns]")
        runs = keys["horse_id"].value_counts(sort=False)
        many = runs.index[runs.to_numpy() > LAST_K]
        if not len(many):
            return
        of_many = np.flatnonzero(text_isin(keys["horse_id"], pd.Index(many)).to_numpy())
        ordered = of_many[horse_date_order(keys.iloc[of_many].reset_index(drop=True))]
        folding = where[ordered[folded_rows(keys["horse_id"].to_numpy()[ordered], LAST_K)]]
        folded = []
        for number in np.unique(folding[:, 0]):
            block, positions = self.blocks[number], folding[folding[:, 0] == number, 1]
            folded.append(block[STATISTICS_COLUMNS].iloc[positions])
            keep = np.ones(len(block), dtype=bool)
            keep[positions] = False
            self.blocks[number] = block[keep].reset_index(drop=True)
        self.blocks = [block for block in self.blocks if len(block)]
        folded_runs = pd.concat(folded, ignore_index=True)
        self.folded = self.folded.plus(folded_runs)
        self.folded_runs += len(folded_runs)

    def cards(self, connection: Connection, start: date, end: date) -> pd.DataFrame:
        """Every stored runner dated ``start``..``end`` (:func:`read_runs_and_cards`'s cards:
        the settled in the order read, then the others)."""
        self.extend(connection, end)
        if self.held_from is not None and start < self.held_from:
            settled = read_settled_runs(connection, end, after=start - timedelta(days=1))
        else:
            between = [
                block[block["race_date"].between(pd.Timestamp(start), pd.Timestamp(end))]
                for block in self.blocks
            ]
            settled = pd.concat(between, ignore_index=True) if between else _empty_runs(connection)
        return pd.concat([settled, _unsettled_runs(connection, start, end)], ignore_index=True)

    def history_for(
        self, connection: Connection, cards: pd.DataFrame, people_window_days: int
    ) -> CardHistory:
        """What :func:`~raceday.ratings.features.build_features` of ``cards`` reads (not the
        whole history: the same features): every earlier run of the cards' horses, and the
        people's daily counts of the window before the first card's day as counted when its
        days were read, and the sums of the horses' runs folded out of the held careers — or,
        for a window reaching before the held days, every run of the window and every earlier
        run of the horses from the store (the counts and sums None: counted from them)."""
        if cards.empty:
            return _empty_runs(connection), None, None
        days = pd.to_datetime(cards["race_date"])
        first_day, last_day = days.min().date(), days.max().date()
        self.extend(connection, last_day - timedelta(days=1))
        window_from = first_day - timedelta(days=people_window_days)
        horses = pd.Index(_horse_keys(cards).unique())
        if self.held_from is not None and window_from < self.held_from:
            # before the held days: the window and the horses' earlier runs from the store
            return read_window_and_careers(connection, horses, window_from, last_day), None, None
        since, before = pd.Timestamp(window_from), pd.Timestamp(last_day)
        wanted = [
            block[_of_horses(block, horses) & (block["race_date"] < before)]
            for block in self.blocks
        ]
        returning = self._evicted_among(cards)
        if len(returning):  # runs only the store holds (all before ``held_from``)
            wanted.append(read_feature_history(connection, last_day, returning))
            self.read_back += len(returning)
        history = pd.concat(wanted, ignore_index=True) if wanted else _empty_runs(connection)
        folded = self.folded.of_horses(horses) if len(self.folded) else None
        return history, self._people_between(since, before), folded

    def _people_between(self, since: pd.Timestamp, before: pd.Timestamp) -> pd.DataFrame:
        """The people's daily counts dated ``since`` up to ``before`` (the same rows as
        counted from the runs of those days at once, in another order)."""
        days = [
            counts[(counts["race_date"] >= since) & (counts["race_date"] < before)]
            for counts in self.people
        ]
        if not days:  # no day of the window read (a store with a gap): nobody rode in it
            nobody = {role: pd.Series(dtype="string") for role in PEOPLE_ROLES}
            return people_daily_counts(
                pd.DataFrame(
                    {
                        **nobody,
                        "race_date": pd.Series(dtype="datetime64[ns]"),
                        "finish_pos": pd.Series(dtype="float64"),
                    }
                )
            )
        return pd.concat(days, ignore_index=True)

    def features(
        self, connection: Connection, start: date, end: date, people_window_days: int
    ) -> pd.DataFrame:
        """:func:`~raceday.ratings.features.build_features` of every stored runner dated
        ``start``..``end`` (:meth:`cards`), in no particular order: the days built before are
        taken as built (a training's window, built chunk by chunk), the others built from
        their history (:meth:`history_for`) and kept."""

        def history_for(unbuilt: pd.DataFrame) -> CardHistory:
            return self.history_for(connection, unbuilt, people_window_days)

        cards = self.cards(connection, start, end)
        return self.built.build(history_for, cards, people_window_days)


def _counts_since(people: list[pd.DataFrame], since: pd.Timestamp) -> list[pd.DataFrame]:
    """The people's daily counts dated ``since`` or later: a block wholly since is kept as it
    is, one reaching before it (the first read: every day of the store up to the first chunk)
    cut, one wholly before dropped."""
    kept = []
    for counts in people:
        days = counts["race_date"]
        if len(counts) and days.min() >= since:
            kept.append(counts)
        elif (recent := days >= since).any():
            kept.append(counts[recent].reset_index(drop=True))
    return kept


def _empty_runs(connection: Connection) -> pd.DataFrame:
    return _frame(connection, _runs_query().where(false()))


def _unsettled_runs(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """Stored runners of the races without results dated ``start``..``end``."""
    return _frame(
        connection,
        _runs_query().where(
            RACES.c.has_results.is_(False),
            RUNNERS.c.race_date >= start,
            RUNNERS.c.race_date <= end,
        ),
    )
