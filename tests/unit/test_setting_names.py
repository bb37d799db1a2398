"""A ``RACEDAY_`` variable that names no setting is a mistake said in one line (a misspelt
``RACEDAY_KELY__FRACTION`` would otherwise leave the stakes at the default fraction without a
word), and every variable the docs and deployments name is a setting."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config import load_settings
from config.settings import setting_path, setting_variables, unknown_setting_lines
from raceday.errors import InvalidSettings

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("RACEDAY_KELLY__FRACTION", ["kelly", "fraction"]),
        ("raceday_kelly__fraction", ["kelly", "fraction"]),  # the settings read any case
        ("RACEDAY_KELLY", ["kelly"]),  # a whole section as JSON
        ("RACEDAY_DB_URL", ["db_url"]),
        ("RACEDAY_MONITOR__RUN_BUDGETS_S__DAILY", ["monitor", "run_budgets_s", "daily"]),
        ("RACEDAY_KELY__FRACTION", None),
        ("RACEDAY_KELLY__FRACTON", None),
        ("RACEDAY_DB_URL__HOST", None),  # below a plain value
        ("RACEDAY_", None),
    ],
)
def test_a_variable_names_its_setting_or_none(name: str, path: list[str] | None) -> None:
    assert setting_path(name) == path


def test_unknown_variables_are_named_with_the_setting_they_look_like() -> None:
    environment = {
        "RACEDAY_BANKROL_YEN": "5000",
        "RACEDAY_KELLY__FRACTON": "0.1",
        "RACEDAY_ZZZ": "1",
        "RACEDAY_KELLY__FRACTION": "0.1",
        "RACEDAY_HOME": "/srv/raceday",  # the worker's checkout, not a setting
        "RACEDAY_TEST_REQUIRE_POSTGRES": "1",
        "PATH": "/bin",
    }
    assert unknown_setting_lines(environment) == [
        "unknown setting RACEDAY_BANKROL_YEN: raceday has no such setting "
        "(did you mean RACEDAY_BANKROLL_YEN?)",
        "unknown setting RACEDAY_KELLY__FRACTON: raceday has no such setting "
        "(did you mean RACEDAY_KELLY__FRACTION?)",
        "unknown setting RACEDAY_ZZZ: raceday has no such setting",
    ]


def test_loading_settings_refuses_an_unknown_variable_with_the_invalid_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RACEDAY_KELY__FRACTION", "0.1")
    with pytest.raises(InvalidSettings) as refused:
        load_settings()
    assert str(refused.value).startswith("unknown setting RACEDAY_KELY__FRACTION")
    monkeypatch.setenv("RACEDAY_KELLY__FRACTION", "half")
    with pytest.raises(InvalidSettings) as refused:
        load_settings()
    lines = str(refused.value).splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "unknown setting RACEDAY_KELY__FRACTION",
        "invalid setting kelly.fraction",
    ]


def test_every_variable_the_docs_and_deployments_name_is_a_setting() -> None:
    """What README, docs/, deploy/ and the Makefile tell users to set exists (a prefix such as
    ``RACEDAY_TRAIN__`` stands for its section's variables)."""
    texts = [ROOT / "README.md", ROOT / "Makefile", *sorted((ROOT / "docs").glob("*.md"))]
    texts += sorted((ROOT / "deploy").rglob("*.y*ml"))
    named = {
        name
        for path in texts
        for name in re.findall(r"\bRACEDAY_[A-Z0-9_]*[A-Z0-9]\b", path.read_text(encoding="utf-8"))
    }
    named -= {"RACEDAY_ALERTS_BLOCK_ID"}  # a placeholder deploy/ fills in, not a variable
    named -= {"RACEDAY_KELY__FRACTION"}  # the docs' example of a misspelt setting
    assert len(named) > 20
    assert unknown_setting_lines(dict.fromkeys(named, "")) == []
    assert set(setting_variables()) >= {"RACEDAY_KELLY__FRACTION", "RACEDAY_DB_URL"}
