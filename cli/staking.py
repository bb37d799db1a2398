"""``raceday eval staking``: the staking policy over a range of days, next to its baselines."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from cli.options import DbOption, DebugOption, EndOption, JsonOption, StartOption
from cli.shared import (
    answer,
    eval_app,
    out,
    parse_date_range,
    ready_engine,
    settings_from,
)
from config import Settings
from raceday.errors import InputError

if TYPE_CHECKING:  # pandas is imported where frames are read: `raceday --help` needs none
    import pandas as pd

POLICIES = ("policy", "flat", "favourite", "oracle")
FIGURES = (
    "bets", "turnover_yen", "return_yen", "profit_yen", "roi", "hit_rate", "max_drawdown",
    "longest_losing_streak", "final_bankroll_yen",
)  # fmt: skip


def _predictions_judged(
    predictions: pd.DataFrame, ledger_bets: pd.DataFrame, requested: str | None
) -> tuple[pd.DataFrame, list[str]]:
    """The predictions the baselines use and their versions: the model asked for, else the
    ledger as placed (each day's own version, however many a backfill trained)."""
    from raceday.staking.evaluate import predictions_as_placed

    if requested is None:
        return predictions_as_placed(predictions, ledger_bets)
    if requested not in set(predictions["model_version"]):
        raise InputError(f"no predictions of model {requested!r} in the range")
    return predictions[predictions["model_version"] == requested], [requested]


def _simulated_truth(settings: Settings, runners: pd.DataFrame, days: list[date]) -> pd.DataFrame:
    """The simulator's truth for the stored races, when they are the simulator's (else empty)."""
    from raceday.simulate.config import SimulatorConfig
    from raceday.simulate.days import simulate_days

    config = SimulatorConfig(
        seed=settings.simulator.seed, races_per_day=settings.simulator.races_per_day
    )
    truth = simulate_days(min(days), max(days), config).truth
    truth = truth.astype({"race_id": "string", "horse_id": "string"})
    check = runners[["race_id", "umaban", "horse_id"]].merge(
        truth[["race_id", "umaban", "horse_id"]], on=["race_id", "umaban"], how="left"
    )
    if check.empty or not check["horse_id_x"].astype("string").eq(check["horse_id_y"]).all():
        return truth.iloc[0:0]
    return truth


def _truth_from_file(path: Path) -> pd.DataFrame:
    import pandas as pd

    if not path.is_file():
        raise InputError(f"truth file {path} does not exist")
    truth = pd.read_csv(path, dtype={"race_id": "string"})
    missing = {"race_id", "umaban", "true_win_prob"} - set(truth.columns)
    if missing:
        raise InputError(f"truth file {path} lacks column(s): {', '.join(sorted(missing))}")
    return truth


def evaluate(
    settings: Settings,
    start: date,
    end: date,
    *,
    model: str | None = None,
    truth_file: Path | None = None,
    flat_stake: int | None = None,
) -> dict[str, Any]:
    """The policy's figures over ``start``..``end`` with flat, favourite (and oracle) baselines."""
    import pandas as pd

    from raceday.staking.bets import staking_candidates
    from raceday.staking.evaluate import (
        favourite_sizer,
        flat_sizer,
        flat_stake_yen,
        kelly_sizer,
        market_log_loss_at_bet_time,
        replay,
        summarise,
    )
    from raceday.staking.kelly import policy_from_settings
    from raceday.staking.ledger import committed_from_ledger_days, daily_pnl_from_ledger_days
    from raceday.staking.pools import race_pools
    from raceday.store.catalogs.bets import ledger_days, read_bets
    from raceday.store.catalogs.predictions import read_predictions
    from raceday.store.catalogs.races import read_odds, read_races, read_runners, read_win_results

    engine = ready_engine(settings)
    policy = policy_from_settings(settings.kelly.policy_name, settings.kelly.model_dump())
    with engine.connect() as connection:
        earlier = ledger_days(connection, policy.name, before=start)
        within = read_bets(connection, start, end, policy=policy.name)
        predictions = read_predictions(connection, start, end)
        races = read_races(connection, start, end)
        odds = read_odds(connection, start, end)
        results = read_win_results(connection, start, end)
        runners = read_runners(connection, start, end) if truth_file is None else None
    bankroll_start = int(  # the cash at the start: the settled bankroll less the open stakes
        settings.bankroll_yen
        + daily_pnl_from_ledger_days(earlier).sum()
        - committed_from_ledger_days(earlier)
    )
    judged, versions = _predictions_judged(predictions, within, model)
    version = ", ".join(versions) if versions else None
    settled_races = races[races["has_results"].fillna(False).astype(bool)]
    candidates = staking_candidates(
        judged,
        odds,
        race_pools(settled_races, settings.kelly.win_pools()),
    )
    candidates = candidates[candidates["race_id"].isin(settled_races["race_id"])].merge(
        settled_races[["race_id", "post_time"]], on="race_id"
    )
    days = sorted(pd.to_datetime(candidates["race_date"]).dt.date.unique())
    all_days = days or [start]
    stake = flat_stake if flat_stake is not None else flat_stake_yen(bankroll_start)
    scale = settings.rollout.stake_scale
    notes: list[str] = []

    def run(sizer: Any, frame: pd.DataFrame = candidates) -> dict[str, Any]:
        bets = replay(frame, results, sizer, bankroll_start, policy.takeout)
        return summarise(bets, bankroll_start, all_days).to_dict()

    if model is None:
        ledger_view = within.merge(races[["race_id", "post_time"]], on="race_id", how="left")
        policy_figures = {**summarise(ledger_view, bankroll_start, all_days).to_dict()}
        policy_figures["source"] = "ledger"
    else:
        policy_figures = {**run(kelly_sizer(policy, scale)), "source": f"replay of {version}"}
    report: dict[str, Any] = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "policy_name": policy.name,
        "model_version": version,
        "model_versions": versions,
        "races": int(candidates["race_id"].nunique()),
        "days": len(days),
        "flat_stake_yen": stake,
        "odds_source": candidates.drop_duplicates("race_id")["odds_source"]
        .value_counts()
        .to_dict(),
        "market_at_bet_time": market_log_loss_at_bet_time(
            odds[odds["race_id"].isin(settled_races["race_id"])], results
        ),
        "policy": policy_figures,
        "flat": run(flat_sizer(policy, stake)),
        "favourite": run(favourite_sizer(stake)),
    }
    simulated = bool(len(races)) and bool((races["source"] == "sim").all())
    truth = (
        _truth_from_file(truth_file)
        if truth_file is not None
        else _simulated_truth(settings, runners, days)
        if days and runners is not None and simulated
        else None
    )
    if truth is not None and not truth.empty:
        with_truth = candidates.merge(
            truth[["race_id", "umaban", "true_win_prob"]].astype({"race_id": "string"}),
            on=["race_id", "umaban"],
            how="left",
        )
        missing = int(with_truth["true_win_prob"].isna().sum())
        if missing == len(with_truth):
            raise InputError("the truth table has none of the evaluated races: wrong --truth file?")
        if missing:
            notes.append(f"the truth table lacks {missing} of {len(with_truth)} runners")
        report["oracle"] = run(kelly_sizer(policy, scale, "true_win_prob"), with_truth)
    elif days and simulated and truth_file is None:
        notes.append(
            "no oracle: the stored races do not match the simulator's current settings (seed, "
            "races per day); pass its truth table with --truth"
        )
    elif days:
        notes.append("no oracle: real races have no true probabilities")
    if not days:
        notes.append(
            f"no settled race with predictions in {start}..{end}: nothing was judged (the "
            "range's days not run, their results not in, or every race set aside)"
        )
    if report["odds_source"].get("final"):
        notes.append(
            f"{report['odds_source']['final']} races were sized on FINAL odds (no bet-time "
            "snapshot): a backtest on final odds is optimistic"
        )
    if policy_figures.get("unsettled"):
        notes.append(f"{policy_figures['unsettled']} bets of the ledger are not settled yet")
    notes.append(
        "paper ledger: our stakes are not in the pools; real odds would be lower by about "
        f"stake / horse pool (capped at {policy.max_pool_share:.0%} by the pool cap)"
    )
    report["notes"] = notes
    return report


