"""Wall time of the default specification grid, in process and on 1 and 2 local Dask workers.

Usage::

    python -m alphalab.robustness.timing [--panel PATH] [--repeat 3] [--workers 1 2]

Without ``--panel`` the default study's panel is built from the embedded sample (skfolio's
20 stocks × 8313 sessions, the default composite signal). For each mode it reports the
*cold* time (cluster start + first run, as one stage run sees it) and the best and median of
``--repeat`` *warm* runs (workers already started and their imports and numba kernels
loaded), then the speed-up of the warm runs from 1 to 2 workers. The machine's load is
printed alongside: on a shared machine the figures move with it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Sequence
from typing import Any

from alphalab.config import Params
from alphalab.panel import Panel, panel_from_prices
from alphalab.parallel import dask_client
from alphalab.robustness.grid import run_grid

__all__ = ["default_panel", "measure_grid"]


def default_panel() -> Panel:
    """The default study's panel from the embedded sample (no network)."""
    from alphalab.data.sample import sample_prices_wide

    wide = sample_prices_wide()
    long = wide.reset_index().melt(id_vars="date", var_name="ticker", value_name="close")
    return panel_from_prices(long.dropna(subset=["close"]))


def _timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def measure_grid(
    panel: Panel,
    params: Params | None = None,
    *,
    repeat: int = 3,
    workers: Sequence[int] = (1, 2),
) -> dict[str, Any]:
    """Time :func:`~alphalab.robustness.grid.run_grid` with the params' grid (default: 240).

    Returns a dict with ``n_variants``, ``n_engine_runs``, per mode ``cold_s`` / ``best_s`` /
    ``median_s``, ``speedup_1_to_2`` (warm medians), ``identical`` (every mode gave the same
    table) and the load average.
    """
    p = params or Params()
    kw: dict[str, Any] = {
        "robustness": p.robustness,
        "backtest": p.backtest,
        "signal": p.signal,
        "progress": False,
    }
    out: dict[str, Any] = {"load_before": os.getloadavg()}
    cold, ref = _timed(lambda: run_grid(panel, scheduler="synchronous", **kw))
    warm = [
        _timed(lambda: run_grid(panel, scheduler="synchronous", **kw))[0] for _ in range(repeat)
    ]
    out["synchronous"] = _summary(cold, warm)
    out["n_variants"], out["n_engine_runs"] = ref.n_variants, ref.n_engine_runs
    identical = True
    for k in workers:
        start = time.perf_counter()
        with dask_client("local", n_workers=k) as client:
            first = run_grid(panel, scheduler=client, **kw)
            cold = time.perf_counter() - start
            runs = [
                _timed(lambda c=client: run_grid(panel, scheduler=c, **kw)) for _ in range(repeat)
            ]
        identical &= first.table.equals(ref.table) and all(
            r.table.equals(ref.table) for _, r in runs
        )
        out[f"local_{k}"] = _summary(cold, [t for t, _ in runs])
    if 1 in workers and 2 in workers:
        out["speedup_1_to_2"] = out["local_1"]["median_s"] / out["local_2"]["median_s"]
    out["identical"] = identical
    out["load_after"] = os.getloadavg()
    return out


def _summary(cold: float, warm: list[float]) -> dict[str, float]:
    return {
        "cold_s": round(cold, 3),
        "best_s": round(min(warm), 3),
        "median_s": round(statistics.median(warm), 3),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--panel", help="a panel.parquet (default: the embedded sample)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    panel = Panel.load(args.panel) if args.panel else default_panel()
    result = measure_grid(panel, repeat=args.repeat, workers=args.workers)
    print(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
