"""Performance statistics: worked examples, closed forms against quadrature, edge cases.

Tolerances: 1e-12 for worked examples; 1e-10 for the Cornish–Fisher CVaR closed form against
``scipy.integrate.quad`` of the Cornish–Fisher quantile function. Parity with
empyrical-reloaded is in tests/reference/test_metrics_reference.py.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate
from scipy import stats as sps

from alphalab.stats import performance as perf
from alphalab.stats.inference import newey_west

TOL = 1e-12


def test_drawdown_worked_example() -> None:
    r = [0.1, -0.2, 0.05, 0.1]  # wealth 1.1, 0.88, 0.924, 1.0164: peak 1.1 never regained
    assert perf.max_drawdown(r) == pytest.approx(0.88 / 1.1 - 1, abs=TOL)
    assert perf.max_drawdown_duration(r) == 3
    assert perf.hit_rate(r) == 0.75
    assert perf.max_drawdown([-0.1, 0.2]) == pytest.approx(-0.1, abs=TOL)  # start is a peak
    assert perf.max_drawdown([0.01, 0.02]) == 0.0
    assert math.isnan(perf.calmar([0.01, 0.02], periods_per_year=12))


def test_annualization_worked_example() -> None:
    r = np.array([0.01, 0.02, -0.01, 0.03])
    assert perf.ann_return(r, periods_per_year=4) == pytest.approx(
        1.01 * 1.02 * 0.99 * 1.03 - 1, abs=TOL
    )
    assert perf.ann_vol(r, periods_per_year=4) == pytest.approx(r.std(ddof=1) * 2, abs=TOL)
    assert perf.sharpe(r, periods_per_year=4) == pytest.approx(
        r.mean() / r.std(ddof=1) * 2, abs=TOL
    )
    assert perf.sharpe(r, periods_per_year=4, rf=0.005) == pytest.approx(
        (r.mean() - 0.005) / r.std(ddof=1) * 2, abs=TOL
    )
    down = math.sqrt(0.01**2 / 4) * 2
    assert perf.sortino(r, periods_per_year=4) == pytest.approx(r.mean() * 4 / down, abs=TOL)


def test_rf_series_is_aligned_by_date() -> None:
    idx = pd.bdate_range("2024-01-01", periods=4)
    r = pd.Series([0.01, 0.02, -0.01, 0.03], index=idx)
    rf = pd.Series([0.001, 0.002, 0.003, 0.004], index=idx[::-1])  # reversed order
    expected = perf.sharpe((r - rf.reindex(idx)).to_numpy(), periods_per_year=252)
    assert perf.sharpe(r, periods_per_year=252, rf=rf) == pytest.approx(expected, abs=TOL)
    with pytest.raises(perf.PerformanceInputError, match="rf: no value"):
        perf.sharpe(r, periods_per_year=252, rf=rf.iloc[:2])


def test_cornish_fisher_reduces_to_normal() -> None:
    z = sps.norm.ppf(0.05)
    assert perf._cf_quantile(z, 0.0, 0.0) == z


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cornish_fisher_cvar_equals_quadrature(seed: int) -> None:
    rng = np.random.default_rng(seed)
    r = (
        0.001
        + 0.01 * rng.standard_t(5, size=2000)
        + 0.004 * rng.exponential(size=2000) * (seed - 1)
    )
    mu, sd = r.mean(), r.std(ddof=1)
    s, k = perf.skew(r), perf.kurtosis(r) - 3
    alpha = 0.05
    value, _ = integrate.quad(
        lambda u: mu + sd * perf._cf_quantile(sps.norm.ppf(u), s, k), 0, alpha, limit=200
    )
    assert perf.cvar(r, alpha=alpha, method="cornish_fisher") == pytest.approx(
        value / alpha, abs=1e-10
    )
    var_cf = perf.var(r, alpha=alpha, method="cornish_fisher")
    assert var_cf == pytest.approx(mu + sd * perf._cf_quantile(sps.norm.ppf(alpha), s, k), abs=TOL)
    assert perf.cvar(r, alpha=alpha, method="cornish_fisher") < var_cf


def test_historical_var_cvar_worked_example() -> None:
    r = np.arange(1, 21) / 100 - 0.1  # -0.09 … 0.10
    assert perf.var(r, alpha=0.1) == pytest.approx(np.percentile(r, 10), abs=TOL)
    # floor((20 - 1) * 0.1) + 1 = 2 worst returns: -0.09, -0.08
    assert perf.cvar(r, alpha=0.1) == pytest.approx(-0.085, abs=TOL)


def test_break_even_cost() -> None:
    r = np.array([0.002, 0.0, 0.001, 0.001])
    t = np.array([1.0, 0.0, 0.5, 0.5])
    assert perf.break_even_cost(r, t) == pytest.approx(0.001 / 0.5 * 1e4, abs=TOL)
    net = r - perf.break_even_cost(r, t) / 1e4 * t
    assert net.mean() == pytest.approx(0.0, abs=1e-15)
    assert math.isnan(perf.break_even_cost(r, np.zeros(4)))


def test_summarize_keys_and_values() -> None:
    rng = np.random.default_rng(3)
    idx = pd.bdate_range("2020-01-01", periods=500)
    r = pd.Series(rng.normal(0.0005, 0.01, 500), index=idx)
    r.iloc[:3] = np.nan
    turnover = pd.Series(np.where(np.arange(500) % 21 == 0, 0.8, 0.0), index=idx)
    out = perf.summarize(r, periods_per_year=252, nw_lags=5, turnover=turnover)
    for key in ("n_obs", "mean", "ann_return", "ann_vol", "sharpe", "sortino", "calmar",
                "max_drawdown", "hit_rate", "skew", "kurtosis", "var_95", "cvar_95", "t_nw",
                "nw_lags", "turnover", "break_even_bps"):  # fmt: skip
        assert key in out
    assert out["n_obs"] == 497 and out["nw_lags"] == 5
    assert out["t_nw"] == pytest.approx(newey_west(r, lags=5).t, abs=TOL)
    assert out["sharpe"] == pytest.approx(perf.sharpe(r.dropna(), periods_per_year=252), abs=TOL)
    assert out["turnover"] == pytest.approx(turnover.mean(), abs=TOL)
    assert all(isinstance(v, int | float) for v in out.values())


def test_bad_input_raises() -> None:
    with pytest.raises(perf.PerformanceInputError, match="infinite"):
        perf.sharpe([0.1, np.inf], periods_per_year=252)
    with pytest.raises(perf.PerformanceInputError, match="1-D"):
        perf.ann_vol(np.zeros((3, 2)))
    with pytest.raises(perf.PerformanceInputError, match="alpha"):
        perf.var([0.1, 0.2], alpha=1.5)
    with pytest.raises(perf.PerformanceInputError, match="method"):
        perf.cvar([0.1, 0.2], method="gaussian")  # type: ignore[arg-type]
    with pytest.raises(perf.PerformanceInputError, match="periods_per_year"):
        perf.ann_return([0.1], periods_per_year=0)
    assert math.isnan(perf.sharpe([0.01], periods_per_year=252))
    assert math.isnan(perf.sharpe([0.01, 0.01, 0.01], periods_per_year=252))
