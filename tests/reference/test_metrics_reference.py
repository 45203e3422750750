"""Performance metrics, Newey–West and factor alphas against independent implementations.

Tolerances:
- empyrical-reloaded metrics: 1e-12 relative (same formulas, different code paths);
- Newey–West mean t-statistics vs statsmodels OLS-on-constant HAC: 1e-10 absolute on se
  and t (``cov_type="HAC"``, ``maxlags=L``, ``use_correction=False``, normal p-values);
- factor alphas vs a direct statsmodels OLS with the same HAC options: 1e-10 absolute on
  coefficients, t-statistics and R²;
- kurtosis/skew vs scipy (``bias=True``, ``fisher=False``): 1e-12.
Convention differences from empyrical (documented in alphalab.stats.performance): we drop
NaNs before counting periods in ``ann_return``; VaR/CVaR are returns (negative = loss) in
both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats as sps

from alphalab.stats import performance as perf
from alphalab.stats.alphas import factor_alphas
from alphalab.stats.inference import newey_west, ols_hac

empyrical = pytest.importorskip("empyrical")

REL = 1e-12
ABS = 1e-10


@pytest.fixture(scope="module")
def series() -> list[pd.Series]:
    rng = np.random.default_rng(42)
    idx = pd.bdate_range("2010-01-01", periods=1500)
    out = []
    for k, (mu, sd) in enumerate([(0.0004, 0.01), (-0.0002, 0.02), (0.001, 0.005)]):
        x = mu + sd * rng.standard_t(4 + k, size=len(idx))
        out.append(pd.Series(x, index=idx, name=f"s{k}"))
    return out


@pytest.mark.parametrize("k", [0, 1, 2])
def test_metrics_match_empyrical(series: list[pd.Series], k: int) -> None:
    r = series[k]
    ours_theirs = [
        (perf.ann_return(r, periods_per_year=252), empyrical.annual_return(r, annualization=252)),
        (perf.ann_vol(r, periods_per_year=252), empyrical.annual_volatility(r, annualization=252)),
        (perf.sharpe(r, periods_per_year=252), empyrical.sharpe_ratio(r, annualization=252)),
        (
            perf.sharpe(r, periods_per_year=252, rf=0.0001),
            empyrical.sharpe_ratio(r, risk_free=0.0001, annualization=252),
        ),
        (perf.sortino(r, periods_per_year=252), empyrical.sortino_ratio(r, annualization=252)),
        (
            perf.downside_deviation(r, periods_per_year=252),
            empyrical.downside_risk(r, annualization=252),
        ),
        (perf.max_drawdown(r), empyrical.max_drawdown(r)),
        (perf.calmar(r, periods_per_year=252), empyrical.calmar_ratio(r, annualization=252)),
        (perf.var(r, alpha=0.05), empyrical.value_at_risk(r, cutoff=0.05)),
        (perf.var(r, alpha=0.01), empyrical.value_at_risk(r, cutoff=0.01)),
        (perf.cvar(r, alpha=0.05), empyrical.conditional_value_at_risk(r, cutoff=0.05)),
        (perf.tail_ratio(r), empyrical.tail_ratio(r)),
    ]
    for i, (ours, theirs) in enumerate(ours_theirs):
        assert ours == pytest.approx(float(theirs), rel=REL), i


def test_monthly_annualization_matches_empyrical(series: list[pd.Series]) -> None:
    monthly = (1 + series[0]).resample("ME").prod() - 1
    assert perf.ann_return(monthly, periods_per_year=12) == pytest.approx(
        empyrical.annual_return(monthly, period="monthly"), rel=REL
    )
    assert perf.sharpe(monthly, periods_per_year=12) == pytest.approx(
        empyrical.sharpe_ratio(monthly, period="monthly"), rel=REL
    )


def test_moments_match_scipy(series: list[pd.Series]) -> None:
    r = series[1].to_numpy()
    assert perf.skew(r) == pytest.approx(sps.skew(r), rel=REL)
    assert perf.kurtosis(r) == pytest.approx(sps.kurtosis(r, fisher=False), rel=REL)


def _sm_hac(y: np.ndarray, x: np.ndarray, lags: int):
    return sm.OLS(y, x).fit(cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": False})


@pytest.mark.parametrize("lags", [0, 1, 5, 21])
def test_newey_west_matches_statsmodels(series: list[pd.Series], lags: int) -> None:
    x = series[0].to_numpy()
    x = x + 0.5 * np.concatenate([[0.0], x[:-1]])  # autocorrelated
    ours = newey_west(x, lags=lags)
    fit = _sm_hac(x, np.ones((x.size, 1)), lags)
    assert ours.mean == pytest.approx(fit.params[0], abs=1e-15)
    assert ours.se == pytest.approx(fit.bse[0], abs=ABS)
    assert ours.t == pytest.approx(fit.tvalues[0], abs=ABS)
    assert ours.p == pytest.approx(fit.pvalues[0], abs=ABS)


def test_ols_hac_matches_statsmodels() -> None:
    rng = np.random.default_rng(0)
    x = sm.add_constant(rng.normal(size=(300, 3)))
    e = rng.normal(size=300)
    e[1:] += 0.4 * e[:-1]
    y = x @ np.array([0.1, 0.5, -0.2, 0.0]) + e
    ours = ols_hac(y, x, lags=6)
    fit = _sm_hac(y, x, 6)
    np.testing.assert_allclose(ours.params, fit.params, rtol=0, atol=ABS)
    np.testing.assert_allclose(ours.cov, fit.cov_params(), rtol=0, atol=ABS)
    np.testing.assert_allclose(ours.t, fit.tvalues, rtol=0, atol=ABS)
    assert ours.r2 == pytest.approx(fit.rsquared, abs=ABS)
    assert ours.adj_r2 == pytest.approx(fit.rsquared_adj, abs=ABS)


@pytest.mark.parametrize("model", ["capm", "ff3", "carhart"])
def test_factor_alphas_match_direct_statsmodels(model: str) -> None:
    """Real Fama–French factors (linearmodels' embedded copy), a synthetic daily strategy."""
    from linearmodels.datasets import french

    raw = french.load()
    factors = pd.DataFrame(
        {
            "mkt_rf": raw["MktRF"].to_numpy(),
            "smb": raw["SMB"].to_numpy(),
            "hml": raw["HML"].to_numpy(),
            "mom": raw["Mom"].to_numpy(),
            "rf": raw["RF"].to_numpy(),
        },
        index=pd.to_datetime(raw["dates"])
        .dt.to_period("M")
        .dt.to_timestamp(how="end")
        .dt.normalize(),
    )
    rng = np.random.default_rng(1)
    days = pd.bdate_range("2005-01-03", "2016-12-30")
    daily = pd.Series(rng.normal(0.0004, 0.012, len(days)), index=days)
    res = factor_alphas(daily, factors, model=model, nw_lags=3)
    # direct: compound by calendar month, join, OLS with the same HAC options
    monthly = (1 + daily).groupby(daily.index.to_period("M")).prod() - 1
    monthly.index = monthly.index.to_timestamp(how="end").normalize()
    names = {
        "capm": ["mkt_rf"],
        "ff3": ["mkt_rf", "smb", "hml"],
        "carhart": ["mkt_rf", "smb", "hml", "mom"],
    }[model]
    data = factors.join(monthly.rename("ret"), how="inner").dropna()
    fit = _sm_hac((data["ret"] - data["rf"]).to_numpy(), sm.add_constant(data[names].to_numpy()), 3)
    assert res.n_obs == len(data) == 144
    assert res.alpha == pytest.approx(fit.params[0], abs=ABS)
    assert res.alpha_ann == pytest.approx(12 * fit.params[0], abs=ABS)
    assert res.t_alpha == pytest.approx(fit.tvalues[0], abs=ABS)
    for j, name in enumerate(names, start=1):
        assert res.betas[name] == pytest.approx(fit.params[j], abs=ABS)
        assert res.t_betas[name] == pytest.approx(fit.tvalues[j], abs=ABS)
    assert res.r2 == pytest.approx(fit.rsquared, abs=ABS)
    assert (res.start, res.end) == (pd.Timestamp("2005-01-31"), pd.Timestamp("2016-12-31"))
