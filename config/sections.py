"""The settings' sections (``RACEDAY_<SECTION>__<NAME>``): one model per concern, gathered by
:class:`config.settings.Settings`."""

from __future__ import annotations

import os
import re
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import NoDecode

from config.reference import WinPools, load_win_pools
from raceday.model.encoding import VenueEncoding

if TYPE_CHECKING:  # the slices' domain types, imported where they are built: importing the win
    # model's module (scipy's optimiser) with the settings cost every command ~0.4 s at start-up
    from raceday.model.win import ScorerOptions
    from raceday.sources.timeline import CardTiming
    from raceday.staking.kelly import StakingPolicy

StageName = Literal["pilot", "ramp", "full"]


class KellySettings(BaseModel):
    """Staking policy: fractional multi-outcome Kelly with limits (fractions of bankroll).

    The reasons for each default are in docs/STAKING.md.
    """

    policy_name: str = Field(
        "kelly",
        min_length=1,
        max_length=24,
        description="the ledger's name for this policy: a new name starts a new paper bankroll",
    )
    fraction: float = Field(
        0.25,
        gt=0,
        le=1,
        description="share of full Kelly staked: an overestimated edge makes full Kelly's growth "
        "negative (Benter staked 1/2-1/3); 1/4 keeps ~44% of the growth at 1/16 of the variance",
    )
    min_edge: float = Field(
        1.05, ge=1, description="bet only where p * odds >= this: thin edges are mostly model error"
    )
    max_bet_fraction: float = Field(0.02, gt=0, le=1, description="cap per bet, of bankroll")
    max_race_fraction: float = Field(0.05, gt=0, le=1, description="cap per race, of bankroll")
    max_day_fraction: float = Field(
        0.25, gt=0, le=1, description="cap per day, of bankroll: a day's races are correlated"
    )
    drawdown_soft: float = Field(
        0.15, ge=0, le=1, description="stakes start shrinking beyond this drawdown from the peak"
    )
    drawdown_brake: float = Field(
        0.30, gt=0, le=1, description="no stakes beyond this drawdown from the peak"
    )
    max_pool_share: float = Field(
        0.02,
        gt=0,
        le=1,
        description="a stake is at most this share of the money expected on its horse in the win "
        "pool: a bet s into a horse pool P_i lowers its odds by about s / P_i",
    )
    takeout: float = Field(
        0.20, ge=0, lt=1, description="the win pool's deduction (NAR: 20%), to read pools from odds"
    )
    win_pools_file: Path | None = Field(
        None, description="expected win pools per venue and class (default: the bundled table)"
    )

    @model_validator(mode="after")
    def _soft_before_brake(self) -> KellySettings:
        if self.drawdown_soft > self.drawdown_brake:
            raise ValueError("drawdown_soft must not exceed drawdown_brake")
        return self

    def policy(self) -> StakingPolicy:
        """The staking policy these settings describe."""
        from raceday.staking.kelly import policy_from_settings

        return policy_from_settings(self.policy_name, self.model_dump())

    def win_pools(self) -> WinPools:
        """The expected win-pool table: the configured file, else the bundled one."""
        return load_win_pools(self.win_pools_file) if self.win_pools_file else load_win_pools()


class RetrySettings(BaseModel):
    """Retry and timeout policy for every IO task."""

    retries: int = Field(3, ge=0)
    delays_s: list[float] = Field(default_factory=lambda: [2.0, 10.0, 30.0])
    jitter_factor: float = Field(0.5, ge=0)
    task_timeout_s: float = Field(1800.0, gt=0)
    lock_stale_after_s: float = Field(
        6 * 3600.0,
        gt=0,
        description="a day's run lock older than this is taken over (its holder died without "
        "releasing it on another machine; on the same machine a dead holder is seen at once)",
    )


