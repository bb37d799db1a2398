"""A day file's bytes as text: CP932 (Shift-JIS), as the official downloads are, from a ``.TXT``
or the one text inside an ``.lzh`` archive.

A file that is not CP932 text at all (saved again as UTF-8, compressed by a download tool) is
bad input, refused in one line naming the file: decoded as CP932 anyway, every Japanese line
of it became garbage, and the day ran with no race read (the results silently missing, or the
program "nothing valid"). A stray byte in a CP932 file is not that: it decodes to U+FFFD and
only its line is set aside by the parser.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from raceday.boat import layout
from raceday.errors import InputError

COMPRESSED: Final = {  # the leading bytes of what download tools wrap a file in
    b"\x1f\x8b": "gzip", b"PK\x03\x04": "zip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz",
}  # fmt: skip
UTF8_BOM: Final = b"\xef\xbb\xbf"
UTF16_BOMS: Final = (b"\xff\xfe", b"\xfe\xff")
AS_DOWNLOADED: Final = "not CP932 (Shift-JIS) text: use the file as downloaded"
DOS_END_OF_FILE: Final = b"\x1a"  # what old DOS tools write after a text file's last line


def cp932_problem(data: bytes) -> str | None:
    """Why ``data`` is not a CP932 day file's text (compressed, UTF-8, UTF-16), or None. Only
    unmistakable signs count: a valid UTF-8 file with non-ASCII bytes (Japanese CP932 text is
    never valid UTF-8 throughout), a byte-order mark, a compression header."""
    for magic, name in COMPRESSED.items():
        if data.startswith(magic):
            return f"{name}-compressed, {AS_DOWNLOADED} (or its .lzh)"
    if data.startswith(UTF8_BOM):
        return f"UTF-8 text with a byte-order mark, {AS_DOWNLOADED}"
    if data.startswith(UTF16_BOMS):
        return f"UTF-16 text, {AS_DOWNLOADED}"
    if data.isascii():
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return f"UTF-8 text, {AS_DOWNLOADED}"


def decode_day_file(data: bytes) -> str:
    """A day file's bytes as text: CP932; a byte it cannot decode becomes U+FFFD, never an error.
    A trailing DOS end-of-file byte (0x1A) is no line: it is dropped (it was set aside as a
    garbage line of an invisible character)."""
    return data.rstrip(DOS_END_OF_FILE).decode(layout.ENCODING, errors="replace")


def day_file_text(path: Path) -> str:
    """The text of a day file (``.TXT`` or ``.lzh``); InputError, one line, when it is not
    CP932 text (:func:`cp932_problem`) or cannot be read."""
    data = read_day_bytes(path)
    problem = cp932_problem(data)
    if problem is not None:
        raise InputError(f"{path}: is {problem}")
    return decode_day_file(data)


def read_day_bytes(path: Path) -> bytes:
    """The bytes of a ``.TXT`` day file, or of the one ``.TXT`` inside an ``.lzh`` archive."""
    try:
        if path.suffix.lower() != ".lzh":
            return path.read_bytes()
        import lhafile  # LZH archives, as the official downloads come

        archive = lhafile.Lhafile(str(path))
        names = [info.filename for info in archive.infolist()]
        texts = [name for name in names if name.lower().endswith(".txt")] or names
        if not texts:
            raise InputError(f"{path}: the archive holds no file")
        data: bytes = archive.read(texts[0])
        return data
    except InputError:
        raise
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror or error})") from None
    except Exception as error:  # noqa: BLE001  # lhafile raises bare and varied errors
        raise InputError(f"{path}: not a readable LZH archive ({error})") from None
