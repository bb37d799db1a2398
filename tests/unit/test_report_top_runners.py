"""The report's top runners by composite index: per race, highest first, ties by horse number."""

from __future__ import annotations

import numpy as np
import pandas as pd

from raceday.monitoring.report import (
    TOP_RUNNER_COLUMNS,
    top_runners_by_composite,
    top_runners_markdown,
)


def test_top_runners_per_race_by_composite() -> None:
    """Race a: 3 of 4 runners (NaN composite never ranks); race b: its only runner."""
    indexes = pd.DataFrame(
        {
            "race_id": ["a", "a", "a", "a", "a", "b"], "umaban": [1, 2, 3, 4, 5, 1],
            "composite_index": [70.0, 90.0, 85.0, 90.0, np.nan, 60.0],
            "speed_index": 80.0, "ten_index": 80.0, "agari_index": 80.0,
        }
    )  # fmt: skip
    runners = pd.DataFrame(
        {
            "race_id": ["a"] * 5 + ["b"], "umaban": [1, 2, 3, 4, 5, 1],
            "horse_name": ["イチ", "ニ", "サン", "ヨン", "ゴ", "ビー"],
            "finish_pos": pd.array([4, 1, 2, 3, None, 1], dtype="Int64"),
        }
    )  # fmt: skip
    races = pd.DataFrame(
        {"race_id": ["a", "b"], "keibajo_code": ["44", "45"], "race_bango": [11, 1]}
    )
    top = top_runners_by_composite(indexes, runners, races, per_race=3)
    assert list(top.columns) == TOP_RUNNER_COLUMNS
    assert top[top["race_id"] == "a"]["umaban"].tolist() == [2, 4, 3]
    assert top["rank"].tolist() == [1, 2, 3, 1]
    text = top_runners_markdown(top, {"44": "大井", "45": "川崎"})
    assert "| 大井 | 11 | 2 ニ 90.0 (1) | 4 ヨン 90.0 (3) | 3 サン 85.0 (2) |" in text
    assert "| 川崎 | 1 | 1 ビー 60.0 (1) | – | – |" in text
