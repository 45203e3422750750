"""Seeded synthetic panels with a planted signal of known strength (walk-forward tests).

Each month-end session draws a fresh cross-section ``z ~ N(0, 1)``, carried as the score until
the next month end. The return of stock ``i`` on session ``t`` is

    r[t, i] = loading[t] * score[t - 1, i] + market[t] + idio_vol * e[t, i]

so the long-short of a score sort earns about ``loading × (spread of z between the groups)``
per session while ``loading[t]`` is on. With 50 stocks, ``loading = 0.0008`` and
``idio_vol = 0.02`` the long-short's annualized Sharpe ratio is about 4.

The panel has two dimensions: ``z`` (the planted score, also ``panel.score``) and ``noise`` (an
independent draw with the same structure), so a grid can choose between a real and a useless
signal (``SIGNALS``).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from alphalab.config import BacktestParams, WalkforwardParams
from alphalab.data.simulate import xnys_sessions
from alphalab.panel import Panel

LOADING = 0.0008
SIGNALS = {"planted": {"z": 1.0}, "noise": {"noise": 1.0}}
START = dt.date(2000, 1, 3)


def _month_end_rows(dates: pd.DatetimeIndex) -> np.ndarray:
    m = dates.to_period("M")
    return np.flatnonzero(np.r_[m[:-1] != m[1:], True])


def _scores(rng: np.random.Generator, dates: pd.DatetimeIndex, n: int) -> np.ndarray:
    rows = _month_end_rows(dates)
    score = np.full((len(dates), n), np.nan)
    src = np.maximum.accumulate(
        np.where(np.isin(np.arange(len(dates)), rows), np.arange(len(dates)), -1)
    )
    draws = rng.standard_normal((len(dates), n))
    ok = src >= 0
    score[ok] = draws[src[ok]]
    return score


def _returns(
    rng: np.random.Generator, score: np.ndarray, loading: np.ndarray, idio_vol: float
) -> np.ndarray:
    t, n = score.shape
    r = 0.0002 + 0.01 * rng.standard_normal((t, 1)) + idio_vol * rng.standard_normal((t, n))
    lagged = np.vstack([np.full((1, n), np.nan), score[:-1]])
    r += loading[:, None] * np.nan_to_num(lagged)
    r[0] = np.nan
    return np.clip(r, -0.9, None)


def make_panel(
    dates: pd.DatetimeIndex, score: np.ndarray, ret: np.ndarray, noise: np.ndarray
) -> Panel:
    """A :class:`Panel` from score, return and noise matrices (closes rebuilt from the returns)."""
    tickers = pd.Index([f"S{i:03d}" for i in range(score.shape[1])], dtype="str", name="ticker")
    close = 100.0 * np.cumprod(1.0 + np.nan_to_num(ret), axis=0)
    frame = lambda a: pd.DataFrame(a, index=dates, columns=tickers)  # noqa: E731
    new = np.zeros(score.shape, dtype=bool)
    new[_month_end_rows(dates)] = True
    return Panel(
        close=frame(close),
        close_filled=frame(np.zeros(score.shape, dtype=bool)),
        ret=frame(ret),
        score=frame(score),
        new_signal=frame(new & np.isfinite(score)),
        dimensions={"z": frame(score), "noise": frame(noise)},
        meta={"calendar": "XNYS", "signs": {"z": 1, "noise": 1}},
    )


def planted_panel(
    *,
    n_stocks: int = 50,
    n_sessions: int = 3000,
    loading: float = LOADING,
    off_from: int | None = None,
    idio_vol: float = 0.02,
    seed: int = 0,
) -> Panel:
    """A planted-signal panel; with ``off_from`` the loading is 0 from that row on."""
    rng = np.random.default_rng(seed)
    dates = xnys_sessions(START, n_sessions)
    score = _scores(rng, dates, n_stocks)
    noise = _scores(rng, dates, n_stocks)
    load = np.full(n_sessions, loading)
    if off_from is not None:
        load[off_from:] = 0.0
    return make_panel(dates, score, _returns(rng, score, load, idio_vol), noise)


def perturb(panel: Panel, from_row: int, *, seed: int, loading: float = -3 * LOADING) -> Panel:
    """Replace every score and return from ``from_row`` on: new draws, a reversed signal."""
    rng = np.random.default_rng(10_000 + seed)
    dates = panel.dates
    score = panel.score.to_numpy().copy()
    ret = panel.ret.to_numpy().copy()
    noise = panel.dimensions["noise"].to_numpy().copy()
    score[from_row:] = _scores(rng, dates, score.shape[1])[from_row:]
    noise[from_row:] = _scores(rng, dates, score.shape[1])[from_row:]
    new_ret = _returns(rng, score, np.full(len(dates), loading), 0.02)
    ret[from_row:] = new_ret[from_row:]
    return make_panel(dates, score, ret, noise)


def wf_params(**updates: object) -> WalkforwardParams:
    """Small, fast walk-forward params for the synthetic panels (synchronous scheduler)."""
    base: dict[str, object] = {
        "unit": "sessions",
        "train": 1000,
        "test": 250,
        "holdout_start": None,
        "min_train_obs": 100,
        "grid": {"n_groups": [3, 5], "holding": [1], "signals": SIGNALS},
        "gate": {
            "min_oos_sharpe": 1.0,
            "max_drawdown": 0.5,
            "min_dsr": 0.95,
            "max_pbo": 0.5,
            "min_t_stat": 2.0,
            "min_oos_periods": 500,
        },
        "stress_windows": {"2003": (dt.date(2003, 1, 1), dt.date(2003, 12, 31))},
        "delays": [1],
        "scheduler": "synchronous",
    }
    base.update(updates)
    return WalkforwardParams.model_validate(base)


BACKTEST = BacktestParams()
