"""Seeded synthetic inputs for the signal and panel tests (XNYS sessions, known structure)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from alphalab.calendar import sessions

START = "2019-01-02"
CNOI_DIMS = ["D", "G", "R", "J", "T", "S", "X"]
CNOI_WEIGHTS = [0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.1]


def grid(n_sessions: int, start: str = START) -> pd.DatetimeIndex:
    return sessions(start, pd.Timestamp(start) + pd.Timedelta(days=2 * n_sessions))[:n_sessions]


def wide_prices(
    seed: int, *, n_tickers: int = 8, n_sessions: int = 400, gap_rate: float = 0.02
) -> pd.DataFrame:
    """Random-walk closes with missing cells, a late listing and an early delisting."""
    rng = np.random.default_rng(seed)
    dates = grid(n_sessions)
    steps = rng.normal(0.0003, 0.02, size=(n_sessions, n_tickers))
    close = 50 * np.exp(np.cumsum(steps, axis=0)) * rng.uniform(0.5, 2, n_tickers)
    close[rng.random(close.shape) < gap_rate] = np.nan
    close[: n_sessions // 3, 0] = np.nan  # late listing
    close[-n_sessions // 5 :, 1] = np.nan  # delisting
    close[100:108, 2] = np.nan  # a gap longer than the default fill limit
    tickers = [f"T{i:02d}" for i in range(n_tickers)]
    return pd.DataFrame(close, index=pd.DatetimeIndex(dates, name="date"), columns=tickers)


def long_prices(wide: pd.DataFrame, *, seed: int = 0, market_cap: bool = True) -> pd.DataFrame:
    long = wide.rename_axis(index="date", columns="ticker").stack(future_stack=True)
    long = long.rename("close").reset_index()
    long = long[long["close"].notna()].reset_index(drop=True)
    if market_cap:
        shares = np.random.default_rng(seed).uniform(1e6, 1e8, wide.shape[1])
        long["market_cap"] = long["close"] * long["ticker"].map(
            dict(zip(wide.columns, shares, strict=True))
        )
    long["ticker"] = long["ticker"].astype("str")
    return long


def filings(seed: int, tickers: list[str], *, n: int = 120, n_sessions: int = 400) -> pd.DataFrame:
    """CNOI-like raw file: one row per filing, calendar (not session) filing dates, times."""
    rng = np.random.default_rng(seed)
    days = pd.date_range(START, periods=int(n_sessions * 1.45), freq="D")
    filing_date = pd.DatetimeIndex(np.sort(rng.choice(days.to_numpy(), size=n)))
    hours = rng.uniform(6, 22, size=n)
    accepted = filing_date + pd.to_timedelta(np.round(hours * 3600), unit="s")
    accepted = accepted.where(rng.random(n) > 0.25)  # some acceptance times unknown
    dims = rng.uniform(0, 100, size=(n, len(CNOI_DIMS)))
    dims[rng.random(dims.shape) < 0.05] = np.nan
    idx = rng.integers(0, len(tickers), size=n)
    out = pd.DataFrame(
        {
            "cik": 1000 + idx,
            "ticker": np.asarray(tickers, dtype=object)[idx],
            "filing_date": filing_date,
            "accepted_at": accepted,
        }
    )
    for j, d in enumerate(CNOI_DIMS):
        out[d] = dims[:, j]
    out["CNOI"] = np.nansum(dims * np.array(CNOI_WEIGHTS), axis=1)
    return out
