"""Run the pipeline as a child process group that can be stopped cleanly.

The default :class:`DvcRepro` runs ``dvc repro`` in the project root (first
``dvc repro --force --single-item STAGE...`` for stages that must rerun even when DVC sees no
change, such as an online refresh). Any command can stand in for it (:class:`CommandRepro`,
``alphalab runner run-once --repro-cmd ...``), and tests pass any callable taking a
:class:`ReproRequest` and returning a :class:`ReproResult`.

**Stopping.** The child starts in its own session (process group). When the run is cancelled
(SIGTERM/SIGINT to the runner) or exceeds its timeout, the runner sends SIGINT to the whole group
— ``alphalab stage run`` turns that into its failure path, which deletes the stage's declared
outputs, and DVC then exits without recording the stage — waits up to ``grace_s``, then sends
SIGTERM, waits again, then SIGKILL. The runner returns only when no process of the group is left,
so nothing keeps writing after it has exited. Every artifact is written by temp file + rename,
so an interrupted stage leaves no half-written file, and DVC reruns it next time.

The child's output is relayed line by line to the ``alphalab.runner`` logger, tagged with the
stage DVC reports it is running; the last lines are kept for the run record.
"""

from __future__ import annotations

import collections
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from alphalab.logs import get_logger

log = get_logger("alphalab.runner.pipeline")

TAIL_LINES = 60
_RUNNING = re.compile(r"Running stage '([^']+)'")
_SKIPPED = re.compile(r"Stage '([^']+)' didn't change, skipping")
_CACHED = re.compile(r"Stage '([^']+)' is cached - skipping run")
_FAILED = re.compile(r"failed to reproduce(?: stages:)? '([^']+)'")


@dataclass(frozen=True)
class ReproRequest:
    """What the runner asks the pipeline to do.

    Attributes
    ----------
    root : Path
        Project root (the DVC repository); the child's working directory.
    run_id : str
        The run's id (exported to the child as ``ALPHALAB_RUN_ID``).
    targets : tuple of str
        Stages to reproduce with their upstream stages (empty: the whole pipeline).
    force_stages : tuple of str
        Stages to rerun even when DVC considers them up to date.
    env : mapping
        The child's complete environment.
    timeout_s : float
        Wall-clock limit of the whole reproduction.
    grace_s : float
        Wait between SIGINT, SIGTERM and SIGKILL when stopping.
    cancel : threading.Event
        Set (by the runner's signal handler) to stop the reproduction.
    """

    root: Path
    run_id: str
    targets: tuple[str, ...] = ()
    force_stages: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    timeout_s: float = 4 * 3600.0
    grace_s: float = 30.0
    cancel: threading.Event = field(default_factory=threading.Event)


@dataclass
class ReproResult:
    """What happened: exit code, stages run / skipped / restored from cache, failure detail."""

    returncode: int
    stages_run: list[str] = field(default_factory=list)
    stages_skipped: list[str] = field(default_factory=list)
    stages_cached: list[str] = field(default_factory=list)
    failed_stage: str | None = None
    error: str | None = None
    output_tail: list[str] = field(default_factory=list)
    commands: list[list[str]] = field(default_factory=list)
    aborted: bool = False
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        """True when every command exited 0 and nothing stopped the run."""
        return self.returncode == 0 and not self.aborted and not self.timed_out


Repro = Callable[[ReproRequest], ReproResult]


def _live_members(pgid: int) -> int | None:
    """Processes of group ``pgid`` that are not zombies (Linux ``/proc``), or ``None``."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").is_file():
        return None
    count = 0
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended while we looked
            continue
        fields = stat.rsplit(")", 1)[-1].split()  # after "pid (comm)": state ppid pgrp ...
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] != "Z":
            count += 1
    return count


def _group_alive(pgid: int) -> bool:
    """True while a process of the group can still run (zombies waiting for init cannot)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - a member changed user
        return True
    live = _live_members(pgid)
    return live is None or live > 0


def stop_group(proc: subprocess.Popen[str], *, grace_s: float) -> list[str]:
    """SIGINT, then SIGTERM, then SIGKILL to ``proc``'s process group until it is empty.

    Returns
    -------
    list of str
        The signals that were sent, in order.
    """
    sent: list[str] = []
    pgid = proc.pid
    for sig, wait_s in ((signal.SIGINT, grace_s), (signal.SIGTERM, grace_s), (signal.SIGKILL, 10)):
        proc.poll()  # reap the leader so a zombie does not count as alive
        if not _group_alive(pgid):
            break
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        sent.append(sig.name)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            proc.poll()
            if not _group_alive(pgid):
                break
            time.sleep(0.05)
    proc.wait()
    return sent


