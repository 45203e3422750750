"""The numba engine against a plain-Python loop of the same stated rules.

Tolerance: 1e-12 absolute on returns, net returns, turnover and every group's weights;
exact on counts, formation/skipped dates and the delisting count. The reference
(:mod:`tests.backtest.helpers`) shares no code with the kernels.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from alphalab.backtest import CostModel, rebalance_rows, sort_portfolios
from tests.backtest.helpers import reference_sort, synthetic_market

TOL = 1e-12

CONFIGS = [
    dict(n_groups=3, rebalance="daily", holding=1, lag=0, weighting="equal"),
    dict(n_groups=4, rebalance="weekly", holding=2, lag=1, weighting="value"),
    dict(n_groups=5, rebalance="monthly", holding=3, lag=2, weighting="equal", direction=-1),
    dict(n_groups=2, rebalance="daily", holding=4, lag=1, weighting="value", min_names=3),
    dict(n_groups=3, rebalance="availability", holding=2, lag=0, weighting="equal"),
    dict(n_groups=1, rebalance="quarterly", holding=1, lag=1, weighting="equal"),
    dict(n_groups=6, rebalance="daily", holding=1, lag=3, weighting="equal", min_names=2),
]


@pytest.mark.parametrize(("config", "delisting"), list(itertools.product(CONFIGS, [None, -0.3])))
def test_engine_matches_loop_reference(config: dict, delisting: float | None) -> None:
    seed = CONFIGS.index(config) * 10 + (delisting is None)
    m = synthetic_market(
        n_names=14, n_dates=160, seed=seed, nan_score=0.1, late_start=0.3, early_end=0.3,
        gaps=0.02,
    )  # fmt: skip
    rng = np.random.default_rng(seed)
    mask = rng.random(len(m.returns)) < 0.15 if config["rebalance"] == "availability" else None
    value = config["weighting"] == "value"
    res = sort_portfolios(
        m.score, m.returns, **config, market_cap=m.market_cap if value else None,
        costs=CostModel(half_spread_bps=3, commission_bps=2), delisting_return=delisting,
        rebalance_mask=mask,
    )  # fmt: skip
    rows = rebalance_rows(m.returns.index, config["rebalance"], mask)
    ref = reference_sort(
        m.score.to_numpy(), m.returns.to_numpy(), rows, n_groups=config["n_groups"],
        holding=config["holding"], lag=config["lag"],
        mcap=m.market_cap.to_numpy() if value else None, direction=config.get("direction", 1),
        min_names=config.get("min_names", 1), delisting_return=delisting,
    )  # fmt: skip
    np.testing.assert_allclose(res.returns.to_numpy(), ref.gross, rtol=0, atol=TOL)
    np.testing.assert_allclose(res.turnover.to_numpy(), ref.turnover, rtol=0, atol=TOL)
    np.testing.assert_allclose(
        res.net.to_numpy(), ref.gross - 0.0005 * ref.turnover, rtol=0, atol=TOL
    )
    np.testing.assert_array_equal(res.counts.to_numpy(), ref.counts)
    assert res.n_delisted == ref.n_delisted
    assert list(res.formation_dates) == list(m.returns.index[ref.formed])
    assert list(res.skipped_dates) == list(m.returns.index[ref.skipped])
    for g, name in enumerate(res.returns.columns):
        np.testing.assert_allclose(res.weights(name).to_numpy(), ref.weights[g], rtol=0, atol=TOL)


def test_scenarios_are_not_trivial() -> None:
    """The random markets above do exercise delistings, skips and overlapping cohorts."""
    m = synthetic_market(
        n_names=14, n_dates=160, seed=31, nan_score=0.1, late_start=0.3, early_end=0.3, gaps=0.02
    )
    res = sort_portfolios(m.score, m.returns, n_groups=6, rebalance="daily", lag=3, min_names=2)
    assert res.n_delisted > 0
    assert len(res.skipped_dates) > 0
    assert res.returns.notna().sum().min() > 100
