"""Shared data for the validation tests: the catalogue folder, suites, a fixed 'today'."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
CATALOGUE = REPO / "tests" / "fixtures" / "bad_inputs"
EXPECTATIONS = REPO / "expectations"
TODAY = dt.date(2024, 6, 28)
SESSIONS = pd.to_datetime(
    [
        "2020-01-02",
        "2020-01-03",
        "2020-01-06",
        "2020-01-07",
        "2020-01-08",
        "2020-01-09",
        "2020-01-10",
        "2020-01-13",
        "2020-01-14",
        "2020-01-15",
    ]
)


def good_prices() -> pd.DataFrame:
    """Typed prices (2 tickers × 10 XNYS sessions) that satisfy the contract."""
    n = len(SESSIONS)
    return pd.DataFrame(
        {
            "ticker": pd.Series(["AAA"] * n + ["BBB"] * n, dtype="str"),
            "date": np.concatenate([SESSIONS, SESSIONS]).astype("datetime64[ns]"),
            "close": np.r_[100 + 0.2 * np.arange(n), 50 + 0.5 * np.arange(n)].astype("float64"),
        }
    )


def good_benchmark() -> pd.DataFrame:
    """Typed benchmark on the same sessions."""
    return pd.DataFrame(
        {
            "date": SESSIONS.astype("datetime64[ns]"),
            "ret": [0.004, -0.003, 0.002, -0.006, 0.005, 0.001, -0.002, 0.003, 0.007, -0.004],
            "rf": 0.0001,
        }
    )


def good_factors() -> pd.DataFrame:
    """Typed monthly factors (2019) in decimals."""
    dates = pd.date_range("2019-01-31", periods=12, freq="ME").astype("datetime64[ns]")
    i = np.arange(12)
    return pd.DataFrame(
        {
            "date": dates,
            "mkt_rf": [
                0.084,
                0.034,
                0.011,
                0.040,
                -0.069,
                0.069,
                0.012,
                -0.026,
                0.014,
                0.021,
                0.039,
                0.028,
            ],
            "smb": 0.01 * ((i % 3) - 1),
            "hml": -0.012 + 0.002 * i,
            "mom": 0.005 * ((i % 4) - 1.5),
            "rf": 0.0019,
        }
    )


@pytest.fixture
def prices() -> pd.DataFrame:
    return good_prices()
