"""``raceday eval model`` over a range that starts before the first promoted model: the days it
was in use on are judged, by it only, and the days before are said, not judged (nor refused)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any, ClassVar

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from cli import app
from raceday.errors import InputError
from raceday.model.registry import covered_range

DAYS = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))


@given(DAYS, st.integers(0, 60), st.one_of(st.none(), DAYS))
def test_only_days_a_promoted_model_was_in_use_on_are_judged(
    start: date, length: int, trained_until: date | None
) -> None:
    """The judged days start on the first day after the first version's training data (never
    on it: point in time), or on ``start``; a range it covers none of is refused naming it and
    the first day it is in use; the days left out are said with the version."""
    end = start + timedelta(days=length)
    first = None if trained_until is None else ("gbm-" + f"{trained_until:%Y%m%d}", trained_until)
    if trained_until is None or trained_until >= end:
        with pytest.raises(InputError) as refused:
            covered_range(start, end, first)
        if first is not None:
            assert first[0] in str(refused.value)
            assert str(trained_until + timedelta(days=1)) in str(refused.value)
        return
    covered = covered_range(start, end, first)
    assert covered.end == end
    assert covered.start == max(start, trained_until + timedelta(days=1))
    assert covered.start > trained_until
    if covered.start == start:
        assert covered.not_covered is None
    else:
        assert covered.not_covered is not None
        assert f"{start}..{trained_until} not judged" in covered.not_covered
        assert first is not None and first[0] in covered.not_covered


class ZeroScorer:
    """A scorer without a fit: every runner scores 0 (the model's softmax is uniform)."""

    def decision_function(self, inputs: Any) -> np.ndarray:
        return np.zeros(len(inputs))


class ZeroPipeline:
    steps: ClassVar = [("booster", ZeroScorer())]


def _store_with_a_model_from(url: str, start: date, end: date, trained_until: date) -> None:
    """Settled simulated days ``start``..``end`` (4 races a day, morning odds) and one promoted
    version, trained until ``trained_until``."""
    from raceday import codec, odds_snapshots
    from raceday.model.condlogit import BlendParameters
    from raceday.model.win import WinModel
    from raceday.simulate.config import SimulatorConfig
    from raceday.simulate.days import simulate_days
    from raceday.sources.timeline import CardTiming, card_odds
    from raceday.store import registry
    from raceday.store.catalogs.races import write_odds, write_races_and_runners
    from raceday.store.engine import make_engine, upgrade_schema

    raw = simulate_days(start, end, SimulatorConfig(races_per_day=4)).raw
    races, runners = codec.decode_races(raw.nvd_ra), codec.decode_runners(raw.nvd_se)
    snapshot = odds_snapshots.decode_odds_snapshot(card_odds(raw, CardTiming()).nvd_o1)
    engine = make_engine(url)
    upgrade_schema(engine)
    name = registry.version_name(trained_until)
    model = WinModel(name, ZeroPipeline(), 1.0, BlendParameters(0.0, 1.0, 0))
    meta = {"trained_until": trained_until.isoformat(), "split": {"blend_end": str(trained_until)}}
    with engine.begin() as connection:
        write_races_and_runners(connection, races, runners, has_results=True, source="sim")
        write_odds(connection, snapshot[snapshot["win_odds"] >= 1.0], runners)
        registry.register_model(connection, model, trained_until, meta, None)
        registry.promote(connection, name)


def test_a_range_starting_before_the_first_model_is_judged_from_its_first_day(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`eval model --start 2026-11-01 --end 2026-11-08` with gbm-20261104 the first promoted
    version exited 2 ("no model promoted before 2026-11-01"), naming no model; now 11-05..11-08
    are judged by it and a note says 11-01..11-04 were not, and why. A range wholly before it
    is refused naming it and its first day. Run twice: the same."""
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "0")
    _store_with_a_model_from(sqlite_url, date(2026, 11, 1), date(2026, 11, 8), date(2026, 11, 4))
    runner = CliRunner()
    args = ["eval", "model", "--start", "2026-11-01", "--end", "2026-11-08", "--db", sqlite_url]
    for _run in range(2):
        judged = runner.invoke(app, [*args, "--json"])
        assert judged.exit_code == 0, judged.stderr
        result = json.loads(judged.stdout)
        assert result["version"] == "gbm-20261104"
        assert result["period"] == {"start": "2026-11-05", "end": "2026-11-08"}
        assert result["requested"] == {"start": "2026-11-01", "end": "2026-11-08"}
        assert result["races"] == 4 * 4 and result["out_of_sample"] is True
        assert "2026-11-01..2026-11-04 not judged" in result["not_judged"]
        printed = runner.invoke(app, args)
        assert printed.exit_code == 0, printed.stderr
        assert "note: 2026-11-01..2026-11-04 not judged" in " ".join(printed.stdout.split())
    before = runner.invoke(
        app, ["eval", "model", "--start", "2026-11-01", "--end", "2026-11-04", "--db", sqlite_url]
    )
    assert before.exit_code == 2 and "Traceback" not in before.stderr
    assert "gbm-20261104" in before.stderr and "2026-11-05" in before.stderr
