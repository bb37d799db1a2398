"""``raceday export --sport nar|jra``: NAR and JRA share the tables, so the rows are the
circuit's, by venue (its keibajo code, else the one inside the race id); a table of no venue
exports every circuit's rows, and says so."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from cli import app
from raceday.store.catalogs.races import rows_at_venues

DAY = date(2026, 11, 1)


def _store_of_both_circuits(url: str) -> None:
    """One simulated day of NAR races and one of JRA races, with their morning odds."""
    from raceday import codec, odds_snapshots
    from raceday.simulate.config import SimulatorConfig
    from raceday.simulate.days import simulate_days
    from raceday.sources.timeline import CardTiming, card_odds
    from raceday.store.catalogs.races import write_odds, write_races_and_runners
    from raceday.store.engine import make_engine, upgrade_schema

    engine = make_engine(url)
    upgrade_schema(engine)
    for circuit in ("nar", "jra"):
        raw = simulate_days(DAY, DAY, SimulatorConfig(races_per_day=3, circuit=circuit)).raw
        races, runners = codec.decode_races(raw.nvd_ra), codec.decode_runners(raw.nvd_se)
        snapshot = odds_snapshots.decode_odds_snapshot(card_odds(raw, CardTiming()).nvd_o1)
        with engine.begin() as connection:
            write_races_and_runners(connection, races, runners, has_results=True, source="sim")
            write_odds(connection, snapshot[snapshot["win_odds"] >= 1.0], runners)


def _venues(frame: pd.DataFrame) -> set[str]:
    return {race_id[8:10] for race_id in frame["race_id"].astype(str)}


def test_export_of_a_circuit_gives_the_rows_at_its_venues(tmp_path: Path) -> None:
    """`export races --sport nar` on a store holding JRA races gave the JRA rows too; now each
    --sport gives its own circuit's races, runners and odds, without --sport every one as before;
    a table of no venue (runs) is exported whole, said on stderr. Run twice: the same."""
    from config.reference import circuit_venue_codes

    url = f"sqlite:///{tmp_path / 'store.db'}"
    _store_of_both_circuits(url)
    runner = CliRunner()
    dates = ["--start", DAY.isoformat(), "--end", DAY.isoformat(), "--db", url]
    for _run in range(2):
        for table in ("races", "runners", "odds"):
            every = runner.invoke(app, ["export", table, *dates])
            assert every.exit_code == 0, every.stderr
            both = pd.read_csv(io.StringIO(every.stdout), dtype={"race_id": str})
            counts = 0
            for circuit in ("nar", "jra"):
                result = runner.invoke(app, ["export", table, *dates, "--sport", circuit])
                assert result.exit_code == 0, result.stderr
                rows = pd.read_csv(io.StringIO(result.stdout), dtype={"race_id": str})
                assert len(rows) > 0
                assert _venues(rows) <= circuit_venue_codes(circuit), (table, circuit)
                counts += len(rows)
            assert counts == len(both)
        runs = runner.invoke(app, ["export", "runs", *dates, "--sport", "jra"])
        assert runs.exit_code == 0 and "runs rows have no venue" in runs.stderr


def test_rows_at_venues_by_code_else_race_id_and_those_of_no_circuit_counted() -> None:
    """A row's venue is its keibajo_code, else its race id's; rows at no known venue (abroad,
    no race) are counted among those left out; a frame of neither column has no venue."""
    frame = pd.DataFrame(
        {
            "race_id": ["202611014401", "202611010501", "20261101G001", None],
            "keibajo_code": [None, "05", None, None],
        }
    )
    kept, elsewhere = rows_at_venues(frame, frozenset({"44"}), frozenset({"44", "05"})) or (
        frame,
        -1,
    )
    assert kept["race_id"].tolist() == ["202611014401"] and elsewhere == 2
    assert rows_at_venues(pd.DataFrame({"perf_date": [DAY]}), frozenset(), frozenset()) is None
