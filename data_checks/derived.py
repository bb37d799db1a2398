"""Suites for the frames the pipeline derives: first-3F estimates, predictions and stakes.

A derived row that breaks its contract is not stored: it goes to quarantine with the check that
failed, and the stage goes on with the rest (a prediction or a stake that breaks a rule takes
its whole race with it, since a race is priced and staked as a whole).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import Final

import numpy as np
import pandas as pd

from data_checks.gx_runner import FAILURE_COLUMNS, Check, SuiteOutcome, run_suite
from data_checks.holds import all_hold
from data_checks.suites import MAX_WIN_ODDS, between, between_expectation
from raceday.first3f.layers import CLIP_S, LAST_SEGMENT_M, METHOD_PRIORITY
from raceday.staking.kelly import UNIT_YEN, StakingPolicy

FIRST3F_METHODS: Final = list(METHOD_PRIORITY)
NO_VALUE_METHODS: Final = ["unavailable", "not_started"]  # said explicitly, with NaN
SEGMENT_PACE_S_PER_KM: Final = (50.0, 90.0)  # any measured stretch of a NAR race
ACTUAL_S: Final = (30.0, 48.0)  # a measured 600 m from the gates: 50-80 s/km
PROBABILITY_SUM_TOLERANCE: Final = 1e-9


@dataclass(frozen=True)
class CheckedFrame:
    """A derived frame split into what may be stored and what is quarantined, with the outcome."""

    valid: pd.DataFrame
    quarantine: pd.DataFrame
    outcome: SuiteOutcome


def _split(
    frame: pd.DataFrame, checked: pd.DataFrame, outcome: SuiteOutcome, table_name: str
) -> CheckedFrame:
    failures = outcome.failures
    failing = checked.set_index("row_id").loc[failures["row_id"]]
    race_scoped = set(failing.loc[(failures["scope"] == "race").to_numpy(), "race_id"])
    dropped = checked["row_id"].isin(failures["row_id"]) | checked["race_id"].isin(race_scoped)
    quarantine = pd.DataFrame(
        {
            "race_date": failing["race_date"].to_numpy(),
            "table_name": table_name,
            "race_id": failing["race_id"].to_numpy(),
            "umaban": failing["umaban"].to_numpy(),
            "check_name": failures["check_name"].to_numpy(),
            "detail": failures["detail"].to_numpy(),
        }
    )
    return CheckedFrame(frame[~dropped.to_numpy()].reset_index(drop=True), quarantine, outcome)


def first3f_bounds(method: pd.Series, segment_m: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Lowest and highest plausible first-3F value for each row's method (NaN: no value allowed).

    ``baseline``/``base`` up to 1200 m time the first (distance - 600) m; ``ratio`` is half a
    finish time; the >= 1201 m rules are clipped to 30-45 s. At 600 m a ``base`` value may be
    either a 1200 m first segment or a clipped long-race base: the looser bound applies. A
    missing method is an unknown one.
    """
    method = method.astype("string").fillna("")
    segment = segment_m.astype("float64")
    segment_lo = segment * SEGMENT_PACE_S_PER_KM[0] / 1000
    segment_hi = segment * SEGMENT_PACE_S_PER_KM[1] / 1000
    distance = segment + LAST_SEGMENT_M
    conditions = [
        method.eq("actual"),
        method.isin(["baseline", "ml"]) | (method.eq("base") & segment.le(LAST_SEGMENT_M)),
        method.eq("ratio"),
        method.isin(["adjusted", "distance_ratio", "base", "leader", "pace"]),
    ]
    lower = np.select(
        conditions,
        [ACTUAL_S[0], segment_lo, 0.5 * distance * 0.05, CLIP_S[0]],
        default=np.nan,
    )
    upper = np.select(
        conditions,
        [ACTUAL_S[1], segment_hi, 0.5 * distance * 0.09, CLIP_S[1]],
        default=np.nan,
    )
    return (
        pd.Series(lower, index=method.index, dtype="float64"),
        pd.Series(upper, index=method.index, dtype="float64"),
    )


def first3f_checks() -> list[Check]:
    """The first-3F estimates of a day (``raceday.first3f.layers``)."""
    import great_expectations.expectations as gxe

    return [
        # One estimate per runner: a duplicate would double its index.
        Check(
            "first3f_key_unique",
            lambda: gxe.ExpectCompoundColumnsToBeUnique(column_list=["race_id", "umaban"]),
            "one estimate per runner",
            scope="row",
        ),
        # Every value says how it was made: an unknown method cannot be weighed or audited.
        Check(
            "first3f_method_known",
            lambda: gxe.ExpectColumnValuesToBeInSet(
                column="method", value_set=[*FIRST3F_METHODS, *NO_VALUE_METHODS]
            ),
            "auditability of each estimate",
            scope="row",
        ),
        # "unavailable" means no value, and a value means a method that made it.
        Check(
            "first3f_value_matches_method",
            lambda: gxe.ExpectColumnValuesToBeInSet(
                column="value_matches_method", value_set=[True]
            ),
            "ten indexes computed from real estimates only",
            scope="row",
            shows=("method", "first3f_s"),
        ),
        # Within its method's bounds (see first3f_bounds): outside, the rule or its inputs broke.
        between(
            "first3f_within_method_bounds",
            "outside_bounds_s",
            "ten indexes and the pace features built on them",
            high=0.0,
            scope="row",
            shows=("method", "first3f_s", "first_segment_m"),
        ),
    ]


