"""The catalog: every read and write a stage makes, by what the data is (one place for IO).

Each write runs in the caller's transaction (``engine.begin()``) and replaces rows by natural
key, so re-running any stage leaves the store exactly as one run would.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import (
    Boolean,
    Connection,
    Float,
    Integer,
    Select,
    String,
    and_,
    case,
    delete,
    false,
    func,
    insert,
    or_,
    select,
)

from raceday.features import (
    CARD_COLUMNS,
    HISTORY_COLUMNS,
    PEOPLE_ROLES,
    RUN_WITHOUT_FINISH_CODES,
)
from raceday.pipeline import runner_view
from raceday.standards import REFERENCE_COLUMNS
from raceday.store.models import (
    FEATURES_TABLE,
    Bet,
    First3F,
    First3FModelVersion,
    OddsSnapshot,
    Performance,
    PipelineRun,
    Prediction,
    Quarantine,
    Race,
    ReferenceTime,
    ReferenceVersion,
    Runner,
    RunnerIndex,
    TrackVariant,
    ValidationResult,
    table_of,
)
from raceday.store.repository import (
    delete_in,
    fetch_frame,
    insert_rows,
    read_rows,
    replace_rows,
)

RACES = table_of(Race)
RUNNERS = table_of(Runner)
ODDS = table_of(OddsSnapshot)
FIRST3F = table_of(First3F)
FIRST3F_MODELS = table_of(First3FModelVersion)
INDEXES = table_of(RunnerIndex)
PREDICTIONS = table_of(Prediction)
BETS = table_of(Bet)
PERFORMANCE = table_of(Performance)
QUARANTINE = table_of(Quarantine)
REFERENCE_TIMES = table_of(ReferenceTime)
REFERENCE_VERSIONS = table_of(ReferenceVersion)
VALIDATION = table_of(ValidationResult)
RUNS = table_of(PipelineRun)
TRACK_VARIANTS = table_of(TrackVariant)

RACE_KEY = ["race_id"]
RUNNER_KEY = ["race_id", "umaban"]


# --- races and runners ------------------------------------------------------------------------


def races_with_results(connection: Connection, race_ids: Iterable[str]) -> set[str]:
    """Which of ``race_ids`` are stored with their results."""
    ids = list(race_ids)
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        query = select(RACES.c.race_id).where(
            and_(RACES.c.race_id.in_(chunk), RACES.c.has_results.is_(True))
        )
        found |= set(connection.execute(query).scalars())
    return found


def write_races_and_runners(
    connection: Connection,
    races: pd.DataFrame,
    runners: pd.DataFrame,
    *,
    has_results: bool,
    source: str,
) -> int:
    """Store decoded races and runners; a card never overwrites a race already settled."""
    if not has_results:
        settled = races_with_results(connection, races["race_id"])
        races = races[~races["race_id"].isin(settled)]
        runners = runners[~runners["race_id"].isin(settled)]
    replace_rows(connection, RACES, races.assign(has_results=has_results, source=source), RACE_KEY)
    # A race's runner set is replaced whole: a runner gone from the source leaves with it.
    delete_in(connection, RUNNERS, "race_id", races["race_id"].tolist())
    return replace_rows(connection, RUNNERS, runners, RUNNER_KEY)


def write_odds(connection: Connection, odds: pd.DataFrame, runners: pd.DataFrame) -> int:
    """Store the bet-time odds snapshot (race_date taken from the runners)."""
    dated = odds.merge(runners[["race_id", "umaban", "race_date"]], on=RUNNER_KEY, how="inner")
    return replace_rows(connection, ODDS, dated, RUNNER_KEY)


def read_odds(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """Stored bet-time odds dated ``start``..``end``."""
    return read_rows(connection, ODDS, start=start, end=end)


def read_races(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """Stored races dated ``start``..``end``."""
    return read_rows(connection, RACES, start=start, end=end)


def read_runners(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """Stored runners dated ``start``..``end``."""
    return read_rows(connection, RUNNERS, start=start, end=end)


def read_win_results(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """What settling win bets needs of the runners dated ``start``..``end`` (five columns)."""
    query = select(
        RUNNERS.c.race_id,
        RUNNERS.c.umaban,
        RUNNERS.c.finish_pos,
        RUNNERS.c.abnormal_code,
        RUNNERS.c.win_odds,
    ).where(and_(RUNNERS.c.race_date >= start, RUNNERS.c.race_date <= end))
    frame = fetch_frame(connection, query)  # from the driver's cursor: no Row objects
    return frame.astype(
        {
            "race_id": "string",
            "umaban": "Int64",
            "finish_pos": "Int64",
            "abnormal_code": "Int64",
            "win_odds": "float64",
        }
    )


def read_runner_view(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """Runners dated ``start``..``end`` joined with their race's columns."""
    return runner_view(read_races(connection, start, end), read_runners(connection, start, end))


