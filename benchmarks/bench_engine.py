"""Benchmark the portfolio-sort engine against alphalens-reloaded and plain pandas.

Workload (identical for all three): a quantile sort with ``n_groups=5``, rebalanced daily,
equal weights, and the mean *1-session forward return* of each quantile on each date, from a
dates × tickers score and price matrix (N names × T sessions, random-walk prices without
gaps, distinct normal scores). Each tool starts from the same wide pandas frames; the
conversions a tool needs (alphalens' stacked factor) are inside its timing.

- ours: ``alphalab.backtest.quantile_forward_returns(score, prices, n_groups=5, horizons=(1,))``
- alphalens: ``utils.get_clean_factor_and_forward_returns(factor, prices, quantiles=5,
  periods=(1,), filter_zscore=None, max_loss=1)`` + ``performance.mean_return_by_quantile(
  by_date=True, demeaned=False)``
- pandas: ``pct_change().shift(-1)``, stack, ``groupby(date).transform(qcut)``,
  ``groupby([date, quantile]).mean()``

All three must agree on the per-quantile means (max |difference| reported, must be < 1e-10).
A second workload times a full ``sort_portfolios`` call (monthly rebalance, holding 3, lag 1,
5 + 1 bps costs) on the same data (ours only: the peers have no equivalent).

Measurement: every (tool, size) runs in a fresh worker process. Wall time is
``time.perf_counter`` around the call (ours: best of ``--repeat`` after one warm-up call on a
small slice, which loads the cached numba kernels; the warm-up time is reported; peers: one
run). Peak memory is the worker's peak resident set size during the call (Linux ``VmHWM``
reset through ``/proc/self/clear_refs`` just before it), which includes the interpreter and
the inputs already in memory; ``rss_before`` is the resident size just before the call.
A peer is skipped at a size when its time extrapolated linearly in N × T from the previous
size exceeds ``--peer-limit`` seconds (default 300) or its memory would exceed
``--mem-limit`` GB (default 12); a running peer is also killed at the time limit.
"The floor" is one pass over both input matrices (``numpy.sum``), a lower bound for any tool.

Usage::

    python benchmarks/bench_engine.py [--sizes 500x2520,2000x2520,5000x5040]
                                      [--peers alphalens,pandas] [--repeat 3]

Writes ``benchmarks/results/latest.json`` and prints a table. Not run by pytest.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "latest.json"
DEFAULT_SIZES = "500x2520,2000x2520,5000x5040"
N_GROUPS = 5
SEED = 20240601
TARGETS = {
    "speedup_vs_alphalens_at_2000x2520": 25.0,
    "speedup_vs_pandas_at_2000x2520": 8.0,
    "ours_seconds_at_5000x5040": 5.0,
    "ours_peak_gb_at_5000x5040": 3.0,
}


# --------------------------------------------------------------------------------------------
# data and workloads (run inside the worker)
# --------------------------------------------------------------------------------------------


def make_data(n_names: int, n_dates: int, seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Random-walk prices without gaps and distinct normal scores, as wide frames."""
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2000-01-03", periods=n_dates)
    cols = [f"T{i:05d}" for i in range(n_names)]
    log_p = np.cumsum(rng.normal(0.0002, 0.02, (n_dates, n_names)), axis=0)
    prices = pd.DataFrame(50.0 * np.exp(log_p), index=idx, columns=cols)
    score = pd.DataFrame(rng.standard_normal((n_dates, n_names)), index=idx, columns=cols)
    return score, prices


def run_ours(score: pd.DataFrame, prices: pd.DataFrame) -> np.ndarray:
    from alphalab.backtest import quantile_forward_returns

    out = quantile_forward_returns(score, prices, n_groups=N_GROUPS, horizons=(1,), lag=0)
    return out.xs(1, level="horizon")[[f"g{k}" for k in range(1, N_GROUPS + 1)]].to_numpy()


def run_pandas(score: pd.DataFrame, prices: pd.DataFrame) -> np.ndarray:
    fwd = prices.pct_change(fill_method=None).shift(-1)
    long = pd.DataFrame({"f": score.stack(), "r": fwd.stack()}).dropna()
    dates = long.index.get_level_values(0)
    long["q"] = long.groupby(dates)["f"].transform(lambda x: pd.qcut(x, N_GROUPS, labels=False) + 1)
    means = long.groupby([dates, "q"])["r"].mean().unstack()
    return means.reindex(index=prices.index, columns=range(1, N_GROUPS + 1)).to_numpy()


def run_alphalens(score: pd.DataFrame, prices: pd.DataFrame) -> np.ndarray:
    from alphalens import performance, utils

    factor = score.stack()
    factor.index = factor.index.set_names(["date", "asset"])
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        clean = utils.get_clean_factor_and_forward_returns(
            factor, prices, quantiles=N_GROUPS, periods=(1,), filter_zscore=None, max_loss=1.0
        )
        means, _ = performance.mean_return_by_quantile(clean, by_date=True, demeaned=False)
    wide = means.iloc[:, 0].unstack("factor_quantile")
    return wide.reindex(index=prices.index, columns=range(1, N_GROUPS + 1)).to_numpy()


