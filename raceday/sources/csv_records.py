"""PC-KEIBA CSV text as records: the header's column names, how many fields each record holds,
where the last whole one ends, lines repeating the header, and a block of records parsed as text
columns (:mod:`raceday.sources.files` reads a file in such blocks)."""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import Final

import numpy as np
import pandas as pd

_LINE_IN_ERROR: Final = re.compile(r"\bline (\d+)")
_BOM_CHAR: Final = "\ufeff"  # a byte-order mark read as text: a file's own is decoded away
_LINES_NAMED: Final = 5  # lines a warning names before it counts the rest


def column_name(name: object) -> str:
    """A header's column name as the tables name it: without the spaces around it, in lower
    case (a tool that writes ``KAISAI_NEN``, as SQL Server or Access export, means the same)."""
    return str(name).strip().lower()


def column_names(names: Iterable[object]) -> list[str]:
    """The header's names as the tables name them, a name met again (``umaban`` after
    ``UMABAN``) marked as pandas marks a repeated one (``umaban.1``): the first is read."""
    found: list[str] = []
    for name in names:
        plain = column_name(name)
        repeats = sum(earlier.partition(".")[0] == plain for earlier in found)
        found.append(f"{plain}.{repeats}" if repeats else plain)
    return found


def header_names(line: str) -> list[str]:
    """The column names of a header line as the tables name them (:func:`column_name`: any
    case, spaces around), quoted or not, after a byte-order mark if any."""
    return [column_name(name) for name in next(csv.reader([line.lstrip(_BOM_CHAR)]), [])]


def _line_starts_like(first_name: str) -> re.Pattern[str]:
    """A line end followed by what a line repeating a header begins with: its first column's
    name in any case, after spaces, quotes or a byte-order mark. A literal line end first, so
    the search skips from line to line (the text's lower case, or ``re.IGNORECASE`` over all of
    it, cost 10 times more)."""
    return re.compile('\n[\ufeff \t"]*(?i:' + re.escape(first_name) + ")")


def blank_repeated_headers(header: str, block: str) -> tuple[str, list[int]]:
    """``block`` with every line repeating ``header`` (by :func:`header_names`: another
    export's header, as ``cat`` of monthly files leaves one mid-file) made empty, and those
    lines' indexes in the block. An empty line is no record, and the file's lines keep their
    numbers; read as a record, the header was a race (``kaisai_nen`` its id) of no day."""
    names = header_names(header)
    starts = [match.start() for match in _line_starts_like(names[0]).finditer("\n" + block)]
    repeated: list[tuple[int, int]] = []  # (start, end) of each line repeating the header
    for start in starts:
        end = block.find("\n", start)
        end = len(block) if end < 0 else end
        if header_names(block[start:end].rstrip("\r")) == names:
            repeated.append((start, end))
    if not repeated:
        return block, []
    kept = [block[: repeated[0][0]]]
    kept += [block[end:start] for (_, end), (start, _) in pairwise(repeated)]
    kept.append(block[repeated[-1][1] :])
    return "".join(kept), [block.count("\n", 0, start) for start, _ in repeated]


def repeated_header_note(line_numbers: Sequence[int]) -> str:
    """What is said of the lines that repeat a file's header (by their numbers in the file)."""
    named = ", ".join(str(number) for number in line_numbers[:_LINES_NAMED])
    more = len(line_numbers) - _LINES_NAMED
    where = f"{named} and {more} more" if more > 0 else named
    lines = "lines" if len(line_numbers) > 1 else "line"
    return f"skipped {len(line_numbers)} line(s) repeating its header ({lines} {where})"


def fields_per_record(text: str) -> np.ndarray:
    """How many fields each data record holds (pandas pads short records with '' silently)."""
    if '"' in text:  # quoted fields may hold commas or newlines: let the csv module count
        counts = [len(record) for record in csv.reader(io.StringIO(text)) if record]
        return np.asarray(counts[1:], dtype=np.int64)
    lines = pd.Series(text.split("\n"), dtype="string").str.rstrip("\r")
    lines = lines[lines != ""]
    return (lines.str.count(",") + 1).to_numpy(dtype=np.int64)[1:]


def last_record_end(text: str) -> int:
    """Index of the last newline that ends a record (outside quotes); -1 when none does."""
    cut = text.rfind("\n")
    if '"' not in text or cut < 0:
        return cut
    odd = text.count('"', 0, cut) % 2
    while cut >= 0 and odd:  # inside a quoted field: step back line by line
        previous = text.rfind("\n", 0, cut)
        odd ^= text.count('"', previous + 1, cut) % 2
        cut = previous
    return cut


def blank_beyond(text: str, width: int) -> bool:
    """Whether every record of ``text`` (its header first) holding more than ``width`` fields
    has nothing but blanks beyond them: a trailing delimiter on every data line, as some tools
    write, not a value of a column the header does not name."""
    if '"' in text:
        records = list(csv.reader(io.StringIO(text)))[1:]
        return all(not "".join(record[width:]).strip() for record in records)
    lines = pd.Series(text.split("\n")[1:], dtype="string").str.rstrip("\r")
    extra = lines.str.split(",", n=width).str.get(width).fillna("")
    return bool(extra.str.fullmatch(r"[,\s]*").all())


def parse_block(header: str, block: str, lines_before: int) -> tuple[pd.DataFrame, np.ndarray]:
    """One block of records as text columns, and how many fields each record held. A data
    line holding one more field than the header is read from its first field, never with that
    field taken for the row's label (pandas' default, which shifted every column of a file whose
    data lines end with a delimiter); the blank field past the header's is dropped, and a file
    whose extra fields hold values is refused."""
    text = header + "\n" + block
    try:
        with warnings.catch_warnings():  # "loss of data with index_col=False": judged below
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.StringIO(text), dtype=str, keep_default_na=False, index_col=False
            )
    except pd.errors.ParserError as error:
        # pandas counts lines from the block's header: say where they are in the file.
        message = _LINE_IN_ERROR.sub(
            lambda found: f"line {int(found.group(1)) + lines_before}", str(error)
        )
        raise pd.errors.ParserError(message) from error
    return frame, fields_per_record(text)
