"""Bad input through `raceday run --source files:DIR`, as an operator meets it: one venue's corrupt
file set aside while the other venues are predicted and staked; a refused input and a day with
nothing valid end in one line and a non-zero exit, with every data table unchanged."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import make_url
from typer.testing import CliRunner

from cli import app
from raceday.sources.base import RawDay
from raceday.sources.files import write_tables
from raceday.store.catalogs.races import RUNNERS
from raceday.store.catalogs.runs import RUNS
from raceday.store.engine import make_engine
from raceday.store.repository import read_rows
from tests.data.make_bad_inputs import DAY, PREVIOUS_DAY, RACES_PER_DAY, make_corpus, simulated
from tests.store_support import copy_store, data_checksums, fresh_postgres_database

runner = CliRunner()


@pytest.fixture
def no_warmup(monkeypatch: pytest.MonkeyPatch) -> None:
    """The files hold single days: no warm-up history to read."""
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "0")


def run_day(
    directory: Path, day: str, db: str, command: str = "run", start: str | None = None
) -> tuple[int, str, str]:
    """`raceday run --json` on a files directory (or ``command="backfill"`` of that one day),
    its stderr as a process of its own has it.

    Prefect binds its console log handler to the stderr of the first run in a process; under
    CliRunner that stream is closed afterwards, so later runs would print logging errors.
    Binding it outside the runner, as a fresh process would, keeps Prefect's own log lines
    out of the command's stderr, which is what these tests judge.
    """
    from prefect.logging.configuration import setup_logging

    setup_logging(incremental=False)
    days = ["--date", day] if command == "run" else ["--start", start or day, "--end", day]
    result = runner.invoke(
        app, [command, *days, "--source", f"files:{directory}", "--db", db, "--json"]
    )
    return result.exit_code, result.stdout, result.stderr


def export(table: str, db: str) -> pd.DataFrame:
    """`raceday export TABLE` for the corpus day."""
    result = runner.invoke(
        app, ["export", table, "--start", str(DAY), "--end", str(DAY), "--db", db]
    )
    assert result.exit_code == 0, result.stderr
    return pd.read_csv(io.StringIO(result.stdout), dtype={"race_id": str})


def failure_alerts(db: str) -> list[str]:
    """The days of the ``flow_failed`` alerts recorded so far."""
    with make_engine(db).connect() as connection:
        alerts = pd.read_sql_table("alerts", connection)
    failed = alerts.loc[alerts["rule"] == "flow_failed", "race_date"]
    return [str(pd.Timestamp(day).date()) for day in failed]


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "no_warmup")
def test_one_venues_corrupt_file_does_not_stop_the_others(tmp_path: Path) -> None:
    """The corrupt venue is quarantined as unreadable; the other venues are predicted, go
    through staking and are settled, and the summary counts the quarantined input and warns
    of it (exit 0)."""
    case = make_corpus(tmp_path / "corpus", ["venue_part_corrupt"])["venue_part_corrupt"]
    db = f"sqlite:///{tmp_path / 'store.db'}"
    code, stdout, stderr = run_day(case.directory, str(DAY), db)
    assert code == 0, stderr
    summary = json.loads(stdout)
    other_venues = case.expected.all_races
    assert summary["status"] == "completed-with-warnings" and summary["quarantined"] >= 1
    assert any("quarantined" in warning for warning in summary["warnings"])
    assert summary["races"] == len(other_venues)

    predictions = export("predictions", db)
    assert set(predictions["race_id"]) == set(other_venues)
    quarantine = export("quarantine", db)
    unreadable = quarantine[quarantine["check_name"] == "input_readable"]
    assert len(unreadable) == 2  # the morning and the night validation both report it
    assert "venue_part_corrupt" in unreadable["detail"].iloc[0]
    assert set(export("races", db)["race_id"]) == set(other_venues)
    with make_engine(db).connect() as connection:
        runs = read_rows(connection, RUNS).set_index("stage")
        results = read_rows(connection, RUNNERS, start=DAY, end=DAY)
    # market-v1 has no edge over the market, so staking weighs every runner and bets nothing.
    assert runs.loc["stake", "status"] == "completed"
    assert runs.loc["stake", "rows_in"] == len(predictions)
    assert results["finish_pos"].notna().any()


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "no_warmup")
def test_refused_and_empty_days_leave_the_store_as_it_was(
    tmp_path: Path, good_day_on_sqlite: GoodDayStore
) -> None:
    """After a good day, a file without soha_time exits 2 and a day with no valid race exits 4,
    each with one line on stderr and every data table's checksum unchanged."""
    template = Path(str(make_url(good_day_on_sqlite.url).database))
    db = copy_store(template, tmp_path / "store.db")
    before = good_day_on_sqlite.checksums

    corpus = make_corpus(tmp_path / "corpus", ["missing_column"])
    code, stdout, stderr = run_day(corpus["missing_column"].directory, str(DAY), db)
    assert code == 2
    assert "lacks required column(s): soha_time" in stderr
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr + stdout
    assert data_checksums(db) == before
    assert failure_alerts(db) == [str(DAY)]  # the refused run alerts once, with its day

    nowhere = tmp_path / "nowhere"
    raw = simulated(DAY)
    write_tables(replace(raw, nvd_ra=raw.nvd_ra.assign(kyori="5000")), nowhere)
    code, stdout, stderr = run_day(nowhere, str(DAY), db)
    assert code == 4
    assert "nothing valid left for 2026-11-20" in stderr and "distance_in_range" in stderr
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr + stdout
    assert data_checksums(db) == before


