"""The files source: a directory holding ``nvd_ra`` / ``nvd_se`` (and optionally ``nvd_o1``)
of NAR, or ``jvd_ra`` / ``jvd_se`` (``jvd_o1``) of JRA, as CSV (header of PC-KEIBA column names,
raw text values) or Parquet files. Both circuits share the layout and read into the same RawDay;
one directory holds one circuit (``nvd_*`` next to ``jvd_*`` is refused). File and column names
are read in any case (``NVD_RA.CSV`` with a header ``KAISAI_NEN,...``, as Windows tools and some
databases write them).

CSV text is UTF-8 (with or without a byte-order mark) or CP932 (Shift-JIS, as Japanese Windows
tools write it), detected per file and logged; CRLF line ends work. The header is checked first
(the first line, at most 64 KiB): a file whose first line is not a PC-KEIBA header holding the
required columns is refused before its body is read. The body is then parsed in blocks of about
4 MiB of text, so memory follows the rows kept, not the size of a file's garbage; a "record"
longer than 64 KiB, or more than 100 records shorter than the header, refuse the file. NUL bytes
in fields are removed (PostgreSQL text cannot hold them) with a warning naming the file and the
number of rows; a line repeating the header (exports joined by ``cat``) is no record, skipped
with a warning naming its lines (:func:`~raceday.sources.csv_records.blank_repeated_headers`).
Columns only the report uses (``raceday.schema.NVD_RA_OPTIONAL`` ...) read as
blank when absent.

The tables may also come in parts: every immediate subdirectory holding table files is a part
(e.g. one per venue, as some exporters write them), next to the top-level files if any. Parts are
told apart by their real path: a symlink back to a part already read (``self -> .``) is skipped
and logged, as is a subdirectory symlink that loops. A part that cannot be read (corrupt, empty,
a required column missing) is set aside and reported in ``RawDay.rejected`` by the reads of the
days it holds (:func:`days_held`; by every read when they are unknown) while the other parts go
on; a day only it holds is refused, not read as a day without races (``base.lost_days``); when no
part can be read, or the input is a single unreadable part, the input is refused with one line.

Every read takes one consistent snapshot: the size, modification time and inode of every file
are compared before and after the read; when a writer changes a file during the read, the read
starts again (a run never mixes two versions of the input). Rows whose date does not exist
(``0231``) belong to no day: they are returned with every read so that validation reports them.

Venues (lanes): ``venues`` lists the keibajo codes of every row a read of the range returns, in
any table, so reading those venues one by one returns every row of the whole read. Venue reads
use the snapshot the venues were listed from (one snapshot per run, read once under a lock, even
when a file changes between two venues' reads); parts set aside are reported by every venue's
read.
"""

from __future__ import annotations

import csv
import errno
import logging
import os
import re
import threading
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from pyarrow import ArrowException

from raceday.errors import InputError, SourceUnavailable
from raceday.schema import (
    NVD_O1_COLUMNS,
    NVD_O1_OPTIONAL,
    NVD_O1_REQUIRED,
    NVD_RA_COLUMNS,
    NVD_RA_OPTIONAL,
    NVD_RA_REQUIRED,
    NVD_SE_COLUMNS,
    NVD_SE_OPTIONAL,
    NVD_SE_REQUIRED,
)
from raceday.sources.base import (
    RawDay,
    RejectedInput,
    latest_versions,
    remove_nul,
    row_days,
    rows_of_venues,
    venues_in,
    with_optional_columns,
)
from raceday.sources.csv_records import (
    blank_beyond,
    blank_repeated_headers,
    column_name,
    column_names,
    last_record_end,
    parse_block,
    repeated_header_note,
)
from raceday.sources.parquet_text import as_pc_keiba_text, nested_column
from raceday.sources.text_encoding import BOM as _BOM
from raceday.sources.text_encoding import NOT_CP932_TEXT as _NOT_CP932_TEXT
from raceday.sources.text_encoding import detect_encoding
from raceday.sources.timeline import stamp_text
from raceday.sport import CIRCUITS

logger = logging.getLogger(__name__)

