"""The encoding of a CSV export's text: UTF-8 (with or without a byte-order mark) or CP932.

Split from :mod:`raceday.sources.files` (which reads the tables) so the detection and the line
that refuses text of neither encoding live in one place.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Final

from raceday.errors import InputError

DETECT_BYTES: Final = 1024 * 1024  # bytes decoded at a time to tell the encoding
BOM: Final = b"\xef\xbb\xbf"
# CP932 decodes almost any byte: its private-use mappings of single bytes (0xa0, 0xfd-0xff) and
# control characters other than tab / line ends mean the bytes are not CP932 text after all.
NOT_CP932_TEXT: Final = re.compile("[\uf8f0-\uf8f3\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _undecodable(path: Path, encoding: str) -> tuple[int, int] | None:
    """(offset, byte) of the first byte that is not ``encoding`` text, None when all of it is.

    Reads the file in bounded blocks through an incremental decoder (memory does not grow with
    the file); for CP932, the bytes it maps to private use or control characters count as not
    text, at their own offset (also when a byte it cannot decode follows in the same block).
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with path.open("rb") as handle:
        while True:
            block = handle.read(DETECT_BYTES)
            data = decoder.getstate()[0] + block  # the bytes held over from the block before
            start = offset - len(data) + len(block)  # the file offset of data[0]
            try:
                text, stop = decoder.decode(block, final=not block), None
            except UnicodeDecodeError as error:
                text, stop = data[: error.start].decode(encoding), error.start
            found = NOT_CP932_TEXT.search(text) if encoding == "cp932" else None
            if found:
                at = _cp932_length(text[: found.start()])
                return start + at, data[at]
            if stop is not None:
                return start + stop, data[stop]
            if not block:
                return None
            offset += len(block)


def _cp932_length(text: str) -> int:
    """How many CP932 bytes ``text`` was decoded from: each character is one or two bytes, the
    same in both directions (a character CP932 cannot write back came from one byte)."""
    return len(text.encode("cp932", errors="replace"))


def detect_encoding(path: Path, head: bytes) -> str:
    """The Python codec of a CSV file's text: ``utf-8-sig``, ``utf-8`` or ``cp932``.

    InputError naming the file and the first byte that is no text when the text is neither UTF-8
    nor CP932: in the encoding that reads further (:func:`_stray_byte`).
    """
    not_utf8 = _undecodable(path, "utf-8")
    if not_utf8 is None:
        return "utf-8-sig" if head.startswith(BOM) else "utf-8"
    not_cp932 = None if head.startswith(BOM) else _undecodable(path, "cp932")
    if not head.startswith(BOM) and not_cp932 is None:
        return "cp932"
    offset, byte = _stray_byte(not_utf8, not_cp932)
    raise InputError(
        f"{path}: not UTF-8 or Shift-JIS (CP932) text (byte 0x{byte:02x} at offset {offset})"
    )


def _stray_byte(not_utf8: tuple[int, int], not_cp932: tuple[int, int] | None) -> tuple[int, int]:
    """The (offset, byte) to name for text that is neither UTF-8 nor CP932: where the encoding
    that reads further stops, since the file is written in that one (a CP932 export with one
    stray byte stops being UTF-8 at its first Japanese character, valid CP932); a tie, or a
    byte-order mark (UTF-8 for sure), names UTF-8's."""
    if not_cp932 is not None and not_cp932[0] > not_utf8[0]:
        return not_cp932
    return not_utf8
