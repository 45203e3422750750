"""The pipeline child process: output relay, timeout, cancellation and signal escalation.

Real subprocesses (small Python scripts standing in for ``dvc repro``). Tolerances: wall-clock
bounds are generous (several times the configured grace) because the machine is shared.
"""

from __future__ import annotations

import os
import sys
import textwrap
import threading
import time
from pathlib import Path

from alphalab.runner.repro import CommandRepro, ReproRequest

PY = sys.executable


def script(folder: Path, body: str) -> list[str]:
    path = folder / "stage.py"
    path.write_text(textwrap.dedent(body))
    return [PY, str(path)]


def alive(pid: int) -> bool:
    """True while ``pid`` can still run: zombies (waiting to be reaped by init) do not count."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def wait_for(path: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not (path.is_file() and path.read_text().strip()):
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def request(root: Path, **kw: object) -> ReproRequest:
    return ReproRequest(root=root, run_id="r-test", env=dict(os.environ), **kw)  # type: ignore[arg-type]


def test_dvc_output_is_parsed_into_stages_and_failure(tmp_path: Path) -> None:
    argv = script(
        tmp_path,
        """
        print("Running stage 'ingest':", flush=True)
        print("> alphalab stage run ingest", flush=True)
        print("Stage 'validate' didn't change, skipping", flush=True)
        print("Stage 'panel' is cached - skipping run, checking out outputs", flush=True)
        print("Running stage 'backtest':", flush=True)
        print("ERROR: failed to reproduce 'backtest': failed to run: alphalab stage run backtest, exited with 1", flush=True)
        raise SystemExit(1)
        """,
    )
    result = CommandRepro(tuple(argv))(request(tmp_path))
    assert result.returncode == 1 and not result.ok
    assert result.stages_run == ["ingest", "backtest"]
    assert result.stages_skipped == ["validate"] and result.stages_cached == ["panel"]
    assert result.failed_stage == "backtest"
    assert result.error is not None and result.error.startswith(
        f"{argv[0]} {argv[1]} exited 1: ERROR: failed"
    )
    assert result.output_tail[-1].startswith("ERROR")


def test_cancel_sends_sigint_so_the_stage_cleans_up(tmp_path: Path) -> None:
    partial = tmp_path / "out.partial"
    argv = script(
        tmp_path,
        f"""
        import time, pathlib
        p = pathlib.Path({str(partial)!r})
        try:
            with p.open("w") as fh:
                fh.write("half"); fh.flush()
                time.sleep(60)
        except KeyboardInterrupt:
            p.unlink()
            raise SystemExit(130)
        """,
    )
    req = request(tmp_path, grace_s=10.0)
    threading.Thread(target=lambda: (wait_for(partial), req.cancel.set()), daemon=True).start()
    t0 = time.monotonic()
    result = CommandRepro(tuple(argv))(req)
    assert time.monotonic() - t0 < 15
    assert result.aborted and not result.ok and result.returncode == 130
    assert result.error == "pipeline cancelled; sent SIGINT"
    assert not partial.exists()


def test_timeout_escalates_to_sigkill_and_kills_grandchildren(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    argv = script(
        tmp_path,
        f"""
        import signal, subprocess, time, pathlib, sys
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        child = subprocess.Popen([sys.executable, "-c", "import signal,time; signal.signal(signal.SIGINT, signal.SIG_IGN); signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)"])
        pathlib.Path({str(pidfile)!r}).write_text(str(child.pid))
        time.sleep(120)
        """,
    )
    req = request(tmp_path, timeout_s=1.0, grace_s=0.3)
    t0 = time.monotonic()
    result = CommandRepro(tuple(argv))(req)
    assert time.monotonic() - t0 < 15
    assert result.timed_out and not result.aborted and not result.ok
    assert result.error == "pipeline timed out after 1 s; sent SIGINT, SIGTERM, SIGKILL"
    assert not alive(int(pidfile.read_text()))


def test_command_not_found_raises_and_a_cancelled_request_never_starts(tmp_path: Path) -> None:
    from alphalab.config import Paths, load_params
    from alphalab.runner import ExitCode, run_once

    from .conftest import write_params

    write_params(tmp_path / "p")
    paths = Paths(tmp_path / "p")
    params = load_params(paths.params)
    missing = run_once(params, paths, repro=CommandRepro(("/nonexistent/dvc",)))
    assert missing.exit_code == ExitCode.FAILED and missing.record is not None
    assert "FileNotFoundError" in missing.record["error"]
    cancel = threading.Event()
    cancel.set()
    report = run_once(
        params, paths, repro=CommandRepro((PY, "-c", "raise SystemExit(0)")), cancel=cancel
    )
    assert report.exit_code == ExitCode.ABORTED and report.record is not None
    assert report.record["commands"] == [] and report.record["alerts"] == []
