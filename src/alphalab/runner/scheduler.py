"""The scheduling loop of ``alphalab runner start``.

The schedule is a five-field cron expression evaluated in an IANA time zone (``croniter`` on
aware datetimes, so daylight-saving changes are handled by the calendar, not by UTC offsets).

Rules of the loop (:func:`serve`):

- **one instance**: the scheduler holds ``reports/runs/scheduler.lock`` for its lifetime (a
  second ``start`` exits with code 75); each run also takes the run lock;
- **missed runs are coalesced**: the last handled fire time is kept in
  ``reports/runs/schedule.json``; on each wake-up every fire time since then that has passed —
  because the machine slept, the scheduler was down, or the previous run outlasted the interval
  — is served by **one** run (``trigger: catch-up``, ``coalesced: n`` in its record);
- the first start ever runs nothing until the next fire time (``--run-now`` runs at once);
- ``params.yaml`` is re-read before every run, so schedule and rules apply without a restart;
  an invalid file makes that run a recorded failure (its ``run_failed`` alert uses the last
  valid rules) instead of stopping the loop;
- a wall-clock time repeated when clocks fall back runs once; one skipped when they spring
  forward runs at the first instant after the gap (croniter);
- it sleeps at most ``max_sleep_s`` at a time, so clock jumps are noticed, and a stop request
  (SIGTERM/SIGINT) ends the sleep at once; a run in progress is aborted cleanly
  (:mod:`alphalab.runner.repro`) and the loop exits.
"""

from __future__ import annotations

import datetime as dt
import threading
import zoneinfo
from collections.abc import Callable, Iterator
from typing import Protocol

from croniter import croniter

from alphalab.config import Params, ParamsError, Paths
from alphalab.logs import get_logger
from alphalab.runner.lock import LockHeld, RunLock
from alphalab.runner.records import (
    SCHEDULER_LOCK,
    as_utc,
    iso,
    load_schedule_state,
    runs_dir,
    save_schedule_state,
    utcnow,
)
from alphalab.runner.run import ExitCode, Trigger

log = get_logger("alphalab.runner.scheduler")

MAX_MISSED_COUNT = 100_000


class Schedule:
    """A cron expression in a time zone.

    Parameters
    ----------
    expr : str
        Five-field cron expression (minute hour day-of-month month day-of-week).
    tz : str
        IANA time zone name in which the expression is read.
    """

    def __init__(self, expr: str, tz: str) -> None:
        if len(expr.split()) != 5 or not croniter.is_valid(expr):
            raise ValueError(f"not a five-field cron expression: {expr!r}")
        self.expr = expr
        self.tz = zoneinfo.ZoneInfo(tz)

    def _fires(self, after: dt.datetime) -> Iterator[dt.datetime]:
        """Fire times after ``after`` (UTC), once per wall-clock time.

        When clocks fall back, a wall-clock time such as 01:30 happens twice; croniter yields
        both, this runs it once (a daily job stays daily).
        """
        local = as_utc(after).astimezone(self.tz)
        it = croniter(self.expr, local)
        previous = local.replace(tzinfo=None)
        while True:
            fire = it.get_next(dt.datetime)
            wall = fire.replace(tzinfo=None)
            if wall == previous:
                continue
            previous = wall
            yield as_utc(fire)

    def next_after(self, when: dt.datetime) -> dt.datetime:
        """The first fire time strictly after ``when`` (aware, in UTC)."""
        return next(self._fires(when))

    def missed(self, after: dt.datetime, until: dt.datetime) -> tuple[int, dt.datetime | None]:
        """Count the fire times in ``(after, until]`` and return the latest (or ``None``)."""
        count, latest, limit = 0, None, as_utc(until)
        for fire in self._fires(after):
            if fire > limit or count == MAX_MISSED_COUNT:
                break
            count, latest = count + 1, fire
        return count, latest


class RunFn(Protocol):
    """Callback that performs one run and returns its exit code."""

    def __call__(
        self,
        params: Params,
        *,
        trigger: Trigger,
        scheduled_for: dt.datetime | None,
        coalesced: int,
        params_error: str | None,
    ) -> int: ...


def _reload(load: Callable[[], Params], current: Params) -> tuple[Params, str | None]:
    try:
        return load(), None
    except ParamsError as exc:
        log.error("params.yaml is invalid; keeping the last valid rules: %s", exc)
        return current, str(exc)


def serve(
    paths: Paths,
    *,
    load: Callable[[], Params],
    run: RunFn,
    stop: threading.Event,
    clock: Callable[[], dt.datetime] = utcnow,
    sleep: Callable[[float], object] | None = None,
    run_now: bool = False,
    max_runs: int | None = None,
    max_sleep_s: float = 60.0,
) -> int:
    """Run ``run`` on the schedule in params until ``stop`` is set (see the module docstring).

    Parameters
    ----------
    paths : Paths
        Project locations (lock and schedule state under ``reports/runs/``).
    load : callable
        Returns freshly validated params (raises ``ParamsError`` when invalid).
    run : RunFn
        Performs one run.
    stop : threading.Event
        Ends the loop when set.
    clock : callable
        Aware current time (tests pass a fake clock).
    sleep : callable, optional
        Waits a number of seconds; default ``stop.wait`` (returns early on stop).
    run_now : bool
        Run once at start, before waiting for the schedule.
    max_runs : int, optional
        Return after this many runs (tests, one-shot deployments).
    max_sleep_s : float
        Longest single sleep.

    Returns
    -------
    int
        0 after a clean stop; 75 when another scheduler holds the lock.

    Raises
    ------
    ParamsError
        ``params.yaml`` is invalid at start.
    """
    params = load()
    wait = sleep or stop.wait
    try:
        lock = RunLock(runs_dir(paths) / SCHEDULER_LOCK, info={"role": "scheduler"}).acquire()
    except LockHeld as exc:
        log.error("scheduler not started: %s", exc)
        return 75
    try:
        last = load_schedule_state(paths)
        now = clock()
        if last is None or last > now:
            last = now
            save_schedule_state(last, paths)
        log.info(
            "scheduler started: %r in %s; last handled fire time %s",
            params.runner.schedule,
            params.runner.timezone,
            iso(last),
        )
        runs = 0
        if run_now:
            params, error = _reload(load, params)
            run(params, trigger="start", scheduled_for=None, coalesced=0, params_error=error)
            runs += 1
        while not stop.is_set() and (max_runs is None or runs < max_runs):
            params, error = _reload(load, params)
            sched = Schedule(params.runner.schedule, params.runner.timezone)
            now = clock()
            count, latest = sched.missed(last, now)
            if count and latest is not None:
                trigger: Trigger = "schedule" if count == 1 else "catch-up"
                if count > 1:
                    log.warning("%d missed fire times coalesced into one run", count)
                code = run(
                    params,
                    trigger=trigger,
                    scheduled_for=latest,
                    coalesced=count,
                    params_error=error,
                )
                runs += 1
                if code == ExitCode.ABORTED:  # not served: a restart catches it up
                    break
                last = latest
                save_schedule_state(last, paths, coalesced=count)
                continue
            upcoming = sched.next_after(max(last, now))
            lock.update(next_fire=iso(upcoming))
            wait(max(0.0, min(max_sleep_s, (upcoming - now).total_seconds())))
        log.info("scheduler stopped after %d run(s)", runs)
        return 0
    finally:
        lock.release()