@dataclass(frozen=True)
class GoodDayStore:
    """A store the good previous day was run into (``raceday run``), and its data tables'
    checksums then. Run once per backend; each test runs on a copy."""

    url: str
    checksums: dict[str, str]


def run_the_good_previous_day(url: str, folder: Path) -> GoodDayStore:
    """`raceday run` of the simulated previous day into ``url`` (files and reports in
    ``folder``), as the tests' own runs are made (``no_warmup``)."""
    previous = folder / "previous"
    write_tables(simulated(PREVIOUS_DAY), previous)
    with pytest.MonkeyPatch.context() as settings:
        settings.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "0")
        settings.setenv("RACEDAY_VAR_DIR", str(folder / "var"))
        assert run_day(previous, str(PREVIOUS_DAY), url)[0] == 0
    good_day = GoodDayStore(url, data_checksums(url))
    # SQLite: the last connection folds the WAL in; PostgreSQL: no session left on a template
    make_engine(url).dispose()
    return good_day


@pytest.fixture(scope="session")
def good_day_on_sqlite(
    prefect_harness: None, tmp_path_factory: pytest.TempPathFactory
) -> GoodDayStore:
    folder = tmp_path_factory.mktemp("good_day")
    return run_the_good_previous_day(f"sqlite:///{folder / 'store.db'}", folder)


