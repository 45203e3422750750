"""Stress tests of the out-of-sample record, each against the base case.

The record is the stitched walk-forward test windows followed by the holdout, each piece
traded with the parameters chosen before it (:attr:`WalkForwardResult.record`). Scenarios:

- **crisis windows**: the record restricted to a named date range (e.g. 2008–09), with the
  equal-weighted universe's return over the same sessions for context;
- **cost shocks**: every cost component multiplied by ``k`` — the net return is recomputed as
  ``gross − k · rate · turnover`` (the engine's own cost rule, :mod:`alphalab.backtest.costs`)
  with the chosen parameters held fixed (the shock hits execution, not the choice);
- **execution delays**: ``lag + d`` sessions, rerun through the engine per fold with the chosen
  parameters held fixed.

Every row carries the base case's statistics and the differences from them.

References
----------
Novy-Marx, R. and Velikov, M. (2016), "A taxonomy of anomalies and their trading costs",
Review of Financial Studies 29(1), 104–147 (cost sensitivity of anomaly returns).
Basel Committee on Banking Supervision (2009), "Principles for sound stress testing
practices and supervision" (historical-scenario stress tests).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from alphalab.stats.performance import ann_return, max_drawdown, sharpe
from alphalab.walkforward.optimize import WalkForwardResult

STAT_COLUMNS = ("n_obs", "total_return", "ann_return", "sharpe", "max_drawdown")


def window_stats(returns: pd.Series, *, periods_per_year: int) -> dict[str, float]:
    """``n_obs``, ``total_return``, ``ann_return`` (CAGR), ``sharpe``, ``max_drawdown`` of a series.

    Statistics follow :mod:`alphalab.stats.performance` (missing values dropped).
    """
    x = returns.to_numpy(dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return {
            "n_obs": 0,
            "total_return": math.nan,
            "ann_return": math.nan,
            "sharpe": math.nan,
            "max_drawdown": math.nan,
        }
    return {
        "n_obs": int(x.size),
        "total_return": float(np.prod(1.0 + x) - 1.0),
        "ann_return": ann_return(x, periods_per_year=periods_per_year),
        "sharpe": sharpe(x, periods_per_year=periods_per_year),
        "max_drawdown": max_drawdown(x),
    }


def _row(
    scenario: str, kind: str, stats: Mapping[str, float], base: Mapping[str, float], **extra: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {"scenario": scenario, "kind": kind, **extra, **stats}
    for key in ("total_return", "ann_return", "sharpe", "max_drawdown"):
        out[f"base_{key}"] = base[key]
    out["delta_sharpe"] = stats["sharpe"] - base["sharpe"]
    out["delta_ann_return"] = stats["ann_return"] - base["ann_return"]
    return out


def crisis_rows(
    net: pd.Series,
    windows: Mapping[str, tuple[dt.date, dt.date]],
    *,
    base: Mapping[str, float],
    calendar: pd.DatetimeIndex,
    universe: pd.Series | None,
    periods_per_year: int,
) -> list[dict[str, Any]]:
    """One row per named window: the record inside it vs the whole record.

    ``coverage`` is the share of the window's sessions (on ``calendar``) present in the
    record; 0 means the record does not reach the window (statistics NaN).
    """
    rows = []
    for name, (first, last) in windows.items():
        lo, hi = pd.Timestamp(first), pd.Timestamp(last)
        inside = net[(net.index >= lo) & (net.index <= hi)]
        sessions = int(((calendar >= lo) & (calendar <= hi)).sum())
        stats = window_stats(inside, periods_per_year=periods_per_year)
        uni = math.nan
        if universe is not None:
            u = universe[(universe.index >= lo) & (universe.index <= hi)].dropna()
            uni = float(np.prod(1.0 + u.to_numpy()) - 1.0) if len(u) else math.nan
        rows.append(
            _row(
                name,
                "crisis",
                stats,
                base,
                first=lo,
                last=hi,
                setting=math.nan,
                coverage=stats["n_obs"] / sessions if sessions else 0.0,
                universe_total_return=uni,
            )
        )
    return rows


def cost_rows(
    record: pd.DataFrame,
    multipliers: Sequence[float],
    *,
    rate: float,
    base: Mapping[str, float],
    periods_per_year: int,
) -> list[dict[str, Any]]:
    """One row per cost multiplier ``k``: net = gross − k · rate · turnover."""
    rows = []
    for k in multipliers:
        net = record["gross"] - float(k) * rate * record["turnover"]
        stats = window_stats(net, periods_per_year=periods_per_year)
        rows.append(
            _row(
                f"costs x{k:g}",
                "cost",
                stats,
                base,
                first=record.index[0],
                last=record.index[-1],
                setting=float(k),
                coverage=1.0,
                universe_total_return=math.nan,
            )
        )
    return rows


def delay_rows(
    result: WalkForwardResult,
    delays: Sequence[int],
    *,
    base: Mapping[str, float],
    periods_per_year: int,
) -> list[dict[str, Any]]:
    """One row per extra execution delay ``d`` (sessions), chosen parameters unchanged."""
    rows = []
    for d in delays:
        net = result.delayed_record(int(d))
        stats = window_stats(net, periods_per_year=periods_per_year)
        rows.append(
            _row(
                f"delay +{int(d)}",
                "delay",
                stats,
                base,
                first=net.index[0],
                last=net.index[-1],
                setting=float(d),
                coverage=1.0,
                universe_total_return=math.nan,
            )
        )
    return rows


def stress_table(
    result: WalkForwardResult,
    *,
    windows: Mapping[str, tuple[dt.date, dt.date]],
    cost_shocks: Sequence[float],
    delays: Sequence[int],
    cost_rate: float,
    universe: pd.Series | None = None,
    periods_per_year: int = 252,
) -> pd.DataFrame:
    """Every stress scenario against the base case (the unstressed out-of-sample record).

    Parameters
    ----------
    result : WalkForwardResult
        Run with ``delays`` (each fold reran with ``lag + d``).
    windows : mapping of name → (first day, last day)
    cost_shocks : sequence of float
        Cost multipliers.
    delays : sequence of int
        Extra sessions of execution delay.
    cost_rate : float
        The base all-in cost per unit turnover (decimal, :attr:`CostModel.rate`).
    universe : Series, optional
        Equal-weighted universe return per session (context for crisis windows).
    periods_per_year : int

    Returns
    -------
    DataFrame
        One row per scenario (the first is ``base``): ``scenario, kind, first, last, setting,
        coverage, n_obs, total_return, ann_return, sharpe, max_drawdown``, the ``base_*``
        statistics, ``delta_sharpe``, ``delta_ann_return``, ``universe_total_return``.

    References
    ----------
    Novy-Marx and Velikov (2016), section 3 (costs); see the module docstring.
    """
    record = result.record
    base = window_stats(record["net"], periods_per_year=periods_per_year)
    rows = [
        _row(
            "base",
            "base",
            base,
            base,
            first=record.index[0],
            last=record.index[-1],
            setting=math.nan,
            coverage=1.0,
            universe_total_return=math.nan,
        )
    ]
    rows += crisis_rows(
        record["net"],
        windows,
        base=base,
        calendar=result.index,
        universe=universe,
        periods_per_year=periods_per_year,
    )
    rows += cost_rows(
        record, cost_shocks, rate=cost_rate, base=base, periods_per_year=periods_per_year
    )
    rows += delay_rows(result, delays, base=base, periods_per_year=periods_per_year)
    cols = [
        "scenario",
        "kind",
        "first",
        "last",
        "setting",
        "coverage",
        *STAT_COLUMNS,
        "base_total_return",
        "base_ann_return",
        "base_sharpe",
        "base_max_drawdown",
        "delta_sharpe",
        "delta_ann_return",
        "universe_total_return",
    ]
    out = pd.DataFrame(rows)[cols]
    out["n_obs"] = out["n_obs"].astype(np.int64)
    return out
