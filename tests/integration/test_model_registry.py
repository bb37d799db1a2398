"""The model registry on SQLite and PostgreSQL: artifacts round-trip, promotion follows the rule,
and a day only ever gets a version trained strictly before it."""

from __future__ import annotations

import subprocess
from datetime import date, timedelta

import pandas as pd
import pytest

from raceday.model.win import ScorerOptions, WinModel, fit_win_model, model_predictions, time_split
from raceday.store import registry
from raceday.store.engine import make_engine, upgrade_schema
from tests.unit.test_model import synthetic_runners

START = date(2026, 1, 1)


@pytest.fixture(scope="module")
def small_model() -> tuple[WinModel, pd.DataFrame]:
    """A two-stage model fitted on 60 synthetic days (seconds), and its held-out runners."""
    runners = synthetic_runners(600, 4, START)
    split = time_split(START + timedelta(days=59), 20, 20, 20)
    fitted = fit_win_model(runners, split, "gbm-20260301", ScorerOptions(max_iter=10))
    return fitted.model, fitted.held_out


def renamed(model: WinModel, name: str) -> WinModel:
    return WinModel(name, model.scorer, model.kappa, model.blend, model.inputs)


@pytest.mark.parametrize(
    ("candidate", "market", "incumbent", "incumbent_ll", "promote"),
    [
        (1.90, 1.95, None, None, True),  # the first version only has to beat the market
        (1.96, 1.95, None, None, False),
        (1.95, 1.95, None, None, False),  # a tie is not better
        (1.90, 1.95, "gbm-20260101", 1.92, True),
        (1.93, 1.95, "gbm-20260101", 1.92, False),  # better than the market, not the incumbent
        (1.91, 1.90, "gbm-20260101", 1.92, False),  # better than the incumbent, not the market
    ],
)
def test_promotion_rule(
    candidate: float, market: float, incumbent: str | None, incumbent_ll: float | None,
    promote: bool,
) -> None:  # fmt: skip
    """Promoted only when the blend's held-out log loss beats the market and the incumbent."""
    decision = registry.promotion_decision(candidate, market, incumbent, incumbent_ll)
    assert decision.promote is promote
    assert decision.reason


def test_registry_round_trip_and_point_in_time_versions(
    store_url: str, small_model: tuple[WinModel, pd.DataFrame]
) -> None:
    """Versions stored with their artifact; version_for_day is the latest promoted version
    trained strictly before the day; re-registering replaces, never duplicates."""
    model, held_out = small_model
    engine = make_engine(store_url)
    upgrade_schema(engine)
    march, april, may = date(2026, 3, 1), date(2026, 4, 1), date(2026, 5, 1)
    with engine.begin() as connection:
        assert registry.version_for_day(connection, date(2030, 1, 1)) is None
        for until, promoted in ((march, True), (april, True), (may, False)):
            version = renamed(model, registry.version_name(until))
            registry.register_model(connection, version, until, {"split": {}}, 1.9)
            if promoted:
                registry.promote(connection, version.version)
        registry.register_model(  # a re-run of the same training day
            connection, renamed(model, "gbm-20260501"), may, {"split": {}, "rerun": True}, 1.9
        )
    with engine.connect() as connection:
        assert registry.version_for_day(connection, march) is None
        assert registry.version_for_day(connection, march + timedelta(days=1)) == "gbm-20260301"
        assert registry.version_for_day(connection, april) == "gbm-20260301"
        assert registry.version_for_day(connection, april + timedelta(days=1)) == "gbm-20260401"
        assert registry.version_for_day(connection, date(2026, 6, 1)) == "gbm-20260401"
        assert registry.promoted_version(connection) == "gbm-20260401"
        versions = registry.list_versions(connection)
        assert list(versions["name"]) == ["gbm-20260501", "gbm-20260401", "gbm-20260301"]
        assert registry.model_meta(connection, "gbm-20260501") == {"split": {}, "rerun": True}
        loaded = registry.load_model(connection, "gbm-20260401")
        with pytest.raises(KeyError):
            registry.load_model(connection, "gbm-19990101")
    again = model_predictions(loaded, held_out)
    original = model_predictions(model, held_out)
    pd.testing.assert_series_equal(again["p_final"], original["p_final"])


def test_the_code_version_is_the_first_described_in_a_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An edit of the checkout while a process runs (``git describe --dirty`` changes) does not
    change the code version its later versions record: the code it runs is what it loaded."""
    described = iter(["v1-3-gabc1234", "v1-3-gabc1234-dirty"])

    def describe(*_args: object, **_kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess([], 0, stdout=next(described) + "\n")

    registry.code_version.cache_clear()
    monkeypatch.setattr(registry.subprocess, "run", describe)
    try:
        first = registry.code_version()
        assert first.endswith("(v1-3-gabc1234)")
        assert registry.code_version() == first
    finally:
        registry.code_version.cache_clear()
