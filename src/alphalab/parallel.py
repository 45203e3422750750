"""Scale-out of independent evaluations through Dask (DESIGN.md §6).

One entry point, :func:`map_tasks`, runs ``fn(task)`` (or ``fn(task, shared)``) for every task
and returns the results **in task order**, whatever ran where:

- ``scheduler="local"`` (default): a :class:`distributed.LocalCluster` of ``n_workers``
  single-threaded worker *processes* listening on loopback only (``127.0.0.1``), started for
  the call and shut down after it;
- ``scheduler="tcp://host:port"``: an existing Dask scheduler (``dask scheduler`` plus
  ``dask worker`` processes on any machines that can import ``alphalab``);
- ``scheduler="synchronous"``: a plain loop in this process (debugging, tests, tiny jobs);
- an open :class:`distributed.Client` (see :func:`dask_client`) to reuse one cluster across
  several calls.

Identical results whatever the scheduler. Tasks must be pure functions of their inputs:
every random draw derives its generator from ``(seed, draw index)`` carried in the task
(:func:`alphalab.stats.bootstrap.draw_generator`), never from a global or per-worker state,
so how tasks are spread over workers cannot change a number.

Big read-only inputs (the panel's matrices) go in ``shared``: they are shipped to every
worker once (``Client.scatter(..., broadcast=True)``), not once per task.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal, TypeVar

from tqdm import tqdm

__all__ = ["ParallelError", "SchedulerSpec", "dask_client", "map_tasks", "parse_scheduler"]

T = TypeVar("T")
R = TypeVar("R")

SchedulerSpec = Literal["local", "synchronous"] | str
_TCP = re.compile(r"^tcp://[A-Za-z0-9_.\-\[\]:]+:\d{1,5}$")
_CONNECT_TIMEOUT_S = 30
_BAR_INTERVAL_S = 2.0  # few progress lines in executed notebooks


class ParallelError(ValueError):
    """A bad scheduler specification or option for :func:`map_tasks`."""


def parse_scheduler(scheduler: object) -> Literal["local", "synchronous", "address", "client"]:
    """Classify a scheduler spec, raising :class:`ParallelError` for anything else.

    Examples
    --------
    >>> parse_scheduler("local"), parse_scheduler("tcp://127.0.0.1:8786")
    ('local', 'address')
    """
    if isinstance(scheduler, str):
        if scheduler in ("local", "synchronous"):
            return scheduler  # type: ignore[return-value]
        if _TCP.match(scheduler):
            return "address"
        raise ParallelError(
            f"scheduler: {scheduler!r} is not 'local', 'synchronous' or a 'tcp://host:port' "
            "address of a running Dask scheduler"
        )
    from distributed import Client

    if isinstance(scheduler, Client):
        return "client"
    raise ParallelError(
        f"scheduler: expected a string or a distributed.Client, got {type(scheduler).__name__}"
    )


def _check_workers(n_workers: int) -> int:
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ParallelError(f"n_workers: expected an integer >= 1, got {n_workers!r}")
    return n_workers


@contextlib.contextmanager
def dask_client(
    scheduler: SchedulerSpec = "local",
    *,
    n_workers: int = 2,
    connect_timeout_s: float = _CONNECT_TIMEOUT_S,
) -> Iterator[Any]:
    """Open a Dask client for ``scheduler`` (``None`` for ``"synchronous"``) and close it after.

    ``"local"`` starts a loopback-only :class:`distributed.LocalCluster` of ``n_workers``
    single-threaded processes (its HTTP endpoint on a free loopback port); a ``tcp://`` address
    connects to a running scheduler (its workers are not touched on exit). A client given in
    is passed through unchanged and left open. A scheduler that does not answer within
    ``connect_timeout_s`` raises :class:`ParallelError` naming the address.
    """
    kind = parse_scheduler(scheduler)
    if kind == "synchronous":
        yield None
        return
    if kind == "client":
        yield scheduler
        return
    from distributed import Client, LocalCluster

    if kind == "address":
        try:
            client = Client(scheduler, timeout=connect_timeout_s)
        except (OSError, TimeoutError) as exc:
            raise ParallelError(
                f"scheduler {scheduler!r}: no Dask scheduler answered within "
                f"{connect_timeout_s:g} s ({exc}); start one with `dask scheduler` or use "
                "scheduler 'local'"
            ) from exc
        with client:
            yield client
        return
    cluster = LocalCluster(
        n_workers=_check_workers(n_workers),
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    )
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def _batches(n_tasks: int, n_workers: int) -> list[range]:
    """Contiguous task ranges: about four batches per worker to balance load, few round trips."""
    n_batches = max(1, min(n_tasks, 4 * n_workers))
    size = math.ceil(n_tasks / n_batches) if n_tasks else 1
    return [range(i, min(i + size, n_tasks)) for i in range(0, n_tasks, size)]


def _run_batch(fn: Callable[..., R], batch: Sequence[Any], *extra: Any) -> list[R]:
    """Worker-side: apply ``fn`` to each task of a batch, in order."""
    return [fn(task, *extra) for task in batch]


def map_tasks(
    fn: Callable[..., R],
    tasks: Sequence[T],
    *,
    scheduler: SchedulerSpec = "local",
    n_workers: int = 2,
    progress: bool = True,
    desc: str = "",
    shared: Any = None,
) -> list[R]:
    """Run ``fn`` over ``tasks`` (through Dask unless synchronous); results in task order.

    Parameters
    ----------
    fn : callable
        A module-level (importable, picklable) function ``fn(task)`` — or ``fn(task, shared)``
        when ``shared`` is given. It must be pure: same inputs, same output.
    tasks : sequence
        One item per evaluation (e.g. a variant spec, a chunk of bootstrap draws).
    scheduler : {"local", "synchronous"} or "tcp://host:port" or distributed.Client
        Where to run (module docstring).
    n_workers : int, default 2
        Worker processes of a ``"local"`` cluster (ignored otherwise).
    progress : bool, default True
        Show a tqdm progress bar (tasks completed / total) on stderr.
    desc : str
        Label of the progress bar.
    shared : object, optional
        Read-only input common to every task, shipped to each worker once (scattered with
        ``broadcast=True``) and passed as ``fn``'s second argument.

    Returns
    -------
    list
        ``[fn(t) for t in tasks]``, in the order of ``tasks``.

    Raises
    ------
    ParallelError
        For a bad scheduler spec or ``n_workers``; an exception raised by ``fn`` on a worker
        is re-raised here unchanged.

    Notes
    -----
    Tasks are grouped into about ``4 × workers`` contiguous batches so that cheap tasks
    (a few milliseconds each) do not drown in scheduling overhead; the grouping never changes
    a result, only how many round trips are made.

    References
    ----------
    Rocklin, M. (2015), "Dask: parallel computation with blocked algorithms and task
    scheduling", Proceedings of the 14th Python in Science Conference, 130–136.

    Examples
    --------
    >>> map_tasks(abs, [-2, 3, -1], scheduler="synchronous", progress=False)
    [2, 3, 1]
    """
    kind = parse_scheduler(scheduler)
    _check_workers(n_workers)
    items = list(tasks)
    extra = () if shared is None else (shared,)
    if kind == "synchronous" or not items:
        bar = tqdm(items, desc=desc, disable=not progress, mininterval=_BAR_INTERVAL_S)
        return [fn(t, *extra) for t in bar]
    with dask_client(scheduler, n_workers=n_workers) as client:
        return _map_on_client(client, fn, items, extra, progress=progress, desc=desc)


def _map_on_client(
    client: Any,
    fn: Callable[..., R],
    items: list[Any],
    extra: tuple[Any, ...],
    *,
    progress: bool,
    desc: str,
) -> list[R]:
    from distributed import as_completed

    workers = max(1, len(client.scheduler_info(n_workers=-1).get("workers", {})))
    # a one-element list: scatter would split a dict or list into one future per item
    shipped = tuple(client.scatter([x], broadcast=True, hash=False)[0] for x in extra)
    batches = _batches(len(items), workers)
    futures = [
        client.submit(_run_batch, fn, [items[i] for i in b], *shipped, pure=False) for b in batches
    ]
    position = {f.key: k for k, f in enumerate(futures)}
    out: list[list[R] | None] = [None] * len(futures)
    with tqdm(
        total=len(items), desc=desc, disable=not progress, mininterval=_BAR_INTERVAL_S
    ) as bar:
        for future in as_completed(futures):
            k = position[future.key]
            out[k] = future.result()
            bar.update(len(batches[k]))
    for f in shipped:
        f.release()
    return [r for chunk in out for r in chunk]  # type: ignore[union-attr]
