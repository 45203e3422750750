"""Bootstrap intervals, the permutation placebo and period breakdowns of the robustness stage.

Tolerances: the chunked (Dask-ready) bootstrap and placebo distributions equal the one-process
references of ``alphalab.stats.bootstrap`` (``bootstrap_ci``, ``permutation_placebo``) exactly,
bit for bit; breakdown statistics equal ``summarize`` on the slice to 1e-12.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from alphalab.backtest import sort_portfolios
from alphalab.config import BacktestParams, RobustnessParams
from alphalab.robustness import (
    base_config,
    bootstrap_interval,
    grid_inputs,
    period_breakdown,
    placebo_test,
)
from alphalab.robustness.inference import placebo_draws
from alphalab.stats.bootstrap import bootstrap_ci, permutation_placebo
from alphalab.stats.performance import summarize
from tests.robustness._market import planted_panel, signal_params

BT = BacktestParams()
R = RobustnessParams(scheduler="synchronous", progress=False)


@pytest.mark.parametrize(("statistic", "method"), [("sharpe", "stationary"), ("mean", "circular")])
def test_bootstrap_interval_equals_bootstrap_ci(statistic: str, method: str) -> None:
    rng = np.random.default_rng(1)
    x = pd.Series(0.0004 + 0.01 * rng.standard_t(5, 900))
    x.iloc[:5] = np.nan  # dropped first
    ours = bootstrap_interval(
        x,
        statistic=statistic,
        seed=11,
        periods_per_year=252,
        reps=600,
        method=method,
        scheduler="synchronous",
    )
    ref = bootstrap_ci(
        x.dropna().to_numpy(),
        seed=11,
        periods_per_year=252,
        reps=600,
        statistic=statistic,
        method=method,
    )
    np.testing.assert_array_equal(ours.distribution, ref.distribution)
    assert (ours.lower, ours.upper) == ref.percentile_ci
    assert ours.estimate == ref.estimate and ours.block_size == ref.block_size
    assert ours.std_error == ref.std_error


def test_placebo_equals_permutation_placebo_of_the_engine() -> None:
    panel = planted_panel(2, n_stocks=30, n_sessions=400)
    inputs = grid_inputs(panel, robustness=R, backtest=BT, signal=signal_params())
    base = base_config(BT)

    def ls_mean(score: pd.DataFrame) -> float:
        res = sort_portfolios(score, panel.ret, n_groups=BT.n_groups, lag=BT.lag)
        return float(res.returns["long_short"].dropna().mean())

    ref = permutation_placebo(ls_mean, panel.score, n_perm=20, seed=4)
    ours = placebo_test(base, inputs, n_perm=20, seed=4, scheduler="synchronous")
    np.testing.assert_array_equal(ours.means, ref.distribution)
    assert ours.observed_mean == ref.observed and ours.pvalue == ref.pvalue
    chunk = placebo_draws(base, inputs, seed=4, draws=[7, 3])  # any draw, any order
    np.testing.assert_array_equal(chunk[:, 0], ref.distribution[[7, 3]])


def test_placebo_finds_a_planted_signal() -> None:
    panel = planted_panel(0)
    inputs = grid_inputs(panel, robustness=R, backtest=BT, signal=signal_params())
    res = placebo_test(base_config(BT), inputs, n_perm=99, seed=0)
    assert res.pvalue == pytest.approx(1 / 100) and res.pvalue_t == pytest.approx(1 / 100)
    assert res.observed_t > 3.0
    assert abs(res.t_stats.mean()) < 0.5  # the placebo t-stats centre on zero


def test_placebo_pvalues_on_pure_noise_look_uniform() -> None:
    """Under H0 the placebo p-value is uniform (exchangeability), so over 12 pure-noise markets
    the p-values pass a Kolmogorov–Smirnov test of uniformity at the 1% level and their mean is
    near 1/2. (Single noise markets do give p = 0.02 about 4% of the time — as they should.)"""
    dims = tuple(f"n{k}" for k in range(4))
    pvalues = []
    for seed in range(12):
        panel = planted_panel(seed, loading=0.0, dims=dims, n_sessions=504)
        inputs = grid_inputs(panel, robustness=R, backtest=BT, signal=signal_params(dims))
        pvalues.append(placebo_test(base_config(BT), inputs, n_perm=49, seed=seed).pvalue)
    assert sps.kstest(pvalues, "uniform").pvalue > 0.01
    assert 0.3 < float(np.mean(pvalues)) < 0.7


def test_period_breakdown_keeps_empty_windows() -> None:
    idx = pd.bdate_range("2019-01-01", "2021-12-31")
    rng = np.random.default_rng(0)
    x = pd.Series(0.01 * rng.standard_normal(len(idx)), index=idx)
    turn = pd.Series(rng.uniform(0, 0.1, len(idx)), index=idx)
    periods = {
        "2020": (pd.Timestamp("2020-01-01"), pd.Timestamp("2020-12-31")),
        "2023": (pd.Timestamp("2023-01-01"), pd.Timestamp("2023-12-31")),
    }
    out = period_breakdown(x, periods, periods_per_year=252, turnover=turn)
    assert list(out["period"]) == ["2020", "2023"]
    ref = summarize(x.loc["2020"], periods_per_year=252, turnover=turn.loc["2020"])
    for key in ("n_obs", "mean", "sharpe", "t_nw", "max_drawdown", "kurtosis", "turnover"):
        assert out.loc[0, key] == pytest.approx(ref[key], rel=1e-12), key
    assert out.loc[0, "start"] == pd.Timestamp("2020-01-01")
    assert out.loc[1, "n_obs"] == 0 and np.isnan(out.loc[1, "sharpe"])
