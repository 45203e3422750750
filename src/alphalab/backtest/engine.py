"""The portfolio-sort engine: :func:`sort_portfolios`.

Timing (DESIGN.md §6)
---------------------
``score`` row ``t`` is known at the close of session ``t``. ``returns`` row ``t`` is the
simple return from the close of ``t - 1`` to the close of ``t``. ``lag`` is the number of
sessions between the score's close and the close at which its portfolio trades. So the
portfolio formed from score row ``t`` is bought at the close of ``t + lag`` and earns
``returns`` from row ``t + lag + 1`` on::

    session        t              t+1              t+2              t+3
    lag = 0   score[t] known   earns ret[t+1]   earns ret[t+2]   ...
              & bought at close t
    lag = 1   score[t] known   bought at        earns ret[t+2]   earns ret[t+3]
                               close t+1

``lag=0`` is alphalens' convention; the studies default to ``lag=1`` (trade one session after
the information arrives).

Outputs are dated as follows: ``returns``/``net`` on the session the return is earned;
``turnover`` (and the cost deducted in ``net``) on the session at whose close the trade is
made; ``weights(g)`` and ``counts`` are end-of-session holdings (row ``t`` = the book held
from the close of ``t``, which earns ``returns[t + 1]``); ``groups`` on the formation row
``t``. Every output on row ``t`` therefore depends on data dated ``<= t`` only (and, for the
calendar schedules, on the date of row ``t + 1``, see :mod:`alphalab.backtest.schedule`);
:func:`alphalab.backtest.lookahead.check_no_lookahead` verifies this.

Portfolio rules
---------------
* Formation on a rebalance row ``t``: eligible names have a finite score and a finite return
  on ``t`` (a tradable price at formation; for value weights also a positive market cap on
  ``t``). They are ranked into ``n_groups`` equal-count groups (:mod:`.quantiles`). If any
  group has fewer than ``min_names`` names the date is skipped: no trade, the book keeps
  drifting, and the date is reported in ``skipped_dates``.
* Weights within a group: equal, or proportional to market cap at formation. Between trades
  weights drift buy-and-hold with returns (no daily rebalancing back to target).
* ``holding=H``: Jegadeesh–Titman overlapping cohorts. At each trade the target of a group is
  the average over the last ``H`` (non-skipped) formations of each cohort's formation weights,
  restricted to names tradable at the trade close (finite return on that session) and
  renormalized within the cohort; cohorts with no tradable name in the group are left out
  of the average.
* Long-short = top group minus bottom group, times ``direction`` (``-1``: bottom minus top).
  Each leg's return is its own group's return, so the legs are re-matched in value daily;
  the long-short's weights are ``direction · (w_top - w_bottom)`` and its turnover is
  ``sum |Δ|`` of those net weights.
* Turnover ``sum_i |w_new - w_drifted|`` at each trade (building a group from cash counts 1),
  0 on other sessions; ``net = returns - cost_rate × turnover`` (:mod:`.costs`).
* Before the first trade returns are NaN. On the first trade session each group is still in
  cash (gross return 0) and pays the cost of building its book.
* Delisting: a held name whose return is NaN (its price series ends or has a gap) earns
  ``delisting_return`` that session (``None`` → 0), then its value sits in cash (return 0)
  until the next trade, where it is only re-bought if it trades again. Each (session, name)
  hit by a held name counts once in ``n_delisted``.

References
----------
Fama, E. F. and French, K. R. (1993), "Common risk factors in the returns on stocks and
bonds", Journal of Financial Economics 33, 3–56: sorted portfolios, value weights.
Jegadeesh, N. and Titman, S. (1993), "Returns to buying winners and selling losers",
Journal of Finance 48(1), 65–91: overlapping holding-period portfolios (section I.A).
Shumway, T. (1997), "The delisting bias in CRSP data", Journal of Finance 52(1), 327–340:
delisting returns (−30% is his estimate for performance delistings).
Novy-Marx, R. and Velikov, M. (2016), Review of Financial Studies 29(1): turnover-based costs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from alphalab.backtest import _kernels
from alphalab.backtest._inputs import (
    BacktestInputError,
    align_to,
    check_choice,
    check_frame,
    check_int,
    check_no_inf,
    check_returns,
    to_matrix,
)
from alphalab.backtest.costs import CostModel, as_cost_model
from alphalab.backtest.quantiles import MAX_GROUPS, group_columns
from alphalab.backtest.schedule import REBALANCE_CHOICES, Rebalance, rebalance_rows

Weighting = Literal["equal", "value"]

TIMING = (
    "score row t is known at the close of session t; the portfolio formed from it trades at "
    "the close of t+lag and earns returns from row t+lag+1 (returns row t = close t-1 -> close t)"
)
DRIFT = "weights drift buy-and-hold with returns between trades"
LONG_SHORT = "direction x (top group - bottom group); each leg's own return"
TURNOVER = "sum |w_new - w_drifted| at each trade close (1 to build a group from cash), else 0"
GROUP_RULE = "equal-count bins of the cross-sectional rank (pandas.qcut rule), 1 = lowest score"


@dataclass(frozen=True)
class _Arrays:
    """What a weights request needs to rerun the simulation (private)."""

    returns: np.ndarray
    labels: np.ndarray
    raw: np.ndarray
    use_raw: bool
    trade_from: np.ndarray
    n_groups: int
    holding: int
    direction: float
    delist_ret: float


@dataclass(frozen=True)
class SortResult:
    """Result of :func:`sort_portfolios` (all frames on the input's dates).

    Attributes
    ----------
    returns : pandas.DataFrame
        Gross returns, dates × [``g1`` … ``gN``, ``long_short``].
    net : pandas.DataFrame
        Returns after costs, same shape.
    turnover : pandas.DataFrame
        ``sum |w_new - w_drifted|`` at each trade close, same shape.
    counts : pandas.DataFrame
        Names held in each group at each close (dates × groups, int).
    conventions : dict
        Timing, lag, rebalance, holding, weighting, cost model, delisting policy ...
    skipped_dates : pandas.DatetimeIndex
        Rebalance dates skipped because a group had fewer than ``min_names`` names.
    formation_dates : pandas.Index
        Dates on which portfolios were formed.
    n_delisted : int
        Delisting events hit by held names.
    tickers : pandas.Index
        The tickers (the returns' columns).

    Notes
    -----
    ``groups`` (labels at formation) and ``weights(group)`` (end-of-session holdings) are
    built on request from the stored arrays: a dates × tickers frame per group would cost
    more than the whole simulation in the robustness grid's hundreds of calls.
    """

    returns: pd.DataFrame
    net: pd.DataFrame
    turnover: pd.DataFrame
    counts: pd.DataFrame
    conventions: dict[str, Any]
    skipped_dates: pd.Index
    formation_dates: pd.Index
    n_delisted: int
    tickers: pd.Index = field(repr=False)
    _arrays: _Arrays = field(repr=False)

    @property
    def groups(self) -> pd.DataFrame:
        """Group labels at formation (dates × tickers, 1 … N), NaN on other rows and cells."""
        labels = self._arrays.labels
        out = labels.astype(np.float64)
        out[labels == 0] = np.nan
        return pd.DataFrame(out, index=self.returns.index, columns=self.tickers)

    def weights(self, group: int | str) -> pd.DataFrame:
        """End-of-session weights of one group (dates × tickers), recomputed on request.

        Row ``t`` is the book held from the close of ``t`` (it earns ``returns`` row
        ``t + 1``); it sums to 1 right after a trade, less any value moved to cash by
        delistings afterwards. Zeros before the first trade and for names not held.

        Parameters
        ----------
        group : int or str
            ``1`` … ``N``, ``"g1"`` … ``"gN"`` or ``"long_short"``.
        """
        a = self._arrays
        store = _group_position(group, a.n_groups)
        out = _kernels.simulate(
            a.returns,
            a.labels,
            a.raw,
            a.use_raw,
            a.trade_from,
            a.n_groups,
            a.holding,
            a.direction,
            a.delist_ret,
            store,
        )[4]
        return pd.DataFrame(out, index=self.returns.index, columns=self.tickers)

    def to_frames(self, *, weights: bool = False) -> dict[str, pd.DataFrame]:
        """Every date-indexed output as a dict (weights of each group too if asked)."""
        frames = {
            "returns": self.returns,
            "net": self.net,
            "turnover": self.turnover,
            "counts": self.counts,
            "groups": self.groups,
        }
        if weights:
            for g in [*self.returns.columns]:
                frames[f"weights_{g}"] = self.weights(g)
        return frames


def _group_position(group: int | str, n_groups: int) -> int:
    if group == "long_short":
        return n_groups
    if isinstance(group, str) and group.startswith("g") and group[1:].isdigit():
        group = int(group[1:])
    if isinstance(group, int | np.integer) and 1 <= group <= n_groups:
        return int(group) - 1
    raise BacktestInputError(
        f"group: {group!r} is not 1..{n_groups}, 'g1'..'g{n_groups}' or 'long_short'"
    )


def _formation(
    score: np.ndarray,
    returns: np.ndarray,
    mcap: np.ndarray | None,
    rows: np.ndarray,
    n_groups: int,
    min_names: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Labels on the rebalance rows and the mask of rows skipped for thin groups."""
    sub = score[rows]
    eligible = np.isfinite(sub) & np.isfinite(returns[rows])
    if mcap is not None:
        m = mcap[rows]
        with np.errstate(invalid="ignore"):
            eligible &= np.isfinite(m) & (m > 0)
    labels_sub = _kernels.group_labels(sub, eligible, n_groups)
    per_group = np.stack([(labels_sub == g).sum(axis=1) for g in range(1, n_groups + 1)], axis=1)
    thin = np.asarray((per_group < min_names).any(axis=1), dtype=bool)
    labels_sub[thin] = 0
    labels = np.zeros(score.shape, dtype=np.int8)
    labels[rows] = labels_sub
    return labels, thin


def _trade_rows(formed: np.ndarray, lag: int, n_rows: int) -> np.ndarray:
    """For each session, the formation row traded at its close (or -1)."""
    trade_from = np.full(n_rows, -1, dtype=np.int64)
    target = formed + lag
    keep = target < n_rows
    trade_from[target[keep]] = formed[keep]
    return trade_from


def _delisting(delisting_return: float | None) -> float:
    if delisting_return is None:
        return 0.0
    if isinstance(delisting_return, bool) or not isinstance(delisting_return, int | float):
        raise BacktestInputError(
            f"delisting_return: expected a number or None, got {delisting_return!r}"
        )
    if not math.isfinite(delisting_return) or delisting_return < -1.0:
        raise BacktestInputError(f"delisting_return: {delisting_return!r} must be finite and >= -1")
    return float(delisting_return)


def _conventions(
    *,
    lag: int,
    rebalance: str,
    holding: int,
    weighting: str,
    direction: int,
    n_groups: int,
    min_names: int,
    cost: CostModel,
    delisting_return: float | None,
) -> dict[str, Any]:
    policy = (
        f"a held name with a missing return earns {delisting_return} that session, then cash"
        if delisting_return is not None
        else "a held name with a missing return earns 0 that session, then cash"
    )
    return {
        "timing": TIMING,
        "lag": lag,
        "rebalance": rebalance,
        "rebalance_rule": "last session of each period in the index"
        if rebalance in ("weekly", "monthly", "quarterly")
        else ("every session" if rebalance == "daily" else "sessions flagged in rebalance_mask"),
        "holding": holding,
        "holding_rule": "Jegadeesh-Titman: average of the last `holding` cohorts' formation weights",
        "weighting": weighting,
        "drift": DRIFT,
        "n_groups": n_groups,
        "group_rule": GROUP_RULE,
        "min_names": min_names,
        "direction": direction,
        "long_short": LONG_SHORT,
        "turnover": TURNOVER,
        "cost_model": cost.describe(),
        "delisting_return": delisting_return,
        "delisting_policy": policy,
        "returns": "simple, gross of costs in `returns`, after costs in `net`; NaN before the first trade",
    }


def sort_portfolios(
    score: pd.DataFrame,
    returns: pd.DataFrame,
    *,
    n_groups: int = 5,
    rebalance: Rebalance = "monthly",
    holding: int = 1,
    lag: int = 1,
    weighting: Weighting = "equal",
    market_cap: pd.DataFrame | None = None,
    direction: Literal[1, -1] = 1,
    min_names: int = 1,
    costs: CostModel | float | None = None,
    delisting_return: float | None = None,
    rebalance_mask: pd.Series | np.ndarray | None = None,
) -> SortResult:
    """Sort stocks into score groups and track the groups' and long-short's returns.

    Parameters
    ----------
    score : pandas.DataFrame
        Dates × tickers signal (see :mod:`alphalab.panel`); its dates and tickers must be
        among ``returns``'. Missing cells are NaN (no forward filling here).
    returns : pandas.DataFrame
        Dates × tickers simple returns on the session calendar (row ``t`` = close ``t-1`` →
        close ``t``); NaN where a name has no price.
    n_groups : int
        Number of equal-count groups (1 = lowest score).
    rebalance : {"daily", "weekly", "monthly", "quarterly", "availability"}
        When portfolios are formed (:mod:`alphalab.backtest.schedule`).
    holding : int
        Number of overlapping cohorts (Jegadeesh–Titman); 1 = plain rebalancing.
    lag : int
        Sessions between the score's close and the trade close (module docstring).
    weighting : {"equal", "value"}
        Within-group weights at formation; ``value`` uses ``market_cap`` on the formation row.
    market_cap : pandas.DataFrame, optional
        Dates × tickers market capitalization, needed for ``weighting="value"``.
    direction : {1, -1}
        Sign of the long-short (``-1``: long the lowest scores).
    min_names : int
        Minimum names per group; a formation date with a thinner group is skipped.
    costs : CostModel or float or None
        Cost model, or a flat all-in cost per unit turnover in bps; None = no costs.
    delisting_return : float or None
        Return booked on a held name's first missing session (e.g. -0.3); None = 0.
    rebalance_mask : pandas.Series or numpy.ndarray, optional
        Boolean over dates for ``rebalance="availability"``.

    Returns
    -------
    SortResult

    Raises
    ------
    BacktestInputError
        For misaligned or invalid inputs and options (a ValueError).

    References
    ----------
    Fama and French (1993); Jegadeesh and Titman (1993), section I.A; Shumway (1997); see the
    module docstring for the full timing and portfolio rules.

    Examples
    --------
    >>> idx = pd.bdate_range("2024-01-01", periods=4)
    >>> score = pd.DataFrame({"A": [1.0, 1, 1, 1], "B": [2.0, 2, 2, 2]}, index=idx)
    >>> rets = pd.DataFrame({"A": [0.0, 0.01, 0.02, 0.0], "B": [0.0, 0.03, 0.01, 0.0]}, index=idx)
    >>> res = sort_portfolios(score, rets, n_groups=2, rebalance="daily", lag=0)
    >>> res.returns["long_short"].round(4).tolist()
    [0.0, 0.02, -0.01, 0.0]
    """
    check_frame(returns, "returns")
    n_groups = check_int(n_groups, "n_groups", low=1, high=MAX_GROUPS)
    holding = check_int(holding, "holding", low=1)
    lag = check_int(lag, "lag", low=0)
    min_names = check_int(min_names, "min_names", low=1)
    check_choice(rebalance, "rebalance", REBALANCE_CHOICES)
    check_choice(weighting, "weighting", ("equal", "value"))
    check_choice(direction, "direction", (1, -1))
    cost = as_cost_model(costs)
    delist_ret = _delisting(delisting_return)

    r = to_matrix(returns, "returns")
    check_returns(r, returns)
    s = align_to(score, returns, "score", "returns")
    check_no_inf(s, "score", returns)
    mcap = _market_cap(weighting, market_cap, returns)

    rows = np.flatnonzero(rebalance_rows(returns.index, rebalance, rebalance_mask))
    labels, thin = _formation(s, r, mcap, rows, n_groups, min_names)
    formed = rows[~thin]
    arrays = _Arrays(
        returns=r,
        labels=labels,
        raw=mcap if mcap is not None else np.zeros((1, 1)),
        use_raw=mcap is not None,
        trade_from=_trade_rows(formed, lag, len(returns.index)),
        n_groups=n_groups,
        holding=holding,
        direction=float(direction),
        delist_ret=delist_ret,
    )
    gross, turnover, counts, n_delisted, _ = _kernels.simulate(
        arrays.returns,
        arrays.labels,
        arrays.raw,
        arrays.use_raw,
        arrays.trade_from,
        n_groups,
        holding,
        arrays.direction,
        delist_ret,
        -1,
    )
    cols = [*group_columns(n_groups), "long_short"]
    index = returns.index
    return SortResult(
        returns=pd.DataFrame(gross, index=index, columns=cols),
        net=pd.DataFrame(gross - cost.rate * turnover, index=index, columns=cols),
        turnover=pd.DataFrame(turnover, index=index, columns=cols),
        counts=pd.DataFrame(counts, index=index, columns=cols[:-1]),
        conventions=_conventions(
            lag=lag,
            rebalance=rebalance,
            holding=holding,
            weighting=weighting,
            direction=direction,
            n_groups=n_groups,
            min_names=min_names,
            cost=cost,
            delisting_return=delisting_return,
        ),
        skipped_dates=index[rows[thin]],
        formation_dates=index[formed],
        n_delisted=int(n_delisted),
        tickers=returns.columns,
        _arrays=arrays,
    )


def _market_cap(
    weighting: str, market_cap: pd.DataFrame | None, returns: pd.DataFrame
) -> np.ndarray | None:
    if weighting == "equal":
        if market_cap is not None:
            raise BacktestInputError("market_cap is only used with weighting='value'")
        return None
    if market_cap is None:
        raise BacktestInputError("weighting='value' needs market_cap (dates × tickers)")
    m = align_to(market_cap, returns, "market_cap", "returns")
    check_no_inf(m, "market_cap", returns)
    return m
