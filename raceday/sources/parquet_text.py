"""Parquet columns as PC-KEIBA text: what a Parquet writer typed (numbers, with ``.0`` or
without their leading zeros; lists or records) read back as the fixed-width text fields the
decoders expect, or refused by name."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa


def as_pc_keiba_text(values: pd.Series, width: int | None) -> pd.Series:
    """A Parquet column as PC-KEIBA text: numbers without ``.0`` (zero-filled to ``width``),
    NaN missing, inf kept as text."""
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return values.astype("string")
    numbers = values.astype("float64")
    integral = np.isfinite(numbers) & (numbers == np.round(numbers))
    whole = numbers.where(integral).astype("Int64").astype("string")
    if width is not None:
        whole = whole.str.zfill(width)
    return whole.where(integral, values.astype("string"))


def nested_column(schema: pa.Schema, names: Iterable[str]) -> tuple[str, pa.DataType] | None:
    """The first of ``names`` whose cells are lists, records or maps (no PC-KEIBA field: a
    pandas column of Python lists is written as ``list<string>``), with its type; None."""
    for name in names:
        kind = schema.field(name).type
        if pa.types.is_nested(kind):
            return name, kind
    return None
