"""Bad input raises a clear BacktestInputError (a ValueError); schedules pick the right rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alphalab.backtest import BacktestInputError, CostModel, rebalance_rows, sort_portfolios
from alphalab.backtest.costs import as_cost_model
from alphalab.config import CostParams


@pytest.fixture
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    idx = pd.bdate_range("2024-01-01", periods=30)
    rng = np.random.default_rng(0)
    rets = pd.DataFrame(rng.normal(0, 0.01, (30, 6)), index=idx, columns=list("ABCDEF"))
    score = pd.DataFrame(rng.normal(size=(30, 6)), index=idx, columns=list("ABCDEF"))
    return score, rets


def test_error_is_a_value_error() -> None:
    assert issubclass(BacktestInputError, ValueError)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(n_groups=0), "n_groups"),
        (dict(n_groups=200), "n_groups"),
        (dict(holding=0), "holding"),
        (dict(lag=-1), "lag"),
        (dict(lag=1.5), "lag"),
        (dict(min_names=0), "min_names"),
        (dict(rebalance="hourly"), "rebalance"),
        (dict(weighting="cap"), "weighting"),
        (dict(direction=2), "direction"),
        (dict(weighting="value"), "market_cap"),
        (dict(rebalance="availability"), "rebalance_mask"),
        (dict(rebalance_mask=np.ones(30, bool)), "only used with"),
        (dict(delisting_return=-1.5), "delisting_return"),
        (dict(costs="cheap"), "costs"),
        (dict(costs=-3.0), "commission_bps"),
    ],
)
def test_bad_options(frames, kwargs, match) -> None:
    score, rets = frames
    with pytest.raises(BacktestInputError, match=match):
        sort_portfolios(score, rets, **kwargs)


def test_misaligned_inputs_are_named(frames) -> None:
    score, rets = frames
    with pytest.raises(BacktestInputError, match=r"ticker\(s\) without returns: 'ZZZ'"):
        sort_portfolios(score.assign(ZZZ=1.0), rets)
    late = score.copy()
    late.index = late.index + pd.Timedelta(days=1)
    with pytest.raises(BacktestInputError, match="not in the returns index"):
        sort_portfolios(late, rets)
    with pytest.raises(BacktestInputError, match="duplicate dates"):
        sort_portfolios(score, pd.concat([rets, rets.iloc[:1]]).sort_index())
    with pytest.raises(BacktestInputError, match="sorted increasing"):
        sort_portfolios(score, rets.iloc[::-1])
    with pytest.raises(BacktestInputError, match="DataFrame"):
        sort_portfolios(score, rets["A"])


def test_bad_values_are_named(frames) -> None:
    score, rets = frames
    bad = rets.copy()
    bad.iloc[3, 2] = -1.2
    with pytest.raises(BacktestInputError, match=r"below -1 at date 2024-01-04.*'C'"):
        sort_portfolios(score, bad)
    bad.iloc[3, 2] = np.inf
    with pytest.raises(BacktestInputError, match="infinite value"):
        sort_portfolios(score, bad)
    with pytest.raises(BacktestInputError, match="non-numeric"):
        sort_portfolios(score.assign(A="x"), rets)


def test_subset_score_is_aligned(frames) -> None:
    """A score on fewer dates and tickers is placed on the returns grid, not dropped."""
    score, rets = frames
    sub = score.iloc[::5, :4]
    res = sort_portfolios(sub, rets, n_groups=2, rebalance="daily", lag=0)
    assert list(res.formation_dates) == list(sub.index)
    assert res.groups[["E", "F"]].isna().all().all()


def test_skipped_dates_are_reported(frames) -> None:
    score, rets = frames
    thin = score.copy()
    thin.iloc[10, 1:] = np.nan
    res = sort_portfolios(thin, rets, n_groups=3, rebalance="daily", lag=0, min_names=1)
    assert list(res.skipped_dates) == [rets.index[10]]
    assert res.groups.iloc[10].isna().all()


def test_calendar_schedules() -> None:
    idx = pd.to_datetime(
        ["2024-01-29", "2024-01-30", "2024-01-31", "2024-02-01", "2024-02-02", "2024-02-05",
         "2024-03-28", "2024-04-01", "2024-04-02"]
    )  # fmt: skip
    monthly = rebalance_rows(idx, "monthly")
    assert idx[monthly].strftime("%m-%d").tolist() == ["01-31", "02-05", "03-28", "04-02"]
    weekly = rebalance_rows(idx, "weekly")
    assert idx[weekly].strftime("%m-%d").tolist() == ["02-02", "02-05", "03-28", "04-02"]
    quarterly = rebalance_rows(idx, "quarterly")
    assert idx[quarterly].strftime("%m-%d").tolist() == ["03-28", "04-02"]
    assert rebalance_rows(idx, "daily").all()
    mask = pd.Series(True, index=idx[[1, 4]])
    assert np.flatnonzero(rebalance_rows(idx, "availability", mask)).tolist() == [1, 4]
    with pytest.raises(BacktestInputError, match="not in the returns index"):
        rebalance_rows(idx, "availability", pd.Series(True, index=[pd.Timestamp("2030-01-01")]))
    with pytest.raises(BacktestInputError, match="DatetimeIndex"):
        rebalance_rows(pd.RangeIndex(5), "monthly")


def test_cost_models() -> None:
    assert as_cost_model(None).rate == 0.0
    assert as_cost_model(12.5).total_bps == 12.5
    params = CostParams(half_spread_bps=5, commission_bps=1, impact_bps=2)
    assert as_cost_model(params) == CostModel(5.0, 1.0, 2.0)
    assert CostModel(5, 1, 2).rate == pytest.approx(8e-4)
    assert CostModel(1, 2, 3).describe()["total_bps"] == 6.0


def test_conventions_are_recorded(frames) -> None:
    score, rets = frames
    res = sort_portfolios(
        score, rets, lag=2, holding=3, costs=CostModel(5, 1), delisting_return=-0.3
    )
    c = res.conventions
    assert c["lag"] == 2 and c["holding"] == 3 and c["rebalance"] == "monthly"
    assert c["cost_model"]["total_bps"] == 6.0
    assert "-0.3" in c["delisting_policy"] and "t+lag+1" in c["timing"]
