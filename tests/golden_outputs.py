"""The golden-outputs scenario: a simulated month driven through the ``raceday`` command only,
then a checksum of every table of the store (issue 15: "the same outputs to the yen").

Only interfaces that survive a reorganisation of the code are used: the ``raceday`` console
script (``raceday backfill``, ``raceday run``), ``RACEDAY_*`` settings in its environment, and
the store read back with SQLAlchemy by table name (``sqlite_master``), never a Python module of
the project. A support module, not a test: ``tests/integration/test_outputs_unchanged.py`` and
``benchmarks/bench_outputs.py`` run it.

What is checksummed is what a run derives from the seed; what it measures or names about
itself is left out (:func:`volatile_columns`):

- every ``DateTime`` column (when a row was written: ``created_at``, ``started_at``,
  ``raised_at``, ``validated_at``, ``promoted_at``, ``since``, ...); ``Date`` columns (race
  days, windows) are data and stay;
- surrogate keys numbered by insertion order (an ``id`` column): the rows' content is compared,
  not the order they were written in;
- :data:`VOLATILE_COLUMNS`: run ids, durations, and the pickled win model, whose bytes name
  the Python modules of its classes (a move of a class is not a change of output: the
  predictions, stakes and settlements it produces are compared; the first-3F ML layer's pickle
  names only scikit-learn and is compared);
- inside JSON text columns, the keys in :data:`VOLATILE_JSON_KEYS` (``code_version``: the git
  describe of the checkout that trained a model);
- alerts about measured time (:data:`TIMING_ALERT_RULES`, :data:`TIMING_ALERT_SCOPES`): the row
  is compared, its value and message (which quote the seconds) are masked;
- the run's own directory wherever text quotes it (the report's path in ``pipeline_runs``);
- in the commands' ``--json`` summaries, :data:`VOLATILE_SUMMARY_KEYS` (seconds, paths).

Floats are rounded to 6 decimals, integers (yen) are exact. Rows are sorted by their whole
encoded content, so neither insertion order nor a column's position matters.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Connection, MetaData, Table, create_engine, select
from sqlalchemy.types import DateTime

ROOT = Path(__file__).resolve().parents[1]
FLOAT_DECIMALS = 6

# Columns that say how, when or where a run happened, not what it derived (table -> columns).
VOLATILE_COLUMNS: dict[str, frozenset[str]] = {
    "pipeline_runs": frozenset({"run_id", "duration_s"}),
    "backfill_days": frozenset({"run_id", "duration_s"}),
    "run_locks": frozenset({"holder", "run_id"}),  # who held a day's lock (host, pid)
    "validation_results": frozenset({"run_id"}),
    "quarantine": frozenset({"run_id"}),
    "performance": frozenset({"run_seconds"}),  # the day's measured stage time
    # The pickled WinModel names its classes' modules (raceday.model.win,
    # raceday.model.condlogit): a move of a class is not a change of output; the predictions it
    # makes are compared.
    "model_versions": frozenset({"artifact"}),
}
# Keys left out of JSON text columns wherever they occur (nested included).
VOLATILE_JSON_KEYS = frozenset({"code_version"})
# Alerts about measured time (a stage over its budget, an unusual run_seconds): the row stays,
# its measured value and the message quoting it are masked.
TIMING_ALERT_RULES = frozenset({"run_budget"})
TIMING_ALERT_SCOPES = frozenset({"run_seconds"})
MASKED = "<measured>"
WORK_DIR_MARK = "<work>"  # a run's own directory inside text (the report's path)
# Keys of the commands' --json summaries that are measured or name the run's paths (``alerts``:
# a run_seconds anomaly or a run over its budget measures the machine).
VOLATILE_SUMMARY_KEYS = frozenset({"seconds", "database", "report", "alerts"})
# Schema bookkeeping, not an output: a redesign that adds a table adds a migration.
SKIPPED_TABLES = frozenset({"alembic_version"})
# Records of attempts (how often a stage ran, what it noted, what it set aside, the alerts it
# raised): compared like the outputs, reported apart from them.
RECORD_TABLES = frozenset(
    {"pipeline_runs", "backfill_days", "run_locks", "validation_results", "quarantine", "alerts"}
)


@dataclass(frozen=True)
class Scenario:
    """A backfill of ``start``..``end`` on a fresh store, then one daily run of the next day."""

    name: str
    start: date
    end: date
    races: int
    chunk_days: int
    settings: Mapping[str, str] = field(default_factory=dict)  # RACEDAY_* variables

    @property
    def next_day(self) -> date:
        return self.end + timedelta(days=1)

    def describe(self) -> dict[str, Any]:
        """The scenario as recorded next to its checksums."""
        return {
            "name": self.name,
            "commands": [" ".join(command) for command in self.commands("DB_URL")],
            "settings": dict(sorted(self.settings.items())),
        }

    def commands(self, db_url: str) -> list[list[str]]:
        """The ``raceday`` arguments run, in order."""
        common = ["--races", str(self.races), "--db", db_url, "--json"]
        return [
            [
                "backfill",
                "--start",
                self.start.isoformat(),
                "--end",
                self.end.isoformat(),
                "--chunk-days",
                str(self.chunk_days),
                *common,
            ],
            ["run", "--date", self.next_day.isoformat(), *common],
        ]


# Model windows short enough that a version is trained, promoted and bet with inside a month:
# the 42 warm-up days before the backfill hold the 14 + 7 + 7 days of the first training and
# two weeks of past runs for its features; the backfill runs in two chunks of 14 days and
# trains a version after each, so the second chunk and the next day are predicted and staked
# with a promoted version, and settled.
SHORT_TRAINING = {
    "RACEDAY_SIMULATOR__SEED": "20261121",
    "RACEDAY_HISTORY__WARMUP_DAYS": "42",
    "RACEDAY_TRAIN__TRAIN_DAYS": "14",
    "RACEDAY_TRAIN__BLEND_DAYS": "7",
    "RACEDAY_TRAIN__EVALUATE_DAYS": "7",
    "RACEDAY_TRAIN__BACKFILL_RETRAIN_DAYS": "14",
}

# The test's month: 40 races a day (fewer leave the model too close to the market to bet),
# a 30-iteration booster, no Data Docs. Windows of 7 days x 40 races: 100 races needed each.
SMALL_MONTH = Scenario(
    name="small-month",
    start=date(2025, 6, 1),
    end=date(2025, 6, 28),
    races=40,
    chunk_days=14,
    settings={
        **SHORT_TRAINING,
        "RACEDAY_SIMULATOR__RACES_PER_DAY": "40",
        "RACEDAY_TRAIN__MIN_RACES": "100",
        "RACEDAY_TRAIN__MAX_ITER": "30",
        "RACEDAY_VALIDATION__DATA_DOCS": "false",
    },
)

# The benchmark's month: the default 200 races a day, booster and Data Docs; the short windows
# and warm-up above.
FULL_MONTH = replace(
    SMALL_MONTH,
    name="full-month",
    races=200,
    settings={**SHORT_TRAINING, "RACEDAY_SIMULATOR__RACES_PER_DAY": "200"},
)


def raceday_command() -> Path:
    """The ``raceday`` console script of the running interpreter's environment."""
    return Path(sys.executable).with_name("raceday")