# File-name prefix of each circuit's tables (raceday.sport): nvd (NAR, 地方競馬DATA), jvd (JRA,
# JRA-VAN).
CIRCUIT_PREFIXES: Final = {circuit.table_prefix: circuit.label for circuit in CIRCUITS}
TABLES: Final = {"ra": NVD_RA_COLUMNS, "se": NVD_SE_COLUMNS, "o1": NVD_O1_COLUMNS}
REQUIRED_TABLES: Final = ("ra", "se")
REQUIRED_COLUMNS: Final = {"ra": NVD_RA_REQUIRED, "se": NVD_SE_REQUIRED, "o1": NVD_O1_REQUIRED}
OPTIONAL_COLUMNS: Final = {"ra": NVD_RA_OPTIONAL, "se": NVD_SE_OPTIONAL, "o1": NVD_O1_OPTIONAL}
SUFFIXES: Final = (".csv", ".parquet")
READ_ATTEMPTS: Final = 3  # a file still changing after this many reads is refused
HEAD_BYTES: Final = 64 * 1024  # the header line must end within this
BLOCK_CHARS: Final = 4 * 1024 * 1024  # CSV text parsed at a time
_EOF_MARK: Final = "\x1a"  # Ctrl-Z: old DOS and Windows tools end a text file with it
MAX_RECORD_CHARS: Final = 64 * 1024  # a PC-KEIBA record is under 1 KB
MAX_SHORT_RECORDS: Final = 100  # records with fewer fields than the header (a truncated line: 1)
# Zero-padded widths restored when a Parquet writer stored a field as a number (``0476`` -> 476).
_FIXED_WIDTHS: Final = {
    "kaisai_nen": 4, "kaisai_tsukihi": 4, "keibajo_code": 2, "race_bango": 2, "umaban": 2,
    "soha_time": 4,
}  # fmt: skip
_OTHER_DELIMITERS: Final = {"\t": "tabs", ";": "semicolons", "|": "vertical bars"}
# A whole number as pandas writes a float column (``12.0``: a column with one blank cell is read
# as floats), or as it was (``12``).
_WHOLE_NUMBER: Final = r"[+-]?[0-9]+(?:\.0*)?"

FileState = tuple[int, int, int] | None  # size, mtime in ns, inode; None when it is gone
Part = tuple[Path, str]  # a directory of tables and the prefix of its circuit (nvd / jvd)


def _present(path: Path) -> bool:
    """A file, or a symlink even when broken or looping (reading it then says what is wrong)."""
    return path.is_file() or path.is_symlink()


def _checked_link(path: Path) -> None:
    """InputError when ``path`` is a symlink that loops or leads nowhere."""
    try:
        path.stat()
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise InputError(f"{path} is a symlink loop") from None
        if path.is_symlink():
            raise InputError(f"{path} is a symlink to {os.readlink(path)}, which is gone") from None
        raise InputError(f"{path}: cannot be read: {error.strerror or error}") from None


TABLE_FILE_NAMES: Final = frozenset(
    f"{prefix}_{table}{suffix}"
    for prefix in CIRCUIT_PREFIXES
    for table in TABLES
    for suffix in SUFFIXES
)


def table_files(folder: Path) -> dict[str, Path]:
    """The table files in ``folder`` by their names in lower case (``NVD_RA.CSV``, as a Windows
    tool may name it, is ``nvd_ra.csv``); InputError when two names differ only by case."""
    try:
        entries = sorted(folder.iterdir())
    except OSError as error:
        raise InputError(f"{folder}: cannot be read: {error.strerror or error}") from None
    found: dict[str, Path] = {}
    for entry in entries:
        name = entry.name.lower()
        if name in TABLE_FILE_NAMES and _present(entry):
            if name in found:
                raise InputError(
                    f"{folder} holds both {found[name].name} and {entry.name}: keep one"
                )
            found[name] = entry
    return found


def _table_path(files: dict[str, Path], directory: Path, prefix: str, table: str) -> Path | None:
    found = [files[name] for suffix in SUFFIXES if (name := f"{prefix}_{table}{suffix}") in files]
    if len(found) > 1:
        raise InputError(f"{directory} holds both {found[0].name} and {found[1].name}: keep one")
    if not found:
        return None
    _checked_link(found[0])
    return found[0]