def run_sort(score: pd.DataFrame, prices: pd.DataFrame) -> np.ndarray:
    from alphalab.backtest import CostModel, sort_portfolios

    returns = prices.pct_change(fill_method=None)
    res = sort_portfolios(
        score, returns, n_groups=N_GROUPS, rebalance="monthly", holding=3, lag=1,
        costs=CostModel(half_spread_bps=5, commission_bps=1),
    )  # fmt: skip
    return res.net.to_numpy()


WORKLOADS = {
    "ours": run_ours,
    "pandas": run_pandas,
    "alphalens": run_alphalens,
    "sort_portfolios": run_sort,
}


def _status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def worker(tool: str, n_names: int, n_dates: int, repeat: int, out_path: str) -> dict[str, Any]:
    """Time one tool on one size in this process; save its quantile means to ``out_path``."""
    score, prices = make_data(n_names, n_dates)
    fn = WORKLOADS[tool]
    info: dict[str, Any] = {"tool": tool, "n_names": n_names, "n_dates": n_dates}
    if tool in ("ours", "sort_portfolios"):
        t0 = time.perf_counter()
        fn(score.iloc[:64, :64], prices.iloc[:64, :64])
        info["warmup_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    floor = float(np.sum(score.to_numpy())) + float(np.sum(prices.to_numpy()))
    info["floor_s"] = time.perf_counter() - t0
    del floor
    times = []
    runs = repeat if tool in ("ours", "sort_portfolios") else 1
    result = None
    for _ in range(runs):
        result = None
        info["rss_before_mb"] = _status_kb("VmRSS") / 1024
        info["peak_method"] = "VmHWM after clear_refs" if _reset_peak() else "VmHWM (not reset)"
        t0 = time.perf_counter()
        result = fn(score, prices)
        times.append(time.perf_counter() - t0)
        info["peak_rss_mb"] = _status_kb("VmHWM") / 1024
    info["seconds"] = min(times)
    info["all_seconds"] = times
    np.save(out_path, np.asarray(result))
    return info


# --------------------------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------------------------


def _spawn(
    tool: str, size: tuple[int, int], repeat: int, limit: float
) -> tuple[dict, np.ndarray | None]:
    n_names, n_dates = size
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "means.npy")
        cmd = [sys.executable, __file__, "--worker", tool, "--size", f"{n_names}x{n_dates}",
               "--repeat", str(repeat), "--out", out]  # fmt: skip
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=limit, check=False)
        except subprocess.TimeoutExpired:
            return {"tool": tool, "skipped": f"killed after {limit:.0f} s (time limit)"}, None
        if proc.returncode != 0:
            return {"tool": tool, "error": proc.stderr.strip().splitlines()[-1:]}, None
        info = json.loads(proc.stdout.strip().splitlines()[-1])
        return info, np.load(out)


def _max_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    if (np.isfinite(a) != np.isfinite(b)).any():
        return float("inf")
    return float(np.max(np.abs(a[ok] - b[ok]))) if ok.any() else float("nan")


def _should_skip(
    tool: str, size: tuple[int, int], history: dict, args: argparse.Namespace
) -> str | None:
    prev = history.get(tool)
    if prev is None:
        return None
    scale = size[0] * size[1] / (prev["n_names"] * prev["n_dates"])
    est_s = prev["seconds"] * scale
    est_gb = prev["peak_rss_mb"] * scale / 1024
    if est_s > args.peer_limit:
        return f"skipped: extrapolated {est_s:.0f} s > {args.peer_limit:.0f} s limit"
    if est_gb > args.mem_limit:
        return f"skipped: extrapolated peak {est_gb:.1f} GB > {args.mem_limit:.0f} GB limit"
    return None


def run_size(size: tuple[int, int], args: argparse.Namespace, history: dict) -> dict[str, Any]:
    label = f"{size[0]}x{size[1]}"
    row: dict[str, Any] = {"size": label, "n_names": size[0], "n_dates": size[1]}
    ours, ours_means = _spawn("ours", size, args.repeat, 3600)
    row["ours"] = ours
    means = {"ours": ours_means}
    for peer in args.peers:
        reason = _should_skip(peer, size, history, args)
        if reason:
            row[peer] = {"tool": peer, "skipped": reason}
            continue
        info, m = _spawn(peer, size, 1, args.peer_limit)
        row[peer] = info
        if m is not None:
            means[peer] = m
            history[peer] = info
            row[peer]["speedup_ours"] = info["seconds"] / ours["seconds"]
            row[peer]["max_abs_diff_vs_ours"] = _max_abs_diff(m, ours_means)
    row["sort_portfolios"] = _spawn("sort_portfolios", size, args.repeat, 3600)[0]
    row["agree"] = all(
        row[p].get("max_abs_diff_vs_ours", 0.0) < 1e-10 for p in args.peers if p in means
    )
    return row


