"""The boat racing (競艇) tables: their own, keyed like the day files (race_id, boat), on the
store's one ``Base`` (so one schema, one Alembic history: revision 2200). Apart from the horse
tables because their keys and columns differ (boat, racer, motor against umaban, horse, jockey)
and because the boat bets keep their own paper bankroll; the sport-agnostic tables (quarantine,
validation_results, pipeline_runs) are shared. docs/BOAT.md, "The store"."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Float, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from raceday.store.models import RACE_ID, Base, Quarantine, table_of


class BoatRace(Base):
    """A boat race: the program's header, and the results' when they are in. Key: race_id."""

    __tablename__ = "boat_races"

    race_id: Mapped[str] = mapped_column(RACE_ID, primary_key=True)
    race_date: Mapped[date] = mapped_column(Date, index=True)
    venue_code: Mapped[str] = mapped_column(String(2))
    race_number: Mapped[int] = mapped_column(Integer)
    race_name: Mapped[str | None] = mapped_column(String(60))
    distance_m: Mapped[int | None] = mapped_column(Integer)
    deadline_at: Mapped[datetime | None] = mapped_column(DateTime)
    meeting_day: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str | None] = mapped_column(String(12))  # run | cancelled; empty: no result
    weather: Mapped[str | None] = mapped_column(String(8))
    wind_direction: Mapped[str | None] = mapped_column(String(8))
    wind_speed_m: Mapped[int | None] = mapped_column(Integer)
    wave_cm: Mapped[int | None] = mapped_column(Integer)
    kimarite: Mapped[str | None] = mapped_column(String(16))


class BoatEntry(Base):
    """A boat on the program (B file). Natural key: (race_id, boat)."""

    __tablename__ = "boat_entries"

    race_id: Mapped[str] = mapped_column(RACE_ID, primary_key=True)
    boat: Mapped[int] = mapped_column(Integer, primary_key=True)
    race_date: Mapped[date] = mapped_column(Date, index=True)
    venue_code: Mapped[str] = mapped_column(String(2))
    racer_id: Mapped[str] = mapped_column(String(4), index=True)
    racer_name: Mapped[str | None] = mapped_column(String(40))
    age: Mapped[int | None] = mapped_column(Integer)
    branch: Mapped[str | None] = mapped_column(String(8))
    weight_kg: Mapped[int | None] = mapped_column(Integer)
    racer_class: Mapped[str] = mapped_column(String(2))
    national_win_rate: Mapped[float | None] = mapped_column(Float)
    national_top2_pct: Mapped[float | None] = mapped_column(Float)
    local_win_rate: Mapped[float | None] = mapped_column(Float)
    local_top2_pct: Mapped[float | None] = mapped_column(Float)
    motor_no: Mapped[int | None] = mapped_column(Integer)
    motor_top2_pct: Mapped[float | None] = mapped_column(Float)
    boat_no: Mapped[int | None] = mapped_column(Integer)
    boat_top2_pct: Mapped[float | None] = mapped_column(Float)


class BoatResult(Base):
    """A boat's result (K file). Natural key: (race_id, boat)."""

    __tablename__ = "boat_results"

    race_id: Mapped[str] = mapped_column(RACE_ID, primary_key=True)
    boat: Mapped[int] = mapped_column(Integer, primary_key=True)
    race_date: Mapped[date] = mapped_column(Date, index=True)
    racer_id: Mapped[str | None] = mapped_column(String(4), index=True)
    finish_code: Mapped[str] = mapped_column(String(4))
    position: Mapped[int | None] = mapped_column(Integer)
    started: Mapped[bool] = mapped_column(Boolean)
    refunded: Mapped[bool] = mapped_column(Boolean)
    exhibition_s: Mapped[float | None] = mapped_column(Float)
    course: Mapped[int | None] = mapped_column(Integer)
    start_timing_s: Mapped[float | None] = mapped_column(Float)  # negative: flying
    race_time_s: Mapped[float | None] = mapped_column(Float)


