"""Seeded synthetic markets with known answers.

- Planted signal: returns on row t load +0.001 on the score of row t-2 (what a lag-1 book
  formed on row t-2 earns), so the long-short must be positive with a large Newey–West t,
  the group means increasing in the group number, and ``direction=-1`` must flip the sign.
- Placebo: the same score shuffled across names within each date has no information; over
  200 independent markets the long-short's NW t-statistics must look N(0, 1): rejection rate
  at 5% in [2%, 9%] (a 200-draw binomial band) and mean within ±0.25 (≈ 3.5 standard errors).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from alphalab.backtest import sort_portfolios
from alphalab.stats.inference import newey_west
from tests.backtest.helpers import synthetic_market

N_PLACEBO = 200


def test_planted_signal_is_recovered() -> None:
    m = synthetic_market(n_names=200, n_dates=1500, seed=11, loading=0.001, persistence=0.9)
    res = sort_portfolios(m.score, m.returns, n_groups=5, rebalance="daily", lag=1)
    means = res.returns.mean()
    groups = means[["g1", "g2", "g3", "g4", "g5"]].to_numpy()
    assert np.all(np.diff(groups) > 0), groups
    nw = newey_west(res.returns["long_short"])
    assert nw.mean > 0 and nw.t > 5
    flipped = sort_portfolios(
        m.score, m.returns, n_groups=5, rebalance="daily", lag=1, direction=-1
    )
    np.testing.assert_allclose(
        flipped.returns["long_short"], -res.returns["long_short"], atol=1e-15
    )


def test_planted_signal_survives_monthly_overlapping_holding() -> None:
    m = synthetic_market(n_names=100, n_dates=1500, seed=12, loading=0.0005, persistence=0.98)
    res = sort_portfolios(m.score, m.returns, n_groups=5, rebalance="monthly", lag=1, holding=3)
    nw = newey_west(res.returns["long_short"], lags=21)
    assert nw.t > 3


def _shuffle_within_dates(score: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame(
        rng.permuted(score.to_numpy(), axis=1), index=score.index, columns=score.columns
    )


def test_placebo_t_stats_are_standard_normal() -> None:
    rng = np.random.default_rng(2024)
    ts = []
    for draw in range(N_PLACEBO):
        m = synthetic_market(n_names=30, n_dates=300, seed=1000 + draw, loading=0.0005)
        placebo = _shuffle_within_dates(m.score, rng)
        res = sort_portfolios(placebo, m.returns, n_groups=5, rebalance="daily", lag=1)
        ts.append(newey_west(res.returns["long_short"]).t)
    ts = np.asarray(ts)
    reject = float(np.mean(np.abs(ts) > 1.959964))
    assert 0.02 <= reject <= 0.09, reject
    assert abs(ts.mean()) < 0.25, ts.mean()
    assert 0.8 < ts.std() < 1.2, ts.std()