class AlertSettings(BaseModel):
    """Where alerts go and how hard to try; nothing is sent when no destination is set.

    Every alert is stored (table ``alerts``) whether or not it could be delivered.
    """

    webhook_url: str | None = Field(
        None, description="POST each alert as JSON (rule, severity, message, date, ...) here"
    )
    apprise_urls: list[str] = Field(
        default_factory=list,
        description="Apprise URLs (slack://..., mailtos://..., json://...): Slack, e-mail, ...",
    )
    prefect_block: str | None = Field(
        None, description="name of a saved Prefect notification block (needs the Prefect API)"
    )
    timeout_s: float = Field(5.0, gt=0, description="per attempt: a hung receiver cannot stall")
    attempts: int = Field(3, ge=1, description="tries per destination: rides out a blip")
    retry_delays_s: list[float] = Field(
        default_factory=lambda: [2.0, 10.0],
        description="waits between tries; a down receiver costs ~12 s, never the run",
    )
    renotify_hours: float = Field(
        24.0,
        gt=0,
        description="an ongoing condition (drawdown, rolling log loss) re-pages once a day, "
        "not at every evaluation",
    )
    quiet_after_days: int = Field(
        2,
        ge=0,
        description="monitor alerts about race days older than this are stored, not sent: "
        "a backfill of last year must not page tonight",
    )

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        # checked before any run, so a typo is not found by the first alert; never echoed
        # (a webhook URL often holds its secret)
        if value is None or re.fullmatch(r"https?://[^/\s]+(/\S*)?", value):
            return value
        raise ValueError("not an http(s) URL (e.g. https://hooks.example.com/raceday)")

    @field_validator("apprise_urls")
    @classmethod
    def _apprise_urls(cls, value: list[str]) -> list[str]:
        for index, url in enumerate(value):
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*://\S+", url):
                raise ValueError(
                    f"URL #{index + 1} is not an Apprise URL (scheme://..., e.g. slack://..., "
                    "mailtos://...)"
                )
        return value


class MonitorSettings(BaseModel):
    """Monitor rules' thresholds; the reason for each default is in docs/MONITORING.md."""

    rolling_window: Literal["7d", "30d", "500r"] = Field(
        "500r", description="window the rolling rules judge (500 races: ~3 days at 200/day)"
    )
    min_scored_races: int = Field(
        200, ge=1, description="rolling rules stay silent below this many settled races (noise)"
    )
    log_loss_margin: float = Field(
        0.02,
        ge=0,
        description="alert when rolling log loss is worse than the market's by more than this "
        "(nats per race; ~3 standard errors over 500 races)",
    )
    hit_rate_floor: float | None = Field(
        None,
        ge=0,
        le=1,
        description="a fixed floor for the rolling top-pick hit rate; unset: hit_rate_z standard "
        "deviations below the rate the top picks' own probabilities expect (favourites win "
        "37-58% of NAR races by venue and about 31% at JRA: no fixed floor fits both, and "
        "the operating plan's 0.90 would fire every day)",
    )
    hit_rate_z: float = Field(
        3.0,
        gt=0,
        description="how many binomial standard deviations below its expectation the rolling "
        "top-pick hit rate may fall before hit_rate_floor fires (~1 false alarm in 700 days)",
    )
    drawdown_warning: float = Field(
        0.20, gt=0, le=1, description="warn at this drawdown; the Kelly brake is the critical one"
    )
    quarantine_rate_limit: float = Field(
        0.05,
        ge=0,
        le=1,
        description="alert when more than this share of a day's races is set aside",
    )
    run_budgets_s: dict[str, float] = Field(
        default_factory=lambda: {
            "predict-day": 300.0,
            "settle-day": 600.0,
            "daily-run": 900.0,
        },
        description="seconds of stage time per flow and day before a run counts as slow",
    )
    model_max_age_days: int = Field(
        14, ge=1, description="weekly training: two missed retrains make the model stale"
    )
    untrained_models: list[str] = Field(
        default_factory=lambda: ["market-v1"],
        description="model versions that are not trained (the market itself) never go stale",
    )
    anomaly_window_days: int = Field(28, ge=5, description="trailing days the anomaly check uses")
    anomaly_min_days: int = Field(10, ge=3, description="no anomaly verdict on less history")
    anomaly_z: float = Field(
        4.0, gt=0, description="robust z-score (median/MAD) beyond which a daily metric is odd"
    )
    anomaly_metrics: list[str] = Field(
        default_factory=lambda: [
            "races",
            "runners",
            "quarantine_rate",
            "log_loss",
            "market_log_loss",
            "hit_rate",
            "staked_yen",
            "run_seconds",
        ],
        description="daily performance columns checked for anomalies",
    )
    racing_calendar: Path | None = Field(
        None,
        description="CSV of scheduled race days (race_date[, keibajo_code]); unset: every day "
        "is a race day (NAR races nearly every day of the year) but a weekday the store's last "
        "eight weeks raced on fewer than half of (a JRA store's weekdays)",
    )