def _targets(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    by = {r["size"]: r for r in rows}
    mid, big = by.get("2000x2520"), by.get("5000x5040")
    if mid:
        for peer, key in (("alphalens", "speedup_vs_alphalens_at_2000x2520"),
                          ("pandas", "speedup_vs_pandas_at_2000x2520")):  # fmt: skip
            value = mid.get(peer, {}).get("speedup_ours")
            out[key] = {"target": TARGETS[key], "measured": value,
                        "met": value is not None and value >= TARGETS[key]}  # fmt: skip
    if big:
        s, gb = big["ours"].get("seconds"), big["ours"].get("peak_rss_mb", 0) / 1024
        out["ours_seconds_at_5000x5040"] = {"target": TARGETS["ours_seconds_at_5000x5040"],
                                            "measured": s, "met": s is not None and s < 5.0}  # fmt: skip
        out["ours_peak_gb_at_5000x5040"] = {"target": TARGETS["ours_peak_gb_at_5000x5040"],
                                            "measured": gb, "met": gb < 3.0}  # fmt: skip
    return out


def _machine() -> dict[str, Any]:
    import numba

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "numba": numba.__version__,
    }


def _fmt(x: Any, spec: str) -> str:
    width = int("".join(c for c in spec.split(".")[0] if c.isdigit()) or 0)
    return format(x, spec) if isinstance(x, int | float) else "-".rjust(width)


def print_table(rows: list[dict[str, Any]], targets: dict[str, Any]) -> None:
    head = (
        f"{'size (N x T)':>14} {'tool':>16} {'seconds':>9} {'peak MB':>9} {'RSS before':>10} "
        f"{'x ours':>7} {'max|diff|':>10}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        for tool in ("ours", "alphalens", "pandas", "sort_portfolios"):
            info = r.get(tool)
            if info is None:
                continue
            if "seconds" not in info:
                print(f"{r['size']:>14} {tool:>16}   {info.get('skipped') or info.get('error')}")
                continue
            print(
                f"{r['size']:>14} {tool:>16} {_fmt(info['seconds'], '9.3f')} "
                f"{_fmt(info.get('peak_rss_mb'), '9.0f')} {_fmt(info.get('rss_before_mb'), '10.0f')} "
                f"{_fmt(info.get('speedup_ours'), '7.1f')} "
                f"{_fmt(info.get('max_abs_diff_vs_ours'), '10.1e')}"
            )
        print(
            f"{'':>14} {'floor':>16} {_fmt(r['ours'].get('floor_s'), '9.3f')}   (one pass over inputs)"
        )
    print()
    for key, t in targets.items():
        print(f"target {key}: {t['target']} -> measured {_fmt(t['measured'], '.2f')} "
              f"{'MET' if t['met'] else 'NOT MET'}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default=DEFAULT_SIZES, help="comma-separated NxT (names x sessions)")
    p.add_argument(
        "--peers", default="alphalens,pandas", help="comma-separated: alphalens,pandas or ''"
    )
    p.add_argument("--repeat", type=int, default=3, help="timed runs of our calls (best kept)")
    p.add_argument(
        "--peer-limit", type=float, default=300.0, help="seconds before a peer is skipped"
    )
    p.add_argument(
        "--mem-limit", type=float, default=12.0, help="GB of peak RSS before a peer is skipped"
    )
    p.add_argument("--out", default=str(RESULTS))
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--size", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        n, t = (int(v) for v in args.size.split("x"))
        print(json.dumps(worker(args.worker, n, t, args.repeat, args.out)))
        return 0
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",") if s]
    args.peers = [x for x in args.peers.split(",") if x]
    unknown = set(args.peers) - {"alphalens", "pandas"}
    if unknown:
        p.error(f"unknown peers {sorted(unknown)}")
    history: dict[str, Any] = {}
    started = time.time()
    load_at_start = os.getloadavg()
    rows = [run_size(size, args, history) for size in sizes]
    targets = _targets(rows)
    report = {
        "workload": "quantile sort, n_groups=5, daily rebalance, equal weight, mean 1-session "
        "forward return per quantile per date; plus sort_portfolios monthly/holding 3/lag 1/6 bps",
        "timing": "wall seconds, best of --repeat for ours after a warm-up call, one run for peers",
        "memory": "peak RSS of a fresh worker process during the call (VmHWM after clear_refs), "
        "includes interpreter and inputs",
        "machine": _machine(),
        "created": pd.Timestamp.now(tz="UTC").isoformat(),
        "elapsed_s": time.time() - started,
        "load_average_at_start": load_at_start,
        "load_average_at_end": os.getloadavg(),
        "sizes": rows,
        "targets": targets,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2, default=float) + "\n", encoding="utf-8")
    tmp.replace(out)
    print_table(rows, targets)
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
