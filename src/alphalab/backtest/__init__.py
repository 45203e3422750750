"""Portfolio sorts on aligned dates × tickers matrices (DESIGN.md §6).

The one engine every stage uses (backtest, robustness grid, walk-forward, runner):

- :func:`sort_portfolios` — quantile portfolios and their long-short, with lags, rebalance
  schedules, overlapping holding periods, equal or value weights, turnover, costs and
  delistings (:mod:`alphalab.backtest.engine` states the timing exactly);
- :func:`quantile_forward_returns`, :func:`rank_ic` — the alphalens-style view of a signal;
- :func:`assign_groups` — the group assignment both use;
- :func:`check_no_lookahead` — garble the future, demand an unchanged past.
"""

from __future__ import annotations

from alphalab.backtest._inputs import BacktestInputError
from alphalab.backtest.costs import CostModel
from alphalab.backtest.engine import SortResult, sort_portfolios
from alphalab.backtest.lookahead import LookAheadError, check_no_lookahead
from alphalab.backtest.quantiles import (
    assign_groups,
    forward_returns,
    quantile_forward_returns,
    rank_ic,
)
from alphalab.backtest.schedule import rebalance_rows

__all__ = [
    "BacktestInputError",
    "CostModel",
    "LookAheadError",
    "SortResult",
    "assign_groups",
    "check_no_lookahead",
    "forward_returns",
    "quantile_forward_returns",
    "rank_ic",
    "rebalance_rows",
    "sort_portfolios",
]