def circuit_prefix(folder: Path) -> str | None:
    """``nvd`` or ``jvd`` for a folder holding that circuit's tables, None when it holds none."""
    held = {name.partition("_")[0] for name in table_files(folder)}
    if len(held) > 1:
        both = " and ".join(f"{p}_* ({CIRCUIT_PREFIXES[p]})" for p in CIRCUIT_PREFIXES if p in held)
        raise InputError(f"{folder} holds both {both} tables: keep one circuit per directory")
    return held.pop() if held else None


# --- text: encoding, header, records -----------------------------------------------------------


_ENCODING_NAMES: Final = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with a byte-order mark",
    "cp932": "CP932 (Shift-JIS)",
}


def _header_line(path: Path, head: bytes, size: int) -> str:
    """The first non-blank line of a CSV file, decoded; InputError when there is none."""
    body = head.removeprefix(_BOM)
    start = len(head) - len(body.lstrip(b"\r\n"))
    end = head.find(b"\n", start)
    if end < 0:
        if size > len(head):
            raise InputError(
                f"{path}: its first line is longer than {HEAD_BYTES // 1024} KiB: "
                "not a PC-KEIBA table (a header line of column names, then one line per record)"
            )
        end = len(head)
    line = head[start:end]
    for encoding in ("utf-8", "cp932"):
        try:
            text = line.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8" or not _NOT_CP932_TEXT.search(text):
            return text.rstrip("\r")
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{path}: not UTF-8 or Shift-JIS (CP932) text "
            f"(byte 0x{line[error.start]:02x} at offset {start + error.start})"
        ) from None
    raise InputError(f"{path}: its first line is not text")  # pragma: no cover - decoded above


def _checked_header(path: Path, header: str, table: str) -> list[str]:
    """The header's column names; InputError when it is not a PC-KEIBA header of ``table``."""
    if "," not in header:
        for delimiter, name in _OTHER_DELIMITERS.items():
            if delimiter in header:
                raise InputError(
                    f"{path}: not comma-separated (its header is split by {name}); "
                    "write it as CSV with commas"
                )
    columns = [column_name(name) for name in next(csv.reader([header]), [])]
    if not set(columns) & set(TABLES[table]):
        raise InputError(
            f"{path}: its first line is not a PC-KEIBA header (no column name of {path.stem})"
        )
    _require_columns(path, columns, table)
    return columns


def _require_columns(path: Path, columns: Collection[str], table: str) -> None:
    missing = [column for column in REQUIRED_COLUMNS[table] if column not in columns]
    if missing:
        raise InputError(f"{path}: lacks required column(s): {', '.join(missing)}")


def _record_blocks(path: Path, encoding: str) -> Iterator[str]:
    """The file's text after its header line, in blocks of whole records of ~BLOCK_CHARS."""
    carry = ""
    with path.open("r", encoding=encoding, newline="") as handle:
        header_seen = False
        while True:
            block = handle.read(BLOCK_CHARS)
            text = carry + block
            if not header_seen:
                stripped = text.lstrip("\r\n")
                end = stripped.find("\n")
                if end < 0 and block:
                    carry = text
                    continue
                text = stripped[end + 1 :] if end >= 0 else ""
                header_seen = True
            if not block:
                if text:
                    yield text
                return
            cut = last_record_end(text)
            carry = text[cut + 1 :]
            if len(carry) > MAX_RECORD_CHARS:
                raise InputError(
                    f"{path}: holds a record longer than {MAX_RECORD_CHARS // 1024} KiB "
                    "(a line without its end, or a quote never closed): not a PC-KEIBA table"
                )
            if cut >= 0:
                yield text[: cut + 1]


