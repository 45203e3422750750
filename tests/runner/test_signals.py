"""SIGTERM during a run and the one-instance lock, with the real CLI in subprocesses.

``python -m alphalab.runner`` runs with ``--repro-cmd`` pointing at a slow stand-in stage that
writes its output the way stages do (a temp file renamed into place at the end, cleaned up on
SIGINT). Tolerances: wall-clock bounds only, generous for a shared machine.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from alphalab.config import Paths
from alphalab.runner.lock import lock_status
from alphalab.runner.records import list_records, load_state, runs_dir

from .conftest import write_outputs, write_params
from .test_repro import alive

PY = sys.executable
SLOW_STAGE = """
import os, pathlib, sys, time
root = pathlib.Path.cwd()
out = root / "reports" / "metrics"
tmp = out / ".backtest.json.partial"
try:
    with tmp.open("w") as fh:
        (root / "stage.pid").write_text(str(os.getpid()))
        for _ in range(600):
            fh.write('{"long_short": {"t_nw": '); fh.flush()
            time.sleep(0.05)
    os.replace(tmp, out / "backtest.json")
    (root / "finished").write_text("the stage ran to the end")
except KeyboardInterrupt:
    tmp.unlink(missing_ok=True)
    sys.exit(130)
"""


def runner(root: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "ALPHALAB_ROOT"}
    cmd = [PY, "-m", "alphalab.runner", *args, "--root", str(root)]
    cmd += ["--repro-cmd", f"{PY} {root / 'slow_stage.py'}"]
    return subprocess.Popen(
        cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    write_params(root, runner={"grace_seconds": 5})
    write_outputs(root, t_nw=2.5)  # the previous run's outputs
    (root / "slow_stage.py").write_text(textwrap.dedent(SLOW_STAGE))
    return root


def wait_running(root: Path, proc: subprocess.Popen[str], timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    pidfile = root / "stage.pid"
    partial = root / "reports" / "metrics" / ".backtest.json.partial"
    while not (pidfile.is_file() and partial.is_file() and partial.stat().st_size > 0):
        if proc.poll() is not None:
            raise AssertionError(f"runner exited early {proc.returncode}: {proc.communicate()}")
        assert time.monotonic() < deadline, "stage never started"
        time.sleep(0.05)
    return int(pidfile.read_text())


def assert_nothing_half_written(root: Path, stage_pid: int, before: str) -> None:
    time.sleep(0.5)  # had the stage survived, it would write now
    assert not alive(stage_pid)
    assert not (root / "finished").exists()
    assert not (root / "reports" / "metrics" / ".backtest.json.partial").exists()
    assert (root / "reports" / "metrics" / "backtest.json").read_text() == before
    leftovers = [p.name for p in runs_dir(Paths(root)).iterdir() if p.name.startswith(".")]
    assert leftovers == []  # no temp file of an interrupted atomic write
    for rec in list_records(Paths(root)):
        json.loads(rec.read_text())  # every record is complete JSON
    assert not lock_status(runs_dir(Paths(root)) / "run.lock")["held"]


def test_sigterm_during_run_once_stops_the_stage_and_writes_a_complete_record(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    before = (root / "reports" / "metrics" / "backtest.json").read_text()
    first = runner(root, "run-once")
    stage_pid = wait_running(root, first)

    second = runner(root, "run-once")  # the lock keeps a second instance out
    _, err = second.communicate(timeout=60)
    assert second.returncode == 75, err
    assert "held by another process" in err and f"pid {first.pid}" in err

    t0 = time.monotonic()
    first.send_signal(signal.SIGTERM)
    _, err = first.communicate(timeout=60)
    assert first.returncode == 143, err
    assert time.monotonic() - t0 < 10
    assert "SIGTERM received" in err

    assert_nothing_half_written(root, stage_pid, before)
    records = [json.loads(p.read_text()) for p in list_records(Paths(root))]
    assert len(records) == 1  # the refused instance wrote nothing
    rec = records[0]
    assert rec["status"] == "aborted" and rec["exit_code"] == 143 and rec["aborted"]
    assert rec["error"] == "pipeline cancelled; sent SIGINT" and rec["alerts"] == []
    assert load_state(Paths(root)).get("last_success") is None


def test_sigterm_stops_the_scheduler_cleanly_and_one_scheduler_at_a_time(tmp_path: Path) -> None:
    root = project(tmp_path)
    before = (root / "reports" / "metrics" / "backtest.json").read_text()
    sched = runner(root, "start", "--run-now")
    stage_pid = wait_running(root, sched)
    other = runner(root, "start")
    _, err = other.communicate(timeout=60)
    assert other.returncode == 75 and "scheduler not started" in err
    sched.send_signal(signal.SIGTERM)
    _, err = sched.communicate(timeout=60)
    assert sched.returncode == 0, err
    assert "scheduler stopped after 1 run(s)" in err
    assert_nothing_half_written(root, stage_pid, before)
    (rec,) = [json.loads(p.read_text()) for p in list_records(Paths(root))]
    assert rec["status"] == "aborted" and rec["trigger"] == "start"
    assert not lock_status(runs_dir(Paths(root)) / "scheduler.lock")["held"]
