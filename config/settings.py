"""One Settings object (env prefix ``RACEDAY_``, nested with ``__``), built once and passed down."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from difflib import get_close_matches
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, get_origin

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.reference import RolloutStage, load_rollout_stages
from config.sections import (
    AlertSettings,
    BackupSettings,
    BoatSettings,
    FeatureSettings,
    First3FSettings,
    HistorySettings,
    KellySettings,
    LiveSettings,
    MonitorSettings,
    PcKeibaSettings,
    PrefectSettings,
    RetrySettings,
    SimulatorSettings,
    StageName,
    TrainSettings,
    ValidationSettings,
)

if TYPE_CHECKING:  # the monitor's types, imported where they are built (config.sections)
    from raceday.monitoring.rules import Thresholds


ENV_PREFIX: Final = "RACEDAY_"


class Settings(BaseSettings):
    """Everything configurable about a raceday run."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="ignore", validate_default=True
    )

    var_dir: Path = Path("var")
    db_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite under var_dir")
    source: str = Field("sim", description="sim | files:DIR | pckeiba")
    pckeiba_url: str | None = Field(None, description="PC-KEIBA PostgreSQL URL")
    pckeiba: PcKeibaSettings = Field(default_factory=PcKeibaSettings)
    stage: StageName = "full"
    races: int | None = Field(None, ge=1, description="races predicted per day; default: stage")
    bankroll_yen: int = Field(1_000_000, gt=0)
    kelly: KellySettings = Field(default_factory=KellySettings)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    monitor: MonitorSettings = Field(default_factory=MonitorSettings)
    simulator: SimulatorSettings = Field(default_factory=SimulatorSettings)
    history: HistorySettings = Field(default_factory=HistorySettings)
    live: LiveSettings = Field(default_factory=LiveSettings)
    first3f: First3FSettings = Field(default_factory=First3FSettings)
    features: FeatureSettings = Field(default_factory=FeatureSettings)
    train: TrainSettings = Field(default_factory=TrainSettings)
    boat: BoatSettings = Field(default_factory=BoatSettings)
    validation: ValidationSettings = Field(default_factory=ValidationSettings)
    backup: BackupSettings = Field(default_factory=BackupSettings)
    prefect: PrefectSettings = Field(default_factory=PrefectSettings)

    @field_validator("pckeiba_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is None:  # unset: nothing to parse, and no SQLAlchemy to load
            return value
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        from raceday.store.engine import UNESCAPED_AT, holds_unescaped_at, with_installed_driver

        try:
            url = make_url(value)
        except ArgumentError:  # never echoed: a database URL may hold a password
            raise ValueError(
                "not a database URL (expected postgresql+psycopg://user@host/pckeiba)"
            ) from None
        if holds_unescaped_at(url):
            raise ValueError(UNESCAPED_AT)
        if with_installed_driver(url).get_backend_name() != "postgresql":
            raise ValueError(
                f"PC-KEIBA's database is PostgreSQL, not {url.drivername}: "
                "expected postgresql+psycopg://user@host/pckeiba"
            )
        return value

    @field_validator("source")
    @classmethod
    def _known_source(cls, value: str) -> str:
        if value in {"sim", "pckeiba"} or (value.startswith("files:") and len(value) > 6):
            return value
        raise ValueError(f"unknown source {value!r}: use sim, files:DIR or pckeiba")

    def monitor_thresholds(self) -> Thresholds:
        """The monitor rules' limits (the critical drawdown is the staking brake)."""
        from raceday.monitoring.rules import Thresholds

        return Thresholds.from_settings(self.monitor.model_dump(), self.kelly.drawdown_brake)

    @property
    def database_url(self) -> str:
        """The store's URL (SQLite file under ``var_dir`` unless ``db_url`` is set)."""
        return self.db_url or f"sqlite:///{(self.var_dir / 'raceday.db').resolve()}"

    @property
    def reports_dir(self) -> Path:
        """Where daily reports and bet slips are written."""
        return self.var_dir / "reports"

    @property
    def backups_dir(self) -> Path:
        """Where store backups are written."""
        return self.backup.folder or self.var_dir / "backups"

    @property
    def rollout(self) -> RolloutStage:
        """The rollout stage's parameters (races per day, stake scale)."""
        return load_rollout_stages()[self.stage]

    @property
    def races_per_day(self) -> int:
        """Races predicted and staked per day: the override, else the stage's cap."""
        return self.races if self.races is not None else self.rollout.races_per_day


# The store URL a command put in force for the flows it runs in this process (``use_store``):
# a flow reads its store from the settings, never from a parameter, so the URL (and its
# password) never becomes a flow-run parameter in Prefect's database.
_store_url_in_force: str | None = None


@contextmanager
def use_store(url: str | None) -> Iterator[None]:
    """While in force, ``load_settings`` in this process (any thread) uses the store ``url``
    unless a call names its own ``db_url``; ``None`` leaves the environment's store. One store
    per process at a time: enter it once (the command's main thread), not from several threads
    at once (their exits would restore each other's store)."""
    global _store_url_in_force
    previous, _store_url_in_force = _store_url_in_force, url
    try:
        yield
    finally:
        _store_url_in_force = previous


# RACEDAY_ variables that are not settings: the checkout a worker runs its flows from
# (``cli.pool``), and the test suite's and the benchmarks' own switches.
NOT_SETTINGS: Final = frozenset({"RACEDAY_HOME"})
NOT_SETTINGS_PREFIXES: Final = ("RACEDAY_TEST_", "RACEDAY_BENCH_", "RACEDAY_E2E_")


def setting_path(name: str) -> list[str] | None:
    """The settings path a ``RACEDAY_`` variable sets (``RACEDAY_KELLY__FRACTION``: kelly,
    fraction; any case, as the settings read it), or None where it names no setting: a section
    or field that does not exist, or a part below a plain value (a mapping's keys excepted)."""
    parts = name.upper().removeprefix(ENV_PREFIX).lower().split("__")
    model: type[BaseModel] | None = Settings
    for part in parts:
        if model is None:
            return None
        field = model.model_fields.get(part)
        if field is None:
            return None
        if get_origin(field.annotation) in (dict, Mapping):
            return parts
        model = _section(field.annotation)
    return parts


def _section(annotation: object) -> type[BaseModel] | None:
    """The settings section a field holds (``kelly``: KellySettings), None for a plain value."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def setting_variables(model: type[BaseModel] = Settings, prefix: str = ENV_PREFIX) -> list[str]:
    """Every ``RACEDAY_`` variable that sets a value (a section's fields, not the section)."""
    names: list[str] = []
    for field_name, field in model.model_fields.items():
        name = f"{prefix}{field_name.upper()}"
        section = _section(field.annotation)
        if section is not None:
            names += setting_variables(section, f"{name}__")
        else:
            names.append(name)
    return names


def unknown_setting_lines(environment: Mapping[str, str]) -> list[str]:
    """One line per ``RACEDAY_`` variable of ``environment`` that names no setting (a misspelt
    ``RACEDAY_KELY__FRACTION`` would leave the stakes at the default fraction without a word),
    with the setting it most looks like."""
    unknown = [
        name
        for name in sorted(environment)
        if name.upper().startswith(ENV_PREFIX)
        and name.upper() not in NOT_SETTINGS
        and not name.upper().startswith(NOT_SETTINGS_PREFIXES)
        and setting_path(name) is None
    ]
    known = (
        [variable.removeprefix(ENV_PREFIX) for variable in setting_variables()] if unknown else []
    )
    lines = []
    for name in unknown:
        near = get_close_matches(name.upper().removeprefix(ENV_PREFIX), known, n=1, cutoff=0.75)
        hint = f" (did you mean {ENV_PREFIX}{near[0]}?)" if near else ""
        lines.append(f"unknown setting {name}: raceday has no such setting{hint}")
    return lines


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with explicit overrides (``None`` means "not given");
    the store put in force by ``use_store`` comes before the environment's. A setting that is
    not valid, or a ``RACEDAY_`` variable that names none (:func:`unknown_setting_lines`),
    raises :class:`raceday.errors.InvalidSettings` (bad input, one line a mistake),
    in a command and in a flow alike."""
    from raceday.errors import InvalidSettings

    given = {key: value for key, value in overrides.items() if value is not None}
    if "db_url" not in given and _store_url_in_force is not None:
        given["db_url"] = _store_url_in_force
    unknown = unknown_setting_lines(os.environ)
    try:
        settings = Settings(**given)
    except ValueError as error:  # pydantic's ValidationError, pydantic-settings' SettingsError
        raise InvalidSettings("\n".join([*unknown, *settings_error_lines(error)])) from error
    if unknown:
        raise InvalidSettings("\n".join(unknown))
    return settings


def settings_error_lines(error: Exception) -> list[str]:
    """One plain line per settings mistake: ``invalid setting kelly.fraction: Input should be
    a valid number`` (pydantic's "Value error, " prefix and its URLs left out), or the first
    line of pydantic-settings' own error (a value that is not JSON where JSON is expected)."""
    errors = getattr(error, "errors", None)
    if not callable(errors):
        lines = str(error).strip().splitlines()
        return [f"invalid settings: {lines[0] if lines else type(error).__name__}"]
    found: list[dict[str, Any]] = errors(include_url=False)
    return [
        f"invalid setting {'.'.join(str(part) for part in item.get('loc', ())) or '?'}: "
        f"{str(item.get('msg', '')).removeprefix('Value error, ')}"
        for item in found
    ]


def apply_prefect_defaults() -> dict[str, str]:
    """Put the Prefect settings raceday chooses (``RACEDAY_PREFECT__*``) into the environment,
    before Prefect is imported (it reads its settings then); a ``PREFECT_*`` variable the user
    set is left as it is. Returns the variables set."""
    try:
        chosen = Settings().prefect
    except ValueError:  # an invalid setting: the command's own load reports it in one line
        chosen = PrefectSettings()
    applied = {
        name: value for name, value in chosen.environment().items() if name not in os.environ
    }
    os.environ.update(applied)
    return applied


_CREDENTIALS_IN_TEXT = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*):[^@\s]*@")


def mask_url(url: str | None) -> str | None:
    """``url`` fit to show: its password as ``***``
    (``postgresql+psycopg://user:***@host/db``); a URL without a password is unchanged."""
    if url is None:
        return None
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # not a SQLAlchemy URL: mask whatever looks like credentials in it
        return mask_credentials(url)


def mask_credentials(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@`` in it shown as ``***``
    (error messages and alerts that may quote a URL)."""
    return _CREDENTIALS_IN_TEXT.sub(r"\g<head>:***@", text)