def _csv_frame(path: Path, table: str) -> pd.DataFrame:
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if not head.removeprefix(_BOM).strip() and size <= len(head):
        if table not in REQUIRED_TABLES:  # no odds: as an odds file without one, or none at all
            logger.warning("%s: is empty: read as no odds", path)
            return pd.DataFrame({column: pd.Series(dtype="string") for column in TABLES[table]})
        raise InputError(f"{path}: is empty")
    header = _header_line(path, head, size)
    columns = _checked_header(path, header, table)
    encoding = detect_encoding(path, head)
    logger.info("%s: read as %s", path, _ENCODING_NAMES[encoding])
    known = [column for column in TABLES[table] if column in columns]
    frames: list[pd.DataFrame] = []
    short_records = nul_rows = lines_before = records_before = empty_records = 0
    decimal_points = False
    header_lines: list[int] = []  # numbers of the lines repeating the header
    try:
        for block in _record_blocks(path, encoding):
            clean, nul_count = _remove_nul_text(block)
            clean = clean.replace(_EOF_MARK, "")  # DOS's end of file (Ctrl-Z) after the last line
            nul_rows += nul_count
            decimal_points = decimal_points or "." in clean
            clean, repeated = blank_repeated_headers(header, clean)
            header_lines += [lines_before + index + 2 for index in repeated]  # line 1: header
            frame, widths = parse_block(header, clean, lines_before)
            longer = np.flatnonzero(widths > frame.shape[1])
            if len(longer) and not blank_beyond(header + "\n" + clean, frame.shape[1]):
                raise InputError(
                    f"{path}: records hold more fields than its header names (first: record "
                    f"{records_before + int(longer[0]) + 1}): values past its last column"
                )
            lines_before += clean.count("\n")
            frame.columns = column_names(frame.columns)
            if len(widths) == len(frame):
                # A short record (a truncated last line) has its absent fields missing, not blank.
                short = np.flatnonzero(widths < frame.shape[1])
                short_records += len(short)
                if short_records > MAX_SHORT_RECORDS:
                    raise InputError(
                        f"{path}: more than {MAX_SHORT_RECORDS} records hold fewer fields than "
                        f"its header (first: record {records_before + int(short[0]) + 1}): "
                        "not a PC-KEIBA table of one record per line"
                    )
                for row in short:
                    frame.iloc[row, int(widths[row]) :] = pd.NA
            else:
                logger.warning("%s: could not count the fields of its records", path)
            records_before += len(frame)
            empty = frame.fillna("").eq("").all(axis=1)  # a line of delimiters only: no record
            empty_records += int(empty.sum())
            kept = frame.loc[~empty, known].reset_index(drop=True) if empty.any() else frame[known]
            frames.append(kept)
    except UnicodeDecodeError as error:  # the file changed after its encoding was told
        raise InputError(f"{path}: not {_ENCODING_NAMES[encoding]} text: {error.reason}") from None
    if nul_rows:
        logger.warning("%s: removed NUL bytes from %d row(s)", path, nul_rows)
    if empty_records:
        logger.warning("%s: skipped %d line(s) of empty fields only", path, empty_records)
    if header_lines:
        logger.warning("%s: %s", path, repeated_header_note(header_lines))
    if not frames:
        return pd.DataFrame({column: pd.Series(dtype="string") for column in known})
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return _floats_as_whole_numbers(frame, path) if decimal_points else frame


