"""The store's tables: SQLAlchemy 2 typed models with natural keys (Alembic owns the schema)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from raceday.ratings.features import FEATURES

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention (stable names for migrations)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


RACE_ID = String(12)
# A horse's, jockey's or trainer's id as its source writes it: JV-Data's are 10 and 5 digits,
# other exports' wider (Hong Kong's horse ids ``HK_2019_A123``, jockey codes of letters): 24
# characters hold them, so such a runner is kept, not set aside by ``fields_fit_the_store`` (2800).
MEMBER_ID = String(24)


class Race(Base):
    """One race (nvd_ra, decoded). Natural key: race_id."""

    __tablename__ = "races"

    race_id: Mapped[str] = mapped_column(RACE_ID, primary_key=True)
    race_date: Mapped[date] = mapped_column(Date, index=True)
    keibajo_code: Mapped[str] = mapped_column(String(2))
    race_bango: Mapped[int] = mapped_column(Integer)
    race_name: Mapped[str | None] = mapped_column(String(60))
    class_code: Mapped[str | None] = mapped_column(String(8))
    grade_code: Mapped[str | None] = mapped_column(String(2))
    distance_m: Mapped[int] = mapped_column(Integer)
    track_code: Mapped[str | None] = mapped_column(String(2))
    going_code: Mapped[int | None] = mapped_column(Integer)
    weather_code: Mapped[int | None] = mapped_column(Integer)
    entries: Mapped[int | None] = mapped_column(Integer)
    field_size: Mapped[int] = mapped_column(Integer)
    post_time: Mapped[str | None] = mapped_column(String(4))
    leader_first3f_s: Mapped[float | None] = mapped_column(Float)
    race_last3f_s: Mapped[float | None] = mapped_column(Float)
    has_results: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(40))


class Runner(Base):
    """One runner of a race (nvd_se, decoded). Natural key: (race_id, umaban)."""

    __tablename__ = "runners"

    race_id: Mapped[str] = mapped_column(RACE_ID, primary_key=True)
    umaban: Mapped[int] = mapped_column(Integer, primary_key=True)
    race_date: Mapped[date] = mapped_column(Date, index=True)
    keibajo_code: Mapped[str] = mapped_column(String(2))
    wakuban: Mapped[int | None] = mapped_column(Integer)
    horse_id: Mapped[str] = mapped_column(MEMBER_ID, index=True)
    horse_name: Mapped[str | None] = mapped_column(String(40))
    sex_code: Mapped[int | None] = mapped_column(Integer)
    age: Mapped[int | None] = mapped_column(Integer)
    jockey_id: Mapped[str | None] = mapped_column(MEMBER_ID)
    trainer_id: Mapped[str | None] = mapped_column(MEMBER_ID)
    weight_carried_kg: Mapped[float | None] = mapped_column(Float)
    body_weight_kg: Mapped[int | None] = mapped_column(Integer)
    body_weight_diff_kg: Mapped[int | None] = mapped_column(Integer)
    abnormal_code: Mapped[int] = mapped_column(Integer, default=0)
    finish_pos: Mapped[int | None] = mapped_column(Integer)
    finish_time_s: Mapped[float | None] = mapped_column(Float)
    last3f_s: Mapped[float | None] = mapped_column(Float)
    corner_1: Mapped[int | None] = mapped_column(Integer)
    corner_2: Mapped[int | None] = mapped_column(Integer)
    corner_3: Mapped[int | None] = mapped_column(Integer)
    corner_4: Mapped[int | None] = mapped_column(Integer)
    win_odds: Mapped[float | None] = mapped_column(Float)
    popularity: Mapped[int | None] = mapped_column(Integer)
    time_behind_s: Mapped[float | None] = mapped_column(Float)


class OddsSnapshot(Base):
    """Win odds at bet time (the predict run's snapshot). Natural key: (race_id, umaban)."""

    __tablename__ = "odds_snapshots"

    race_id: Mapped[str] = mapped_column(RACE_ID, primary_key=True)
    umaban: Mapped[int] = mapped_column(Integer, primary_key=True)
    race_date: Mapped[date] = mapped_column(Date, index=True)
    snapshot_at: Mapped[str | None] = mapped_column(String(8))
    win_odds: Mapped[float] = mapped_column(Float)
    popularity: Mapped[int | None] = mapped_column(Integer)


class ReferenceTime(Base):
    """Learned base/standard times per venue x surface x distance (x class; '' = all classes).

    ``surface`` is turf / dirt / jump / other; '' = every surface, the rows of versions learned
    before surfaces had cells of their own (a lookup falls back to them)."""

    __tablename__ = "reference_times"

    version: Mapped[str] = mapped_column(String(24), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    keibajo_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    surface: Mapped[str] = mapped_column(String(8), primary_key=True, server_default="")
    distance_m: Mapped[int] = mapped_column(Integer, primary_key=True)
    class_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    value_s: Mapped[float] = mapped_column(Float)
    n_samples: Mapped[int] = mapped_column(Integer)


class ReferenceVersion(Base):
    """A version of the reference times: what history it was learned from."""

    __tablename__ = "reference_versions"

    version: Mapped[str] = mapped_column(String(24), primary_key=True)
    history_start: Mapped[date | None] = mapped_column(Date)
    history_end: Mapped[date | None] = mapped_column(Date)
    n_races: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class First3F(Base):
    """Each runner's first-3F (前半3F) time with the method that produced it."""

    __tablename__ = "first3f"

    race_id: Mapped[str] = mapped_column(RACE_ID, primary_key=True)
    umaban: Mapped[int] = mapped_column(Integer, primary_key=True)
    race_date: Mapped[date] = mapped_column(Date, index=True)
    first3f_s: Mapped[float | None] = mapped_column(Float)
    first_segment_m: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(16))
    reference_version: Mapped[str | None] = mapped_column(String(24))
    model_version: Mapped[str | None] = mapped_column(String(24))


class First3FModelVersion(Base):
    """First-3F layers fitted on history (pace, leader deficit, ML): one row per version."""

    __tablename__ = "first3f_models"

    version: Mapped[str] = mapped_column(String(24), primary_key=True)
    reference_version: Mapped[str] = mapped_column(String(24))
    history_start: Mapped[date | None] = mapped_column(Date)
    history_end: Mapped[date | None] = mapped_column(Date)
    n_leader_rows: Mapped[int] = mapped_column(Integer)
    n_1200m_rows: Mapped[int] = mapped_column(Integer)
    n_short_rows: Mapped[int] = mapped_column(Integer)
    params: Mapped[str] = mapped_column(Text)  # JSON: coefficients, held-out errors, gates
    ml_model: Mapped[str | None] = mapped_column(Text)  # base64 pickle of the ML layer
    ml_library: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class RunnerIndex(Base):
    """Speed / ten (early) / agari (late) / composite indexes of a run."""

    __tablename__ = "indexes"

    race_id: Mapped[str] = mapped_column(RACE_ID, primary_key=True)
    umaban: Mapped[int] = mapped_column(Integer, primary_key=True)
    race_date: Mapped[date] = mapped_column(Date, index=True)
    speed_index: Mapped[float | None] = mapped_column(Float)
    ten_index: Mapped[float | None] = mapped_column(Float)
    agari_index: Mapped[float | None] = mapped_column(Float)
    composite_index: Mapped[float | None] = mapped_column(Float)
    reference_version: Mapped[str | None] = mapped_column(String(24))
    first3f_method: Mapped[str | None] = mapped_column(String(16))
    track_variant_s_per_km: Mapped[float | None] = mapped_column(Float)
    index_version: Mapped[str | None] = mapped_column(String(16))


class TrackVariant(Base):
    """How much slower (+) or faster than standard a day ran, per venue and surface (s/km)."""

    __tablename__ = "track_variants"

    race_date: Mapped[date] = mapped_column(Date, primary_key=True)
    keibajo_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    surface: Mapped[str] = mapped_column(String(8), primary_key=True)
    variant_s_per_km: Mapped[float] = mapped_column(Float)
    n_races: Mapped[int] = mapped_column(Integer)
    n_runners: Mapped[int] = mapped_column(Integer)
    reference_version: Mapped[str | None] = mapped_column(String(24))


_FEATURE_SQL_TYPES = {"float64": Float, "int64": Integer, "bool": Boolean}

# What a model saw: one row per feature set, race and horse; the columns follow
# raceday.ratings.features.FEATURES (a new feature set that changes them needs a migration).
FEATURES_TABLE = Table(
    "features",
    Base.metadata,
    Column("feature_set", String(16), primary_key=True),
    Column("race_id", RACE_ID, primary_key=True),
    Column("umaban", Integer, primary_key=True),
    Column("race_date", Date, index=True, nullable=False),
    Column("keibajo_code", String(2)),
    Column("horse_id", MEMBER_ID),
    *(Column(spec.name, _FEATURE_SQL_TYPES[spec.dtype]) for spec in FEATURES),
    # a feature set's days (a chunk's rewrite, a race's read) found by date (2500)
    Index("ix_features_feature_set_race_date", "feature_set", "race_date"),
)


class Prediction(Base):
    """A model version's win probability for a runner. Natural key: (model, race, horse)."""

    __tablename__ = "predictions"

    model_version: Mapped[str] = mapped_column(String(40), primary_key=True)
    race_id: Mapped[str] = mapped_column(RACE_ID, primary_key=True)
    umaban: Mapped[int] = mapped_column(Integer, primary_key=True)
    race_date: Mapped[date] = mapped_column(Date, index=True)
    p_market: Mapped[float] = mapped_column(Float)
    p_model: Mapped[float | None] = mapped_column(Float)
    p_final: Mapped[float] = mapped_column(Float)


class ModelVersion(Base):
    """A trained win-model version: its artifact and what it was trained and judged on.

    The artifact (a pickled :class:`raceday.model.win.WinModel`) lives in the row, so the registry
    works the same on SQLite and PostgreSQL. ``meta`` is JSON: data windows, features,
    parameters, metrics, code version. ``trained_until`` is the last day of data it saw: a race
    day may only use a version trained strictly before it.
    """

    __tablename__ = "model_versions"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    trained_until: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    artifact: Mapped[bytes] = mapped_column(LargeBinary)
    meta: Mapped[str] = mapped_column(Text)
    library: Mapped[str] = mapped_column(String(40))
    eval_log_loss: Mapped[float | None] = mapped_column(Float)
    promoted: Mapped[bool] = mapped_column(Boolean, default=False)
    promoted_at: Mapped[datetime | None] = mapped_column(DateTime)


class Bet(Base):
    """A paper win bet and its settlement. Natural key: (policy, race_id, umaban)."""

    __tablename__ = "bets"
    # a policy's days (a day's bets, the ledger before a day) found by date (2500)
    __table_args__ = (Index("ix_bets_policy_race_date", "policy", "race_date"),)

    policy: Mapped[str] = mapped_column(String(24), primary_key=True)
    race_id: Mapped[str] = mapped_column(RACE_ID, primary_key=True)
    umaban: Mapped[int] = mapped_column(Integer, primary_key=True)
    race_date: Mapped[date] = mapped_column(Date, index=True)
    model_version: Mapped[str] = mapped_column(String(40))
    p_final: Mapped[float] = mapped_column(Float)
    odds_at_bet: Mapped[float] = mapped_column(Float)
    edge: Mapped[float] = mapped_column(Float)
    stake_yen: Mapped[int] = mapped_column(Integer)
    policy_params: Mapped[str] = mapped_column(Text)
    settled: Mapped[bool] = mapped_column(Boolean, default=False)
    final_odds: Mapped[float | None] = mapped_column(Float)
    payout_yen: Mapped[int | None] = mapped_column(Integer)
    refund_yen: Mapped[int | None] = mapped_column(Integer)
    pnl_yen: Mapped[int | None] = mapped_column(Integer)  # payout + refund - stake, once settled
    # How the stake came about (nullable: bets written before revision 0700 lack them).
    odds_source: Mapped[str | None] = mapped_column(String(8))  # snapshot | final
    kelly_fraction: Mapped[float | None] = mapped_column(Float)  # full Kelly, before limits
    bankroll_at_bet_yen: Mapped[int | None] = mapped_column(Integer)
    expected_win_pool_yen: Mapped[int | None] = mapped_column(Integer)
    # Set when the bet was voided (refunded at 0 P&L): its race was set aside at night (1900).
    void_reason: Mapped[str | None] = mapped_column(String(200))
    # When the odds it was sized on were published, and when the ticket was emitted (2100;
    # Japan time; odds_at is empty for final odds).
    odds_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)


