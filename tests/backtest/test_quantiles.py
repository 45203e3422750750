"""Quantile assignment, forward-return means and rank IC against pandas/scipy.

Tolerances: group labels exact; per-quantile means 1e-12 against a per-date pandas
``qcut`` + ``mean`` (only summation order differs); rank IC 1e-12 against
``scipy.stats.spearmanr``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from alphalab.backtest import BacktestInputError, assign_groups, quantile_forward_returns, rank_ic
from tests.backtest.helpers import synthetic_market

TOL = 1e-12


def test_ties_follow_qcut_where_its_edges_are_unique() -> None:
    rng = np.random.default_rng(5)
    checked = 0
    for _ in range(300):
        row = rng.integers(0, 12, size=int(rng.integers(5, 40))).astype(float)
        try:
            expected = pd.qcut(row, 4, labels=False) + 1
        except ValueError:  # duplicate edges: qcut gives up, we still assign
            assert np.isfinite(assign_groups(row[None, :], 4)).all()
            continue
        np.testing.assert_array_equal(assign_groups(row[None, :], 4)[0], expected)
        checked += 1
    assert checked > 100


def test_assign_groups_mask_and_validation() -> None:
    x = np.array([[1.0, 2.0, 3.0, 4.0], [4.0, 3.0, np.inf, 1.0]])
    mask = np.array([[True, False, True, True], [True, True, True, True]])
    out = assign_groups(x, 2, mask=mask)
    np.testing.assert_array_equal(out[0], [1, np.nan, 1, 2])
    np.testing.assert_array_equal(
        out[1], [2, 1, np.nan, 1]
    )  # qcut([4, 3, 1], 2): 3 is the median edge
    with pytest.raises(BacktestInputError, match="shape"):
        assign_groups(x, 2, mask=mask[:, :2])
    with pytest.raises(BacktestInputError, match="2 dimensions"):
        assign_groups(x[0], 2)


def _pandas_quantile_means(score, prices, n_groups, h, lag):
    fwd = prices.shift(-(lag + h)) / prices.shift(-lag) - 1
    rows = {}
    for date in score.index:
        s = score.loc[date]
        ok = s.notna() & prices.loc[date].notna()
        if ok.sum() < 2:
            continue
        q = pd.qcut(s[ok], n_groups, labels=False) + 1
        rows[date] = fwd.loc[date, ok.index[ok]].groupby(q.to_numpy()).mean()
    return pd.DataFrame(rows).T.reindex(columns=range(1, n_groups + 1))


@pytest.mark.parametrize(("lag", "n_groups"), [(0, 5), (2, 3)])
def test_quantile_forward_returns_match_pandas(lag: int, n_groups: int) -> None:
    m = synthetic_market(n_names=23, n_dates=80, seed=3, nan_score=0.1, late_start=0.2, gaps=0.03)
    out = quantile_forward_returns(m.score, m.prices, n_groups=n_groups, horizons=(1, 5), lag=lag)
    for h in (1, 5):
        ours = out.xs(h, level="horizon")
        ref = _pandas_quantile_means(m.score, m.prices, n_groups, h, lag)
        got = ours.loc[ref.index, [f"g{k}" for k in range(1, n_groups + 1)]].to_numpy()
        np.testing.assert_allclose(got, ref.to_numpy(), rtol=0, atol=TOL)
        ls = ours["long_short"]
        np.testing.assert_allclose(ls, ours[f"g{n_groups}"] - ours["g1"], rtol=0, atol=0)
        assert ours.iloc[-(lag + h) :].isna().all().all()


def test_rank_ic_matches_scipy() -> None:
    m = synthetic_market(n_names=30, n_dates=60, seed=4, nan_score=0.1, gaps=0.05, loading=0.002)
    score = m.score.round(1)  # ties in the score too
    ic = rank_ic(score, m.prices, horizons=(1, 3), lag=1)
    assert list(ic.columns) == [1, 3]
    for h in (1, 3):
        fwd = m.prices.shift(-(1 + h)) / m.prices.shift(-1) - 1
        for date in score.index[:-5]:
            ok = score.loc[date].notna() & m.prices.loc[date].notna() & fwd.loc[date].notna()
            expected = sps.spearmanr(score.loc[date, ok], fwd.loc[date, ok]).statistic
            assert ic.loc[date, h] == pytest.approx(expected, abs=TOL)
        assert ic[h].iloc[-(1 + h) :].isna().all()


def test_signal_view_validates_inputs() -> None:
    m = synthetic_market(n_names=5, n_dates=20, seed=1)
    bad = m.prices.copy()
    bad.iloc[2, 1] = 0.0
    with pytest.raises(BacktestInputError, match="non-positive price"):
        quantile_forward_returns(m.score, bad)
    with pytest.raises(BacktestInputError, match="horizons"):
        rank_ic(m.score, m.prices, horizons=(1, 1))
    with pytest.raises(BacktestInputError, match="horizons"):
        rank_ic(m.score, m.prices, horizons=(0,))
