"""Rebalance schedules on a session index.

A calendar schedule rebalances on the last session of each week (Monday–Sunday), month or
quarter *present in the index*: row ``t`` is a rebalance row when row ``t + 1`` lies in a
later period, and the index's final row always counts as the end of its period (a portfolio
formed there earns nothing inside the sample). Deciding that row ``t`` closes its period
therefore reads the date of row ``t + 1`` — calendar knowledge, which an exchange publishes
in advance, never data.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from alphalab.backtest._inputs import BacktestInputError

Rebalance = Literal["daily", "weekly", "monthly", "quarterly", "availability"]
REBALANCE_CHOICES: tuple[str, ...] = ("daily", "weekly", "monthly", "quarterly", "availability")


def period_ids(index: pd.Index, freq: Literal["weekly", "monthly", "quarterly"]) -> np.ndarray:
    """Integer id of the calendar period of each date (weeks start on Monday)."""
    if not isinstance(index, pd.DatetimeIndex):
        raise BacktestInputError(
            f"rebalance {freq!r} needs a DatetimeIndex of sessions, got {type(index).__name__}"
        )
    if index.tz is not None:
        index = index.tz_localize(None)
    days = index.values.astype("datetime64[D]")
    if freq == "weekly":
        # 1970-01-01 was a Thursday: shifting by 3 days starts each week on Monday.
        return (days.astype(np.int64) + 3) // 7
    months = days.astype("datetime64[M]").astype(np.int64)
    return months if freq == "monthly" else months // 3


def rebalance_rows(
    index: pd.Index,
    rebalance: Rebalance,
    mask: pd.Series | np.ndarray | None = None,
) -> np.ndarray:
    """Boolean array over ``index``: True on the sessions at whose close a portfolio is formed.

    Parameters
    ----------
    index : pandas.Index
        The session dates (a DatetimeIndex for calendar schedules).
    rebalance : {"daily", "weekly", "monthly", "quarterly", "availability"}
        ``availability`` takes the rows from ``mask`` (e.g. sessions at which new filings
        became available); the calendar schedules take the last session of each period.
    mask : pandas.Series or numpy.ndarray, optional
        Boolean over dates; a Series is aligned on ``index`` (absent dates are False, dates
        outside ``index`` raise), an array must have one entry per row.
    """
    n = len(index)
    if rebalance == "availability":
        return _availability_rows(index, mask)
    if mask is not None:
        raise BacktestInputError(
            f"rebalance_mask is only used with rebalance='availability', not {rebalance!r}"
        )
    if rebalance == "daily":
        return np.ones(n, dtype=bool)
    if rebalance not in ("weekly", "monthly", "quarterly"):
        raise BacktestInputError(
            f"rebalance: {rebalance!r} is not one of {list(REBALANCE_CHOICES)}"
        )
    ids = period_ids(index, rebalance)
    out = np.ones(n, dtype=bool)
    out[:-1] = ids[1:] != ids[:-1]
    return out


def _availability_rows(index: pd.Index, mask: pd.Series | np.ndarray | None) -> np.ndarray:
    if mask is None:
        raise BacktestInputError(
            "rebalance='availability' needs rebalance_mask (boolean over dates)"
        )
    if isinstance(mask, pd.Series):
        extra = mask.index.difference(index)
        if len(extra):
            raise BacktestInputError(
                f"rebalance_mask: {len(extra)} date(s) not in the returns index, first {extra[0]!s}"
            )
        values = mask.reindex(index, fill_value=False).to_numpy()
    else:
        values = np.asarray(mask)
        if values.shape != (len(index),):
            raise BacktestInputError(
                f"rebalance_mask: expected shape ({len(index)},), got {values.shape}"
            )
    if values.dtype != bool:
        if not np.isin(values, [0, 1, True, False]).all():
            raise BacktestInputError("rebalance_mask: values must be boolean")
        values = values.astype(bool)
    return np.ascontiguousarray(values)