class RaceDecision(Base):
    """A race decided at race time (``raceday live``): once written, the race is never decided
    again. Written in the same transaction as the race's bets. Natural key: (policy, race_id).

    ``outcome``: ``bet`` (tickets emitted), ``no_bet`` (decided, nothing worth a stake),
    ``missed_close`` (its close passed before it was decided), ``no_odds`` (no odds published
    by its deadline), ``not_offered`` (outside the rollout stage's races)."""

    __tablename__ = "race_decisions"
    __table_args__ = (Index("ix_race_decisions_policy_race_date", "policy", "race_date"),)

    policy: Mapped[str] = mapped_column(String(24), primary_key=True)
    race_id: Mapped[str] = mapped_column(RACE_ID, primary_key=True)
    race_date: Mapped[date] = mapped_column(Date, index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    post_at: Mapped[datetime | None] = mapped_column(DateTime)
    odds_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_at: Mapped[datetime] = mapped_column(DateTime)
    bets: Mapped[int] = mapped_column(Integer)
    staked_yen: Mapped[int] = mapped_column(Integer)
    model_version: Mapped[str | None] = mapped_column(String(40))
    run_id: Mapped[str] = mapped_column(String(40))
    latency_s: Mapped[float | None] = mapped_column(Float)  # odds read to ticket written
    message: Mapped[str | None] = mapped_column(Text)


class Performance(Base):
    """A day's performance record, per scope ('all' or a venue code)."""

    __tablename__ = "performance"

    perf_date: Mapped[date] = mapped_column(Date, primary_key=True)
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    races: Mapped[int] = mapped_column(Integer)
    runners: Mapped[int] = mapped_column(Integer)
    quarantined: Mapped[int] = mapped_column(Integer)
    bets: Mapped[int] = mapped_column(Integer)
    staked_yen: Mapped[int] = mapped_column(Integer)
    returned_yen: Mapped[int] = mapped_column(Integer)
    bankroll_yen: Mapped[int] = mapped_column(Integer)
    hit_rate: Mapped[float | None] = mapped_column(Float)
    top3_rate: Mapped[float | None] = mapped_column(Float)
    log_loss: Mapped[float | None] = mapped_column(Float)
    market_log_loss: Mapped[float | None] = mapped_column(Float)
    model_version: Mapped[str | None] = mapped_column(String(40))
    # Added by the monitoring revision: enough to combine days exactly (sums, not means).
    races_offered: Mapped[int | None] = mapped_column(Integer)
    races_quarantined: Mapped[int | None] = mapped_column(Integer)
    quarantine_rate: Mapped[float | None] = mapped_column(Float)
    scored_races: Mapped[int | None] = mapped_column(Integer)
    roi: Mapped[float | None] = mapped_column(Float)
    drawdown: Mapped[float | None] = mapped_column(Float)
    uniform_log_loss: Mapped[float | None] = mapped_column(Float)
    pseudo_r2: Mapped[float | None] = mapped_column(Float)
    market_pseudo_r2: Mapped[float | None] = mapped_column(Float)
    calibration_error: Mapped[float | None] = mapped_column(Float)
    run_seconds: Mapped[float | None] = mapped_column(Float)
    # Added by revision 2700: the hit rate the top picks' own probabilities expect (their mean).
    expected_hit_rate: Mapped[float | None] = mapped_column(Float)


class RaceScore(Base):
    """One predicted race judged after the result: the figures every window is summed from."""

    __tablename__ = "race_scores"

    race_id: Mapped[str] = mapped_column(RACE_ID, primary_key=True)
    race_date: Mapped[date] = mapped_column(Date, index=True)
    keibajo_code: Mapped[str] = mapped_column(String(2))
    model_version: Mapped[str] = mapped_column(String(40))
    priced_runners: Mapped[int] = mapped_column(Integer)
    winners: Mapped[int] = mapped_column(Integer)
    winner_umaban: Mapped[int | None] = mapped_column(Integer)
    p_final_winner: Mapped[float | None] = mapped_column(Float)
    p_market_winner: Mapped[float | None] = mapped_column(Float)
    log_loss_final: Mapped[float | None] = mapped_column(Float)
    log_loss_market: Mapped[float | None] = mapped_column(Float)
    log_loss_uniform: Mapped[float | None] = mapped_column(Float)
    top_pick_umaban: Mapped[int | None] = mapped_column(Integer)
    top_pick_p: Mapped[float | None] = mapped_column(Float)
    top_pick_finish: Mapped[int | None] = mapped_column(Integer)
    bets: Mapped[int] = mapped_column(Integer)
    staked_yen: Mapped[int] = mapped_column(Integer)
    returned_yen: Mapped[int] = mapped_column(Integer)


class RollingPerformance(Base):
    """Performance over a trailing window ending on a day ('7d', '30d', '500r' = 500 races)."""

    __tablename__ = "rolling_performance"

    perf_date: Mapped[date] = mapped_column(Date, primary_key=True)
    span: Mapped[str] = mapped_column(String(8), primary_key=True)
    first_date: Mapped[date | None] = mapped_column(Date)
    days: Mapped[int] = mapped_column(Integer)
    races: Mapped[int] = mapped_column(Integer)
    scored_races: Mapped[int] = mapped_column(Integer)
    bets: Mapped[int] = mapped_column(Integer)
    staked_yen: Mapped[int] = mapped_column(Integer)
    returned_yen: Mapped[int] = mapped_column(Integer)
    roi: Mapped[float | None] = mapped_column(Float)
    hit_rate: Mapped[float | None] = mapped_column(Float)
    top3_rate: Mapped[float | None] = mapped_column(Float)
    log_loss: Mapped[float | None] = mapped_column(Float)
    market_log_loss: Mapped[float | None] = mapped_column(Float)
    pseudo_r2: Mapped[float | None] = mapped_column(Float)
    market_pseudo_r2: Mapped[float | None] = mapped_column(Float)
    quarantine_rate: Mapped[float | None] = mapped_column(Float)
    max_drawdown: Mapped[float | None] = mapped_column(Float)
    bankroll_yen: Mapped[int | None] = mapped_column(Integer)
    expected_hit_rate: Mapped[float | None] = mapped_column(Float)  # revision 2700


class CalibrationBin(Base):
    """A day's predicted-vs-observed counts per probability bin (sum days for any window)."""

    __tablename__ = "calibration"

    perf_date: Mapped[date] = mapped_column(Date, primary_key=True)
    source: Mapped[str] = mapped_column(String(8), primary_key=True)  # final | market
    bin_lower: Mapped[float] = mapped_column(Float, primary_key=True)
    bin_upper: Mapped[float] = mapped_column(Float)
    runners: Mapped[int] = mapped_column(Integer)
    p_sum: Mapped[float] = mapped_column(Float)
    wins: Mapped[int] = mapped_column(Integer)
    model_version: Mapped[str | None] = mapped_column(String(40))


class Alert(Base):
    """An alert raised by a monitor or a failed run: what, when, how bad, delivered or not.

    One row per notification; a repeat of the same condition inside its quiet period only bumps
    ``repeats`` and ``last_seen_at`` of the latest row with that ``fingerprint``.
    """

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_fingerprint_raised_at", "fingerprint", "raised_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(200))
    rule: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    scope: Mapped[str] = mapped_column(String(40))
    race_date: Mapped[date | None] = mapped_column(Date, index=True)
    message: Mapped[str] = mapped_column(Text)
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    raised_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    repeats: Mapped[int] = mapped_column(Integer, default=0)
    # sent | partial | failed | quiet (a replayed day) | none (no destination configured)
    delivery: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)
    channels: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)