def suite_outcome(
    suite_name: str, checked: pd.DataFrame, checks: list[Check], gx_result: bool = True
) -> SuiteOutcome:
    """:func:`run_suite`'s outcome; without ``gx_result`` (no Data Docs page wanted) a frame on
    which every check certainly holds (:func:`data_checks.holds.all_hold`) is passed without
    running GX: the same counts, failures (none) and row dates, only no GX objects."""
    if not gx_result and all_hold(checked, checks):
        return _passed(suite_name, checked, len(checks))
    return run_suite(suite_name, checked, checks)


def check_first3f(estimates: pd.DataFrame, gx_result: bool = True) -> CheckedFrame:
    """Validate first-3F estimates; estimates that break their method's bounds are set aside.
    ``gx_result``: whether the outcome must carry GX's result (for Data Docs)."""
    # a missing method is an unknown one (GX leaves missing values untested: first3f_method_known
    # would pass it, and the store has no row without a method)
    method = estimates["method"].astype("string").fillna("")
    lower, upper = first3f_bounds(method, estimates["first_segment_m"])
    value = estimates["first3f_s"].astype("float64")
    outside = np.fmax(np.fmax(lower - value, value - upper), 0.0)
    checked = estimates.assign(
        method=method,
        row_id=np.arange(len(estimates)),
        value_matches_method=method.isin(NO_VALUE_METHODS).to_numpy() == value.isna().to_numpy(),
        outside_bounds_s=outside.where(value.notna() & lower.notna()),
    )
    outcome = suite_outcome("first3f", checked, first3f_checks(), gx_result)
    return _split(estimates, checked, outcome, "first3f")


def prediction_checks() -> list[Check]:
    """The day's win probabilities (``raceday.model.win``)."""
    import great_expectations.expectations as gxe

    return [
        # One probability per runner and model version.
        Check(
            "prediction_key_unique",
            lambda: gxe.ExpectCompoundColumnsToBeUnique(
                column_list=["model_version", "race_id", "umaban"]
            ),
            "one probability per runner",
        ),
        # A probability must exist for every predicted runner.
        Check(
            "p_final_present",
            lambda: gxe.ExpectColumnValuesToNotBeNull(column="p_final"),
            "Kelly stakes",
        ),
        # Strictly between 0 and 1: 0 or 1 would make Kelly bet nothing or everything.
        between(
            "p_final_in_open_unit_interval",
            "p_final",
            "Kelly stakes and log loss",
            low=0.0,
            high=1.0,
            strict=True,
        ),
        between(
            "p_market_in_open_unit_interval",
            "p_market",
            "the market baseline every model is judged against",
            low=0.0,
            high=1.0,
            strict=True,
        ),
        # Each race's probabilities sum to 1: the runners are its only outcomes.
        between(
            "p_final_sums_to_1_per_race",
            "race_sum_error",
            "Kelly's reserve rate and every probability metric",
            high=PROBABILITY_SUM_TOLERANCE,
            shows=("race_id",),
        ),
    ]


def check_predictions(predictions: pd.DataFrame, gx_result: bool = True) -> CheckedFrame:
    """Validate predictions; a race whose probabilities break a rule is not predicted.
    ``gx_result``: whether the outcome must carry GX's result (for Data Docs)."""
    sums = predictions.groupby(["model_version", "race_id"])["p_final"].transform("sum")
    checked = predictions.assign(
        row_id=np.arange(len(predictions)), race_sum_error=(sums - 1.0).abs()
    )
    outcome = suite_outcome("predictions", checked, prediction_checks(), gx_result)
    return _split(predictions, checked, outcome, "predictions")


