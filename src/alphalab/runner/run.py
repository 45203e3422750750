"""One runner pass: refresh, reproduce, compare, alert, record.

:func:`run_once` does, under the run lock (``reports/runs/run.lock``):

1. apply params overrides (``runner.roll_window`` → ``data.end`` = today, plus any given),
   validated against the schema before anything runs;
2. run the pipeline (``dvc repro``; ``ingest`` forced first when ``data.yfinance.refresh`` asks
   for fresh online data, and any ``runner.force_stages``) as a stoppable child process group
   (:mod:`alphalab.runner.repro`);
3. read the outputs (:mod:`alphalab.runner.observe`) and diff the metrics against the last
   successful run's snapshot (``dvc metrics diff`` semantics; the workspace's metrics before
   the run when there is no earlier success);
4. evaluate the alert rules, apply cooldowns and deliver (:mod:`alphalab.runner.alerts`);
5. write the run record ``reports/runs/<run_id>.json`` and ``state.json``, atomically.

A cancelled run (SIGTERM/SIGINT) stops the pipeline's process group (so no stage keeps
writing), skips the alerts and writes a complete record with status ``aborted``.

Exit codes (:class:`ExitCode`)
------------------------------
0 ``OK``: the pipeline succeeded and no alert fired (suppressed ones do not count);
1 ``FAILED``: the pipeline failed or timed out, or params/overrides are invalid;
2 ``USAGE``: bad command line;
3 ``ALERTS``: the pipeline succeeded and at least one alert fired and was delivered;
4 ``DELIVERY_FAILED``: an alert could not be delivered on one of its channels;
75 ``LOCKED``: another run holds the lock (nothing was done; ``EX_TEMPFAIL``);
143 ``ABORTED``: stopped by SIGTERM or SIGINT.
"""

from __future__ import annotations

import datetime as dt
import enum
import os
import sys
import threading
import time
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import alphalab
from alphalab.config import Params, ParamsError, Paths, params_hash
from alphalab.logs import LOG_FORMAT_ENV, RUN_ID_ENV, get_logger, log_context
from alphalab.runner import alerts as al
from alphalab.runner.lock import LockHeld, RunLock
from alphalab.runner.observe import Observations, diff_metrics, observe
from alphalab.runner.overrides import OverrideError, apply_overrides, rolling_overrides
from alphalab.runner.records import (
    RUN_LOCK,
    SCHEMA_VERSION,
    RecordError,
    iso,
    load_state,
    new_run_id,
    runs_dir,
    save_state,
    utcnow,
    write_record,
)
from alphalab.runner.repro import DvcRepro, Repro, ReproRequest, ReproResult, failing_repro

log = get_logger("alphalab.runner")

Trigger = Literal["manual", "schedule", "catch-up", "start"]


class ExitCode(enum.IntEnum):
    """Exit status of ``alphalab runner run-once`` (see the module docstring)."""

    OK = 0
    FAILED = 1
    USAGE = 2
    ALERTS = 3
    DELIVERY_FAILED = 4
    LOCKED = 75
    ABORTED = 143


@dataclass(frozen=True)
class RunReport:
    """Result of :func:`run_once`: exit code, the record written (if any) and its path."""

    exit_code: ExitCode
    record: dict[str, Any] | None
    record_path: Path | None


def run_date(now: dt.datetime, tz: str) -> dt.date:
    """The calendar date of ``now`` in the runner's time zone."""
    return now.astimezone(zoneinfo.ZoneInfo(tz)).date()


def forced_stages(params: Params) -> tuple[str, ...]:
    """Stages rerun even when unchanged: ``runner.force_stages`` (+ ``ingest`` on refresh)."""
    stages = list(params.runner.force_stages)
    y = params.data.yfinance
    if params.data.source == "yfinance" and y is not None and y.refresh and "ingest" not in stages:
        stages.insert(0, "ingest")
    return tuple(stages)