class SimulatorSettings(BaseModel):
    """The built-in NAR-like simulator (the embedded default source)."""

    seed: int = 20261121
    races_per_day: int = Field(200, ge=1, le=400)


def lead_problem(lead_minutes: int, close_minutes: int) -> str | None:
    """What is wrong with deciding each race ``lead_minutes`` before its post when its sales
    close ``close_minutes`` before it (``live.close_minutes``): at or after the close every race
    is missed, none bet, and each recorded decided (a re-run with a good lead bets none). Here,
    not in :mod:`raceday.racetime` (pandas): reading the settings loads no data library."""
    if lead_minutes > close_minutes:
        return None
    return (
        f"{lead_minutes} is not before the sales close ({close_minutes} minutes before post, "
        f"live.close_minutes): every race would be missed; use more than {close_minutes}"
    )


class LiveSettings(BaseModel):
    """Race-time operation (``raceday live``): each race decided minutes before its close."""

    lead_minutes: int = Field(5, ge=1, le=180, description="decide a race this long before post")
    close_minutes: int = Field(2, ge=0, le=30, description="sales close this long before post")
    morning_odds_at: str = Field(
        "09:00",
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="the daily run's decision moment (JST): it bets on the odds published by then",
    )
    odds_at: Literal["morning", "lead"] = Field(
        "morning",
        description="which odds a card is validated, predicted and staked on: morning = the "
        "latest snapshot published by morning_odds_at (the daily run); lead = each race's "
        "latest by its post time less lead_minutes (race-time betting, backfill --odds-at lead)",
    )
    stale_odds_minutes: int = Field(
        30,
        ge=1,
        le=1440,
        description="at race time (live, backfill --odds-at lead), a race decided on a snapshot "
        "published longer than this before its decision is warned of (the source held no later "
        "one); the daily run's morning snapshot is not judged: it is the morning's by design",
    )
    result_delay_minutes: int = Field(
        10, ge=0, le=240, description="a replayed race's result is published this long after post"
    )
    odds_poll_s: float = Field(20.0, gt=0, description="wait between reads of unpublished odds")
    results_poll_s: float = Field(60.0, gt=0, description="wait between reads of results")
    posts_poll_s: float = Field(120.0, gt=0, description="wait between reads of post times")
    race_runs_at_once: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=1,
        description="race runs (the `race` deployment) running at once, across every worker of "
        "the pool (or `raceday serve`); the others wait for a slot. Applied by `raceday deploy` "
        "and `raceday serve`; default: the cores of the machine that applies it",
    )

    @model_validator(mode="after")
    def _lead_before_close(self) -> LiveSettings:
        if problem := lead_problem(self.lead_minutes, self.close_minutes):
            raise ValueError(f"lead_minutes {problem}")
        return self

    def card_timing(self) -> CardTiming:
        """When a card's odds are read (``raceday.sources.timeline``)."""
        from raceday.sources.timeline import CardTiming, at_time

        return CardTiming(self.odds_at, at_time(self.morning_odds_at), self.lead_minutes)

    def morning_moment(self, day: date) -> datetime:
        """The daily run's decision moment on ``day`` (naive, Japan time)."""
        from raceday.sources.timeline import at_time

        return datetime.combine(day, at_time(self.morning_odds_at))