def command_environment(work_dir: Path) -> dict[str, str]:
    """The environment of a ``raceday`` command: no ``RACEDAY_*`` or Prefect server from outside,
    a Prefect home and a ``var/`` of its own under ``work_dir``, this checkout's code first."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("RACEDAY_", "PREFECT_API_"))
    }
    environment.update(
        PYTHONPATH=str(ROOT),
        PREFECT_HOME=str(work_dir / "prefect"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="600",  # a busy machine is no fault
        RACEDAY_VAR_DIR=str(work_dir / "var"),
    )
    return environment


def scenario_environment(
    scenario: Scenario, work_dir: Path, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The commands' own environment (:func:`command_environment`) with the scenario's settings."""
    environment = command_environment(work_dir)
    environment.update(scenario.settings)
    environment.update(extra or {})
    return environment


class CommandFailed(RuntimeError):
    """A ``raceday`` command of the scenario exited non-zero."""


def run_commands(
    scenario: Scenario,
    db_url: str,
    work_dir: Path,
    extra_env: Mapping[str, str] | None = None,
    timeout_s: float = 3600.0,
) -> list[tuple[str, dict[str, Any], float]]:
    """Run the scenario's commands: (command, its ``--json`` summary, wall-clock seconds)."""
    environment = scenario_environment(scenario, work_dir, extra_env)
    done_commands = []
    for arguments in scenario.commands(db_url):
        clock = time.perf_counter()
        done = subprocess.run(
            [str(raceday_command()), *arguments],
            env=environment,
            cwd=work_dir,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        if done.returncode != 0:
            raise CommandFailed(
                f"raceday {' '.join(arguments)} exited {done.returncode}:\n{done.stderr[-4000:]}"
            )
        summary = json.loads(done.stdout.strip().splitlines()[-1])
        done_commands.append((arguments[0], summary, time.perf_counter() - clock))
    return done_commands


def stable_summary(summary: Mapping[str, Any], work_dir: Path) -> dict[str, Any]:
    """A command's ``--json`` summary without what it measured or where it ran."""
    return {
        key: _normal(value, str(work_dir)) if not isinstance(value, list | dict) else value
        for key, value in summary.items()
        if key not in VOLATILE_SUMMARY_KEYS
    }


def volatile_columns(table: str, columns: Sequence[Column[Any]]) -> set[str]:
    """The columns of ``table`` left out of its checksum (see the module's docstring)."""
    left_out = set(VOLATILE_COLUMNS.get(table, frozenset()))
    for column in columns:
        if isinstance(column.type, DateTime):
            left_out.add(column.name)
        if column.name == "id" and column.primary_key:
            left_out.add(column.name)
    return left_out


def _without_volatile_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _without_volatile_keys(item)
            for key, item in value.items()
            if key not in VOLATILE_JSON_KEYS
        }
    if isinstance(value, list):
        return [_without_volatile_keys(item) for item in value]
    if isinstance(value, float):
        return _normal(value, "")
    return value


