"""Quantile assignment and the alphalens-style view of a signal.

Groups are equal-count bins of the cross-sectional rank, ``1`` = lowest score. With ``n``
eligible names on a date and ``s`` their sorted scores, the upper edge of group ``k`` is
``s[floor((n - 1)·k / n_groups)]`` and a name falls in the first group whose edge its score
does not exceed. This is ``pandas.qcut(score, n_groups, labels=False) + 1`` (the rule alphalens uses) in
exact integer arithmetic, so for distinct scores group sizes differ by at most one. qcut
computes the breakpoint position ``(n - 1)·k / n_groups`` in floating point; when that is an
integer but rounds a hair below it (e.g. ``n = 19``, 6 groups: ``18 × 0.8333… = 14.999…``),
qcut moves one name up a group and its sizes differ by two — the only case in which the two
disagree on distinct scores. Tied scores share the group of their lowest sorted position
(again qcut's answer whenever its edges are unique; where they are not, qcut raises and we
still assign).

:func:`quantile_forward_returns` and :func:`rank_ic` use forward returns, i.e. prices *after*
the date they are stored on: they describe a signal, they do not simulate a portfolio
(that is :func:`alphalab.backtest.sort_portfolios`).

References
----------
Fama, E. F. and French, K. R. (1993), "Common risk factors in the returns on stocks and
bonds", Journal of Financial Economics 33, 3–56 (portfolio sorts on ranked characteristics).
Grinold, R. C. and Kahn, R. N. (2000), *Active Portfolio Management*, 2nd ed., ch. 6: the
information coefficient; its rank (Spearman) form as in alphalens
``performance.factor_information_coefficient``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from alphalab.backtest import _kernels
from alphalab.backtest._inputs import (
    BacktestInputError,
    align_to,
    check_frame,
    check_int,
    check_prices,
    to_matrix,
)

MAX_GROUPS = 127


def group_columns(n_groups: int) -> list[str]:
    """Column names ``g1`` … ``gN`` used by every engine output."""
    return [f"g{k}" for k in range(1, n_groups + 1)]


def _labels(score: np.ndarray, n_groups: int, mask: np.ndarray | None) -> np.ndarray:
    """int8 labels 1..n_groups (0 = unassigned) over the finite, unmasked cells."""
    valid = np.isfinite(score)
    if mask is not None:
        valid &= mask
    return _kernels.group_labels(score, valid, n_groups)


def assign_groups(
    score_matrix: np.ndarray | pd.DataFrame,
    n_groups: int,
    mask: np.ndarray | pd.DataFrame | None = None,
) -> np.ndarray:
    """Assign each cell of a dates × tickers matrix to a cross-sectional rank group.

    Parameters
    ----------
    score_matrix : numpy.ndarray or pandas.DataFrame
        Scores, one row per date. Non-finite scores are not assigned.
    n_groups : int
        Number of equal-count groups (1 … 127).
    mask : numpy.ndarray or pandas.DataFrame of bool, optional
        Extra eligibility (e.g. a tradable price); False cells are not assigned.

    Returns
    -------
    numpy.ndarray
        float64 labels ``1.0`` … ``n_groups`` (1 = lowest score), NaN where unassigned.

    References
    ----------
    Fama and French (1993), section 2 (breakpoints from ranked characteristics); the bin rule
    is ``pandas.qcut``'s (module docstring).

    Examples
    --------
    >>> assign_groups(np.array([[0.3, 0.1, np.nan, 0.2]]), 3)
    array([[ 3.,  1., nan,  2.]])
    """
    n_groups = check_int(n_groups, "n_groups", low=1, high=MAX_GROUPS)
    values = np.asarray(score_matrix, dtype=np.float64)
    if values.ndim != 2:
        raise BacktestInputError(f"score_matrix: expected 2 dimensions, got {values.ndim}")
    m = None
    if mask is not None:
        m = np.asarray(mask, dtype=bool)
        if m.shape != values.shape:
            raise BacktestInputError(f"mask: shape {m.shape} differs from scores {values.shape}")
    labels = _labels(values, n_groups, m)
    out = labels.astype(np.float64)
    out[labels == 0] = np.nan
    return out


def forward_returns(prices: np.ndarray, horizon: int, lag: int) -> np.ndarray:
    """``P[t + lag + h] / P[t + lag] - 1`` on row ``t`` (NaN where either price is missing)."""
    n_rows = prices.shape[0]
    out = np.empty_like(prices, dtype=np.float64)
    start, end = lag, lag + horizon
    cut = max(n_rows - end, 0)
    if cut:
        head = out[:cut]
        with np.errstate(invalid="ignore", divide="ignore"):
            np.divide(prices[end:], prices[start : n_rows - horizon], out=head)
        np.subtract(head, 1.0, out=head)
    out[cut:] = np.nan
    return out


def _check_horizons(horizons: Sequence[int]) -> list[int]:
    if isinstance(horizons, int):
        horizons = [horizons]
    hs = [check_int(h, "horizons", low=1) for h in horizons]
    if not hs or len(set(hs)) != len(hs):
        raise BacktestInputError(f"horizons: need distinct positive integers, got {list(horizons)}")
    return hs


def _signal_inputs(
    score: pd.DataFrame, prices: pd.DataFrame, lag: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    check_frame(prices, "prices")
    p = to_matrix(prices, "prices")
    check_prices(p, prices)
    s = align_to(score, prices, "score", "prices")
    check_int(lag, "lag", low=0)
    eligible = np.isfinite(s) & np.isfinite(p)
    return s, p, eligible


def quantile_forward_returns(
    score: pd.DataFrame,
    prices: pd.DataFrame,
    *,
    n_groups: int = 5,
    horizons: Sequence[int] = (1, 5, 21),
    lag: int = 0,
) -> pd.DataFrame:
    """Mean forward return of each score group per date and horizon (the alphalens view).

    On date ``t`` the names with a finite score and a price are ranked into ``n_groups``
    groups (:func:`assign_groups`); each name's forward return over horizon ``h`` is
    ``P[t + lag + h] / P[t + lag] - 1`` (no forward filling: a missing price gives NaN and the
    name drops out of that horizon's mean). ``lag=0`` is alphalens' convention (the price on
    the score's own date is the buy price).

    Parameters
    ----------
    score, prices : pandas.DataFrame
        Dates × tickers; ``score``'s dates and tickers must be among ``prices``'.
    n_groups : int
        Number of groups.
    horizons : sequence of int
        Forward horizons in sessions.
    lag : int
        Sessions between the score's close and the buy close.

    Returns
    -------
    pandas.DataFrame
        Indexed by (``date``, ``horizon``), columns ``g1`` … ``gN`` and ``long_short``
        (= gN − g1); NaN where a group has no name with a forward return.

    Notes
    -----
    Equal to alphalens' ``mean_return_by_quantile(get_clean_factor_and_forward_returns(...),
    by_date=True, demeaned=False)`` when prices have no gaps (alphalens forward-fills them),
    ``filter_zscore=None``, scores are distinct on each date, and on dates where every horizon
    has its forward price (alphalens drops a name from all horizons when one is missing).

    References
    ----------
    Fama and French (1993); alphalens ``performance.mean_return_by_quantile``.
    """
    n_groups = check_int(n_groups, "n_groups", low=1, high=MAX_GROUPS)
    hs = _check_horizons(horizons)
    s, p, eligible = _signal_inputs(score, prices, lag)
    labels = _kernels.group_labels(s, eligible, n_groups)
    n_rows = len(prices.index)
    out = np.empty((n_rows, len(hs), n_groups + 1))
    for j, h in enumerate(hs):
        sums, counts = _kernels.group_sums(labels, forward_returns(p, h, lag), n_groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = sums / counts
        out[:, j, :n_groups] = means
        out[:, j, n_groups] = means[:, -1] - means[:, 0]
    index = pd.MultiIndex.from_product([prices.index, hs], names=["date", "horizon"])
    cols = [*group_columns(n_groups), "long_short"]
    return pd.DataFrame(out.reshape(n_rows * len(hs), n_groups + 1), index=index, columns=cols)


def rank_ic(
    score: pd.DataFrame,
    prices: pd.DataFrame,
    *,
    horizons: Sequence[int] = (1, 5, 21),
    lag: int = 0,
) -> pd.DataFrame:
    """Spearman rank information coefficient per date and horizon.

    On date ``t``: the rank correlation across names between the score and the forward
    return ``P[t + lag + h] / P[t + lag] - 1``, over names with a finite score, a price on
    ``t`` and a forward return (ties get average ranks; NaN with fewer than 3 names or a
    constant cross-section).

    Returns
    -------
    pandas.DataFrame
        Dates × horizons (columns are the horizons in sessions).

    References
    ----------
    Grinold and Kahn (2000), ch. 6; Spearman, C. (1904), "The proof and measurement of
    association between two things", American Journal of Psychology 15, 72–101.
    """
    hs = _check_horizons(horizons)
    s, p, eligible = _signal_inputs(score, prices, lag)
    cols = {h: _kernels.spearman_rows(s, forward_returns(p, h, lag), eligible) for h in hs}
    out = pd.DataFrame(cols, index=prices.index)
    out.columns.name = "horizon"
    return out