def child_env(
    params: Params, paths: Paths, run_id: str, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Environment of the pipeline: root, run id, log format; alert secrets removed."""
    env = dict(os.environ if base is None else base)
    names: list[str | None] = [params.runner.webhook.url_env] if params.runner.webhook else []
    if params.runner.email:
        names += [params.runner.email.username_env, params.runner.email.password_env]
    for name in names:
        if name:
            env.pop(name, None)
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bindir, env.get("PATH", "")]).rstrip(os.pathsep)
    env["ALPHALAB_ROOT"] = str(paths.root)
    env[RUN_ID_ENV] = run_id
    env[LOG_FORMAT_ENV] = params.runner.log_format
    return env


def _prepare(
    params: Params, paths: Paths, today: dt.date, extra: Mapping[str, Any]
) -> tuple[Params, dict[str, Any], str | None]:
    overrides = {**rolling_overrides(params, today=today), **dict(extra)}
    if not overrides:
        return params, {}, None
    try:
        return apply_overrides(paths.params, overrides), overrides, None
    except (ParamsError, OverrideError) as exc:
        return params, overrides, f"params overrides rejected: {exc}"


def _status(result: ReproResult, fired: list[al.Alert]) -> tuple[str, ExitCode]:
    live = [a for a in fired if not a.suppressed]
    if result.aborted:
        return "aborted", ExitCode.ABORTED
    if not result.ok:
        return "failed", ExitCode.FAILED
    if any(v.startswith("error") for a in live for v in a.delivery.values()):
        return "alerts", ExitCode.DELIVERY_FAILED
    if live:
        return "alerts", ExitCode.ALERTS
    return "ok", ExitCode.OK


def _alerts(
    params: Params,
    result: ReproResult,
    obs: Observations,
    state: dict[str, Any],
    *,
    now: dt.datetime,
    today: dt.date,
    run_id: str,
    env: Mapping[str, str],
) -> tuple[list[al.Alert], list[str]]:
    if result.aborted:
        return [], ["alerts not evaluated: the run was aborted"]
    outcome = al.RunOutcome(result.ok, today, result.failed_stage, result.error)
    rules = params.runner.alerts
    fired, notes = al.evaluate_rules(
        rules, outcome=outcome, observations=obs, previous=state.get("last_success")
    )
    al.apply_cooldown(fired, rules, state["cooldowns"], now)
    al.dispatch(fired, params.runner, run_id=run_id, study=params.study.name, env=env)
    for alert in fired:
        if alert.delivered:
            state["cooldowns"][alert.rule] = iso(now)
    return fired, notes


def _call_repro(repro: Repro, request: ReproRequest) -> ReproResult:
    if request.cancel.is_set():
        return ReproResult(
            returncode=1, aborted=True, error="cancelled before the pipeline started"
        )
    try:
        return repro(request)
    except Exception as exc:  # a broken repro is a failed run, recorded like any other
        log.exception("the pipeline could not be run")
        return ReproResult(returncode=1, error=f"{type(exc).__name__}: {exc}")


def _load_state(paths: Paths, notes: list[str]) -> dict[str, Any]:
    try:
        return load_state(paths)
    except RecordError as exc:
        notes.append(f"state.json unreadable, started afresh: {exc}")
        log.error("%s", exc)
        return {"cooldowns": {}}


@dataclass(frozen=True)
class _Context:
    """The fixed facts of one run, passed between the steps."""

    paths: Paths
    run_id: str
    started: dt.datetime
    t0: float
    env: Mapping[str, str]
    trigger: Trigger
    scheduled_for: dt.datetime | None
    coalesced: int


def run_once(
    params: Params,
    paths: Paths,
    *,
    now: dt.datetime | None = None,
    repro: Repro | None = None,
    cancel: threading.Event | None = None,
    overrides: Mapping[str, Any] | None = None,
    trigger: Trigger = "manual",
    scheduled_for: dt.datetime | None = None,
    coalesced: int = 0,
    env: Mapping[str, str] | None = None,
) -> RunReport:
    """Run the pipeline once and record, compare and alert (see the module docstring).

    Parameters
    ----------
    params : Params
        The validated ``params.yaml`` (its ``runner`` section drives this function).
    paths : Paths
        Project locations; the pipeline runs in ``paths.root``.
    now : datetime, optional
        Aware start time (default: the clock); sets the run id, the run date (for
        ``roll_window`` and ``stale_data``) and cooldowns.
    repro : callable, optional
        Runs the pipeline (default :class:`~alphalab.runner.repro.DvcRepro`).
    cancel : threading.Event, optional
        Set it (e.g. from a SIGTERM handler) to stop the run cleanly.
    overrides : mapping, optional
        Extra params overrides ``{"dotted.key": value}`` written before the run.
    trigger : {'manual', 'schedule', 'catch-up', 'start'}
        Why the run happened (recorded).
    scheduled_for : datetime, optional
        The cron fire time this run serves (recorded).
    coalesced : int
        Number of scheduled fire times this run stands for (recorded).
    env : mapping, optional
        Environment for secrets and the child (default ``os.environ``).

    Returns
    -------
    RunReport
        Exit code, record and its path (no record when the lock was held).
    """
    started = now or utcnow()
    ctx = _Context(
        paths=paths,
        run_id=new_run_id(started),
        started=started,
        t0=time.monotonic(),
        env=os.environ if env is None else env,
        trigger=trigger,
        scheduled_for=scheduled_for,
        coalesced=coalesced,
    )
    lock = RunLock(runs_dir(paths) / RUN_LOCK, info={"run_id": ctx.run_id, "trigger": trigger})
    try:
        lock.acquire()
    except LockHeld as exc:
        log.error("run not started: %s", exc)
        return RunReport(ExitCode.LOCKED, None, None)
    try:
        with log_context(run_id=ctx.run_id):
            notes = [f"stale run lock taken over: {lock.stale}"] if lock.stale else []
            return _locked_run(
                params,
                ctx,
                repro=repro or DvcRepro(),
                cancel=cancel or threading.Event(),
                overrides=dict(overrides or {}),
                notes=notes,
            )
    finally:
        lock.release()


def _locked_run(
    params: Params,
    ctx: _Context,
    *,
    repro: Repro,
    cancel: threading.Event,
    overrides: dict[str, Any],
    notes: list[str],
) -> RunReport:
    paths = ctx.paths
    state = _load_state(paths, notes)
    previous = state.get("last_success") or {}
    baseline = previous["metrics"] if "metrics" in previous else observe(paths).metrics
    today = run_date(ctx.started, params.runner.timezone)
    params, applied, override_error = _prepare(params, paths, today, overrides)
    log.info("run started (%s); overrides %s", ctx.trigger, applied or "none")
    request = ReproRequest(
        root=paths.root,
        run_id=ctx.run_id,
        targets=tuple(params.runner.targets),
        force_stages=forced_stages(params),
        env=child_env(params, paths, ctx.run_id, ctx.env),
        timeout_s=params.runner.repro_timeout_minutes * 60,
        grace_s=params.runner.grace_seconds,
        cancel=cancel,
    )
    result = _call_repro(failing_repro(override_error) if override_error else repro, request)
    obs = observe(paths)
    fired, alert_notes = _alerts(
        params, result, obs, state, now=ctx.started, today=today, run_id=ctx.run_id, env=ctx.env
    )
    status, code = _status(result, fired)
    record = _record(ctx, params, result, obs, fired, status=status, code=code, today=today)
    record.update(
        params_overrides=applied,
        forced_stages=list(request.force_stages),
        previous_success=previous.get("run_id"),
        metrics_diff=diff_metrics(baseline or {}, obs.metrics) if result.ok else None,
        gate={"decision": obs.gate, "previous": previous.get("gate")},
        notes=notes + alert_notes + obs.problems,
    )
    path = write_record(record, paths)
    _update_state(state, record, obs, paths)
    log.info(
        "run finished: %s (exit %d) in %.1f s; stages run %s; alerts fired %s, suppressed %s",
        status,
        code,
        record["duration_s"],
        result.stages_run or "none",
        record["alerts_fired"] or "none",
        record["alerts_suppressed"] or "none",
    )
    return RunReport(code, record, path)


def _record(
    ctx: _Context,
    params: Params,
    result: ReproResult,
    obs: Observations,
    fired: list[al.Alert],
    *,
    status: str,
    code: ExitCode,
    today: dt.date,
) -> dict[str, Any]:
    elapsed = time.monotonic() - ctx.t0
    return {
        "schema": SCHEMA_VERSION,
        "run_id": ctx.run_id,
        "status": status,
        "exit_code": int(code),
        "pipeline_ok": result.ok,
        "trigger": ctx.trigger,
        "scheduled_for": iso(ctx.scheduled_for) if ctx.scheduled_for else None,
        "coalesced": ctx.coalesced,
        "started_at": iso(ctx.started),
        "finished_at": iso(ctx.started + dt.timedelta(seconds=elapsed)),
        "duration_s": round(elapsed, 3),
        "run_date": today.isoformat(),
        "host": os.uname().nodename,
        "pid": os.getpid(),
        "alphalab_version": alphalab.__version__,
        "study": params.study.name,
        "params_hash": params_hash(params),
        "commands": result.commands,
        "returncode": result.returncode,
        "aborted": result.aborted,
        "timed_out": result.timed_out,
        "error": result.error,
        "failed_stage": result.failed_stage,
        "stages_run": result.stages_run,
        "stages_skipped": result.stages_skipped,
        "stages_cached": result.stages_cached,
        "output_tail": [] if result.ok else result.output_tail,
        "metrics": obs.metrics,
        "validation": obs.validation,
        "data_last": obs.data_last,
        "alerts": [a.to_dict() for a in fired],
        "alerts_fired": [a.rule for a in fired if not a.suppressed],
        "alerts_suppressed": [a.rule for a in fired if a.suppressed],
    }


def _update_state(
    state: dict[str, Any], record: dict[str, Any], obs: Observations, paths: Paths
) -> None:
    summary = {k: record[k] for k in ("run_id", "finished_at", "status", "exit_code")}
    state["last_run"] = summary
    if record["pipeline_ok"]:
        state["last_success"] = {
            **summary,
            "metrics": obs.metrics,
            "gate": obs.gate,
            "validation": obs.validation,
        }
    save_state(state, paths)
