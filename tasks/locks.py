"""Run locks in the store: a day's run lock (a daily, live or boat run holds its day), the days a
backfill holds a chunk at a time, a backfill's lock of its sport's backfills on the store (held
for its whole life, renewed meanwhile: one backfill of a store and sport at a time), and the
store's warm-up lock; a lock left by a killed run is taken over (its process is dead on this
machine, or the lock is older than the stale limit). Every run lock is taken under the store's
restore lock (:mod:`raceday.store.restore_lock`): a run is refused while a restore replaces the
store, and a restore while a run holds a day or a backfill lives. A command or flow that reads
or writes the store without a run lock (a training, a monitor, a backup, the race-time settle)
holds the restore lock shared while it uses the store (:func:`store_in_use`): it is refused
while a restore runs, and a restore while it runs."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from config import Settings
from raceday.errors import RunLocked
from raceday.store.catalogs.runs import (
    BACKFILL_LOCK_DAY,
    BACKFILL_LOCKS,
    HORSE_LOCK,
    WARM_UP_LOCK,
    WARM_UP_LOCK_DAY,
    day_lock_holders,
    lock_days,
    renew_lock,
    run_locks_held,
    unlock_days,
)
from raceday.store.engine import upgrade_schema
from raceday.store.file_lock import process_ended
from raceday.store.restore_lock import (
    UNNAMED_RESTORE,
    RestoreLockBusy,
    exclusive_restore_lock,
    restore_holder,
    run_lock_transaction,
    shared_restore_lock,
    store_users,
)
from tasks.common import current_flow_name, current_run_id, engine_for, logger

# A process started within this of the lock's moment may be its holder (the clocks round).
PID_CLOCK_SLACK = timedelta(seconds=2)


def _holder() -> str:
    return f"{socket.gethostname()} pid {os.getpid()}"


def process_started_at(pid: int) -> datetime | None:
    """When process ``pid`` started, in local time (Linux's ``/proc``), or None where that is
    unknown (no such process, another system)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        boot = next(
            line for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime")
        )
        ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22, starttime (after comm)
        return datetime.fromtimestamp(int(boot.split()[1]) + ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def holder_is_dead(holder: str, since: datetime | None) -> bool:
    """True when the holder ran on this machine and its process is gone (``kill -9``), or its
    pid now belongs to a process started after the lock was taken (the machine rebooted, or
    the pid came round again: such a lock held the day for the whole stale limit)."""
    host, _, pid = holder.rpartition(" pid ")  # "<what it runs> <host> pid <pid>"
    if host.rsplit(" ", 1)[-1] != socket.gethostname() or not pid.isdigit():
        return False
    if process_ended(int(pid)):
        return True
    started = process_started_at(int(pid))
    return since is not None and started is not None and started > since + PID_CLOCK_SLACK


def _is_stale(settings: Settings, found: dict[str, Any]) -> bool:
    since = found["since"]
    age = (datetime.now() - since).total_seconds() if since is not None else float("inf")
    dead = holder_is_dead(str(found["holder"] or ""), since)
    return dead or age > settings.retry.lock_stale_after_s


_BACKFILLS_OF = {lock: sport for sport, lock in BACKFILL_LOCKS.items()}


def _lock_label(race_date: date, sport: str) -> str:
    if sport == WARM_UP_LOCK:
        return "the store's warm-up"
    if sport in _BACKFILLS_OF:
        return f"the store's {_BACKFILLS_OF[sport]} backfill"
    return f"{race_date}" if sport == HORSE_LOCK else f"{sport} day {race_date}"


def _lock_owner(found: dict[str, Any] | None) -> str:
    if found is None:
        return "another run"
    return f"{found['holder']} (run {found['run_id']}, since {found['since']:%H:%M:%S})"


def _locked(day: str, found: dict[str, Any] | None, outcome: str = "nothing done") -> RunLocked:
    return RunLocked(f"{day} is already being run by {_lock_owner(found)}: {outcome}")


def _restoring(day: str, restore: str, outcome: str = "nothing done") -> RunLocked:
    return RunLocked(
        f"{day} cannot be run: the store is being restored by {restore}: {outcome} "
        "(run again once the restore has ended)"
    )


def _live_locks(
    settings: Settings, read: Callable[[Connection], list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """The run locks ``read`` finds in the store that live runs hold (a stale one is left for
    :func:`day_lock` to take over); none in a store without the lock table, or older than the
    lock's sport column (:func:`day_lock` migrates it: no current run locked it). Nothing is
    written."""
    from sqlalchemy import inspect

    engine = engine_for(settings)
    if not inspect(engine).has_table("run_locks"):
        return []
    with engine.connect() as connection:
        try:
            found = read(connection)
        except SQLAlchemyError:
            return []
    return [lock for lock in found if not _is_stale(settings, lock)]


def refuse_locked_day(
    settings: Settings, race_date: date, sport: str = HORSE_LOCK, outcome: str = "nothing done"
) -> None:
    """Before Prefect starts (a command's preflight): :class:`RunLocked` when a restore is
    replacing the store or another live run holds the day's lock of ``sport`` (its line ends
    with ``outcome``), so the refusal is one line (:func:`_live_locks`)."""
    label = _lock_label(race_date, sport)
    refuse_while_restoring(settings, label)

    def holders(connection: Connection) -> list[dict[str, Any]]:
        return day_lock_holders(connection, [race_date], sport)

    live = _live_locks(settings, holders)
    if live:
        raise _locked(label, live[0], outcome)


def refuse_while_restoring(settings: Settings, what: str) -> None:
    """Before Prefect starts (a command's preflight): :class:`RunLocked` saying ``what`` cannot
    be run when a restore is replacing the store (one line; nothing held afterwards)."""
    restoring = restore_holder(settings.database_url)
    if restoring is not None:
        raise _restoring(what, restoring)


@contextmanager
def store_in_use(settings: Settings, what: str | None = None) -> Iterator[None]:
    """Run the body (a command or flow that reads or writes the store without a run lock)
    holding the store's restore lock shared, named ``what`` (default: the flow's name) and
    this process: a restore starting meanwhile is refused naming it. :class:`RunLocked`
    (nothing done) when a restore holds the lock. Let go when the body ends, whatever ends it."""
    what = what or current_flow_name()
    holder = f"{what} {_holder()} since {datetime.now():%H:%M:%S}"
    with ExitStack() as held:
        try:
            held.enter_context(shared_restore_lock(settings.database_url, holder))
        except RestoreLockBusy as busy:
            raise _restoring(what, busy.holder or UNNAMED_RESTORE) from None
        yield


def refuse_restoring_under_a_run(settings: Settings) -> None:
    """Before a restore replaces the store (before its prompt): :class:`RunLocked` naming the
    restore under way, the commands using the store (:func:`store_in_use`), or the day and the
    run when a live run holds a day's lock on it (:func:`_refuse_restoring_under_live_locks`).
    Nothing is written; the restore checks again under the restore lock (:func:`restore_lock`)."""
    restoring = restore_holder(settings.database_url)
    if restoring is not None:
        raise _restore_refused(f"another restore ({restoring}) is under way")
    users = store_users(settings.database_url)
    if users:
        raise _restore_refused(_at_work(users))
    _refuse_restoring_under_live_locks(settings)


def _refuse_restoring_under_live_locks(settings: Settings) -> None:
    """:class:`RunLocked` naming the day and the run when a live run holds a day's lock on the
    store (the same liveness as :func:`day_lock`'s; a killed run's lock does not hold it). A
    restore under a writing run left that run's later stages' rows without their races."""
    live = _live_locks(settings, run_locks_held)
    if live:
        day = _lock_label(live[0]["race_date"], str(live[0]["sport"]))
        raise _restore_refused(f"{day} is being run by {_lock_owner(live[0])}")


def _restore_refused(why: str) -> RunLocked:
    return RunLocked(f"{why} on this store: nothing restored (restore when it has ended)")


def _at_work(users: Sequence[str]) -> str:
    return f"{', '.join(users)} {'is' if len(users) == 1 else 'are'} at work"


def _why_busy(busy: RestoreLockBusy) -> str:
    """Why the restore lock could not be taken exclusively, as a refusal says it."""
    if busy.holder:
        return f"another restore ({busy.holder}) is under way"
    if busy.users:
        return _at_work(busy.users)
    return "a run is taking its lock at this moment"


@contextmanager
def restore_lock(settings: Settings) -> Iterator[None]:
    """Run the body (a restore) holding the store's restore lock, taken only when no live run
    holds a day (checked under the lock: a run taking its day meanwhile is refused, one taken
    before is seen); let go when the body ends, a failure or an interrupt too. :class:`RunLocked`
    (nothing restored) when a run holds a day, is taking its lock at this moment, a command
    uses the store (:func:`store_in_use`, named), or another restore holds the lock."""
    holder = f"restore {_holder()} since {datetime.now():%H:%M:%S}"
    with ExitStack() as held:
        try:
            held.enter_context(exclusive_restore_lock(settings.database_url, holder))
        except RestoreLockBusy as busy:
            raise _restore_refused(_why_busy(busy)) from None
        _refuse_restoring_under_live_locks(settings)
        yield


@dataclass(frozen=True)
class LockTaker:
    """Who takes run locks: this run's id and its holder line (``<flow> <host> pid <pid>``),
    read once (outside a flow each read of the run id is a new one)."""

    run_id: str
    holder: str

    @classmethod
    def of_this_run(cls, about: str = "") -> LockTaker:
        """This run's taker; ``about`` (``of 2025-01-01..2025-03-31``) follows the flow's name
        in the holder line."""
        what = f"{current_flow_name()} {about}".rstrip()
        return cls(current_run_id(), f"{what} {_holder()}")


@dataclass(frozen=True)
class LockRefused:
    """The first of the wanted days a live run holds, and its lock (None: let go meanwhile);
    or (``restore``, its holder line) the restore replacing the store."""

    day: date
    found: dict[str, Any] | None
    restore: str | None = None

    def error(self, sport: str, outcome: str = "nothing done") -> RunLocked:
        """The refusal in one line, ending with ``outcome`` (what it leaves)."""
        day = _lock_label(self.day, sport)
        if self.restore is not None:
            return _restoring(day, self.restore, outcome)
        return _locked(day, self.found, outcome)


def _take_locks(
    settings: Settings, days: Sequence[date], sport: str, taker: LockTaker
) -> LockRefused | None:
    """Take the run locks of ``days`` of ``sport`` for ``taker`` in one transaction, under the
    store's restore lock: None when taken; when a live run holds one of them, that day and its
    lock, and none is taken; when a restore is replacing the store, that restore. Locks left by
    killed runs are taken over (:func:`_is_stale`: dead process on this machine, or older than
    the stale limit)."""
    from sqlalchemy.exc import IntegrityError

    engine = engine_for(settings)
    live: list[dict[str, Any]] = []
    for attempt in (1, 2):
        try:
            with run_lock_transaction(engine) as connection:
                lock_days(connection, days, taker.holder, taker.run_id, sport)
            return None
        except RestoreLockBusy as busy:
            return LockRefused(days[0], None, busy.holder or UNNAMED_RESTORE)
        except IntegrityError:
            with engine.begin() as connection:
                found = day_lock_holders(connection, days, sport)
                live = [lock for lock in found if not _is_stale(settings, lock)]
                if live or attempt == 2:
                    break
                for stale in found:
                    logger().warning("taking over the stale run lock of %s", stale["holder"])
                    unlock_days(connection, [stale["race_date"]], stale["run_id"], sport)
    return LockRefused(live[0]["race_date"], live[0]) if live else LockRefused(days[0], None)


def _release_locks(settings: Settings, days: Sequence[date], sport: str, taker: LockTaker) -> None:
    with engine_for(settings).begin() as connection:
        unlock_days(connection, days, taker.run_id, sport)


@contextmanager
def day_lock(settings: Settings, race_date: date, sport: str = HORSE_LOCK) -> Iterator[None]:
    """Run the body holding the day's run lock of ``sport`` in the store (a horse day and a
    boat day of one date hold their own); another run of the same day at the same time fails
    at once with :class:`RunLocked` and changes nothing. A lock left by a killed run is taken
    over (dead process on this machine, or older than the stale limit)."""
    upgrade_schema(engine_for(settings))  # a no-op when current; the lock's key may be newer
    taker = LockTaker.of_this_run()
    refused = _take_locks(settings, [race_date], sport, taker)
    if refused is not None:
        raise refused.error(sport)
    try:
        yield
    finally:
        _release_locks(settings, [race_date], sport, taker)


class HeldDays:
    """The days whose run locks a run that writes many days (a backfill) holds, taken a chunk
    at a time (one transaction a chunk) and let go once the chunk is stored; :meth:`close`
    lets go of the rest. A day a live run holds refuses the chunk (:class:`RunLocked`)."""

    def __init__(self, settings: Settings, sport: str = HORSE_LOCK) -> None:
        self.settings, self.sport, self.taker = settings, sport, LockTaker.of_this_run()
        self.days: set[date] = set()
        self._guard = threading.Lock()  # a chunk prepared ahead takes its days from a task

    def hold(self, days: Sequence[date], outcome: str) -> None:
        """Hold ``days`` (those not held already); :class:`RunLocked` ending with ``outcome``
        (what the refusal leaves) when a live run holds one of them."""
        with self._guard:
            wanted = [day for day in days if day not in self.days]
            refused = _take_locks(self.settings, wanted, self.sport, self.taker) if wanted else None
            if refused is not None:
                raise refused.error(self.sport, outcome)
            self.days.update(wanted)

    def release(self, days: Sequence[date]) -> None:
        """Let go of ``days``' locks (those held)."""
        with self._guard:
            held = [day for day in days if day in self.days]
            if held:
                _release_locks(self.settings, held, self.sport, self.taker)
                self.days.difference_update(held)

    def close(self) -> None:
        """Let go of every lock still held."""
        self.release(sorted(self.days))


# Between two asks for the warm-up lock while a live run holds it: a warm-up takes seconds to
# minutes, and asking is one small query.
WARM_UP_LOCK_POLL_S = 1.0


def wait_before_asking_again() -> None:
    """The pause between two asks for a lock a live run holds."""
    time.sleep(WARM_UP_LOCK_POLL_S)


@contextmanager
def warm_up_lock(settings: Settings) -> Iterator[None]:
    """Run the body holding the store's warm-up lock (one ``run_locks`` row for the whole
    store, :data:`WARM_UP_LOCK`): two runs warming up one empty store at once (the first runs
    of consecutive days: overlapping histories) wrote the same races at once and one failed
    on their primary key. The second waits while the holder is live (the day locks' liveness:
    a killed run's lock is taken over), then finds the history stored."""
    taker, waiting = LockTaker.of_this_run(), False
    while (refused := _take_locks(settings, [WARM_UP_LOCK_DAY], WARM_UP_LOCK, taker)) is not None:
        if refused.restore is not None:  # a restore replaces what would be warmed up: no wait
            raise refused.error(WARM_UP_LOCK)
        if not waiting:
            logger().info("waiting for the store's warm-up by %s", _lock_owner(refused.found))
            waiting = True
        wait_before_asking_again()
    try:
        yield
    finally:
        _release_locks(settings, [WARM_UP_LOCK_DAY], WARM_UP_LOCK, taker)


# What a backfill refused for another backfill of the store leaves, and what to do.
ONE_BACKFILL_AT_A_TIME = (
    "nothing done (one backfill of a store and sport at a time, whatever their ranges: run "
    "again once it has ended)"
)


def refuse_running_backfill(settings: Settings, sport: str = HORSE_LOCK) -> None:
    """Before Prefect starts (a backfill command's preflight): :class:`RunLocked` when a restore
    is replacing the store or another live backfill of ``sport`` holds the store's backfill
    lock (:func:`backfill_lock`), so the refusal is one line. Nothing is written."""
    refuse_locked_day(settings, BACKFILL_LOCK_DAY, BACKFILL_LOCKS[sport], ONE_BACKFILL_AT_A_TIME)


def renewal_interval_s(settings: Settings) -> float:
    """How often a backfill says its lock is alive: well within the stale limit, so a lock
    whose holder is alive (on another machine too) is never older than that limit."""
    return settings.retry.lock_stale_after_s / 4


def _keep_renewing(settings: Settings, lock: str, taker: LockTaker, ended: threading.Event) -> None:
    """Renew ``taker``'s backfill lock every :func:`renewal_interval_s` until ``ended``; a
    renewal the store refuses (busy, unreachable) is a warning: the next one may land."""
    while not ended.wait(renewal_interval_s(settings)):
        try:
            with engine_for(settings).begin() as connection:
                renew_lock(connection, BACKFILL_LOCK_DAY, lock, taker.run_id)
        except SQLAlchemyError as error:
            logger().warning("could not renew the backfill lock: %s", error)


@contextmanager
def backfill_lock(settings: Settings, sport: str, span: str) -> Iterator[None]:
    """Run the body (a backfill of ``span``, ``2025-01-01..2025-03-31``, of ``sport``) holding
    the store's backfill lock of ``sport`` (:data:`BACKFILL_LOCKS`: one ``run_locks`` row for
    the store) for its whole life, renewed meanwhile (:func:`_keep_renewing`): a second backfill
    of the store and sport, whatever its range, is refused with :class:`RunLocked` before it
    reads or writes anything (two interleaved, each computing chunks from a history the other
    rewrote). The day locks' liveness: a killed backfill's lock is taken over (the same command
    resumes). Let go when the body ends, whatever ends it (a failure, Ctrl-C, SIGTERM)."""
    upgrade_schema(engine_for(settings))  # a no-op when current; the lock table may be newer
    lock, taker = BACKFILL_LOCKS[sport], LockTaker.of_this_run(f"of {span}")
    refused = _take_locks(settings, [BACKFILL_LOCK_DAY], lock, taker)
    if refused is not None:  # a restore's line says to run again once it has ended
        raise refused.error(lock, "nothing done" if refused.restore else ONE_BACKFILL_AT_A_TIME)
    ended = threading.Event()
    renewing = threading.Thread(
        target=_keep_renewing, args=(settings, lock, taker, ended), daemon=True
    )
    renewing.start()
    try:
        yield
    finally:
        ended.set()
        renewing.join()
        _release_locks(settings, [BACKFILL_LOCK_DAY], lock, taker)
