"""The files source: a directory holding ``nvd_ra`` / ``nvd_se`` (and optionally ``nvd_o1``)
as CSV (UTF-8, header of PC-KEIBA column names, raw text values) or Parquet files.

The tables may also come in parts: every immediate subdirectory holding ``nvd_*`` files is a
part (e.g. one per venue, as some exporters write them), next to the top-level files if any. A
part that cannot be read (corrupt, empty, a required column missing) is set aside and reported
in ``RawDay.rejected`` while the other parts go on; when no part can be read, or the input is a
single unreadable part, the input is refused with one line.

Every read takes one consistent snapshot: files are read whole, and their size, modification
time and inode are compared before and after; when a writer changes a file during the read, the
read starts again (a run never mixes two versions of the input). Rows whose date does not exist
(``0231``) belong to no day: they are returned with every read so that validation reports them.

Venues (lanes): ``venues`` lists the keibajo codes of every row a read of the range returns, in
any table, so reading those venues one by one returns every row of the whole read. Venue reads
use the snapshot the venues were listed from (one snapshot per run, read once under a lock, even
when a file changes between two venues' reads); parts set aside are reported by every venue's
read.
"""

from __future__ import annotations

import csv
import io
import logging
import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from raceday.errors import InputError, SourceUnavailable
from raceday.schema import (
    NVD_O1_COLUMNS,
    NVD_O1_REQUIRED,
    NVD_RA_COLUMNS,
    NVD_RA_REQUIRED,
    NVD_SE_COLUMNS,
    NVD_SE_REQUIRED,
)
from raceday.sources.base import RawDay, RejectedInput, rows_of_venues, venues_in

logger = logging.getLogger(__name__)

TABLES: Final = {"nvd_ra": NVD_RA_COLUMNS, "nvd_se": NVD_SE_COLUMNS, "nvd_o1": NVD_O1_COLUMNS}
REQUIRED_TABLES: Final = ("nvd_ra", "nvd_se")
REQUIRED_COLUMNS: Final = {
    "nvd_ra": NVD_RA_REQUIRED,
    "nvd_se": NVD_SE_REQUIRED,
    "nvd_o1": NVD_O1_REQUIRED,
}
SUFFIXES: Final = (".csv", ".parquet")
READ_ATTEMPTS: Final = 3  # a file still changing after this many reads is refused
# Zero-padded widths restored when a Parquet writer stored a field as a number (``0476`` -> 476).
_FIXED_WIDTHS: Final = {
    "kaisai_nen": 4, "kaisai_tsukihi": 4, "keibajo_code": 2, "race_bango": 2, "umaban": 2,
    "soha_time": 4,
}  # fmt: skip
_OTHER_DELIMITERS: Final = {"\t": "tabs", ";": "semicolons", "|": "vertical bars"}
_BOM: Final = b"\xef\xbb\xbf"

FileState = tuple[int, int, int] | None  # size, mtime in ns, inode; None when it is gone


def _table_path(directory: Path, table: str) -> Path | None:
    found = [directory / f"{table}{suffix}" for suffix in SUFFIXES]
    found = [path for path in found if path.is_file()]
    if len(found) > 1:
        raise InputError(f"{directory} holds both {found[0].name} and {found[1].name}: keep one")
    return found[0] if found else None