def market_lines(market: dict[str, Any]) -> list[str]:
    """The market's log loss on the odds the bets were sized on, said for what they were: at bet
    time on the races with a bet-time snapshot, on FINAL odds on those sized on them (known only
    after the close: not the market at bet time); a line for each kind scored, none without."""
    snapshot, final = market["by_odds"]["snapshot"], market["by_odds"]["final"]
    lines = []
    if snapshot["market_log_loss"] is not None:
        lines.append(
            f"market log loss at bet time: {snapshot['market_log_loss']:.4f} "
            f"({snapshot['scored_races']:,} races; odds as stored when the bets were sized)"
        )
    if final["market_log_loss"] is not None:
        lines.append(
            f"market log loss on FINAL odds: {final['market_log_loss']:.4f} "
            f"({final['scored_races']:,} races sized on final odds, no bet-time snapshot: "
            "not the market at bet time)"
        )
    return lines


def _print_report(report: dict[str, Any]) -> None:
    present = [name for name in POLICIES if name in report]
    table = Table(
        title=f"staking {report['start']}..{report['end']} · model "
        f"{report['model_version'] or '–'} · "
        f"{report['races']} races",
    )
    table.add_column("figure")
    for name in present:
        table.add_column(name, justify="right")
    for figure in FIGURES:
        cells = []
        for name in present:
            value = report[name].get(figure)
            cells.append(
                "–"
                if value is None
                else f"{value:,}"
                if isinstance(value, int)
                else f"{value:+.1%}"
                if figure == "roi"
                else f"{value:.1%}"
            )
        table.add_row(figure, *cells)
    out.print(table)
    source = report["policy"]["source"]
    out.print(f"flat stake: {report['flat_stake_yen']:,} yen; policy from the {source}")
    for line in market_lines(report["market_at_bet_time"]):
        out.print(line)
    for note in report["notes"]:
        out.print(f"note: {note}")


@eval_app.command("staking")
def eval_staking(
    start: StartOption,
    end: EndOption,
    model: Annotated[
        str | None,
        typer.Option("--model", help="replay the policy on this model's predictions"),
    ] = None,
    truth: Annotated[
        Path | None,
        typer.Option("--truth", help="the simulator's truth table (from `raceday simulate`)"),
    ] = None,
    flat_stake: Annotated[
        int | None,
        typer.Option("--flat-stake", min=100, help="baselines' stake (default 1% of bankroll)"),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Bets, turnover, return, ROI, hit rate, drawdown, losing streak and bankroll of the policy,
    a flat stake, the favourite and (simulated data) the oracle."""

    def action() -> dict[str, Any]:
        first, last = parse_date_range(start, end)
        if flat_stake is not None and flat_stake % 100:
            raise InputError(f"--flat-stake must be whole 100-yen units, not {flat_stake}")
        settings = settings_from(db_url=db)
        return evaluate(settings, first, last, model=model, truth_file=truth, flat_stake=flat_stake)

    answer(debug, as_json, action, _print_report)