def _floats_as_whole_numbers(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """``frame`` with each column pandas wrote as floats (every value a whole number, ``12.0``,
    or blank: one blank cell makes pandas read a column of digits as floats) read as the whole
    numbers it held (``12``), as the Parquet path reads numbers; their lost zero padding is the
    decoder's (``raceday.codec``). A column with any other value is left to validation."""
    whole = {}
    for column in frame.columns:
        text = frame[column].astype("string").str.strip()
        if not text.str.contains(".", regex=False).fillna(False).any():
            continue
        numbers = text.str.fullmatch(_WHOLE_NUMBER).fillna(False) | text.fillna("").eq("")
        if numbers.all():
            whole[column] = text.str.replace(r"\.0*$", "", regex=True)
    if not whole:
        return frame
    logger.warning(
        "%s: %s written as floats (12.0), read as whole numbers", path, ", ".join(sorted(whole))
    )
    return frame.assign(**whole)


def _remove_nul_text(text: str) -> tuple[str, int]:
    """``text`` without NUL characters, and how many of its lines held one."""
    if "\x00" not in text:
        return text, 0
    lines = pd.Series(text.split("\n"), dtype="string")
    return text.replace("\x00", ""), int(lines.str.contains("\x00", regex=False).sum())


# --- Parquet -------------------------------------------------------------------------------------


def _parquet_frame(path: Path, table: str) -> pd.DataFrame:
    if path.stat().st_size == 0:
        raise InputError(f"{path}: is empty")
    schema = pq.read_schema(path)
    names = dict(zip(column_names(schema.names), schema.names, strict=True))
    _require_columns(path, names, table)  # from the footer, before any row is read
    known = [column for column in TABLES[table] if column in names]
    if (nested := nested_column(schema, [names[column] for column in known])) is not None:
        raise InputError(f"{path}: column {nested[0]} holds {nested[1]} values, not text")
    frame = pd.read_parquet(path, columns=[names[column] for column in known])
    frame.columns = known
    text = pd.DataFrame(
        {column: as_pc_keiba_text(frame[column], _FIXED_WIDTHS.get(column)) for column in known},
        index=frame.index,
    )
    text, nul_rows = remove_nul(text)
    if nul_rows:
        logger.warning("%s: removed NUL bytes from %d row(s)", path, nul_rows)
    return text


def read_table_file(path: Path, table: str) -> pd.DataFrame:
    """One table file (``ra``, ``se`` or ``o1``) as raw text columns, unknown columns dropped and
    absent optional columns blank; InputError when unreadable or a required column is missing."""
    try:
        if path.suffix.lower() == ".parquet":
            frame = _parquet_frame(path, table)
        else:
            frame = _csv_frame(path, table)
    except OSError as error:
        raise InputError(f"{path}: cannot be read: {error.strerror or error}") from error
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, ArrowException) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(f"{path}: cannot be read: {reason}") from error
    frame = with_optional_columns(frame, OPTIONAL_COLUMNS[table])
    return frame[[column for column in TABLES[table] if column in frame.columns]]


# --- parts and snapshots -------------------------------------------------------------------------


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


def read_part(part: Path, prefix: str = "nvd") -> dict[str, pd.DataFrame]:
    """Every table of one part directory (keyed ``ra`` / ``se`` / ``o1``); InputError when a
    table cannot be used at all."""
    tables: dict[str, pd.DataFrame] = {}
    files = table_files(part)
    for table, known in TABLES.items():
        path = _table_path(files, part, prefix, table)
        if path is None:
            if table in REQUIRED_TABLES:
                raise InputError(f"{part} has no {prefix}_{table}.csv or {prefix}_{table}.parquet")
            tables[table] = pd.DataFrame(columns=list(known), dtype="string")
            continue
        frame = read_table_file(path, table)
        if "happyo_tsukihi_jifun" in frame.columns:  # a stamp re-saved as a date and time
            frame["happyo_tsukihi_jifun"] = stamp_text(frame["happyo_tsukihi_jifun"])
        if frame.empty and table in REQUIRED_TABLES:
            raise InputError(f"{path}: has a header but no rows")
        tables[table] = frame
    return tables


_DAY_NAME: Final = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")  # a folder named after its day


def days_held(part: Path, prefix: str = "nvd") -> frozenset[date] | None:
    """The days a part that cannot be read holds, as far as can be told: the dates of its
    races and runners tables that can be read, else the day its folder is named after
    (``2025-03-03``, ``20250303``); None when nothing tells."""
    days: set[date] = set()
    for table in REQUIRED_TABLES:
        try:
            path = _table_path(table_files(part), part, prefix, table)
            frame = read_table_file(path, table) if path is not None else None
        except InputError:
            continue
        if frame is not None:
            days.update(row_days(frame).dropna())
    if days:
        return frozenset(days)
    named = _DAY_NAME.fullmatch(part.name)
    try:
        return frozenset({date(*map(int, named.groups()))}) if named else None
    except ValueError:  # 20251399: not a day
        return None


@dataclass(frozen=True)
class Snapshot:
    """The whole input as read at one moment: tables of the readable parts and what was not."""

    states: dict[Path, FileState]
    tables: dict[str, pd.DataFrame]
    rejected: tuple[RejectedInput, ...]


def _is_table_name(name: str) -> bool:
    return name.lower() in TABLE_FILE_NAMES


def _is_symlink_loop(path: Path) -> bool:
    try:
        path.stat()
    except OSError as error:
        return error.errno == errno.ELOOP
    return False