class _Relay(threading.Thread):
    """Read the child's output: log each line with its stage, keep a tail, track stages."""

    def __init__(self, stream: object, run_id: str, result: ReproResult) -> None:
        super().__init__(daemon=True, name="alphalab-repro-relay")
        self.stream = stream
        self.run_id = run_id
        self.result = result
        self.stage: str | None = None
        self.tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)

    def _track(self, line: str) -> None:
        if m := _RUNNING.search(line):
            self.stage = m.group(1)
            self.result.stages_run.append(self.stage)
        elif m := _SKIPPED.search(line):
            self.result.stages_skipped.append(m.group(1))
        elif m := _CACHED.search(line):
            self.result.stages_cached.append(m.group(1))
        elif m := _FAILED.search(line):
            self.result.failed_stage = m.group(1)

    def run(self) -> None:
        for raw in self.stream:  # type: ignore[attr-defined]
            line = raw.rstrip("\n")
            if not line.strip():
                continue
            self._track(line)
            self.tail.append(line)
            level = 40 if line.startswith("ERROR") else 30 if line.startswith("WARNING") else 20
            log.log(level, "%s", line, extra={"stage": self.stage, "run_id": self.run_id})


def run_command(argv: Sequence[str], request: ReproRequest, result: ReproResult) -> int:
    """Run one command as described in the module docstring; update ``result`` in place."""
    result.commands.append(list(argv))
    log.info("running: %s", " ".join(argv), extra={"run_id": request.run_id})
    proc = subprocess.Popen(
        list(argv),
        cwd=request.root,
        env=dict(request.env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        bufsize=1,
        start_new_session=True,
    )
    relay = _Relay(proc.stdout, request.run_id, result)
    relay.start()
    deadline = time.monotonic() + request.timeout_s
    try:
        while True:
            try:
                proc.wait(timeout=0.1)
                break
            except subprocess.TimeoutExpired:
                pass
            if request.cancel.is_set() or time.monotonic() > deadline:
                result.aborted = request.cancel.is_set()
                result.timed_out = not result.aborted
                why = "cancelled" if result.aborted else f"timed out after {request.timeout_s:g} s"
                log.warning("pipeline %s: stopping its process group", why)
                sent = stop_group(proc, grace_s=request.grace_s)
                result.error = f"pipeline {why}; sent {', '.join(sent) or 'nothing'}"
                break
    finally:
        proc.poll()
        if proc.returncode is None or _group_alive(proc.pid):
            # an exception in the loop, or members left behind by a finished leader: nothing
            # of the pipeline may keep running (and writing) once this returns
            stop_group(proc, grace_s=request.grace_s)
        relay.join(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()
        result.output_tail = list(relay.tail)
    return proc.returncode


def _failure_detail(result: ReproResult) -> str:
    errors = [line for line in result.output_tail if line.startswith("ERROR")]
    return errors[-1] if errors else (result.output_tail[-1] if result.output_tail else "no output")


def _run_all(commands: list[list[str]], request: ReproRequest) -> ReproResult:
    result = ReproResult(returncode=0)
    for argv in commands:
        rc = run_command(argv, request, result)
        result.returncode = rc
        if result.aborted or result.timed_out:
            result.returncode = rc if rc != 0 else 1
            return result
        if rc != 0:
            result.error = f"{' '.join(argv)} exited {rc}: {_failure_detail(result)}"
            return result
    return result


def find_dvc() -> str:
    """The ``dvc`` executable next to this interpreter, else the first on ``PATH``."""
    local = Path(sys.executable).parent / "dvc"
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    found = shutil.which("dvc")
    if found is None:
        raise FileNotFoundError("dvc not found next to the interpreter or on PATH")
    return found


@dataclass(frozen=True)
class DvcRepro:
    """``dvc repro [TARGETS]`` (after ``dvc repro -f -s`` of the forced stages)."""

    dvc: str | None = None

    def __call__(self, request: ReproRequest) -> ReproResult:
        dvc = self.dvc or find_dvc()
        commands = []
        if request.force_stages:
            commands.append([dvc, "repro", "--force", "--single-item", *request.force_stages])
        commands.append([dvc, "repro", *request.targets])
        return _run_all(commands, request)


@dataclass(frozen=True)
class CommandRepro:
    """Any command in place of ``dvc repro`` (forced stages are not applicable and ignored)."""

    argv: tuple[str, ...]

    def __call__(self, request: ReproRequest) -> ReproResult:
        if not self.argv:
            raise ValueError("repro command is empty")
        if request.force_stages or request.targets:
            log.warning(
                "targets %s and force_stages %s are ignored by a custom repro command",
                request.targets,
                request.force_stages,
            )
        return _run_all([list(self.argv)], request)


def failing_repro(message: str) -> Repro:
    """A repro that runs nothing and fails with ``message`` (e.g. invalid params)."""

    def repro(request: ReproRequest) -> ReproResult:
        return ReproResult(returncode=1, error=message)

    return repro
