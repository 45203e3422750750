"""A synthetic market with a planted signal of known loading (tests, power, benchmarks).

Model, per stock ``i`` and session ``t`` (all draws from one seeded generator):

- latent signal ``s[i, t] = phi * s[i, t-1] + sqrt(1 - phi**2) * e[i, t]`` (unit variance);
- market return ``m[t] ~ N(0.0003, market_vol**2)``; betas ``b[i] ~ U(0.5, 1.5)``;
- stock return ``r[i, t+1] = b[i] * m[t+1] + loading * s[i, t] + idio_vol * u[i, t+1]``,
  so the expected next-session return per unit of signal is exactly ``loading``;
- observed score: ``s[i, t]`` published at the close of ``t`` on signal dates (every session,
  or the last session of each month);
- missing values: each (i, t) price is absent with probability ``missing_rate``;
- delistings: a share ``delisting_rate`` of stocks stops trading at a random session in the
  second half of the sample (their rows end).

Sessions are real XNYS sessions from ``start``. This is synthetic data: it is never presented
as a result.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from alphalab.data.contract import (
    month_end,
    normalize_benchmark,
    normalize_factors,
    normalize_prices,
)


@dataclass
class SimulatedMarket:
    """Tables of a simulated market plus the truth used to make them."""

    prices: pd.DataFrame
    benchmark: pd.DataFrame
    factors: pd.DataFrame
    signal: pd.DataFrame
    truth: dict[str, Any] = field(default_factory=dict)


def xnys_sessions(start: dt.date, n: int) -> pd.DatetimeIndex:
    """The first ``n`` XNYS sessions on or after ``start``."""
    import exchange_calendars as xcals

    cal = xcals.get_calendar("XNYS", start=pd.Timestamp(start) - pd.Timedelta(days=7))
    first = max(pd.Timestamp(start), cal.first_session)
    sessions = cal.sessions_in_range(first, cal.last_session)
    if len(sessions) < n:
        raise ValueError(
            f"data.simulate.n_sessions: {n} sessions from {first.date()} exceed the XNYS calendar "
            f"({len(sessions)} available); start earlier or ask for fewer"
        )
    return pd.DatetimeIndex(sessions[:n].tz_localize(None).astype("datetime64[ns]"), name="date")


def simulate_market(
    *,
    n_stocks: int = 200,
    n_sessions: int = 2520,
    signal_loading: float = 0.0004,
    signal_persistence: float = 0.98,
    signal_freq: str = "monthly",
    idio_vol: float = 0.02,
    market_vol: float = 0.01,
    missing_rate: float = 0.001,
    delisting_rate: float = 0.1,
    seed: int = 0,
    start: dt.date = dt.date(2000, 1, 3),
    rf_daily: float = 0.0001,
) -> SimulatedMarket:
    """Simulate prices, benchmark, monthly factors and a signal table (see module docstring)."""
    rng = np.random.default_rng(seed)
    dates = xnys_sessions(start, n_sessions)
    n, t = n_stocks, n_sessions
    phi = signal_persistence
    shocks = rng.standard_normal((t, n))
    s = np.empty((t, n))
    s[0] = shocks[0]
    scale = np.sqrt(1.0 - phi**2)
    for k in range(1, t):
        s[k] = phi * s[k - 1] + scale * shocks[k]
    m = 0.0003 + market_vol * rng.standard_normal(t)
    beta = rng.uniform(0.5, 1.5, n)
    r = beta[None, :] * m[:, None] + idio_vol * rng.standard_normal((t, n))
    r[1:] += signal_loading * s[:-1]
    r[0] = 0.0
    close = 100.0 * np.cumprod(1.0 + np.clip(r, -0.95, None), axis=0)

    present = rng.random((t, n)) >= missing_rate
    present[0] = True
    n_delist = round(delisting_rate * n)
    delisted = rng.choice(n, size=n_delist, replace=False) if n_delist else np.array([], int)
    delist_at = rng.integers(t // 2, t, size=n_delist)
    for i, k in zip(delisted, delist_at, strict=True):
        present[k:, i] = False

    tickers = np.array([f"S{i:04d}" for i in range(n)])
    ti, di = np.nonzero(present.T)
    prices = normalize_prices(
        pd.DataFrame(
            {
                "ticker": tickers[ti],
                "date": dates[di],
                "close": close[di, ti],
                "market_cap": close[di, ti] * 1e6 * (1 + (ti % 10)),
            }
        )
    )

    bench = normalize_benchmark(pd.DataFrame({"date": dates[1:], "ret": m[1:], "rf": rf_daily}))

    if signal_freq == "daily":
        sig_rows = np.arange(t)
    else:
        month = dates.to_period("M")
        sig_rows = np.flatnonzero(month[:-1] != month[1:])
    sig_mask = present[sig_rows]
    ri, ci = np.nonzero(sig_mask)
    signal = (
        pd.DataFrame(
            {
                "ticker": tickers[ci].astype(str),
                "event_date": dates[sig_rows[ri]],
                "score": s[sig_rows[ri], ci],
            }
        )
        .sort_values(["ticker", "event_date"], kind="stable")
        .reset_index(drop=True)
    )

    mret = pd.Series(m, index=dates)
    monthly = (1 + mret).groupby(month_end(pd.Series(dates)).to_numpy()).prod() - 1
    months = monthly.index
    rf_m = (1 + rf_daily) ** pd.Series(dates).groupby(
        month_end(pd.Series(dates)).to_numpy()
    ).size() - 1
    fac = normalize_factors(
        pd.DataFrame(
            {
                "date": months,
                "mkt_rf": monthly.to_numpy() - rf_m.to_numpy(),
                "smb": 0.03 * rng.standard_normal(len(months)),
                "hml": 0.03 * rng.standard_normal(len(months)),
                "mom": 0.04 * rng.standard_normal(len(months)),
                "rf": rf_m.to_numpy(),
            }
        )
    )
    truth = {
        "signal_loading": signal_loading,
        "signal_persistence": phi,
        "betas": beta,
        "delisted": {
            str(tickers[i]): str(dates[k].date()) for i, k in zip(delisted, delist_at, strict=True)
        },
        "latent": pd.DataFrame(s, index=dates, columns=tickers),
        "seed": seed,
    }
    return SimulatedMarket(prices, bench, fac, signal, truth)