def stake_checks(policy: StakingPolicy, bankroll_yen: int) -> list[Check]:
    """The day's bets (``raceday.staking.kelly``) against the staking policy's limits."""
    import great_expectations.expectations as gxe

    per_bet = policy.max_bet_fraction * bankroll_yen
    per_race = policy.max_race_fraction * bankroll_yen
    per_day = policy.max_day_fraction * bankroll_yen
    return [
        # A stake is a whole number of 100-yen tickets and never negative.
        between(
            "stake_non_negative",
            "stake_yen",
            "the ledger: a negative stake would be money from nowhere",
            low=0,
        ),
        Check(
            "stake_in_whole_units",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="stake_units_whole", value_set=[True]),
            "tickets that can be bought",
        ),
        # The caps of the staking policy (fractions of the bankroll at bet time).
        between(
            "stake_within_bet_cap",
            "stake_yen",
            f"the per-bet cap ({policy.max_bet_fraction:.0%} of bankroll)",
            high=per_bet,
        ),
        between(
            "race_stakes_within_race_cap",
            "race_total_yen",
            f"the per-race cap ({policy.max_race_fraction:.0%} of bankroll)",
            high=per_race,
        ),
        between(
            "day_stakes_within_day_cap",
            "day_total_yen",
            f"the per-day cap ({policy.max_day_fraction:.0%} of bankroll)",
            high=per_day,
        ),
        # A bet is placed only on offered odds with the policy's minimum edge.
        between("odds_at_bet_at_least_1", "odds_at_bet", "stakes sized on real odds", low=1.0),
        # The card's odds checks already set such a race aside; this is the last line.
        between(
            "odds_at_bet_at_most_999_9",
            "odds_at_bet",
            "stakes sized on odds a real pool shows",
            high=MAX_WIN_ODDS,
        ),
        between(
            "edge_at_least_min_edge",
            "edge",
            f"the minimum edge p * odds >= {policy.min_edge}",
            low=policy.min_edge - 1e-12,
        ),
    ]


def _stake_columns(bets: pd.DataFrame) -> pd.DataFrame:
    """The bets with what the stake checks test beside their own columns."""
    stakes = bets["stake_yen"].astype("float64")
    return bets.assign(
        row_id=np.arange(len(bets)),
        stake_units_whole=(stakes % UNIT_YEN == 0).to_numpy(),
        race_total_yen=stakes.groupby(bets["race_id"]).transform("sum"),
        day_total_yen=stakes.groupby(bets["race_date"]).transform("sum"),
    )


def check_stakes(bets: pd.DataFrame, policy: StakingPolicy, bankroll_yen: int) -> CheckedFrame:
    """Validate the day's bets against the policy; a race with a rule broken is not staked."""
    checked = _stake_columns(bets)
    outcome = run_suite("stakes", checked, stake_checks(policy, bankroll_yen))
    return _split(bets, checked, outcome, "bets")


# Each cap as a column of what it leaves: the cap (a fraction of the bankroll of the row's own
# day) minus what it caps. Check name -> (column, the policy's fraction, the capped column).
CAP_HEADROOM: Final = {
    "stake_within_bet_cap": ("bet_cap_headroom_yen", "max_bet_fraction", "stake_yen"),
    "race_stakes_within_race_cap": ("race_cap_headroom_yen", "max_race_fraction", "race_total_yen"),
    "day_stakes_within_day_cap": ("day_cap_headroom_yen", "max_day_fraction", "day_total_yen"),
}
STAKES_OF_DAYS_SUITE: Final = "stakes_of_days"


def stakes_of_days_checks(policy: StakingPolicy) -> list[Check]:
    """:func:`stake_checks` for several days in one run: each cap as a column of headroom left
    under the row's own day's bankroll (``cap - stake >= 0`` holds exactly when ``stake <= cap``),
    so one suite serves every bankroll; the other checks are the same."""
    return [
        replace(check, build=partial(between_expectation, CAP_HEADROOM[check.name][0], min_value=0))
        if check.name in CAP_HEADROOM
        else check
        for check in stake_checks(policy, 0)
    ]


def check_stakes_of_days(
    days: list[tuple[pd.DataFrame, int]], policy: StakingPolicy
) -> list[CheckedFrame] | None:
    """Several days' bets (each with the bankroll it was sized on) checked in one suite run.

    When every check holds, each day's :class:`CheckedFrame` as :func:`check_stakes` gives it
    for a day that passes (nothing quarantined, the outcome counted on the day's rows). When
    any fails, None: the caller checks the days one by one with :func:`check_stakes`, whose
    quarantine names the failing rows as it always has.
    """
    framed = [_stake_columns(bets) for bets, _bankroll in days]
    if not framed:
        return []
    checked = pd.concat(
        [
            frame.assign(
                **{
                    column: getattr(policy, fraction) * bankroll - frame[capped].astype("float64")
                    for column, fraction, capped in CAP_HEADROOM.values()
                }
            )
            for frame, (_bets, bankroll) in zip(framed, days, strict=True)
        ],
        ignore_index=True,
    ).assign(row_id=lambda frame: np.arange(len(frame)))
    # No Data Docs page is made of it (a failure is checked again day by day).
    outcome = suite_outcome(STAKES_OF_DAYS_SUITE, checked, stakes_of_days_checks(policy), False)
    if not outcome.success:
        return None
    return [
        _split(bets, frame, _passed("stakes", frame, outcome.expectations), "bets")
        for (bets, _bankroll), frame in zip(days, framed, strict=True)
    ]


def _passed(suite: str, checked: pd.DataFrame, expectations: int) -> SuiteOutcome:
    """The outcome :func:`run_suite` gives a frame on which every expectation held."""
    row_dates = checked.set_index("row_id")["race_date"] if "race_date" in checked.columns else None
    return SuiteOutcome(
        suite,
        len(checked),
        pd.DataFrame(columns=FAILURE_COLUMNS),
        expectations,
        0,
        row_dates=row_dates,
    )