def history_bounds(connection: Connection, before: date) -> tuple[date | None, date | None]:
    """First and last stored race dates strictly before ``before`` (None when none)."""
    from sqlalchemy import func

    query = select(func.min(RACES.c.race_date), func.max(RACES.c.race_date)).where(
        and_(RACES.c.race_date < before, RACES.c.has_results.is_(True))
    )
    first, last = connection.execute(query).one()
    return first, last


def settled_race_count(connection: Connection, start: date, end: date) -> int:
    """Settled races stored dated ``start``..``end``."""
    query = select(func.count()).where(
        and_(RACES.c.race_date >= start, RACES.c.race_date <= end, RACES.c.has_results.is_(True))
    )
    return int(connection.execute(query).scalar_one())


# --- derived frames ---------------------------------------------------------------------------


def write_by_runner(connection: Connection, table_name: str, frame: pd.DataFrame) -> int:
    """Store a per-runner derived frame (first3f, indexes) by its natural key."""
    table = {"first3f": FIRST3F, "indexes": INDEXES}[table_name]
    return replace_rows(connection, table, frame, RUNNER_KEY)


def write_predictions(connection: Connection, predictions: pd.DataFrame) -> int:
    """Store predictions by (model_version, race_id, umaban)."""
    return replace_rows(connection, PREDICTIONS, predictions, ["model_version", *RUNNER_KEY])


def read_predictions(
    connection: Connection, start: date, end: date, model_version: str | None = None
) -> pd.DataFrame:
    """Stored predictions dated ``start``..``end`` (optionally of one model version)."""
    where = {"model_version": model_version} if model_version else None
    return read_rows(connection, PREDICTIONS, start=start, end=end, where=where)


# --- reference times --------------------------------------------------------------------------


def read_reference_times(connection: Connection, version: str) -> pd.DataFrame:
    """The reference times of one version (empty when it does not exist)."""
    frame = read_rows(connection, REFERENCE_TIMES, where={"version": version})
    return frame[REFERENCE_COLUMNS].astype({"distance_m": "int64", "n_samples": "int64"})


def write_reference_times(
    connection: Connection,
    version: str,
    references: pd.DataFrame,
    history_start: date | None,
    history_end: date | None,
    n_races: int,
) -> int:
    """Store one version of reference times (replacing that version if it exists)."""
    connection.execute(delete(REFERENCE_TIMES).where(REFERENCE_TIMES.c.version == version))
    connection.execute(delete(REFERENCE_VERSIONS).where(REFERENCE_VERSIONS.c.version == version))
    insert_rows(
        connection,
        REFERENCE_VERSIONS,
        pd.DataFrame(
            [
                {
                    "version": version,
                    "history_start": history_start,
                    "history_end": history_end,
                    "n_races": n_races,
                    "created_at": datetime.now(),
                }
            ]
        ),
    )
    return insert_rows(connection, REFERENCE_TIMES, references.assign(version=version))


