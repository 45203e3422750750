"""Test helpers: a seeded synthetic market and a plain-Python reference engine.

The reference engine re-implements the rules stated in :mod:`alphalab.backtest.engine` with
dictionaries and loops, one session at a time, sharing no code with the numba kernels (the
group rule is written as "1 + number of breakpoint positions below the name's lowest sorted
position", the kernel's as "1 + number of edge values the score exceeds").
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class Market:
    score: pd.DataFrame
    returns: pd.DataFrame
    prices: pd.DataFrame
    market_cap: pd.DataFrame


def synthetic_market(
    *,
    n_names: int,
    n_dates: int,
    seed: int,
    loading: float = 0.0,
    persistence: float = 0.95,
    nan_score: float = 0.0,
    late_start: float = 0.0,
    early_end: float = 0.0,
    gaps: float = 0.0,
    start: str = "2015-01-01",
) -> Market:
    """A market whose return on row ``t`` loads ``loading`` on the score of row ``t - 2``.

    That is exactly what a ``lag=1`` portfolio formed on row ``t - 2`` earns on row ``t``.
    ``late_start`` / ``early_end`` are the shares of names listed late / delisted early,
    ``gaps`` the share of isolated missing returns.
    """
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range(start, periods=n_dates)
    cols = [f"S{i:03d}" for i in range(n_names)]
    s = np.empty((n_dates, n_names))
    s[0] = rng.standard_normal(n_names)
    shock = np.sqrt(1 - persistence**2)
    for t in range(1, n_dates):
        s[t] = persistence * s[t - 1] + shock * rng.standard_normal(n_names)
    planted = np.zeros_like(s)
    planted[2:] = loading * s[:-2]
    market = 0.01 * rng.standard_normal((n_dates, 1))
    r = planted + market + 0.02 * rng.standard_normal((n_dates, n_names))
    r = np.clip(r, -0.5, 0.5)
    for i in range(n_names):
        if rng.random() < late_start:
            r[: rng.integers(1, n_dates // 2), i] = np.nan
        if rng.random() < early_end:
            r[rng.integers(n_dates // 2, n_dates) :, i] = np.nan
    r[rng.random(r.shape) < gaps] = np.nan
    score = s.copy()
    score[rng.random(s.shape) < nan_score] = np.nan
    prices = 50.0 * np.cumprod(1.0 + np.nan_to_num(r), axis=0)
    prices[np.isnan(r)] = np.nan
    mcap = prices * rng.uniform(1e6, 1e8, size=n_names)
    frame = lambda a: pd.DataFrame(a, index=idx, columns=cols)  # noqa: E731
    return Market(frame(score), frame(r), frame(prices), frame(mcap))


# --------------------------------------------------------------------------------------------
# reference engine
# --------------------------------------------------------------------------------------------


def reference_groups(values: np.ndarray, n_groups: int) -> np.ndarray:
    """1 + number of breakpoint positions floor((n-1)k/q) below each value's lowest position."""
    n = values.size
    ordered = np.sort(values)
    low_pos = np.searchsorted(ordered, values, side="left")
    breaks = [((n - 1) * k) // n_groups for k in range(1, n_groups)]
    return np.array([1 + sum(a > b for b in breaks) for a in low_pos])


@dataclass
class ReferenceResult:
    gross: np.ndarray
    turnover: np.ndarray
    counts: np.ndarray
    weights: list[np.ndarray]
    n_delisted: int
    formed: list[int]
    skipped: list[int]


def reference_sort(
    score: np.ndarray,
    returns: np.ndarray,
    rows: np.ndarray,
    *,
    n_groups: int,
    holding: int,
    lag: int,
    mcap: np.ndarray | None,
    direction: int,
    min_names: int,
    delisting_return: float | None,
) -> ReferenceResult:
    """Loop implementation of the engine rules (module docstring of alphalab.backtest.engine)."""
    n_dates, n_names = returns.shape
    q = n_groups
    cohorts: dict[int, dict[int, tuple[int, float]]] = {}
    skipped = []
    for f in np.flatnonzero(rows):
        names = [
            i
            for i in range(n_names)
            if np.isfinite(score[f, i])
            and np.isfinite(returns[f, i])
            and (mcap is None or (np.isfinite(mcap[f, i]) and mcap[f, i] > 0))
        ]
        if not names:
            skipped.append(f)
            continue
        groups = reference_groups(score[f, names], q)
        if any((groups == g).sum() < min_names for g in range(1, q + 1)):
            skipped.append(f)
            continue
        cohorts[f] = {
            i: (int(g), 1.0 if mcap is None else float(mcap[f, i]))
            for i, g in zip(names, groups, strict=True)
        }
    trade_at = {f + lag: f for f in cohorts if f + lag < n_dates}
    book: list[dict[int, float]] = [{} for _ in range(q)]
    live: deque[int] = deque(maxlen=holding)
    gross = np.full((n_dates, q + 1), np.nan)
    turnover = np.full((n_dates, q + 1), np.nan)
    counts = np.zeros((n_dates, q), dtype=int)
    weights = [np.zeros((n_dates, n_names)) for _ in range(q + 1)]
    dl = 0.0 if delisting_return is None else delisting_return
    started = False
    n_delisted = 0
    for s in range(n_dates):
        if started:
            hit = set()
            for g in range(q):
                ret = 0.0
                grown = {}
                for i, w in book[g].items():
                    if np.isnan(returns[s, i]):
                        ret += w * dl
                        hit.add(i)
                    else:
                        ret += w * returns[s, i]
                        grown[i] = w * (1 + returns[s, i])
                gross[s, g] = ret
                book[g] = (
                    {i: v / (1 + ret) for i, v in grown.items() if v != 0} if 1 + ret > 0 else {}
                )
            n_delisted += len(hit)
            gross[s, q] = direction * (gross[s, q - 1] - gross[s, 0])
            turnover[s] = 0.0
        if s in trade_at:
            if not started:
                started = True
                gross[s] = 0.0
                turnover[s] = 0.0
            live.append(trade_at[s])
            target: list[dict[int, float]] = [{} for _ in range(q)]
            for g in range(1, q + 1):
                parts = []
                for f in live:
                    members = {
                        i: raw
                        for i, (gg, raw) in cohorts[f].items()
                        if gg == g and not np.isnan(returns[s, i])
                    }
                    if members:
                        total = sum(members.values())
                        parts.append({i: raw / total for i, raw in members.items()})
                for part in parts:
                    for i, w in part.items():
                        target[g - 1][i] = target[g - 1].get(i, 0.0) + w / len(parts)
            for g in range(q):
                keys = set(book[g]) | set(target[g])
                turnover[s, g] = sum(abs(target[g].get(i, 0) - book[g].get(i, 0)) for i in keys)
            net_old = _net(book[q - 1], book[0])
            net_new = _net(target[q - 1], target[0])
            keys = set(net_old) | set(net_new)
            turnover[s, q] = sum(abs(net_new.get(i, 0) - net_old.get(i, 0)) for i in keys)
            book = target
        if started:
            for g in range(q):
                counts[s, g] = sum(1 for w in book[g].values() if w != 0)
                for i, w in book[g].items():
                    weights[g][s, i] = w
            for i, w in _net(book[q - 1], book[0]).items():
                weights[q][s, i] = direction * w
    return ReferenceResult(
        gross, turnover, counts, weights, n_delisted, sorted(cohorts), sorted(skipped)
    )


def _net(top: dict[int, float], bottom: dict[int, float]) -> dict[int, float]:
    out = dict(top)
    for i, w in bottom.items():
        out[i] = out.get(i, 0.0) - w
    return out
