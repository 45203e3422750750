"""Look-ahead: garbling inputs after a cutoff leaves every output dated up to it unchanged.

Exact equality (bit for bit, NaN = NaN) is required for every output of
:func:`sort_portfolios` — returns, net, turnover, counts, groups and every group's weights —
under five perturbations (scale, shuffle, NaN, row deletion, new tickers) at random cutoffs.
Deliberately leaky functions must be caught.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alphalab.backtest import LookAheadError, check_no_lookahead, sort_portfolios
from tests.backtest.helpers import synthetic_market

N_CUTOFFS = 6

CONFIGS = {
    "daily_lag0": dict(rebalance="daily", lag=0, n_groups=5),
    "monthly_lag1_h3_costs": dict(rebalance="monthly", lag=1, holding=3, costs=15.0),
    "weekly_lag2_value": dict(rebalance="weekly", lag=2, weighting="value", n_groups=3),
    "quarterly_h2_delist": dict(rebalance="quarterly", lag=1, holding=2, delisting_return=-0.3),
    "daily_h5_minnames": dict(rebalance="daily", lag=1, holding=5, min_names=3, direction=-1),
}


@pytest.fixture(scope="module")
def market():
    return synthetic_market(
        n_names=25, n_dates=260, seed=7, nan_score=0.05, late_start=0.2, early_end=0.2, gaps=0.01
    )


@pytest.mark.parametrize("name", list(CONFIGS))
def test_sort_portfolios_has_no_lookahead(market, name: str) -> None:
    config = CONFIGS[name]
    value = config.get("weighting") == "value"

    def run(score, returns, market_cap=None):
        res = sort_portfolios(score, returns, market_cap=market_cap, **config)
        return res.to_frames(weights=True)

    inputs = {"score": market.score, "returns": market.returns}
    if value:
        inputs["market_cap"] = market.market_cap
    n = check_no_lookahead(run, inputs, N_CUTOFFS, seed=list(CONFIGS).index(name))
    assert n == N_CUTOFFS * 5


def test_availability_schedule_has_no_lookahead(market) -> None:
    mask = pd.Series(
        np.random.default_rng(3).random(len(market.returns)) < 0.1, index=market.returns.index
    )

    def run(score, returns, mask):
        res = sort_portfolios(
            score, returns, rebalance="availability", rebalance_mask=mask, holding=2
        )
        return res.to_frames(weights=True)

    check_no_lookahead(
        run, {"score": market.score, "returns": market.returns, "mask": mask}, 5, seed=1
    )


@pytest.mark.parametrize("lag", [0, 1])
def test_leaky_signal_is_caught(market, lag: int) -> None:
    """A score built from tomorrow's return must fail, whatever the lag."""

    def run(returns):
        score = returns.shift(-1)
        return sort_portfolios(score, returns, rebalance="daily", lag=lag).to_frames(weights=True)

    with pytest.raises(LookAheadError, match="differs at"):
        check_no_lookahead(run, {"returns": market.returns}, 4, seed=2)


def test_leak_named_by_date_and_column() -> None:
    idx = pd.bdate_range("2024-01-01", periods=20)
    x = pd.DataFrame(np.arange(40.0).reshape(20, 2), index=idx, columns=["A", "B"])
    check_no_lookahead(lambda x: x.cumsum(), {"x": x}, 5, seed=0)
    cutoff = idx[9]
    with pytest.raises(LookAheadError) as info:
        check_no_lookahead(
            lambda x: x.shift(-1), {"x": x}, [cutoff], seed=0, perturbations=["scale"]
        )
    message = str(info.value)
    assert str(cutoff) in message and "'A'" in message and "scale" in message


def test_centered_window_is_caught() -> None:
    idx = pd.bdate_range("2024-01-01", periods=60)
    x = pd.DataFrame(np.random.default_rng(0).normal(size=(60, 3)), index=idx)
    with pytest.raises(LookAheadError):
        check_no_lookahead(lambda x: x.rolling(5, center=True).mean(), {"x": x}, 3, seed=0)


def test_checker_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError, match="DatetimeIndex"):
        check_no_lookahead(lambda x: x, {"x": pd.DataFrame({"a": [1.0, 2, 3, 4]})}, 2, seed=0)
    idx = pd.bdate_range("2024-01-01", periods=10)
    with pytest.raises(ValueError, match="perturbations"):
        check_no_lookahead(
            lambda x: x, {"x": pd.Series(1.0, idx)}, 2, seed=0, perturbations=["bogus"]
        )