def _normal(value: Any, work_dir: str) -> Any:
    """A value as it is compared: floats rounded, NaN as None, dates as text, bytes by their
    hash, JSON text without its volatile keys (floats rounded), ``work_dir`` in text marked."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return None
        rounded = round(value, FLOAT_DECIMALS)
        return 0.0 if rounded == 0 else rounded  # -0.0 and 0.0 alike
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return hashlib.sha256(bytes(value)).hexdigest()
    text = str(value)
    if work_dir:
        text = text.replace(work_dir, WORK_DIR_MARK)
    if text[:1] in "{[":
        try:
            return _without_volatile_keys(json.loads(text))
        except ValueError:
            return text
    return text


def _masked(table: str, row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with what it measured masked: the value and message of an alert about time."""
    timing_alert = table == "alerts" and (
        row.get("rule") in TIMING_ALERT_RULES or row.get("scope") in TIMING_ALERT_SCOPES
    )
    if not timing_alert:
        return row
    return {**row, **{column: MASKED for column in ("value", "message") if column in row}}


def table_checksum(connection: Connection, table: Table, work_dir: str) -> dict[str, Any]:
    """Rows, kept columns and SHA-256 of one table's normalised, sorted rows."""
    left_out = volatile_columns(table.name, list(table.columns))
    kept = sorted(column.name for column in table.columns if column.name not in left_out)
    rows = connection.execute(select(*(table.c[column] for column in kept))).mappings().all()
    lines = sorted(
        json.dumps(
            [_normal(value, work_dir) for value in _masked(table.name, dict(row)).values()],
            ensure_ascii=False,
            sort_keys=True,
        )
        for row in rows
    )
    digest = hashlib.sha256(json.dumps(kept).encode())
    for line in lines:
        digest.update(b"\n" + line.encode())
    return {
        "rows": len(rows),
        "kind": "record" if table.name in RECORD_TABLES else "output",
        "columns": kept,
        "left_out": sorted(left_out),
        "sha256": digest.hexdigest(),
    }


