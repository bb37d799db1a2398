"""PC-KEIBA CSV text as records: how many fields each holds, where the last whole one ends,
and a block of them parsed as text columns (:mod:`raceday.sources.files` reads a file in such
blocks)."""

from __future__ import annotations

import csv
import io
import re
import warnings
from typing import Final

import numpy as np
import pandas as pd

_LINE_IN_ERROR: Final = re.compile(r"\bline (\d+)")


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
