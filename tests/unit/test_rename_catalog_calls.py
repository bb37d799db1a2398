"""tools/rename_catalog_calls.py: every name it moves exists where it sends it, and a file that
used the old catalog ends up importing each name it uses from its new module."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "rename_catalog_calls.py"


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rename_catalog_calls", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_every_moved_name_exists_in_its_new_module(tool: ModuleType) -> None:
    missing = [
        f"{module}.{name}"
        for name, module in tool.NEW_HOME.items()
        if not hasattr(importlib.import_module(module), name)
    ]
    assert missing == []


BEFORE = '''"""Uses the old catalog."""

from raceday.store import catalog, registry
from raceday.store.monitoring import read_daily, write_rolling as store_rolling


def settle(connection, day):
    bets = catalog.read_bets(connection, day, day)
    catalog.write_settlement(connection, bets)  # catalog.write_settlement replaces by key
    return read_daily(connection, day, day), store_rolling


def lock(connection, day):
    from raceday.store import monitoring as records

    read_runs = records.read_runs(connection, day)
    return catalog.lock_day(connection, day, "me", "run"), read_runs, catalog.settled_before
'''

AFTER = '''"""Uses the old catalog."""

from raceday.store import registry
from raceday.store.catalogs.bets import read_bets, write_settlement
from raceday.store.catalogs.runs import lock_day
from raceday.store.catalogs.performance import read_daily, write_rolling as store_rolling


def settle(connection, day):
    bets = read_bets(connection, day, day)
    write_settlement(connection, bets)  # catalog.write_settlement replaces by key
    return read_daily(connection, day, day), store_rolling


def lock(connection, day):
    from raceday.store.catalogs import runs as runs_catalog

    read_runs = runs_catalog.read_runs(connection, day)
    return lock_day(connection, day, "me", "run"), read_runs, catalog.settled_before
'''


def test_a_file_is_rewritten_to_the_new_modules_and_what_has_no_home_is_reported(
    tool: ModuleType,
) -> None:
    rewritten, problems = tool.rewrite(Path("sample.py"), BEFORE)
    assert rewritten == AFTER
    assert problems == [
        "sample.py:17: settled_before: deleted (never called)",
        "sample.py:9: mentioned in a comment or string: reword by hand",
    ]


def test_a_file_without_the_old_modules_is_left_alone(tool: ModuleType) -> None:
    source = "from raceday.store import registry\n\nregistry.promote\n"
    assert tool.rewrite(Path("other.py"), source) == (source, [])