def reference_history(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """What reference times are learned from: runner view rows dated ``start``..``end``."""
    return read_runner_view(connection, start, end)


def read_reference_versions(connection: Connection) -> pd.DataFrame:
    """Every stored version of reference times (what history each was learned from)."""
    return read_rows(connection, REFERENCE_VERSIONS).sort_values("version").reset_index(drop=True)


# --- first-3F models --------------------------------------------------------------------------


def read_first3f_model(connection: Connection, version: str) -> dict[str, Any] | None:
    """The stored first-3F model row of ``version`` (None when it does not exist)."""
    query = select(FIRST3F_MODELS).where(FIRST3F_MODELS.c.version == version)
    row = connection.execute(query).mappings().first()
    return dict(row) if row is not None else None


def write_first3f_model(connection: Connection, record: dict[str, Any]) -> None:
    """Store one first-3F model version (replacing that version if it exists)."""
    version = record["version"]
    connection.execute(delete(FIRST3F_MODELS).where(FIRST3F_MODELS.c.version == version))
    connection.execute(insert(FIRST3F_MODELS), [record])


def read_first3f_model_summaries(connection: Connection) -> pd.DataFrame:
    """Every stored first-3F model version without its pickled ML layer."""
    columns = [column for column in FIRST3F_MODELS.c if column.name != "ml_model"]
    result = connection.execute(select(*columns).order_by(FIRST3F_MODELS.c.version))
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


# --- track variants and features ---------------------------------------------------------------

_FEATURE_WRITE_CHUNK = 20_000  # rows per executemany: bounded memory on year-long backfills


def write_track_variants(connection: Connection, variants: pd.DataFrame) -> int:
    """Store track variants by (race_date, keibajo_code, surface)."""
    return replace_rows(
        connection, TRACK_VARIANTS, variants, ["race_date", "keibajo_code", "surface"]
    )


def _runs_query() -> Select[Any]:
    """Runner rows with their race's columns and their indexes (runs without indexes kept)."""
    race_columns = {"distance_m", "class_code", "going_code", "field_size", "entries"}
    index_columns = {"speed_index", "ten_index", "agari_index", "composite_index"}
    wanted = dict.fromkeys([*HISTORY_COLUMNS, *CARD_COLUMNS])
    selected = [
        RACES.c[name] if name in race_columns
        else INDEXES.c[name] if name in index_columns
        else RUNNERS.c[name]
        for name in wanted
    ]  # fmt: skip
    return (
        select(*selected, RACES.c.has_results)
        .select_from(RUNNERS)
        .join(RACES, RACES.c.race_id == RUNNERS.c.race_id)
        .outerjoin(
            INDEXES,
            and_(INDEXES.c.race_id == RUNNERS.c.race_id, INDEXES.c.umaban == RUNNERS.c.umaban),
        )
    )


def _frame(connection: Connection, query: Select[Any]) -> pd.DataFrame:
    frame = fetch_frame(connection, query)  # driver values: dates as text on SQLite
    for column in query.selected_columns:
        values = frame[column.name]
        if isinstance(column.type, Boolean):
            frame[column.name] = values.astype("boolean")
        elif isinstance(column.type, Float):
            frame[column.name] = pd.to_numeric(values).astype("float64")
        elif isinstance(column.type, Integer):
            frame[column.name] = pd.to_numeric(values).astype("Int64")
        elif isinstance(column.type, String):
            frame[column.name] = values.astype("string")
    frame["race_date"] = pd.to_datetime(frame["race_date"]).astype("datetime64[ns]")
    return frame


def read_feature_history(
    connection: Connection, before: date, horse_ids: Iterable[str]
) -> pd.DataFrame:
    """Every settled run of ``horse_ids`` dated before ``before`` (with its indexes)."""
    settled = and_(RACES.c.has_results.is_(True), RUNNERS.c.race_date < before)
    ids = sorted(set(horse_ids))
    frames = [
        _frame(
            connection,
            _runs_query().where(settled, RUNNERS.c.horse_id.in_(ids[first : first + 500])),
        )
        for first in range(0, len(ids), 500)
    ]
    if not frames:
        return _frame(connection, _runs_query().where(false()))
    return pd.concat(frames, ignore_index=True)


def read_people_window(connection: Connection, start: date, before: date) -> pd.DataFrame:
    """Runs and wins per jockey and per trainer over the settled days ``start`` up to
    ``before``, as one row per person dated ``start`` (the shape of
    :func:`raceday.features.people_daily_counts`, summed: exact for cards dated ``before``)."""
    is_run = or_(
        RUNNERS.c.finish_pos.is_not(None), RUNNERS.c.abnormal_code.in_(RUN_WITHOUT_FINISH_CODES)
    )
    frames = []
    for role in PEOPLE_ROLES:
        person = RUNNERS.c[role]
        query = (
            select(
                person.label("person_id"),
                func.count().label("runs"),
                func.sum(case((RUNNERS.c.finish_pos == 1, 1), else_=0)).label("wins"),
            )
            .select_from(RUNNERS)
            .join(RACES, RACES.c.race_id == RUNNERS.c.race_id)
            .where(
                RACES.c.has_results.is_(True),
                RUNNERS.c.race_date >= start,
                RUNNERS.c.race_date < before,
                is_run,
                person.is_not(None),
                func.trim(person) != "",
            )
            .group_by(person)
        )
        result = connection.execute(query)
        frames.append(
            pd.DataFrame.from_records(
                [tuple(row) for row in result], columns=["person_id", "runs", "wins"]
            ).assign(role=role, race_date=pd.Timestamp(start))
        )
    out = pd.concat(frames, ignore_index=True)
    return out.astype(
        {"person_id": "string", "runs": "int64", "wins": "int64", "race_date": "datetime64[ns]"}
    )[["role", "person_id", "race_date", "runs", "wins"]]


def read_settled_runs(connection: Connection, end: date, after: date | None = None) -> pd.DataFrame:
    """Every settled run dated up to ``end`` (and after ``after``), with its indexes."""
    settled = and_(RACES.c.has_results.is_(True), RUNNERS.c.race_date <= end)
    if after is not None:
        settled = and_(settled, RUNNERS.c.race_date > after)
    return _frame(connection, _runs_query().where(settled))


def read_runs_and_cards(
    connection: Connection, start: date, end: date, history: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every settled run up to ``end`` (history) and every stored runner ``start``..``end``.

    ``history``: the settled runs up to ``end`` when the caller holds them already (not read).
    """
    if history is None:
        history = read_settled_runs(connection, end)
    in_range = history["race_date"].between(pd.Timestamp(start), pd.Timestamp(end))
    unsettled = _frame(
        connection,
        _runs_query().where(
            RACES.c.has_results.is_(False),
            RUNNERS.c.race_date >= start,
            RUNNERS.c.race_date <= end,
        ),
    )
    cards = pd.concat([history[in_range], unsettled], ignore_index=True)
    return history, cards


def write_features(
    connection: Connection, features: pd.DataFrame, feature_set: str, start: date, end: date
) -> int:
    """Replace the features of ``feature_set`` dated ``start``..``end`` with ``features``."""
    connection.execute(
        delete(FEATURES_TABLE).where(
            and_(
                FEATURES_TABLE.c.feature_set == feature_set,
                FEATURES_TABLE.c.race_date >= start,
                FEATURES_TABLE.c.race_date <= end,
            )
        )
    )
    rows = features.assign(feature_set=feature_set)
    written = 0
    for first in range(0, len(rows), _FEATURE_WRITE_CHUNK):
        written += insert_rows(
            connection, FEATURES_TABLE, rows.iloc[first : first + _FEATURE_WRITE_CHUNK]
        )
    return written


def read_features(
    connection: Connection, start: date, end: date, feature_set: str | None = None
) -> pd.DataFrame:
    """Stored features dated ``start``..``end`` (optionally of one feature set)."""
    where = {"feature_set": feature_set} if feature_set else None
    return read_rows(connection, FEATURES_TABLE, start=start, end=end, where=where)


def read_indexes(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """Stored indexes dated ``start``..``end``."""
    return read_rows(connection, INDEXES, start=start, end=end)


# --- betting ----------------------------------------------------------------------------------


def write_bets(connection: Connection, bets: pd.DataFrame, policy: str, race_date: date) -> int:
    """Replace a day's unsettled bets of ``policy``; settled bets are never rewritten here."""
    of_day = and_(BETS.c.policy == policy, BETS.c.race_date == race_date)
    connection.execute(delete(BETS).where(and_(of_day, BETS.c.settled.is_(False))))
    kept = connection.execute(select(BETS.c.race_id, BETS.c.umaban).where(of_day)).all()
    settled_keys = {(str(race_id), int(umaban)) for race_id, umaban in kept}
    keys = zip(bets["race_id"].astype(str), bets["umaban"].astype(int), strict=True)
    fresh = bets[[key not in settled_keys for key in keys]]
    return insert_rows(connection, BETS, fresh.assign(policy=policy, settled=False))


def read_bets(
    connection: Connection,
    start: date | None = None,
    end: date | None = None,
    policy: str | None = None,
) -> pd.DataFrame:
    """Stored bets (optionally dated ``start``..``end`` and of one policy)."""
    where = {"policy": policy} if policy else None
    return read_rows(connection, BETS, start=start, end=end, where=where)


def write_settlement(connection: Connection, settled: pd.DataFrame) -> int:
    """Store settled bets (replacing them by natural key)."""
    return replace_rows(connection, BETS, settled, ["policy", *RUNNER_KEY])


LEDGER_DAY_COLUMNS = ["race_date", "bets", "open_bets", "staked_yen", "paid_yen", "refunded_yen"]


def ledger_days(
    connection: Connection, policy: str, *, before: date | None = None, end: date | None = None
) -> pd.DataFrame:
    """The ledger summed per race date (one row a day, not a row a bet): what the bankroll and
    its drawdown derive from. Dated before ``before`` and/or up to ``end`` inclusive."""
    from sqlalchemy import case, func

    query = (
        select(
            BETS.c.race_date,
            func.count(),
            func.sum(case((BETS.c.settled.is_(True), 0), else_=1)),
            func.sum(BETS.c.stake_yen),
            func.sum(func.coalesce(BETS.c.payout_yen, 0)),
            func.sum(func.coalesce(BETS.c.refund_yen, 0)),
        )
        .where(BETS.c.policy == policy)
        .group_by(BETS.c.race_date)
        .order_by(BETS.c.race_date)
    )
    if before is not None:
        query = query.where(BETS.c.race_date < before)
    if end is not None:
        query = query.where(BETS.c.race_date <= end)
    frame = pd.DataFrame(connection.execute(query).all(), columns=LEDGER_DAY_COLUMNS)
    frame["race_date"] = pd.to_datetime(frame["race_date"])
    return frame.astype({name: "int64" for name in LEDGER_DAY_COLUMNS[1:]})


# --- records ----------------------------------------------------------------------------------


def write_quarantine(
    connection: Connection,
    quarantine: pd.DataFrame,
    start: date,
    end: date,
    stage: str,
    run_id: str,
) -> int:
    """Replace the quarantine rows of a stage for ``start``..``end``."""
    connection.execute(
        delete(QUARANTINE).where(
            and_(
                QUARANTINE.c.race_date >= start,
                QUARANTINE.c.race_date <= end,
                QUARANTINE.c.stage == stage,
            )
        )
    )
    rows = quarantine.assign(
        race_date=pd.to_datetime(quarantine["race_date"]).fillna(pd.Timestamp(start)),
        stage=stage,
        run_id=run_id,
    )
    return insert_rows(connection, QUARANTINE, rows)


def read_quarantine(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """Quarantined rows dated ``start``..``end``."""
    return read_rows(connection, QUARANTINE, start=start, end=end)


def write_validation_results(connection: Connection, results: pd.DataFrame) -> int:
    """Store the latest validation outcome per (race_date, suite)."""
    return replace_rows(connection, VALIDATION, results, ["race_date", "suite"])


def record_stage_run(connection: Connection, run: dict[str, object]) -> None:
    """Upsert the latest run of a stage for a day, counting attempts (``run["attempts"]``: how
    many this run made, 1 when absent)."""
    key = and_(
        RUNS.c.flow_name == run["flow_name"],
        RUNS.c.stage == run["stage"],
        RUNS.c.race_date == run["race_date"],
    )
    previous = connection.execute(select(RUNS.c.attempts).where(key)).scalar()
    connection.execute(delete(RUNS).where(key))
    made = run.get("attempts", 1)
    made = made if isinstance(made, int) else 1
    insert_rows(connection, RUNS, pd.DataFrame([{**run, "attempts": (previous or 0) + made}]))


# --- backfill progress ------------------------------------------------------------------------

BACKFILL_FLOW = "backfill"
BACKFILL_DAY_STAGE = "day"


def completed_backfill_days(connection: Connection, start: date, end: date) -> set[date]:
    """Days ``start``..``end`` a backfill has completed (recorded in ``pipeline_runs``)."""
    query = select(RUNS.c.race_date).where(
        RUNS.c.flow_name == BACKFILL_FLOW,
        RUNS.c.stage == BACKFILL_DAY_STAGE,
        RUNS.c.status == "completed",
        RUNS.c.race_date >= start,
        RUNS.c.race_date <= end,
    )
    return {_as_date(value) for (value,) in connection.execute(query).all()}


def _as_date(value: Any) -> date:
    return value if not isinstance(value, datetime) else value.date()


def mark_backfill_days(
    connection: Connection, days: list[date], run_id: str, started_at: datetime, seconds: float
) -> None:
    """Record ``days`` as completed by a backfill chunk (replacing earlier marks)."""
    if not days:
        return
    key = and_(
        RUNS.c.flow_name == BACKFILL_FLOW,
        RUNS.c.stage == BACKFILL_DAY_STAGE,
        RUNS.c.race_date.in_(days),
    )
    connection.execute(delete(RUNS).where(key))
    rows = pd.DataFrame(
        {
            "flow_name": BACKFILL_FLOW,
            "stage": BACKFILL_DAY_STAGE,
            "race_date": pd.to_datetime(pd.Series(days)),
            "run_id": run_id,
            "status": "completed",
            "rows_in": 0,
            "rows_out": 0,
            "started_at": started_at,
            "duration_s": seconds / len(days),
            "attempts": 1,
            "message": f"chunk {min(days)}..{max(days)}",
        }
    )
    insert_rows(connection, RUNS, rows)


# --- run lock ---------------------------------------------------------------------------------

LOCK_FLOW = "lock"  # pipeline_runs rows (flow_name "lock", stage "day") hold a day's run lock
LOCK_STAGE = "day"


def lock_day(connection: Connection, race_date: date, holder: str, run_id: str) -> None:
    """Take the day's run lock. The unique key of ``pipeline_runs`` is the arbiter: of two runs
    inserting at once exactly one succeeds, the other gets an ``IntegrityError`` (its own
    transaction must be the only thing it rolls back)."""
    row = {
        "flow_name": LOCK_FLOW,
        "stage": LOCK_STAGE,
        "race_date": race_date,
        "run_id": run_id,
        "status": "running",
        "rows_in": 0,
        "rows_out": 0,
        "started_at": datetime.now(),
        "duration_s": 0.0,
        "attempts": 1,
        "message": holder,
    }
    connection.execute(insert(RUNS).values(**row))


def day_lock_holder(connection: Connection, race_date: date) -> dict[str, Any] | None:
    """Who holds the day's run lock (run id, holder, since), or None."""
    found = connection.execute(
        select(RUNS.c.run_id, RUNS.c.message, RUNS.c.started_at).where(
            RUNS.c.flow_name == LOCK_FLOW, RUNS.c.stage == LOCK_STAGE, RUNS.c.race_date == race_date
        )
    ).first()
    if found is None:
        return None
    return {"run_id": found[0], "holder": found[1], "since": found[2]}


def unlock_day(connection: Connection, race_date: date, run_id: str | None = None) -> None:
    """Release the day's run lock (only ``run_id``'s when given)."""
    condition = and_(
        RUNS.c.flow_name == LOCK_FLOW, RUNS.c.stage == LOCK_STAGE, RUNS.c.race_date == race_date
    )
    if run_id is not None:
        condition = and_(condition, RUNS.c.run_id == run_id)
    connection.execute(delete(RUNS).where(condition))