class HistorySettings(BaseModel):
    """How much history the pipeline needs and learns from."""

    warmup_days: int = Field(60, ge=0, description="prior days ingested into an empty store")
    reference_window_days: int = Field(365, ge=7, description="history used for standard times")


class First3FSettings(BaseModel):
    """How the first-3F layers are fitted on history (``raceday.first3f.model``)."""

    holdout_fraction: float = Field(
        0.2, gt=0, lt=1, description="last share of history days a fitted layer must win on"
    )
    min_rows: int = Field(200, ge=10, description="rows a fit needs; fewer leaves the layer out")
    ml_enabled: bool = Field(True, description="fit the <= 1200 m ML layer at all")
    ml_max_rows: int = Field(
        100_000, ge=1000, description="most recent rows the ML layer trains on (fit time)"
    )
    ml_max_iter: int = Field(
        100, ge=10, description="boosting iterations (200 measured no better on held-out days)"
    )
    ml_threads: int = Field(
        1,
        ge=1,
        description="OpenMP threads for the ML fit: 1 because oversubscribing 2 shared"
        " cores made a 10 s fit take 116 s here",
    )


class FeatureSettings(BaseModel):
    """Point-in-time features (raceday.ratings.features)."""

    people_window_days: int = Field(
        180,
        ge=7,
        le=730,
        description="trailing days of jockey / trainer win rates: recent form, 100+ rides",
    )
    backfill_held_days: int = Field(
        270,
        ge=1,
        description="a backfill holds in memory the runs of the horses that ran within this many"
        " days (their careers, the runs before these days but the last five as sums; the"
        " others' are read back from the store when they run again): its memory and its"
        " features' work stop growing with the years; below the people window each chunk, below"
        " the trainings' window (train + blend + evaluate days) each training, reads its"
        " window from the store",
    )


class TrainSettings(BaseModel):
    """The win model's training (``raceday train``, the weekly ``train-model`` flow).

    Windows end on the training day: the scorer learns on ``train_days``, the softmax scale
    and the market blend are fitted on the next ``blend_days``, the version is judged on the
    last ``evaluate_days`` (docs/MODEL.md).
    """

    train_days: int = Field(180, ge=14, description="days the fundamental scorer trains on")
    blend_days: int = Field(
        45, ge=7, description="days after those to fit the temperature and the market blend on"
    )
    evaluate_days: int = Field(
        45, ge=7, description="the newest days, held out to judge and promote the version"
    )
    min_races: int = Field(
        500,
        ge=1,
        description="races each window needs (the blend's two parameters want hundreds of "
        "winners; 45 days of NAR racing hold ~2,000 races)",
    )
    backfill_retrain_days: int = Field(
        91,
        ge=0,
        description="a backfill trains a new version after a chunk once the newest is this many "
        "days old (0: never): quarterly, 3 versions in a year's replay instead of 12 at 28 days "
        "(each a fit on up to 180 days, most of a backfill's time); the weekly deployment "
        "retrains the live pipeline",
    )
    max_iter: int = Field(300, ge=10, description="boosting iterations of the scorer")
    learning_rate: float = Field(0.05, gt=0, le=1)
    max_leaf_nodes: int = Field(31, ge=2)
    min_samples_leaf: int = Field(
        200, ge=1, description="runners per leaf: winners are 1 in 10, so leaves need many rows"
    )
    l2_regularization: float = Field(1.0, ge=0)
    stop_after: int = Field(
        10,
        ge=0,
        description="stop adding trees once the scorer's loss on the blend window has not improved"
        " for this many (0: always max_iter): a short or noisy training window stops before it"
        " learns its noise (docs/MODEL.md)",
    )
    venue_encoding: VenueEncoding = Field(
        "one-hot",
        description="the venue as a 0/1 column per venue, or as one categorical column the trees"
        " split by sets of venues (categorical: fits 0.81-0.94x, held-out delta R2 about 0.0001"
        " lower on the simulator); a venue the training never saw counts as missing either way",
    )
    threads: int = Field(
        1,
        ge=1,
        description="OpenMP threads for the fit (1: 2 shared cores, oversubscribing hurts; 2 on a"
        " machine the backfill has to itself; a fit's sums depend on the number: another model)",
    )
    score_threads: int = Field(
        1,
        ge=1,
        description="OpenMP threads for scoring runners (a training's blend and held-out windows,"
        " the incumbent's comparison, the predict stage): each runner is scored on one thread, so"
        " the scores are the same on any number; 2 pays only on cores nothing else wants (a"
        " parallel region per tree: a thread descheduled by other work makes the other wait)",
    )

    def window_days(self) -> int:
        """Days a training's split covers, ending on its day (train, blend, evaluate)."""
        return self.train_days + self.blend_days + self.evaluate_days

    def scorer_options(self) -> ScorerOptions:
        """The scorer's options."""
        from raceday.model.win import ScorerOptions

        return ScorerOptions(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            threads=self.threads,
            venue_encoding=self.venue_encoding,
            stop_after=self.stop_after,
        )


