"""The card's view of a day (``tasks.validate.card_view``: result fields blanked, the odds its
races' deadlines may see) holds the decoded tables that decoding its own tables gives, while
the day's decode is shared: only the columns read from the blanked fields are decoded again.
That rests on each decoded column being read from its declared fields alone
(``raceday.codec.race_columns_reading`` / ``runner_columns_reading``), checked here field by
field."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest

from raceday import codec
from raceday.schema import NVD_RA_COLUMNS, NVD_SE_COLUMNS
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.sources import base
from raceday.sources.base import RawDay, card_only
from raceday.sources.timeline import CardTiming, card_odds
from tasks.validate import card_view

TIMINGS = [CardTiming(), CardTiming(odds_at="lead")]


def odd_day() -> RawDay:
    """Two simulated days, their fields written as sources write them at worst: padded and
    full-width digits, malformed times and odds, scratches before and after the card, a blank
    post time, a capped and a marked odds field."""
    raw = simulate_days(date(2025, 3, 1), date(2025, 3, 2), SimulatorConfig(races_per_day=24)).raw
    se, ra = raw.nvd_se.copy(), raw.nvd_ra.copy()
    se.loc[0, "ijo_kubun_code"] = "1"  # scratched before betting: kept on the card
    se.loc[1, "ijo_kubun_code"] = "4"  # excluded later: a result
    se.loc[2, "soha_time"] = "1x23"
    se.loc[3, "tansho_odds"] = "----"
    se.loc[4, "tansho_odds"] = "99+"
    se.loc[5, "kakutei_chakujun"] = "０３"
    se.loc[6, "kohan_3f"] = " 385"
    se.loc[7, "time_sa"] = "-005"
    se.loc[8, "corner_2"] = "A"
    ra.loc[0, "zenhan_3f"] = "36x"
    ra.loc[1, "kohan_3f"] = "０３８２"
    ra.loc[2, "hasso_jikoku"] = ""
    return RawDay(nvd_ra=ra, nvd_se=se, nvd_o1=raw.nvd_o1)


@pytest.mark.parametrize("timing", TIMINGS)
def test_the_card_view_holds_what_decoding_its_tables_gives(timing: CardTiming) -> None:
    """The view's tables are the day's with the results blanked and the odds by the deadlines
    (as blanking the view with those odds gives them: no deadline reads a result field); its
    decoded races and runners are those of its own tables, decoded from scratch, exactly."""
    raw = odd_day()
    view = card_view(raw, timing)
    by_odds_first = card_only(card_odds(odd_day(), timing))
    for table in ("nvd_ra", "nvd_se", "nvd_o1"):
        pd.testing.assert_frame_equal(getattr(view, table), getattr(by_odds_first, table))
    fresh = RawDay(nvd_ra=view.nvd_ra, nvd_se=view.nvd_se, nvd_o1=view.nvd_o1)
    pd.testing.assert_frame_equal(view.races, fresh.races, check_exact=True)
    pd.testing.assert_frame_equal(view.runners, fresh.runners, check_exact=True)
    assert view.runners["finish_pos"].isna().all() and raw.runners["finish_pos"].notna().any()


def perturbed(table: pd.DataFrame, field: str) -> list[pd.DataFrame]:
    """``table`` with ``field`` written otherwise: blank, zeros, letters, full-width digits,
    other rows' values."""
    values = table[field].astype("string")
    others = pd.Series(np.roll(values.to_numpy(), 7), index=table.index, dtype="string")
    variants = [
        pd.Series("", index=table.index, dtype="string"),
        pd.Series("0", index=table.index, dtype="string"),
        pd.Series("ZZ", index=table.index, dtype="string"),
        values.str.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
        others,
    ]
    return [table.assign(**{field: variant}) for variant in variants]


def changed_columns(before: pd.DataFrame, after: pd.DataFrame) -> set[str]:
    return {
        column
        for column in before.columns
        if not before[column].astype("string").equals(after[column].astype("string"))
    }


@pytest.mark.parametrize(
    ("fields", "decode", "reading"),
    [
        (NVD_RA_COLUMNS, codec.decode_races, codec.race_columns_reading),
        (NVD_SE_COLUMNS, codec.decode_runners, codec.runner_columns_reading),
    ],
)
def test_each_decoded_column_reads_its_declared_fields_only(
    fields: tuple[str, ...], decode: Any, reading: Any
) -> None:
    """Written otherwise, a raw field changes only the decoded columns declared as reading it;
    every decoded column is declared, and decodes alone as in the whole frame."""
    raw = odd_day()
    table = (raw.nvd_ra if decode is codec.decode_races else raw.nvd_se).head(12)
    table = table.reset_index(drop=True)
    decoded = decode(table)
    assert set(reading(fields)) == set(decoded.columns)
    for column in decoded.columns:
        pd.testing.assert_series_equal(decode(table, [column])[column], decoded[column])
    # every field's variants decoded at once (a row decodes alone), then compared block by block
    blocks = [(field, other) for field in fields for other in perturbed(table, field)]
    every = decode(pd.concat([other for _, other in blocks], ignore_index=True))
    rows = len(table)
    for number, (field, _) in enumerate(blocks):
        block = every.iloc[number * rows : (number + 1) * rows].reset_index(drop=True)
        assert changed_columns(decoded, block) <= set(reading([field])), field


def test_odds_replaced_keep_the_decoded_tables() -> None:
    """``with_odds``: a day with other snapshots holds the decode made so far (the same races
    and runners tables), none when nothing was decoded yet."""
    raw = odd_day()
    assert "runners" not in vars(base.with_odds(raw, raw.nvd_o1.iloc[:0]))
    runners = raw.runners
    fewer = base.with_odds(raw, raw.nvd_o1.iloc[:5])
    assert fewer.runners is runners and len(fewer.nvd_o1) == 5
    pd.testing.assert_frame_equal(fewer.races, replace(raw).races)


@pytest.mark.parametrize(("table", "column"), [("nvd_ra", "kyori"), ("nvd_se", "umaban")])
def test_a_day_without_a_required_column_is_refused_before_any_decode(
    table: str, column: str
) -> None:
    """The card's view decodes nothing until asked, so validation refuses a day whose tables
    lack a column the pipeline needs with its one line (``require_columns``), as before."""
    from raceday.errors import InputError
    from tasks.validate import validate_phase

    raw = odd_day()
    tables = {"nvd_ra": raw.nvd_ra, "nvd_se": raw.nvd_se, "nvd_o1": raw.nvd_o1}
    tables[table] = tables[table].drop(columns=[column])
    with pytest.raises(InputError, match=f"{table} lacks required column"):
        validate_phase(RawDay(**tables), "card", CardTiming())