class Quarantine(Base):
    """A row set aside by validation, with the expectation it failed and its values."""

    __tablename__ = "quarantine"
    __table_args__ = (Index("ix_quarantine_race_date_table_name", "race_date", "table_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    race_date: Mapped[date | None] = mapped_column(Date)
    stage: Mapped[str] = mapped_column(String(16))
    table_name: Mapped[str] = mapped_column(String(16))
    race_id: Mapped[str | None] = mapped_column(String(16))
    umaban: Mapped[int | None] = mapped_column(Integer)
    check_name: Mapped[str] = mapped_column(String(120))
    detail: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str] = mapped_column(String(40))


class ValidationResult(Base):
    """The latest validation of a suite for a day. Natural key: (race_date, suite)."""

    __tablename__ = "validation_results"

    race_date: Mapped[date] = mapped_column(Date, primary_key=True)
    suite: Mapped[str] = mapped_column(String(40), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(40))
    success: Mapped[bool] = mapped_column(Boolean)
    rows_evaluated: Mapped[int] = mapped_column(Integer)
    rows_failed: Mapped[int] = mapped_column(Integer)
    expectations: Mapped[int] = mapped_column(Integer)
    expectations_failed: Mapped[int] = mapped_column(Integer)
    validated_at: Mapped[datetime] = mapped_column(DateTime)


class PipelineRun(Base):
    """The latest run of each stage for a day, with how many times it has run.

    Natural key (flow_name, stage, race_date): re-running a day updates the row instead of
    adding one, so a re-run leaves every table's row count unchanged; Prefect keeps the full
    history of runs.
    """

    __tablename__ = "pipeline_runs"
    __table_args__ = (UniqueConstraint("flow_name", "stage", "race_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    flow_name: Mapped[str] = mapped_column(String(40))
    stage: Mapped[str] = mapped_column(String(40))
    race_date: Mapped[date] = mapped_column(Date)
    run_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))
    rows_in: Mapped[int] = mapped_column(Integer)
    rows_out: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    duration_s: Mapped[float] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    message: Mapped[str | None] = mapped_column(Text)


class RunLock(Base):
    """The run lock of a race day of a sport (``horse``: NAR/JRA, ``boat``): the run that holds
    it and since when. Natural key: (race_date, sport).

    The primary key is the arbiter: of two runs taking a day's lock at once exactly one insert
    succeeds; the row is deleted when its run ends (a killed run's row is taken over)."""

    __tablename__ = "run_locks"

    race_date: Mapped[date] = mapped_column(Date, primary_key=True)
    sport: Mapped[str] = mapped_column(String(8), primary_key=True, server_default="horse")
    holder: Mapped[str] = mapped_column(Text)  # "<flow> <host> pid <pid>"
    run_id: Mapped[str] = mapped_column(String(40))
    since: Mapped[datetime] = mapped_column(DateTime)


class BackfillDay(Base):
    """A race day a backfill has completed (a resumed backfill skips it). Natural key: race_date.

    ``duration_s`` is the day's share of its chunk's time; ``circuits`` the circuits of the
    sources that completed it (``jra,nar``: a backfill reading another runs it; NULL, a day
    completed before revision 3000 without a stored race: done for any source)."""

    __tablename__ = "backfill_days"

    race_date: Mapped[date] = mapped_column(Date, primary_key=True)
    run_id: Mapped[str] = mapped_column(String(40))
    completed_at: Mapped[datetime] = mapped_column(DateTime)
    duration_s: Mapped[float] = mapped_column(Float)
    circuits: Mapped[str | None] = mapped_column(String(16))


def table_of(model: type[Base]) -> Table:
    """The Core table of a model (for frame IO with SQLAlchemy Core)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


TABLES_BY_EXPORT_NAME: dict[str, Table] = {
    "races": table_of(Race),
    "runners": table_of(Runner),
    "odds": table_of(OddsSnapshot),
    "first3f": table_of(First3F),
    "indexes": table_of(RunnerIndex),
    "track_variants": table_of(TrackVariant),
    "features": FEATURES_TABLE,
    "predictions": table_of(Prediction),
    "bets": table_of(Bet),
    "performance": table_of(Performance),
    "race_scores": table_of(RaceScore),
    "rolling": table_of(RollingPerformance),
    "calibration": table_of(CalibrationBin),
    "alerts": table_of(Alert),
    "quarantine": table_of(Quarantine),
    "reference_times": table_of(ReferenceTime),
    "validation": table_of(ValidationResult),
    "runs": table_of(PipelineRun),
}
