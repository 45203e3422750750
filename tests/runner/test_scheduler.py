"""The schedule (cron in a time zone) and the scheduling loop with a fake clock.

Expected fire times are built independently with ``zoneinfo`` from the wall-clock times the
cron expression names. Tolerances: exact (aware datetimes compare exactly).
"""

from __future__ import annotations

import datetime as dt
import threading
import zoneinfo
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphalab.config import Paths, load_params
from alphalab.runner.lock import RunLock
from alphalab.runner.records import load_schedule_state, runs_dir, save_schedule_state
from alphalab.runner.scheduler import Schedule, serve

from .conftest import write_params

NY = zoneinfo.ZoneInfo("America/New_York")
UTC = dt.UTC


class FakeClock:
    """A clock that moves only when the loop sleeps or a run takes time."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> dt.datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += dt.timedelta(seconds=seconds)


class Recorder:
    def __init__(self, clock: FakeClock, *, takes: dt.timedelta = dt.timedelta(0), code: int = 0):
        self.clock, self.takes, self.code = clock, takes, code
        self.calls: list[tuple[str, dt.datetime | None, int, str | None]] = []

    def __call__(self, params, *, trigger, scheduled_for, coalesced, params_error) -> int:  # type: ignore[no-untyped-def]
        self.calls.append((trigger, scheduled_for, coalesced, params_error))
        self.clock.now += self.takes
        return self.code


def project(tmp_path: Path, schedule: str, tz: str = "America/New_York") -> Paths:
    write_params(tmp_path / "p", runner={"schedule": schedule, "timezone": tz})
    return Paths(tmp_path / "p")


def loop(paths: Paths, clock: FakeClock, run: Recorder, **kw: object) -> int:
    return serve(
        paths,
        load=lambda: load_params(paths.params),
        run=run,
        stop=threading.Event(),
        clock=clock,
        sleep=clock.sleep,
        max_sleep_s=kw.pop("max_sleep_s", 3600.0),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


# --------------------------------------------------------------------------------------------
# Schedule
# --------------------------------------------------------------------------------------------
def test_weekday_schedule_across_spring_forward() -> None:
    s = Schedule("30 6 * * 1-5", "America/New_York")
    start = dt.datetime(2026, 3, 6, 7, 0, tzinfo=NY)  # Friday after the 06:30 run
    got, t = [], start
    for _ in range(3):
        t = s.next_after(t)
        got.append(t)
    # Monday 9 March is EDT (UTC-4), Friday 6 March was EST (UTC-5): wall time stays 06:30
    want = [dt.datetime(2026, 3, d, 6, 30, tzinfo=NY).astimezone(UTC) for d in (9, 10, 11)]
    assert got == want
    assert [g.hour for g in got] == [10, 10, 10]


def test_fall_back_runs_a_repeated_wall_time_once() -> None:
    s = Schedule("30 1 * * *", "America/New_York")
    count, latest = s.missed(
        dt.datetime(2026, 10, 31, 12, tzinfo=NY), dt.datetime(2026, 11, 2, 12, tzinfo=NY)
    )
    assert count == 2  # 1 Nov 01:30 happens twice on the wall clock; it runs once
    assert latest == dt.datetime(2026, 11, 2, 1, 30, tzinfo=NY).astimezone(UTC)


@settings(max_examples=40, deadline=None)
@given(
    start=st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2027, 12, 31)),
    hours=st.integers(min_value=0, max_value=24 * 20),
)
def test_missed_counts_daily_fires_like_a_calendar(start: dt.datetime, hours: int) -> None:
    """Daily 06:30 in New York: the count equals the 06:30 wall times in (after, until]."""
    after = start.replace(tzinfo=NY)
    until = after + dt.timedelta(hours=hours)
    count, latest = Schedule("30 6 * * *", "America/New_York").missed(after, until)
    day, expected = after.date() - dt.timedelta(days=1), []
    while day <= until.astimezone(NY).date() + dt.timedelta(days=1):
        fire = dt.datetime.combine(day, dt.time(6, 30), tzinfo=NY)
        if as_utc_ts(after) < as_utc_ts(fire) <= as_utc_ts(until):
            expected.append(fire.astimezone(UTC))
        day += dt.timedelta(days=1)
    assert count == len(expected)
    assert latest == (expected[-1] if expected else None)


def as_utc_ts(t: dt.datetime) -> float:
    return t.astimezone(UTC).timestamp()


def test_bad_schedule_is_rejected() -> None:
    with pytest.raises(ValueError, match="cron"):
        Schedule("30 6 * *", "UTC")
    with pytest.raises(zoneinfo.ZoneInfoNotFoundError):
        Schedule("30 6 * * *", "Mars/Olympus")


# --------------------------------------------------------------------------------------------
# the loop
# --------------------------------------------------------------------------------------------
def test_runs_missed_while_down_are_coalesced_into_one(tmp_path: Path) -> None:
    paths = project(tmp_path, "30 6 * * *")
    save_schedule_state(dt.datetime(2026, 1, 2, 6, 30, tzinfo=NY), paths)
    clock = FakeClock(dt.datetime(2026, 1, 5, 12, 0, tzinfo=NY).astimezone(UTC))
    run = Recorder(clock)
    assert loop(paths, clock, run, max_runs=2) == 0
    jan = [dt.datetime(2026, 1, d, 6, 30, tzinfo=NY).astimezone(UTC) for d in (5, 6)]
    assert run.calls == [("catch-up", jan[0], 3, None), ("schedule", jan[1], 1, None)]
    assert load_schedule_state(paths) == jan[1]
    assert max(clock.sleeps) <= 3600


def test_a_run_longer_than_the_interval_coalesces_the_fires_it_overran(tmp_path: Path) -> None:
    paths = project(tmp_path, "*/10 * * * *", "UTC")
    start = dt.datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    save_schedule_state(start, paths)
    clock = FakeClock(start)
    run = Recorder(clock, takes=dt.timedelta(minutes=25))
    loop(paths, clock, run, max_runs=3)
    at = [start.replace(hour=h, minute=m) for h, m in ((12, 10), (12, 30), (13, 0))]
    assert run.calls == [
        ("schedule", at[0], 1, None),
        ("catch-up", at[1], 2, None),
        ("catch-up", at[2], 3, None),
    ]


def test_first_start_waits_for_the_next_fire_unless_run_now(tmp_path: Path) -> None:
    paths = project(tmp_path, "0 7 * * *", "UTC")
    clock = FakeClock(dt.datetime(2026, 1, 5, 12, 0, tzinfo=UTC))
    run = Recorder(clock)
    loop(paths, clock, run, max_runs=1)
    assert run.calls == [("schedule", dt.datetime(2026, 1, 6, 7, 0, tzinfo=UTC), 1, None)]
    run2 = Recorder(clock)
    loop(paths, clock, run2, max_runs=1, run_now=True)
    assert run2.calls == [("start", None, 0, None)]


def test_invalid_params_mid_loop_become_a_failed_run_not_a_crash(tmp_path: Path) -> None:
    paths = project(tmp_path, "0 * * * *", "UTC")
    start = dt.datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    save_schedule_state(start, paths)
    clock = FakeClock(start)
    good = paths.params.read_text()

    class Breaker(Recorder):
        def __call__(self, params, **kw):  # type: ignore[no-untyped-def,override]
            code = super().__call__(params, **kw)
            paths.params.write_text(good + "\nbogus_section: 1\n")  # someone breaks the file
            return code

    run = Breaker(clock)
    loop(paths, clock, run, max_runs=2)
    assert run.calls[0][3] is None
    assert run.calls[1][3] is not None and "bogus_section" in run.calls[1][3]


def test_an_aborted_run_is_not_marked_served_and_stop_ends_the_loop(tmp_path: Path) -> None:
    paths = project(tmp_path, "0 * * * *", "UTC")
    start = dt.datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    save_schedule_state(start, paths)
    clock = FakeClock(start)
    run = Recorder(clock, code=143)
    assert loop(paths, clock, run) == 0
    assert len(run.calls) == 1 and load_schedule_state(paths) == start
    stop = threading.Event()
    stop.set()
    idle = Recorder(clock)
    serve(
        paths,
        load=lambda: load_params(paths.params),
        run=idle,
        stop=stop,
        clock=clock,
        sleep=clock.sleep,
    )
    assert idle.calls == []


def test_second_scheduler_exits_75(tmp_path: Path) -> None:
    paths = project(tmp_path, "0 * * * *", "UTC")
    clock = FakeClock(dt.datetime(2026, 1, 5, 12, 0, tzinfo=UTC))
    with RunLock(runs_dir(paths) / "scheduler.lock"):
        assert loop(paths, clock, Recorder(clock), max_runs=1) == 75