def _decode_text(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        hint = ""
        try:
            data.decode("cp932")
            hint = "; it reads as Shift-JIS: convert it with `iconv -f CP932 -t UTF-8`"
        except UnicodeDecodeError:
            pass
        raise InputError(
            f"{path}: not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}){hint}"
        ) from None


def _fields_per_record(text: str) -> np.ndarray:
    """How many fields each data record holds (pandas pads short records with '' silently)."""
    if '"' in text:  # quoted fields may hold commas or newlines: let the csv module count
        counts = [len(record) for record in csv.reader(io.StringIO(text)) if record]
        return np.asarray(counts[1:], dtype=np.int64)
    lines = pd.Series(text.split("\n"), dtype="string").str.rstrip("\r")
    lines = lines[lines != ""]
    return (lines.str.count(",") + 1).to_numpy(dtype=np.int64)[1:]


def _csv_frame(data: bytes, path: Path) -> pd.DataFrame:
    text = _decode_text(data, path)
    header = text.split("\n", 1)[0]
    if "," not in header:
        for delimiter, name in _OTHER_DELIMITERS.items():
            if delimiter in header:
                raise InputError(
                    f"{path}: not comma-separated (its header is split by {name}); "
                    "write it as CSV with commas"
                )
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    widths = _fields_per_record(text)
    if len(widths) == len(frame):
        # A short record (a truncated last line) has its absent fields missing, not blank.
        for row in np.flatnonzero(widths < frame.shape[1]):
            frame.iloc[row, int(widths[row]) :] = pd.NA
    else:
        logger.warning("%s: could not count the fields of its records", path)
    return frame


def _as_text(values: pd.Series, width: int | None) -> pd.Series:
    """A Parquet column as PC-KEIBA text: numbers without ``.0``, NaN missing, inf kept as text."""
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return values.astype("string")
    numbers = values.astype("float64")
    integral = np.isfinite(numbers) & (numbers == np.round(numbers))
    whole = numbers.where(integral).astype("Int64").astype("string")
    if width is not None:
        whole = whole.str.zfill(width)
    return whole.where(integral, values.astype("string"))


def _parquet_frame(data: bytes) -> pd.DataFrame:
    frame = pd.read_parquet(io.BytesIO(data))
    return pd.DataFrame(
        {column: _as_text(frame[column], _FIXED_WIDTHS.get(column)) for column in frame.columns},
        index=frame.index,
    )


def read_table_file(path: Path, known_columns: tuple[str, ...]) -> pd.DataFrame:
    """One table file as raw text columns (unknown columns dropped); InputError when unreadable."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"{path}: cannot be read: {error.strerror or error}") from error
    if not data.removeprefix(_BOM).strip():
        raise InputError(f"{path}: is empty")
    try:
        frame = _parquet_frame(data) if path.suffix == ".parquet" else _csv_frame(data, path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(f"{path}: cannot be read: {reason}") from error
    frame.columns = [str(column).strip() for column in frame.columns]
    return frame[[column for column in known_columns if column in frame.columns]]


def _dates_of(frame: pd.DataFrame) -> pd.Series:
    text = frame["kaisai_nen"].str.strip() + frame["kaisai_tsukihi"].str.strip().str.zfill(4)
    return text


def _in_range_or_undated(frame: pd.DataFrame, lo: str, hi: str) -> pd.Series:
    """Rows dated ``lo``..``hi``, and rows whose date does not exist (validation reports them)."""
    text = _dates_of(frame)
    undated = pd.to_datetime(text, format="%Y%m%d", errors="coerce").isna()
    return ((text >= lo) & (text <= hi)).fillna(False).astype(bool) | undated.to_numpy()


def _file_state(path: Path) -> FileState:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns, stat.st_ino


def read_part(part: Path) -> dict[str, pd.DataFrame]:
    """Every table of one part directory; InputError when a table cannot be used at all."""
    tables: dict[str, pd.DataFrame] = {}
    for table, known in TABLES.items():
        path = _table_path(part, table)
        if path is None:
            if table in REQUIRED_TABLES:
                raise InputError(f"{part} has no {table}.csv or {table}.parquet")
            tables[table] = pd.DataFrame(columns=list(known), dtype="string")
            continue
        frame = read_table_file(path, known)
        missing = [column for column in REQUIRED_COLUMNS[table] if column not in frame.columns]
        if missing:
            raise InputError(f"{path}: lacks required column(s): {', '.join(missing)}")
        if frame.empty and table in REQUIRED_TABLES:
            raise InputError(f"{path}: has a header but no rows")
        tables[table] = frame
    return tables


@dataclass(frozen=True)
class Snapshot:
    """The whole input as read at one moment: tables of the readable parts and what was not."""

    states: dict[Path, FileState]
    tables: dict[str, pd.DataFrame]
    rejected: tuple[RejectedInput, ...]


@dataclass
class FilesSource:
    """Reads PC-KEIBA tables from files in ``directory`` (one snapshot, cached until it changes)."""

    directory: Path
    name: str = "files"
    _snapshot: Snapshot | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def parts(self) -> list[Path]:
        """The directory itself when it holds tables, and each subdirectory that does."""
        if not self.directory.is_dir():
            raise SourceUnavailable(f"source directory {self.directory} does not exist")

        def holds_tables(folder: Path) -> bool:
            return any((folder / f"{t}{s}").is_file() for t in TABLES for s in SUFFIXES)

        subdirectories = sorted(p for p in self.directory.iterdir() if p.is_dir())
        parts = [folder for folder in [self.directory, *subdirectories] if holds_tables(folder)]
        if not parts:
            raise InputError(f"{self.directory} has no nvd_ra.csv or nvd_ra.parquet")
        return parts

    def _states(self, parts: list[Path]) -> dict[Path, FileState]:
        paths = [part / f"{t}{s}" for part in parts for t in TABLES for s in SUFFIXES]
        return {path: _file_state(path) for path in paths}

    def _read(self, parts: list[Path], states: dict[Path, FileState]) -> Snapshot:
        if len(parts) == 1:
            return Snapshot(states, read_part(parts[0]), ())
        read: list[dict[str, pd.DataFrame]] = []
        rejected: list[RejectedInput] = []
        for part in parts:
            try:
                read.append(read_part(part))
            except InputError as error:
                logger.warning("part %s set aside: %s", part, error)
                rejected.append(RejectedInput(location=str(part), reason=str(error)))
        if not read:
            raise InputError(
                f"{self.directory}: none of its {len(parts)} parts can be read; "
                f"first: {rejected[0].reason}"
            )
        tables = {
            table: pd.concat([tables[table] for tables in read], ignore_index=True)
            for table in TABLES
        }
        return Snapshot(states, tables, tuple(rejected))

    def snapshot(self) -> Snapshot:
        """The input as one consistent snapshot, read again only when a file has changed."""
        with self._lock:  # the venues of a day read at once: one of them reads the files
            return self._consistent_snapshot()

    def _consistent_snapshot(self) -> Snapshot:
        for _attempt in range(READ_ATTEMPTS):
            parts = self.parts()
            before = self._states(parts)
            if self._snapshot is not None and self._snapshot.states == before:
                return self._snapshot
            snapshot = self._read(parts, before)
            if self.parts() == parts and self._states(parts) == before:
                self._snapshot = snapshot
                return snapshot
            logger.warning("%s changed while it was being read: reading it again", self.directory)
        raise InputError(
            f"{self.directory}: its files kept changing while being read ({READ_ATTEMPTS} "
            "attempts); rerun when the writer has finished"
        )

    def _rows_dated(self, start: date, end: date, snapshot: Snapshot) -> RawDay:
        lo, hi = f"{start:%Y%m%d}", f"{end:%Y%m%d}"
        tables = {
            table: frame[_in_range_or_undated(frame, lo, hi)].reset_index(drop=True)
            for table, frame in snapshot.tables.items()
        }
        return RawDay(
            nvd_ra=tables["nvd_ra"],
            nvd_se=tables["nvd_se"],
            nvd_o1=tables["nvd_o1"],
            rejected=snapshot.rejected,
        )

    def venues(self, start: date, end: date) -> list[str]:
        """The keibajo codes of every row a read of ``start``..``end`` returns, any table."""
        return venues_in(self._rows_dated(start, end, self.snapshot()))

    def read_days(self, start: date, end: date, venues: Collection[str] | None = None) -> RawDay:
        """Rows dated ``start``..``end`` of every table (plus rows whose date does not exist);
        with ``venues``, those venues' rows only, from the snapshot the venues were listed from
        (so a day's venue reads never mix two versions of the input)."""
        pinned = self._snapshot if venues is not None else None
        snapshot = pinned if pinned is not None else self.snapshot()
        return rows_of_venues(self._rows_dated(start, end, snapshot), venues)


def write_tables(raw: RawDay, directory: Path, file_format: str = "csv") -> list[Path]:
    """Write a RawDay as ``nvd_ra`` / ``nvd_se`` / ``nvd_o1`` files; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for table, frame in (("nvd_ra", raw.nvd_ra), ("nvd_se", raw.nvd_se), ("nvd_o1", raw.nvd_o1)):
        path = directory / f"{table}.{file_format}"
        if file_format == "parquet":
            frame.astype("string").to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False, encoding="utf-8")
        written.append(path)
    return written