class BoatPayout(Base):
    """A payout line (K file); ``combination`` is '' for 特払い and 不成立. Key: (race, type,
    combination)."""

    __tablename__ = "boat_payouts"

    race_id: Mapped[str] = mapped_column(RACE_ID, primary_key=True)
    bet_type: Mapped[str] = mapped_column(String(10), primary_key=True)
    combination: Mapped[str] = mapped_column(String(8), primary_key=True)
    race_date: Mapped[date] = mapped_column(Date, index=True)
    payout_yen: Mapped[int | None] = mapped_column(Integer)
    popularity: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))  # paid | special (特払い) | void (不成立)


class BoatOdds(Base):
    """A win-odds snapshot of a boat (boat_odds.csv). Key: (race_id, boat, snapshot)."""

    __tablename__ = "boat_odds"

    race_id: Mapped[str] = mapped_column(RACE_ID, primary_key=True)
    boat: Mapped[int] = mapped_column(Integer, primary_key=True)
    snapshot: Mapped[str] = mapped_column(String(8), primary_key=True)
    race_date: Mapped[date] = mapped_column(Date, index=True)
    published_at: Mapped[datetime] = mapped_column(DateTime)
    win_odds: Mapped[float] = mapped_column(Float)


class BoatPrediction(Base):
    """A boat's win probabilities: the lane prior, the market's, the model's and the blend's
    (``p_final``, what is staked on). Key: (model_version, race_id, boat)."""

    __tablename__ = "boat_predictions"

    model_version: Mapped[str] = mapped_column(String(40), primary_key=True)
    race_id: Mapped[str] = mapped_column(RACE_ID, primary_key=True)
    boat: Mapped[int] = mapped_column(Integer, primary_key=True)
    race_date: Mapped[date] = mapped_column(Date, index=True)
    p_prior: Mapped[float] = mapped_column(Float)
    p_market: Mapped[float | None] = mapped_column(Float)
    p_model: Mapped[float | None] = mapped_column(Float)
    p_final: Mapped[float] = mapped_column(Float)
    odds_at: Mapped[datetime | None] = mapped_column(DateTime)


class BoatBet(Base):
    """A paper win (単勝) bet on a boat and its settlement from the K payouts; its own ledger
    (bankroll) apart from the horses'. Natural key: (policy, race_id, boat)."""

    __tablename__ = "boat_bets"
    __table_args__ = (Index("ix_boat_bets_policy_race_date", "policy", "race_date"),)

    policy: Mapped[str] = mapped_column(String(24), primary_key=True)
    race_id: Mapped[str] = mapped_column(RACE_ID, primary_key=True)
    boat: Mapped[int] = mapped_column(Integer, primary_key=True)
    race_date: Mapped[date] = mapped_column(Date, index=True)
    model_version: Mapped[str] = mapped_column(String(40))
    p_final: Mapped[float] = mapped_column(Float)
    odds_at_bet: Mapped[float] = mapped_column(Float)
    odds_source: Mapped[str | None] = mapped_column(String(8))
    edge: Mapped[float] = mapped_column(Float)
    kelly_fraction: Mapped[float | None] = mapped_column(Float)
    stake_yen: Mapped[int] = mapped_column(Integer)
    bankroll_at_bet_yen: Mapped[int | None] = mapped_column(Integer)
    expected_win_pool_yen: Mapped[int | None] = mapped_column(Integer)
    policy_params: Mapped[str] = mapped_column(Text)
    odds_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    settled: Mapped[bool] = mapped_column(Boolean, default=False)
    payout_yen: Mapped[int | None] = mapped_column(Integer)
    refund_yen: Mapped[int | None] = mapped_column(Integer)
    pnl_yen: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(String(16))  # won, lost, refunded, special, ...


