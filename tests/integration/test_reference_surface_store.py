"""``reference_times.surface`` (revision 2600) on SQLite and PostgreSQL: it matches the model,
a store upgraded with versions learned before surfaces reads them as before (surface ``""``,
looked up for every surface), and new versions are stored and read back per surface."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from raceday.ratings.reference_times import lookup_references
from raceday.ratings.standards import learn_reference_times
from raceday.store.catalogs.learned_versions import read_reference_times, write_reference_times
from raceday.store.engine import make_engine, upgrade_schema
from raceday.store.models import Base

OLD_ROWS = [  # kind, venue, distance, class, value, samples: a version learned before surfaces
    ("total", "08", 1800, "", 110.0, 40),
    ("total", "08", 1800, "1W", 109.0, 30),
    ("par_total", "08", 1800, "", 110.5, 40),
]


def migrate(engine: Engine, revision: str, down: bool = False) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config("alembic.ini")
    config.cmd_opts = None
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def runners(track_codes: list[str | None]) -> pd.DataFrame:
    """One runner per track code at 08 / 1800 m, class 1W."""
    return pd.DataFrame(
        {
            "keibajo_code": "08",
            "distance_m": 1800,
            "class_code": pd.array(["1W"] * len(track_codes), dtype="string"),
            "track_code": track_codes,
        }
    )


def test_migration_2600_matches_the_reference_time_model(store_url: str) -> None:
    """After ``upgrade head`` autogenerate finds nothing to change on ``reference_times``; the
    surface is in its primary key."""
    engine = make_engine(store_url)
    upgrade_schema(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [change for change in diff if "reference_times" in repr(change)] == []
    key = inspect(engine).get_pk_constraint("reference_times")["constrained_columns"]
    assert key == ["version", "kind", "keibajo_code", "surface", "distance_m", "class_code"]


def test_an_old_version_upgraded_reads_as_before_for_every_surface(store_url: str) -> None:
    """Rows stored at revision 2500 get surface ``""`` and give turf, dirt, jump and unknown
    runners the values they gave before the upgrade."""
    engine = make_engine(store_url)
    migrate(engine, "2500")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO reference_times (version, kind, keibajo_code, distance_m, "
                "class_code, value_s, n_samples) VALUES (:v, :k, :venue, :d, :c, :s, :n)"
            ),
            [
                {"v": "ref-20260101", "k": k, "venue": venue, "d": d, "c": c, "s": s, "n": n}
                for k, venue, d, c, s, n in OLD_ROWS
            ],
        )
    upgrade_schema(engine)
    with engine.connect() as connection:
        refs = read_reference_times(connection, "ref-20260101")
    assert len(refs) == len(OLD_ROWS) and (refs["surface"] == "").all()
    looked_up = lookup_references(
        runners(["17", "24", "53", "00", None]), refs, ["total", "par_total"]
    )
    assert looked_up["total"].tolist() == [109.0] * 5
    assert looked_up["par_total"].tolist() == [110.5] * 5


def test_a_version_learned_by_surface_round_trips_and_goes_down_cleanly(store_url: str) -> None:
    """A new version's turf and dirt rows of one venue x distance are stored side by side and
    read back as learned; going down to 2500 keeps only the every-surface rows."""
    history = pd.DataFrame(
        {
            "race_id": [f"r{i // 4}" for i in range(16)],
            "keibajo_code": "08",
            "distance_m": 1800,
            "class_code": pd.array(["1W"] * 16, dtype="string"),
            "track_code": ["17"] * 8 + ["24"] * 8,
            "finish_pos": [1, 2, 3, 4] * 4,
            "finish_time_s": [107.0, 107.2, 107.4, 108.0] * 2 + [112.0, 112.2, 112.4, 113.0] * 2,
            "last3f_s": 36.0,
            "leader_first3f_s": 36.0,
        }
    )
    learned = learn_reference_times(history)
    engine = make_engine(store_url)
    upgrade_schema(engine)
    with engine.begin() as connection:
        write_reference_times(
            connection, "ref-20260102", learned, date(2026, 1, 1), date(2026, 1, 2), 4
        )
        every_surface = learned[learned["surface"] == "turf"].assign(surface="")
        write_reference_times(
            connection, "ref-20260101", every_surface, date(2026, 1, 1), date(2026, 1, 1), 4
        )
    with engine.connect() as connection:
        stored = read_reference_times(connection, "ref-20260102")
    assert set(stored["surface"]) == {"turf", "dirt"}
    pd.testing.assert_frame_equal(
        stored.sort_values(list(stored.columns[:5])).reset_index(drop=True),
        learned.sort_values(list(learned.columns[:5])).reset_index(drop=True),
        check_dtype=False,
    )
    looked_up = lookup_references(runners(["17", "24"]), stored, ["total"])["total"]
    assert looked_up.tolist() == pytest.approx([107.2, 112.2], abs=0.01)
    migrate(engine, "2500", down=True)
    assert "surface" not in {c["name"] for c in inspect(engine).get_columns("reference_times")}
    with engine.connect() as connection:
        versions = connection.execute(
            text("SELECT DISTINCT version FROM reference_times")
        ).scalars()
        assert set(versions) == {"ref-20260101"}
