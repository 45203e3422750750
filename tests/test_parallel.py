"""Tests of alphalab.parallel.map_tasks: order, shared inputs, errors, schedulers.

Tolerance: exact equality — results must be bit-identical whatever the scheduler.
The real ``dask scheduler`` + ``dask worker`` CLI test is in tests/robustness/test_dask_cli.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alphalab.parallel import ParallelError, _batches, dask_client, map_tasks, parse_scheduler


def _draw(task: int, shared: dict[str, float]) -> float:
    """A pure task: a seeded draw scaled by a shared input."""
    rng = np.random.default_rng(np.random.SeedSequence(7, spawn_key=(task,)))
    return float(rng.standard_normal() * shared["scale"])


def _fail_on_three(task: int) -> int:
    if task == 3:
        raise ValueError("task 3 is bad")
    return task


def test_synchronous_keeps_order_and_passes_shared() -> None:
    out = map_tasks(
        _draw, range(10), scheduler="synchronous", progress=False, shared={"scale": 2.0}
    )
    expected = [
        2.0 * np.random.default_rng(np.random.SeedSequence(7, spawn_key=(k,))).standard_normal()
        for k in range(10)
    ]
    assert out == expected


def test_empty_tasks() -> None:
    assert map_tasks(abs, [], scheduler="local", progress=False) == []


@pytest.mark.parametrize(
    "bad", ["", "locl", "tcp://", "http://127.0.0.1:8786", "tcp://host", 8786, None]
)
def test_bad_scheduler_is_named(bad: object) -> None:
    with pytest.raises(ParallelError, match="scheduler"):
        map_tasks(abs, [1], scheduler=bad, progress=False)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_bad_workers(bad: object) -> None:
    with pytest.raises(ParallelError, match="n_workers"):
        map_tasks(abs, [1], scheduler="synchronous", n_workers=bad, progress=False)  # type: ignore[arg-type]


def test_parse_scheduler() -> None:
    assert parse_scheduler("synchronous") == "synchronous"
    assert parse_scheduler("tcp://10.0.0.5:8786") == "address"
    assert parse_scheduler("tcp://[::1]:8786") == "address"


def test_unreachable_scheduler_is_named() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # free: nothing listens there once closed
    address = f"tcp://127.0.0.1:{port}"
    with pytest.raises(ParallelError, match=f"scheduler '{address}': no Dask scheduler"):
        with dask_client(address, connect_timeout_s=1.0):
            pass


@given(n_tasks=st.integers(0, 500), n_workers=st.integers(1, 16))
def test_batches_cover_every_task_once_in_order(n_tasks: int, n_workers: int) -> None:
    batches = _batches(n_tasks, n_workers)
    flat = [i for b in batches for i in b]
    assert flat == list(range(n_tasks))
    assert len(batches) <= max(1, 4 * n_workers)


@pytest.mark.slow
def test_local_cluster_equals_synchronous_and_reraises() -> None:
    tasks = list(range(37))
    sync = map_tasks(_draw, tasks, scheduler="synchronous", progress=False, shared={"scale": 3.0})
    with dask_client("local", n_workers=2) as client:
        info = client.scheduler_info(n_workers=-1)
        assert len(info["workers"]) == 2
        assert all(w.startswith("tcp://127.0.0.1:") for w in info["workers"])  # loopback only
        dist = map_tasks(_draw, tasks, scheduler=client, progress=False, shared={"scale": 3.0})
        with pytest.raises(ValueError, match="task 3 is bad"):
            map_tasks(_fail_on_three, range(6), scheduler=client, progress=False)
    assert dist == sync
