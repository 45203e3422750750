"""A real Dask deployment: ``dask scheduler`` + two ``dask worker`` processes on loopback.

The grid and a bootstrap run through ``scheduler="tcp://127.0.0.1:PORT"`` must give exactly
the numbers of the in-process (synchronous) run. Tolerance: exact equality (bit for bit).
The processes are the venv's ``dask`` CLI, on free ports, with bounded waits, and are always
torn down (process group SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alphalab.config import BacktestParams, RobustnessParams
from alphalab.robustness import bootstrap_interval, run_grid
from tests.robustness._market import planted_panel, signal_params

DASK = Path(sys.executable).parent / "dask"
BT = BacktestParams()
R = RobustnessParams(
    scheduler="synchronous",
    progress=False,
    n_groups=[3, 5],
    lag=[1, 2],
    holding=[1],
    universes=["all", "ex_volatile:0.2"],
    dimension_sets=["all", "each"],
    cost_multipliers=[0.0, 1.0],
    n_subperiods=2,
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "ALPHALAB_ROOT"}
    env["OMP_NUM_THREADS"] = "1"
    with open(log, "wb") as fh:
        return subprocess.Popen(
            [str(DASK), *args],
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=15)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[str]:
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [
        _start(
            ["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            tmp_path / "scheduler.log",
        )
    ]
    try:
        for k in range(2):
            procs.append(
                _start(
                    [
                        "worker",
                        address,
                        "--nthreads",
                        "1",
                        "--host",
                        "127.0.0.1",
                        "--no-dashboard",
                        "--no-nanny",
                        "--death-timeout",
                        "60",
                    ],
                    tmp_path / f"worker{k}.log",
                )
            )
        deadline = time.monotonic() + 90
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=max(1.0, deadline - time.monotonic()))
            workers = client.scheduler_info(n_workers=-1)["workers"]
            assert len(workers) == 2 and all(w.startswith("tcp://127.0.0.1:") for w in workers)
        yield address
    finally:
        for proc in reversed(procs):
            _stop(proc)
        assert all(p.poll() is not None for p in procs)


@pytest.mark.slow
def test_real_scheduler_and_workers_give_the_local_numbers(cluster: str) -> None:
    panel = planted_panel(4, n_stocks=30, n_sessions=504)
    local = run_grid(panel, robustness=R, backtest=BT, signal=signal_params())
    remote = run_grid(
        panel, robustness=R, backtest=BT, signal=signal_params(), scheduler=cluster, n_workers=2
    )
    pd.testing.assert_frame_equal(remote.table, local.table, check_exact=True)
    pd.testing.assert_frame_equal(remote.returns, local.returns, check_exact=True)
    pd.testing.assert_frame_equal(remote.specs, local.specs, check_exact=True)
    x = local.returns["v0001"].dropna()
    a = bootstrap_interval(x, statistic="sharpe", seed=5, periods_per_year=252, reps=700)
    b = bootstrap_interval(
        x, statistic="sharpe", seed=5, periods_per_year=252, reps=700, scheduler=cluster
    )
    np.testing.assert_array_equal(a.distribution, b.distribution)
    assert (a.lower, a.upper) == (b.lower, b.upper)
