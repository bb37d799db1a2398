"""Property: no text, however broken, makes the B or K parser raise."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from raceday.boat.day_text import decode_day_file
from raceday.boat.files import parse_b_text, parse_k_text
from tests.unit.boat.excerpts import PROGRAM, RESULTS

LINES = st.lists(
    st.one_of(
        st.text(max_size=120),
        st.sampled_from(["05BBGN", "05BEND", "05KBGN", "05KEND", "99KBGN", "STARTK", ""]),
        st.sampled_from(PROGRAM.splitlines() + RESULTS.splitlines()).map(lambda line: line[:50]),
    ),
    max_size=40,
)


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    """Any bytes, decoded as a day file is, parse without an exception."""
    text = decode_day_file(data)
    parse_b_text(text)
    parse_k_text(text)


@given(LINES, st.integers(min_value=0, max_value=80))
def test_garbage_spliced_into_real_files_never_raises(garbage: list[str], at: int) -> None:
    """Broken lines anywhere in a real-looking file: set aside or ignored, never a traceback."""
    for text in (PROGRAM, RESULTS):
        lines = text.splitlines()
        spliced = "\r\n".join(lines[:at] + garbage + lines[at:])
        program = parse_b_text(spliced)
        results = parse_k_text(spliced)
        assert list(program.rejected.columns) == ["line_number", "line", "reason"]
        assert results.payouts["bet_type"].notna().all()