class BoatSettings(BaseModel):
    """Boat racing's model training (``raceday train --sport boat``; the boat backfill retrains
    on the horses' cadence, ``train.backfill_retrain_days``). docs/BOAT.md, "Training"."""

    train_days: int = Field(
        180,
        ge=14,
        description="days a boat version is fitted on (its scorer on the older two thirds, the "
        "blends on the newer third)",
    )
    evaluate_days: int = Field(
        14, ge=2, description="the newest days, held out to judge and promote the version"
    )
    min_races: int = Field(
        300,
        ge=1,
        description="settled races each window needs (the scorer wants 200 single-winner races "
        "in the fit window's older two thirds; 13 venues x 12 races make 156 a day)",
    )


class ValidationSettings(BaseModel):
    """Validation outputs (the suites themselves are code in ``data_checks/``)."""

    data_docs: bool = Field(
        True,
        description="build Great Expectations Data Docs under var_dir/data_docs; costs ~0.1 s "
        "per validating stage (its own pages), worth switching off for long backfills",
    )
    data_docs_index_limit: int = Field(
        500,
        ge=1,
        description="validations listed on the Data Docs index (raceday's own, rewritten after "
        "each stage from a small manifest)",
    )


class BackupSettings(BaseModel):
    """Store backups (``raceday backup``, the daily ``backup`` deployment)."""

    folder: Path | None = Field(None, description="where backups go (default: var_dir/backups)")
    keep: int = Field(14, ge=1, description="newest backups kept; older ones are deleted")


class PrefectSettings(BaseModel):
    """Prefect settings raceday chooses for its own commands (a ``PREFECT_*`` variable set in
    the environment wins); they matter for the temporary server Prefect starts when
    ``PREFECT_API_URL`` is not set."""

    ephemeral_startup_timeout_s: int = Field(
        90,
        gt=0,
        description="how long to wait for the temporary Prefect server to answer (Prefect's "
        "default, 20 s, is too short on a loaded machine: 'Timed out while attempting to "
        "connect to ephemeral Prefect API server')",
    )
    server_analytics: bool = Field(
        False,
        description="Prefect's anonymous telemetry heartbeat from the temporary server (off: it "
        "writes to Prefect's SQLite file while the run does and prints 'database is locked' "
        "tracebacks)",
    )

    def environment(self) -> dict[str, str]:
        """The ``PREFECT_*`` variables that carry these settings."""
        return {
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": str(
                self.ephemeral_startup_timeout_s
            ),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "true" if self.server_analytics else "false",
        }


class PcKeibaSettings(BaseModel):
    """The PC-KEIBA source (its URL stays ``RACEDAY_PCKEIBA_URL``)."""

    circuits: Annotated[tuple[Literal["nar", "jra"], ...], NoDecode] = Field(
        ("nar",),
        min_length=1,
        description="circuits read: nar (nvd_* tables), jra (jvd_*) or nar,jra",
    )

    @field_validator("circuits", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip().lower() for part in value.split(",") if part.strip())
        return value