@dataclass
class FilesSource:
    """Reads PC-KEIBA tables from files in ``directory`` (one snapshot, cached until it changes)."""

    directory: Path
    name: str = "files"
    _snapshot: Snapshot | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _logged: set[str] = field(default_factory=set, repr=False, compare=False)

    def _log_once(self, message: str) -> None:
        """A warning about the directory's layout, once per source (parts are listed often)."""
        if message not in self._logged:
            self._logged.add(message)
            logger.warning(message)

    def parts(self) -> list[Part]:
        """The directory itself when it holds tables, and each subdirectory that does, with the
        prefix of its circuit; a folder reached again through a symlink is skipped."""
        if not self.directory.is_dir():
            raise SourceUnavailable(f"source directory {self.directory} does not exist")
        entries = sorted(self.directory.iterdir())
        for entry in entries:
            if entry.is_symlink() and _is_symlink_loop(entry) and not _is_table_name(entry.name):
                self._log_once(f"{entry} is a symlink loop: skipped")
        seen: dict[str, Path] = {}
        parts: list[Part] = []
        for folder in [self.directory, *(entry for entry in entries if entry.is_dir())]:
            real = os.path.realpath(folder)
            if real in seen:
                self._log_once(f"{folder} is {seen[real]} again (a symlink): skipped")
                continue
            seen[real] = folder
            prefix = circuit_prefix(folder)
            if prefix is not None:
                parts.append((folder, prefix))
        if not parts:
            tables = " or ".join(f"{p}_ra ({label})" for p, label in CIRCUIT_PREFIXES.items())
            raise InputError(f"{self.directory} has no {tables} table (.csv or .parquet)")
        return parts

    def _states(self, parts: list[Part]) -> dict[Path, FileState]:
        """Each part's table files by their names in lower case (absent ones too: a file that
        appears is a change)."""
        states: dict[Path, FileState] = {}
        for folder, prefix in parts:
            files = table_files(folder)
            for table in TABLES:
                for suffix in SUFFIXES:
                    name = f"{prefix}_{table}{suffix}"
                    states[folder / name] = _file_state(files.get(name, folder / name))
        return states

    def _read(self, parts: list[Part], states: dict[Path, FileState]) -> Snapshot:
        if len(parts) == 1:
            return Snapshot(states, read_part(*parts[0]), ())
        read: list[dict[str, pd.DataFrame]] = []
        rejected: list[RejectedInput] = []
        for folder, prefix in parts:
            try:
                read.append(read_part(folder, prefix))
            except InputError as error:
                logger.warning("part %s set aside: %s", folder, error)
                days = days_held(folder, prefix)
                rejected.append(RejectedInput(location=str(folder), reason=str(error), days=days))
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
            nvd_ra=tables["ra"],
            nvd_se=tables["se"],
            nvd_o1=tables["o1"],
            rejected=tuple(part for part in snapshot.rejected if part.may_hold(start, end)),
        )

    def venues(self, start: date, end: date) -> list[str]:
        """The keibajo codes of every row a read of ``start``..``end`` returns, any table."""
        return venues_in(self._rows_dated(start, end, self.snapshot()))

    def read_days(self, start: date, end: date, venues: Collection[str] | None = None) -> RawDay:
        """Rows dated ``start``..``end`` of every table (plus rows whose date does not exist);
        with ``venues``, those venues' rows only, from the snapshot the venues were listed from
        (so a day's venue reads never mix two versions of the input); of each race and runner
        record, its latest version only (:func:`raceday.sources.base.latest_versions`)."""
        pinned = self._snapshot if venues is not None else None
        snapshot = pinned if pinned is not None else self.snapshot()
        return latest_versions(rows_of_venues(self._rows_dated(start, end, snapshot), venues))


def write_tables(
    raw: RawDay, directory: Path, file_format: str = "csv", prefix: str = "nvd"
) -> list[Path]:
    """Write a RawDay as ``nvd_ra`` / ``nvd_se`` / ``nvd_o1`` files (``jvd_*`` with ``prefix``
    ``jvd``); returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for table, frame in (("ra", raw.nvd_ra), ("se", raw.nvd_se), ("o1", raw.nvd_o1)):
        path = directory / f"{prefix}_{table}.{file_format}"
        if file_format == "parquet":
            frame.astype("string").to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False, encoding="utf-8")
        written.append(path)
    return written