class BoatPerformance(Base):
    """A boat day's record: counts, money and the log loss of each probability. Key: perf_date."""

    __tablename__ = "boat_performance"

    perf_date: Mapped[date] = mapped_column(Date, primary_key=True)
    races: Mapped[int] = mapped_column(Integer)
    boats: Mapped[int] = mapped_column(Integer)
    quarantined: Mapped[int] = mapped_column(Integer)
    races_left_out: Mapped[int] = mapped_column(Integer)
    bets: Mapped[int] = mapped_column(Integer)
    staked_yen: Mapped[int] = mapped_column(Integer)
    returned_yen: Mapped[int] = mapped_column(Integer)
    bankroll_yen: Mapped[int] = mapped_column(Integer)
    scored_races: Mapped[int] = mapped_column(Integer)
    log_loss: Mapped[float | None] = mapped_column(Float)
    model_log_loss: Mapped[float | None] = mapped_column(Float)
    market_log_loss: Mapped[float | None] = mapped_column(Float)
    prior_log_loss: Mapped[float | None] = mapped_column(Float)
    uniform_log_loss: Mapped[float | None] = mapped_column(Float)
    pseudo_r2: Mapped[float | None] = mapped_column(Float)
    model_version: Mapped[str | None] = mapped_column(String(40))


class BoatCourse(Base):
    """A boat's start and course before the race (the boat-course stage, from earlier days
    only): expected course (進入), the racer's 前付け rate, the course prior, the start-timing
    and exhibition indexes against the venue's standard. Key: (race_id, boat)."""

    __tablename__ = "boat_course"

    race_id: Mapped[str] = mapped_column(RACE_ID, primary_key=True)
    boat: Mapped[int] = mapped_column(Integer, primary_key=True)
    race_date: Mapped[date] = mapped_column(Date, index=True)
    racer_id: Mapped[str | None] = mapped_column(String(4))
    expected_course: Mapped[float] = mapped_column(Float)
    inner_take_rate: Mapped[float] = mapped_column(Float)
    inner_take_starts: Mapped[int] = mapped_column(Integer)
    p_course: Mapped[float] = mapped_column(Float)
    st_index: Mapped[float] = mapped_column(Float)  # s against the venue; negative: quicker
    expected_st: Mapped[float] = mapped_column(Float)
    st_starts: Mapped[int] = mapped_column(Integer)
    exhibition_index: Mapped[float] = mapped_column(Float)
    expected_exhibition: Mapped[float] = mapped_column(Float)
    exhibition_starts: Mapped[int] = mapped_column(Integer)


class BoatExotic(Base):
    """One of a race's most likely exacta (2連単) or trifecta (3連単) combinations from the
    day's win probabilities (``raceday.boat.exotics``). Key: (race_id, bet_type, combination)."""

    __tablename__ = "boat_exotics"

    race_id: Mapped[str] = mapped_column(RACE_ID, primary_key=True)
    bet_type: Mapped[str] = mapped_column(String(10), primary_key=True)  # exacta | trifecta
    combination: Mapped[str] = mapped_column(String(8), primary_key=True)  # 1-2, 1-2-3
    race_date: Mapped[date] = mapped_column(Date, index=True)
    rank: Mapped[int] = mapped_column(Integer)
    probability: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(24))  # harville | discounted(0.85)
    model_version: Mapped[str] = mapped_column(String(40))


BOAT_TABLES: dict[str, Table] = {
    table_of(model).name: table_of(model)
    for model in (
        BoatRace, BoatEntry, BoatResult, BoatPayout, BoatOdds, BoatPrediction, BoatBet,
        BoatPerformance, BoatCourse, BoatExotic,
    )
}  # fmt: skip
# ``raceday export TABLE --sport boat``: each boat table by its name without the prefix, and
# the shared quarantine (its boat stages' rows: ``quality.quarantine_of_sport``).
BOAT_TABLES_BY_EXPORT_NAME: dict[str, Table] = {
    name.removeprefix("boat_"): table for name, table in BOAT_TABLES.items()
} | {"quarantine": table_of(Quarantine)}
