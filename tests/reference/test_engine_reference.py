"""The engine's signal view against alphalens-reloaded.

Tolerance: 1e-10 absolute on per-quantile mean forward returns and on rank ICs.

Where the conventions coincide (and only there):
- ``lag=0`` (alphalens buys at the price on the factor's own date);
- prices without gaps (alphalens forward-fills prices before computing returns);
- ``filter_zscore=None`` (alphalens' default z-score filter uses future data);
- scores distinct within each date (alphalens' qcut gives up on duplicate bin edges; our rule
  coincides with qcut wherever its edges are unique, see tests/backtest/test_quantiles.py);
- dates on which every horizon has a forward price (alphalens drops a name from all horizons
  when any horizon is missing, i.e. the last ``max(h)`` dates).
Missing *scores* are allowed: both drop them before binning.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import pandas as pd
import pytest

from alphalab.backtest import quantile_forward_returns, rank_ic, sort_portfolios

alphalens = pytest.importorskip("alphalens")
from alphalens import performance as al_perf  # noqa: E402
from alphalens import utils as al_utils  # noqa: E402

TOL = 1e-10
HORIZONS = (1, 5, 10)


def _market(seed: int, n_dates: int = 160, n_names: int = 37):
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2021-03-01", periods=n_dates)
    cols = [f"A{i:02d}" for i in range(n_names)]
    prices = 20 * np.exp(np.cumsum(rng.normal(0.0003, 0.02, (n_dates, n_names)), axis=0))
    score = rng.normal(size=(n_dates, n_names))
    score[rng.random(score.shape) < 0.08] = np.nan
    return (
        pd.DataFrame(score, index=idx, columns=cols),
        pd.DataFrame(prices, index=idx, columns=cols),
    )


def _alphalens_clean(score: pd.DataFrame, prices: pd.DataFrame, quantiles: int) -> pd.DataFrame:
    factor = score.stack().rename("factor")
    factor.index = factor.index.set_names(["date", "asset"])
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        return al_utils.get_clean_factor_and_forward_returns(
            factor, prices, quantiles=quantiles, periods=HORIZONS, filter_zscore=None, max_loss=1.0
        )


@pytest.mark.parametrize(("seed", "quantiles"), [(0, 5), (1, 10), (2, 3)])
def test_mean_return_by_quantile_matches_alphalens(seed: int, quantiles: int) -> None:
    score, prices = _market(seed)
    clean = _alphalens_clean(score, prices, quantiles)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs, _ = al_perf.mean_return_by_quantile(clean, by_date=True, demeaned=False)
    ours = quantile_forward_returns(score, prices, n_groups=quantiles, horizons=HORIZONS, lag=0)
    dates = theirs.index.get_level_values("date").unique()
    assert len(dates) == len(prices) - max(HORIZONS)
    for j, h in enumerate(HORIZONS):
        al = theirs.iloc[:, j].unstack("factor_quantile").reindex(columns=range(1, quantiles + 1))
        mine = ours.xs(h, level="horizon").loc[dates, [f"g{k}" for k in range(1, quantiles + 1)]]
        np.testing.assert_allclose(mine.to_numpy(), al.loc[dates].to_numpy(), rtol=0, atol=TOL)
    # the group labels themselves agree with alphalens' factor_quantile
    mine_labels = _our_labels(score, prices, quantiles).stack()
    al_labels = clean["factor_quantile"]
    joined = al_labels.to_frame("al").join(mine_labels.rename("ours"), how="left")
    assert (joined["al"] == joined["ours"]).all()


def _our_labels(score, prices, quantiles):
    res = sort_portfolios(
        score, prices.pct_change(fill_method=None).fillna(0.0), n_groups=quantiles,
        rebalance="daily", lag=0,
    )  # fmt: skip
    labels = res.groups
    labels.index = labels.index.set_names("date")
    labels.columns = labels.columns.set_names("asset")
    return labels


def test_rank_ic_matches_alphalens() -> None:
    score, prices = _market(7)
    clean = _alphalens_clean(score, prices, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = al_perf.factor_information_coefficient(clean)
    ours = rank_ic(score, prices, horizons=HORIZONS)
    for j, h in enumerate(HORIZONS):
        np.testing.assert_allclose(
            ours.loc[theirs.index, h].to_numpy(), theirs.iloc[:, j].to_numpy(), rtol=0, atol=TOL
        )


def test_engine_daily_lag0_equals_one_day_quantile_means() -> None:
    """The portfolio engine (daily rebalance, lag 0, equal weights) earns the 1-day means."""
    score, prices = _market(3)
    rets = prices.pct_change(fill_method=None)
    rets.iloc[0] = 0.0  # a tradable first session
    res = sort_portfolios(score, rets, n_groups=5, rebalance="daily", lag=0)
    view = quantile_forward_returns(score, prices, n_groups=5, horizons=(1,)).xs(1, level="horizon")
    shifted = view.shift(1).iloc[2:]  # formed on t-1, earned on t
    np.testing.assert_allclose(
        res.returns.iloc[2:].to_numpy(), shifted.to_numpy(), rtol=0, atol=1e-12
    )