def table_checksums(db_url: str, work_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """``{table: {"rows", "kind", "columns", "left_out", "sha256"}}`` of every table of the
    store at ``db_url`` (reflected: names from the store, not from the code); ``work_dir``: the
    run's directory, marked wherever text quotes it."""
    engine = create_engine(db_url)
    metadata = MetaData()
    try:
        metadata.reflect(engine)
        with engine.connect() as connection:
            return {
                name: table_checksum(connection, table, str(work_dir or ""))
                for name, table in sorted(metadata.tables.items())
                if name not in SKIPPED_TABLES
            }
    finally:
        engine.dispose()


def file_checksums(folder: Path, pattern: str) -> dict[str, dict[str, Any]]:
    """``{file name: {"rows": lines, "sha256": ...}}`` of the files in ``folder`` matching
    ``pattern``."""
    return {
        path.name: {
            "rows": path.read_bytes().count(b"\n"),
            "kind": "output",
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        }
        for path in sorted(folder.glob(pattern))
    }


def golden_outputs(
    db_url: str,
    work_dir: Path,
    scenario: Scenario = SMALL_MONTH,
    extra_env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Run ``scenario`` on the fresh store ``db_url`` with ``work_dir`` (empty) as its home.

    Returns ``{"tables": {table: {"rows", "kind", "columns", "left_out", "sha256"}},
    "files": {bet slip: {"rows", "kind", "sha256"}}, "summaries": {command: its --json without
    volatile keys}, "wall_s": {command: seconds}}``. The daily reports are not among the files:
    they quote the day's measured stage time and the alert about it."""
    commands = run_commands(scenario, db_url, work_dir, extra_env)
    return {
        "tables": table_checksums(db_url, work_dir),
        "files": file_checksums(work_dir / "var" / "reports", "bet-slip-*.csv"),
        "summaries": {name: stable_summary(summary, work_dir) for name, summary, _ in commands},
        "wall_s": {name: round(seconds, 1) for name, _, seconds in commands},
    }


def differences(recorded: Mapping[str, Any], measured: Mapping[str, Any]) -> dict[str, list[str]]:
    """What differs between two results of :func:`golden_outputs`, grouped by kind (``output``,
    ``record``): one line per table or file whose rows or checksum differ or that is only on one
    side (an empty table only on one side holds no output: not a difference), and per recorded
    key of a command's summary whose value differs (a key the summary gained is not compared)."""
    found: dict[str, list[str]] = {"output": [], "record": []}
    for group in ("tables", "files"):
        before, after = recorded.get(group, {}), measured.get(group, {})
        for name in sorted(set(before) | set(after)):
            old, new = before.get(name), after.get(name)
            entry = old or new
            assert entry is not None
            label = f"{group[:-1]} {name}"
            if old is None or new is None:
                if entry["rows"]:
                    side = "not recorded, new" if old is None else "recorded, missing now"
                    found[entry["kind"]].append(f"{label}: {side} ({entry['rows']} rows)")
            elif old["sha256"] != new["sha256"]:
                line = f"{label}: {old['rows']} rows recorded, {new['rows']} now, content differs"
                if old.get("columns") != new.get("columns"):
                    line += f" (columns {old.get('columns')} -> {new.get('columns')})"
                found[entry["kind"]].append(line)
    for command, summary in recorded.get("summaries", {}).items():
        now = measured.get("summaries", {}).get(command, {})
        for key, value in summary.items():
            if now.get(key, "<missing>") != value:
                found["output"].append(
                    f"raceday {command} --json {key}: {value!r} recorded, "
                    f"{now.get(key, '<missing>')!r} now"
                )
    return found


def checkout_commit() -> str:
    """The commit of this checkout (``-dirty`` when tracked files differ from it)."""

    def git(*arguments: str) -> str:
        return subprocess.run(
            ["git", *arguments], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def library_versions() -> dict[str, str]:
    """Versions of the libraries whose numbers end up in the checksums."""
    from importlib.metadata import version

    names = ("numpy", "pandas", "scikit-learn", "scipy", "sqlalchemy")
    return {name: version(name) for name in names}


def recording(scenario: Scenario, result: Mapping[str, Any]) -> dict[str, Any]:
    """``result`` with a header saying what produced it: commit, scenario, libraries."""
    return {
        "header": {
            "commit": checkout_commit(),
            "scenario": scenario.describe(),
            "python": sys.version.split()[0],
            "libraries": library_versions(),
            "note": "tests/golden_outputs.py: volatile columns left out, floats rounded to "
            f"{FLOAT_DECIMALS} decimals; wall_s is measured, never compared",
        },
        **result,
    }


SCENARIOS = {scenario.name: scenario for scenario in (SMALL_MONTH, FULL_MONTH)}


def main() -> None:
    """``python -m tests.golden_outputs [--scenario NAME] [--out FILE]``: run a scenario in a
    temporary directory and print (or write) its recording."""
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default=SMALL_MONTH.name)
    parser.add_argument("--out", type=Path, default=None, help="JSON file (default: stdout)")
    args = parser.parse_args()
    scenario = SCENARIOS[args.scenario]
    with tempfile.TemporaryDirectory(prefix="golden-outputs-") as folder:
        work_dir = Path(folder)
        result = golden_outputs(f"sqlite:///{work_dir / 'store.db'}", work_dir, scenario)
    text = json.dumps(recording(scenario, result), indent=1, ensure_ascii=False) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
