"""Normalise frames to the data contract of DESIGN.md §4 at the source boundary.

These functions only fix representation (column order, dtypes, sort order, upper-case tickers,
tz-naive session dates); they never drop or fill values. Rule checks live in
:mod:`alphalab.validation`.
"""

from __future__ import annotations

import pandas as pd

PRICE_OPTIONAL = ("open", "high", "low", "volume", "market_cap")
FACTOR_COLUMNS = ("date", "mkt_rf", "smb", "hml", "mom", "rf")
FACTOR_OPTIONAL = ("rmw", "cma")


def to_dates(values: pd.Series | pd.Index) -> pd.Series:
    """Convert to tz-naive ``datetime64[ns]`` normalised to midnight."""
    out = pd.to_datetime(values)
    if getattr(out.dt if isinstance(out, pd.Series) else out, "tz", None) is not None:
        out = out.dt.tz_localize(None) if isinstance(out, pd.Series) else out.tz_localize(None)
    out = out.astype("datetime64[ns]")
    return out.dt.normalize() if isinstance(out, pd.Series) else out.normalize()


def wide_to_long(wide: pd.DataFrame, value: str = "close") -> pd.DataFrame:
    """Turn a dates × tickers matrix into the long ``(ticker, date, value)`` table (NaN cells omitted)."""
    long = wide.rename_axis(index="date", columns="ticker").stack(future_stack=True)
    long = long.rename(value).reset_index()
    long = long[long[value].notna()]
    return normalize_prices(long) if value == "close" else long


def normalize_prices(df: pd.DataFrame) -> pd.DataFrame:
    """Prices in contract form: ``ticker`` str upper, ``date`` datetime64[ns], floats, sorted."""
    out = pd.DataFrame(
        {
            "ticker": df["ticker"].astype(str).str.strip().str.upper(),
            "date": to_dates(df["date"]),
            "close": df["close"].astype("float64"),
        }
    )
    for col in PRICE_OPTIONAL:
        if col in df.columns:
            out[col] = df[col].astype("float64")
    out = out.sort_values(["ticker", "date"], kind="stable").reset_index(drop=True)
    out["ticker"] = out["ticker"].astype("str")
    return out


def normalize_benchmark(df: pd.DataFrame) -> pd.DataFrame:
    """Benchmark in contract form: ``date``, ``ret`` and ``rf`` (per period, decimals)."""
    out = pd.DataFrame(
        {
            "date": to_dates(df["date"]),
            "ret": df["ret"].astype("float64"),
            "rf": df["rf"].astype("float64") if "rf" in df.columns else float("nan"),
        }
    )
    return out.sort_values("date", kind="stable").reset_index(drop=True)


def normalize_factors(df: pd.DataFrame) -> pd.DataFrame:
    """Factors in contract form: month-end ``date`` and decimal factor columns (NaN if absent)."""
    out = pd.DataFrame({"date": to_dates(df["date"])})
    for col in FACTOR_COLUMNS[1:]:
        out[col] = df[col].astype("float64") if col in df.columns else float("nan")
    for col in FACTOR_OPTIONAL:
        if col in df.columns:
            out[col] = df[col].astype("float64")
    return out.sort_values("date", kind="stable").reset_index(drop=True)


def month_end(dates: pd.Series) -> pd.Series:
    """Calendar month end of each date (the label factors use)."""
    return (to_dates(dates) + pd.offsets.MonthEnd(0)).astype("datetime64[ns]")