@pytest.fixture(scope="session")
def good_day_on_postgres(
    prefect_harness: None, postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GoodDayStore]:
    with fresh_postgres_database(postgres_server) as url:
        yield run_the_good_previous_day(url, tmp_path_factory.mktemp("good_day_pg"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def after_a_good_day(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GoodDayStore]:
    """A copy of the store the good previous day was run into (SQLite, then PostgreSQL)."""
    if request.param == "sqlite":
        good_day: GoodDayStore = request.getfixturevalue("good_day_on_sqlite")
        template = Path(str(make_url(good_day.url).database))
        yield GoodDayStore(copy_store(template, tmp_path / "store.db"), good_day.checksums)
        return
    good_day = request.getfixturevalue("good_day_on_postgres")
    server: str = request.getfixturevalue("postgres_server")
    with fresh_postgres_database(server, template=good_day.url) as url:
        yield GoodDayStore(url, good_day.checksums)


def broken_results(tmp_path: Path) -> Path:
    """The files of the next day whose card is valid but whose results are not (every
    finish time with 62 seconds)."""
    broken = tmp_path / "broken"
    raw = simulated(DAY)
    write_tables(replace(raw, nvd_se=raw.nvd_se.assign(soha_time="1623")), broken)
    return broken


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "no_warmup")
def test_a_day_refused_at_night_stores_nothing(
    tmp_path: Path, after_a_good_day: GoodDayStore
) -> None:
    """A day whose card is valid but whose results are not exits 4 in one line from `raceday
    run` before any race, prediction or bet is stored: every data table's checksum is what
    the earlier good day left (SQLite and PostgreSQL)."""
    store_url, before = after_a_good_day.url, after_a_good_day.checksums
    code, stdout, stderr = run_day(broken_results(tmp_path), str(DAY), store_url)
    assert code == 4, stderr
    assert "nothing valid left for 2026-11-20 (results)" in stderr
    assert "soha_time_decodes" in stderr
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr + stdout
    assert data_checksums(store_url) == before


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "no_warmup")
def test_a_backfill_chunk_refused_at_night_stores_nothing(
    tmp_path: Path, after_a_good_day: GoodDayStore
) -> None:
    """A backfill's chunk is decided like a day: its card valid, its results not, `raceday
    backfill` exits 4 in one line and stores no race, runner, odds or derived row of the
    chunk — its card is not stored before its results are refused (SQLite and PostgreSQL)."""
    store_url, before = after_a_good_day.url, after_a_good_day.checksums
    code, stdout, stderr = run_day(broken_results(tmp_path), str(DAY), store_url, "backfill")
    assert code == 4, stderr
    assert data_checksums(store_url) == before
    assert "nothing valid left for 2026-11-20 (results)" in stderr
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr + stdout


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "no_warmup")
def test_a_backfill_refuses_the_day_of_its_chunk_with_nothing_valid_and_goes_on(
    tmp_path: Path,
) -> None:
    """Every race of one day set aside in a chunk whose other day is valid: the valid day is
    stored and completed, the other is refused as its daily run would be — its one line on
    stderr prefixed by its date, listed in the summary, exit 4 once the rest is done."""
    bad = simulated(DAY)
    files = two_days_of_files(tmp_path, replace(bad, nvd_ra=bad.nvd_ra.assign(kyori="abc")))
    db = f"sqlite:///{tmp_path / 'store.db'}"
    code, stdout, stderr = run_day(files, str(DAY), db, "backfill", start=str(PREVIOUS_DAY))
    assert code == 4, stderr
    summary = json.loads(stdout)
    assert (summary["races"], summary["status"]) == (RACES_PER_DAY, "completed-with-refusals")
    assert [day["date"] for day in summary["days_refused"]] == [str(DAY)]
    assert stderr.strip() == f"{DAY}: error: {summary['days_refused'][0]['reason']}"
    assert stderr.startswith(f"{DAY}: error: nothing valid left for {DAY} (card)")


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "no_warmup")
def test_a_backfill_of_an_unreadable_file_refuses_each_day_with_exit_2(tmp_path: Path) -> None:
    """A runners file in EUC-JP (neither UTF-8 nor Shift-JIS) refuses every day it holds: each
    day said in one line (the daily run's), none stored or marked done, exit 2."""
    files = two_days_of_files(tmp_path, simulated(DAY))
    runners = files / "nvd_se.csv"
    text = runners.read_text(encoding="utf-8")
    runners.write_bytes(text.replace("\n", ",大井\n", 2).encode("euc_jp"))
    db = f"sqlite:///{tmp_path / 'store.db'}"
    code, stdout, stderr = run_day(files, str(DAY), db, "backfill", start=str(PREVIOUS_DAY))
    assert code == 2, stderr
    summary = json.loads(stdout)
    assert [day["date"] for day in summary["days_refused"]] == [str(PREVIOUS_DAY), str(DAY)]
    lines = stderr.strip().splitlines()
    assert [line.split(": error: ")[0] for line in lines] == [str(PREVIOUS_DAY), str(DAY)]
    assert all("not UTF-8 or Shift-JIS (CP932) text" in line for line in lines), lines
    assert summary["races"] == 0


def two_days_of_files(tmp_path: Path, day: RawDay) -> Path:
    """Files holding the simulated PREVIOUS_DAY and ``day`` (DAY's, as given) in one folder."""
    good = simulated(PREVIOUS_DAY)
    files = tmp_path / "files"
    tables = ("nvd_ra", "nvd_se", "nvd_o1")
    both = (pd.concat([getattr(good, t), getattr(day, t)], ignore_index=True) for t in tables)
    write_tables(RawDay(*both), files)
    return files


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "no_warmup")
def test_a_run_of_a_day_whose_folder_cannot_be_read_is_refused_not_a_day_without_races(
    tmp_path: Path,
) -> None:
    """One folder per day, DAY's runners file in EUC-JP: `raceday run --json` of DAY refuses it
    in one line naming the folder (exit 2, the same as JSON on stdout) and stores no race of
    it; it used to run DAY as a day without races and page `no_races` (exit 6)."""
    files = tmp_path / "files"
    for day in (PREVIOUS_DAY, DAY):
        write_tables(simulated(day), files / f"{day:%Y%m%d}")
    runners = files / f"{DAY:%Y%m%d}" / "nvd_se.csv"
    text = runners.read_text(encoding="utf-8")
    runners.write_bytes(text.replace("\n", ",大井\n", 2).encode("euc_jp"))
    db = f"sqlite:///{tmp_path / 'store.db'}"
    code, stdout, stderr = run_day(files, str(DAY), db)
    assert code == 2, stderr
    (line,) = stderr.strip().splitlines()
    assert line.startswith(f"error: {DAY} cannot be read: its input is in {runners.parent}")
    assert json.loads(stdout) == {
        "status": "failed",
        "exit_code": 2,
        "kind": "input",
        "error": line,
    }
    assert export("races", db).empty
