"""`raceday eval staking` judges the ledger as placed: each day by the model it was staked with."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from raceday.errors import InputError
from raceday.staking.evaluate import predictions_as_placed

D1, D2, D3 = date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)


def predictions(*rows: tuple[date, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"race_date": day, "race_id": f"{day:%Y%m%d}01", "umaban": 1, "model_version": v}
         for day, v in rows]
    )  # fmt: skip


def bets(*rows: tuple[date, str]) -> pd.DataFrame:
    frame = predictions(*rows)
    return frame if len(frame) else pd.DataFrame(columns=["race_date", "model_version"])


def test_a_backfill_that_retrained_is_judged_day_by_day_with_its_own_versions() -> None:
    stored = predictions((D1, "gbm-a"), (D2, "gbm-a"), (D3, "gbm-b"))
    judged, versions = predictions_as_placed(stored, bets())
    assert versions == ["gbm-a", "gbm-b"]
    assert len(judged) == 3


def test_a_day_with_two_versions_takes_the_one_its_bets_were_placed_with() -> None:
    stored = predictions((D1, "gbm-a"), (D1, "gbm-b"), (D2, "gbm-b"))
    judged, versions = predictions_as_placed(stored, bets((D1, "gbm-b")))
    assert versions == ["gbm-b"]
    assert set(judged["model_version"]) == {"gbm-b"} and len(judged) == 2


def test_two_versions_and_no_bet_to_tell_them_apart_is_one_clear_error() -> None:
    stored = predictions((D1, "gbm-a"), (D1, "gbm-b"))
    with pytest.raises(InputError, match="--model"):
        predictions_as_placed(stored, bets())


def test_nothing_stored_is_nothing_judged() -> None:
    judged, versions = predictions_as_placed(predictions().iloc[0:0], bets())
    assert judged.empty and versions == []
