"""The embedded offline sample: real daily prices shipped inside the ``skfolio`` wheel.

``skfolio.datasets.load_sp500_dataset()``: adjusted closes of 20 large US stocks on 8313
sessions, 1990-01-02 … 2022-12-28 (exactly the XNYS sessions of that span);
``load_sp500_index()``: the S&P 500 index on the same dates. No network is touched.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from alphalab.data.contract import normalize_benchmark, to_dates, wide_to_long


class SampleError(ValueError):
    """The sample cannot serve the request (unknown ticker, empty window)."""


def sample_prices_wide() -> pd.DataFrame:
    """The 20-stock adjusted close matrix (dates × tickers) as shipped."""
    from skfolio.datasets import load_sp500_dataset

    wide = load_sp500_dataset()
    wide.index = pd.DatetimeIndex(to_dates(wide.index), name="date")
    return wide.astype("float64")


def sample_index() -> pd.Series:
    """The S&P 500 index level on the sample's dates."""
    from skfolio.datasets import load_sp500_index

    idx = load_sp500_index()
    s = idx.iloc[:, 0] if isinstance(idx, pd.DataFrame) else idx
    s.index = pd.DatetimeIndex(to_dates(s.index), name="date")
    return s.astype("float64").rename("index")


def load_sample_prices(
    *, tickers: list[str] | None = None, start: dt.date, end: dt.date
) -> pd.DataFrame:
    """Long prices table of the sample within ``[start, end]``.

    Raises
    ------
    SampleError
        If a requested ticker is not in the sample or the window holds no sessions.
    """
    wide = sample_prices_wide()
    if tickers is not None:
        unknown = sorted(set(tickers) - set(wide.columns))
        if unknown:
            raise SampleError(
                f"data.sample.tickers: {unknown} not in the embedded sample; available: "
                f"{sorted(wide.columns)}"
            )
        wide = wide[tickers]
    wide = wide.loc[pd.Timestamp(start) : pd.Timestamp(end)]
    if wide.empty:
        raise SampleError(
            f"data.start/data.end: window {start} … {end} holds no sample sessions "
            "(the sample covers 1990-01-02 … 2022-12-28)"
        )
    return wide_to_long(wide, "close")


def daily_rf_from_monthly(dates: pd.DatetimeIndex, factors: pd.DataFrame) -> pd.Series:
    """Spread each month's RF over its sessions: ``(1 + RF_m) ** (1 / n_m) - 1``.

    Sessions in months without RF get NaN (never filled).
    """
    month = dates + pd.offsets.MonthEnd(0)
    rf_m = factors.set_index("date")["rf"] if len(factors) else pd.Series(dtype=float)
    n_per_month = pd.Series(1, index=dates).groupby(month).transform("sum").to_numpy()
    rf = rf_m.reindex(month).to_numpy(dtype=float)
    return pd.Series((1.0 + rf) ** (1.0 / n_per_month) - 1.0, index=dates, name="rf")


def load_sample_benchmark(
    *, start: dt.date, end: dt.date, factors: pd.DataFrame | None
) -> pd.DataFrame:
    """Benchmark table: S&P 500 index simple returns and the daily risk-free rate.

    The first session's return is undefined and omitted; ``rf`` is NaN where the factors do not
    cover the month.
    """
    level = sample_index().loc[pd.Timestamp(start) : pd.Timestamp(end)]
    ret = level.pct_change(fill_method=None).iloc[1:]
    if factors is not None:
        rf = daily_rf_from_monthly(pd.DatetimeIndex(ret.index), factors).to_numpy()
    else:
        rf = np.full(len(ret), np.nan)
    return normalize_benchmark(pd.DataFrame({"date": ret.index, "ret": ret.to_numpy(), "rf": rf}))
