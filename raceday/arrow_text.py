"""Pandas text held by Arrow (``string[pyarrow]``, pandas 3's ``str``), answered by Arrow's own
kernels where pandas would make a Python object of every value.

Low-level on purpose: the codec, the store's catalogs and the data checks all use it, and it
imports nothing of theirs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def as_chunked_text(text: pd.Series | pd.Index) -> pa.ChunkedArray:
    """``text`` (pandas text) as one Arrow chunked array of ``large_string``, without copying
    Arrow-backed text. A column concatenated from several frames (a chunk's days) is Arrow
    chunks that ``pa.array`` hands back as they are; wrapping those in a new chunked array
    would read them value by value (≈ 1.5 µs a value: most of a chunk's decoding)."""
    converted = pa.array(text.array, type=pa.large_string())
    if isinstance(converted, pa.ChunkedArray):
        return converted
    return pa.chunked_array([converted])


def is_arrow_text(text: pd.Series | pd.Index) -> bool:
    """Whether ``text`` is pandas text held by Arrow (missing as ``<NA>`` or as NaN)."""
    dtype = text.dtype
    return isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"


def text_contains(text: pd.Series, part: str) -> bool:
    """Whether any value of ``text`` (pandas text) holds ``part``: pandas'
    ``text.str.contains(part, regex=False).any()``, by Arrow's ``match_substring`` (a tenth of
    its cost on the few rows of a small write, asked of every text column the store writes)."""
    return bool(pc.any(pc.match_substring(as_chunked_text(text), part)).as_py())


def text_isin(text: pd.Series, values: pd.Series | pd.Index) -> pd.Series:
    """``text.isin(values)``, the same answer (a missing value found where ``values`` has
    one). When both are Arrow text, in one Arrow pass over the distinct values: pandas makes
    a Python object of every value of ``values``, repeats included (1,000,000 text values
    against as many: 5.0 s of CPU, 0.04 s here), and an index lookup (``get_indexer``: 0.17 s
    there) needs distinct values."""
    if not (is_arrow_text(text) and is_arrow_text(values)):
        return text.isin(values)
    distinct = pc.unique(as_chunked_text(values))
    found = pc.is_in(as_chunked_text(text), value_set=distinct)  # a null finds a null
    inside = np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.bool_)
    return pd.Series(inside, index=text.index, name=text.name)
