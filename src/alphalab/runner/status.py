"""``alphalab runner status``: what the runner did last and whether it is healthy.

Healthy means: a successful run (pipeline succeeded, alerts or not) finished less than
``runner.max_run_age_hours`` ago, and the most recent run did not fail. The container health
check (``docker/healthcheck.py``) applies the same age rule to the same ``state.json``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from alphalab.config import Params, Paths
from alphalab.runner.lock import lock_status
from alphalab.runner.records import (
    RUN_LOCK,
    SCHEDULER_LOCK,
    RecordError,
    iso,
    list_records,
    load_schedule_state,
    load_state,
    parse_iso,
    runs_dir,
    utcnow,
)
from alphalab.runner.scheduler import Schedule


def _age_hours(finished: str | None, now: dt.datetime) -> float | None:
    if not finished:
        return None
    return round((now - parse_iso(finished)).total_seconds() / 3600, 2)


def _problems(state: dict[str, Any], age: float | None, limit: float) -> list[str]:
    problems = []
    if age is None:
        problems.append("no successful run recorded under reports/runs/")
    elif age > limit:
        problems.append(f"last successful run is {age:.1f} h old (limit {limit:g} h)")
    last = state.get("last_run") or {}
    if last.get("status") == "failed":
        problems.append(f"last run {last.get('run_id')} failed (see its record)")
    return problems


def runner_status(
    params: Params, paths: Paths, *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Collect last run, last success, locks, next fire time and active cooldowns.

    Returns
    -------
    dict
        JSON-ready; ``healthy`` (bool) and ``problems`` (list of str) summarise it.
    """
    now = now or utcnow()
    folder = runs_dir(paths)
    try:
        state = load_state(paths)
        state_error = None
    except RecordError as exc:
        state, state_error = {"cooldowns": {}}, str(exc)
    success = state.get("last_success") or {}
    age = _age_hours(success.get("finished_at"), now)
    last_fire = load_schedule_state(paths)
    sched = Schedule(params.runner.schedule, params.runner.timezone)
    cooldowns = {
        rule: when
        for rule, when in state.get("cooldowns", {}).items()
        if rule in {r.name for r in params.runner.alerts}
    }
    problems = _problems(state, age, params.runner.max_run_age_hours)
    if state_error:
        problems.append(state_error)
    return {
        "root": str(paths.root),
        "healthy": not problems,
        "problems": problems,
        "last_run": state.get("last_run"),
        "last_success": {k: v for k, v in success.items() if k in ("run_id", "finished_at")}
        or None,
        "last_success_age_hours": age,
        "max_run_age_hours": params.runner.max_run_age_hours,
        "records": len(list_records(paths)),
        "run_lock": lock_status(folder / RUN_LOCK),
        "scheduler_lock": lock_status(folder / SCHEDULER_LOCK),
        "schedule": params.runner.schedule,
        "timezone": params.runner.timezone,
        "last_fire": iso(last_fire) if last_fire else None,
        "next_fire": iso(sched.next_after(max(last_fire or now, now))),
        "cooldowns": cooldowns,
    }


def format_status(status: dict[str, Any]) -> str:
    """Human-readable lines for :func:`runner_status`."""
    last = status["last_run"] or {}
    lines = [
        f"runner status for {status['root']}: {'healthy' if status['healthy'] else 'UNHEALTHY'}",
        f"  last run:      {last.get('run_id', '-')} {last.get('status', '')} "
        f"{last.get('finished_at', '')}".rstrip(),
        f"  last success:  {(status['last_success'] or {}).get('run_id', '-')} "
        f"({status['last_success_age_hours']} h ago; limit {status['max_run_age_hours']:g} h)",
        f"  schedule:      {status['schedule']} ({status['timezone']}); next {status['next_fire']}",
    ]
    for name in ("run_lock", "scheduler_lock"):
        lk = status[name]
        holder = lk.get("holder") or {}
        state = "held" if lk["held"] else ("stale file" if lk.get("stale") else "free")
        who = f" by pid {holder.get('pid')} on {holder.get('host')}" if lk["held"] else ""
        lines.append(f"  {name.replace('_', ' '):14s} {state}{who}")
    for rule, when in sorted(status["cooldowns"].items()):
        lines.append(f"  cooldown:      {rule!r} last sent {when}")
    lines += [f"  problem:       {p}" for p in status["problems"]]
    return "\n".join(lines)
