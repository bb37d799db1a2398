"""What validation leaves on record: results per day and suite, and one-line summaries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import pandas as pd

from data_checks.gx_runner import SuiteOutcome
from data_checks.suites import RETRACTING_CHECKS

VALIDATION_COLUMNS = [
    "race_date", "suite", "run_id", "success", "rows_evaluated", "rows_failed", "expectations",
    "expectations_failed", "validated_at",
]  # fmt: skip
QUARANTINE_KEY = ["table_name", "race_id", "umaban", "check_name"]


def validation_rows(
    outcomes: Iterable[SuiteOutcome], run_id: str, fallback_date: date
) -> pd.DataFrame:
    """One row per (race date, suite): rows evaluated and failed, expectations failed that day.

    A suite run over several days (a warm-up, a backfill) is split by the rows' race dates;
    rows without a date (it does not exist) count on ``fallback_date``.
    """
    validated_at = datetime.now()
    records: list[dict[str, object]] = []
    fallback = pd.Timestamp(fallback_date)
    for outcome in outcomes:
        dates = pd.Series([], dtype="datetime64[ns]")
        if outcome.row_dates is not None and not outcome.row_dates.empty:
            dates = pd.to_datetime(outcome.row_dates).dt.normalize().fillna(fallback)
        days = sorted(dates.unique()) or [fallback]
        row_ids = pd.Index(outcome.failures["row_id"], dtype="int64")
        failing = outcome.failures.assign(
            race_date=dates.reindex(row_ids).fillna(fallback).to_numpy()
        )
        for day in days:
            of_day = failing[failing["race_date"] == day]
            failed_checks = int(of_day["check_name"].nunique())
            records.append(
                {
                    "race_date": pd.Timestamp(day).date(),
                    "suite": outcome.suite,
                    "run_id": run_id,
                    "success": failed_checks == 0,
                    "rows_evaluated": int((dates == day).sum()),
                    "rows_failed": int(of_day["row_id"].nunique()),
                    "expectations": outcome.expectations,
                    "expectations_failed": failed_checks,
                    "validated_at": validated_at,
                }
            )
    return pd.DataFrame(records, columns=VALIDATION_COLUMNS)


def distinct_quarantine(quarantine: pd.DataFrame) -> pd.DataFrame:
    """Quarantined rows counted once when several stages set aside the same rows.

    The morning (card) and night (results) validations often quarantine the same row; per
    (table, race, horse, check, detail) the rows of the stage that set aside most are kept, so
    repeated copies of one row still count once each.
    """
    if quarantine.empty or "stage" not in quarantine.columns:
        return quarantine
    key = [*QUARANTINE_KEY, "detail"]
    keyed = quarantine.assign(
        **{f"_{column}": quarantine[column].astype("string").fillna("") for column in key}
    )
    key_columns = [f"_{column}" for column in key]
    sizes = keyed.groupby([*key_columns, "stage"]).size().rename("_rows").reset_index()
    chosen = sizes.sort_values("_rows", ascending=False, kind="stable").drop_duplicates(key_columns)
    kept = keyed.merge(chosen[[*key_columns, "stage"]], on=[*key_columns, "stage"])
    return kept[list(quarantine.columns)].reset_index(drop=True)


def quarantine_summary(quarantine: pd.DataFrame, limit: int = 4) -> str:
    """'37 races set aside; soha_time_decodes 12, race_has_invalid_runner 12, ...' (one line)."""
    if quarantine.empty:
        return "nothing quarantined"
    races = quarantine.loc[quarantine["table_name"] == "races", "race_id"].nunique()
    counts = quarantine["check_name"].value_counts()
    shown = ", ".join(f"{name} {count}" for name, count in counts.head(limit).items())
    more = f", {len(counts) - limit} more checks" if len(counts) > limit else ""
    inputs = int((quarantine["table_name"] == "input").sum())
    parts = f"{inputs} input part(s) unreadable; " if inputs else ""
    return f"{parts}{races} races set aside, {len(quarantine)} rows quarantined ({shown}{more})"


def retracted_races(quarantine: pd.DataFrame) -> list[str]:
    """The races the provider says were cancelled or withdrew (``RETRACTING_CHECKS``)."""
    said = quarantine["check_name"].isin(RETRACTING_CHECKS) & quarantine["race_id"].notna()
    return sorted(set(quarantine.loc[said, "race_id"].astype(str)))
