"""Factor alphas: planted alphas and betas, compounding, windows and bad input.

Tolerance: 1e-12 when the returns are an exact linear function of the factors; parity with a
direct statsmodels OLS (1e-10) is in tests/reference/test_metrics_reference.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alphalab.stats.alphas import (
    AlphaInputError,
    compound_monthly,
    factor_alphas,
    factor_alphas_table,
)

TOL = 1e-12


@pytest.fixture(scope="module")
def factors() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    idx = pd.date_range("2000-01-31", periods=120, freq="ME")
    data = rng.normal(0, 0.04, (120, 4))
    table = pd.DataFrame(data, index=idx, columns=["mkt_rf", "smb", "hml", "mom"])
    table["rf"] = 0.002
    return table


def test_exact_planted_alpha_and_betas(factors: pd.DataFrame) -> None:
    f = factors
    ret = f["rf"] + 0.003 + 1.1 * f["mkt_rf"] + 0.3 * f["smb"] - 0.2 * f["hml"] + 0.15 * f["mom"]
    ret.index = ret.index - pd.Timedelta(days=3)  # any date inside the month
    res = factor_alphas(ret, f, model="carhart", frequency="monthly", nw_lags=2)
    assert res.alpha == pytest.approx(0.003, abs=TOL)
    assert res.alpha_ann == pytest.approx(0.036, abs=TOL)
    assert res.betas == pytest.approx(
        {"mkt_rf": 1.1, "smb": 0.3, "hml": -0.2, "mom": 0.15}, abs=TOL
    )
    assert res.r2 == pytest.approx(1.0, abs=TOL)
    assert res.n_obs == 120 and res.nw_lags == 2
    capm = factor_alphas(ret, f, model="capm", frequency="monthly")
    assert list(capm.betas) == ["mkt_rf"] and capm.r2 < 1


def test_noisy_alpha_is_significant(factors: pd.DataFrame) -> None:
    rng = np.random.default_rng(1)
    ret = factors["rf"] + 0.01 + factors["mkt_rf"] + rng.normal(0, 0.01, 120)
    res = factor_alphas(ret, factors, model="ff3", frequency="monthly")
    assert res.t_alpha > 5 and res.p_alpha < 1e-6
    flat = factor_alphas(
        ret - factors["rf"], factors, model="ff3", frequency="monthly", excess=False
    )
    assert flat.alpha == pytest.approx(res.alpha, abs=TOL)


def test_daily_compounding_and_partial_months() -> None:
    days = pd.bdate_range("2020-01-15", "2020-04-10")
    r = pd.Series(0.001, index=days)
    monthly, dropped = compound_monthly(r, min_days=15)
    # January (13 sessions from the 15th) and April (8) are partial
    assert dropped == 2
    assert list(monthly.index) == [pd.Timestamp("2020-02-29"), pd.Timestamp("2020-03-31")]
    assert monthly.iloc[0] == pytest.approx(1.001**20 - 1, abs=TOL)
    assert monthly.iloc[1] == pytest.approx(1.001**22 - 1, abs=TOL)


def test_window_is_the_overlap(factors: pd.DataFrame) -> None:
    f = factors.copy()
    f.loc[f.index[-10:], "mom"] = np.nan  # momentum ends early, as in the embedded data
    ret = pd.Series(0.01, index=f.index[5:])
    ret = ret + f["mkt_rf"].iloc[5:] * 0.5 + np.random.default_rng(2).normal(0, 0.01, 115)
    res = factor_alphas(ret, f, model="carhart", frequency="monthly")
    assert (res.start, res.end, res.n_obs) == (f.index[5], f.index[-11], 105)
    res3 = factor_alphas(ret, f, model="ff3", frequency="monthly")
    assert res3.end == f.index[-1]


def test_date_column_table_and_frame_helper(factors: pd.DataFrame) -> None:
    long = factors.rename_axis("date").reset_index()
    ret = pd.DataFrame({"a": factors["mkt_rf"] + 0.01, "b": factors["smb"]})
    table = factor_alphas_table(ret, long, model="ff3", frequency="monthly", excess={"b": False})
    assert list(table.index) == ["a", "b"]
    assert table.loc["a", "alpha"] == pytest.approx(0.008, abs=TOL)
    assert table.loc["b", "beta_smb"] == pytest.approx(1.0, abs=TOL)
    assert not table.loc["b", "excess"]


def test_bad_input(factors: pd.DataFrame) -> None:
    ret = factors["mkt_rf"]
    with pytest.raises(AlphaInputError, match="percent"):
        factor_alphas(ret, factors * 100, model="capm", frequency="monthly")
    with pytest.raises(AlphaInputError, match=r"needs columns \['mom'\]"):
        factor_alphas(ret, factors.drop(columns="mom"), model="carhart", frequency="monthly")
    shifted = factors.copy()
    shifted.index = shifted.index - pd.Timedelta(days=1)
    with pytest.raises(AlphaInputError, match="month ends"):
        factor_alphas(ret, shifted, model="capm", frequency="monthly")
    with pytest.raises(AlphaInputError, match="model"):
        factor_alphas(ret, factors, model="apt", frequency="monthly")  # type: ignore[arg-type]
    with pytest.raises(AlphaInputError, match="overlap"):
        factor_alphas(ret.iloc[:3], factors, model="ff3", frequency="monthly")
    with pytest.raises(AlphaInputError, match="Series"):
        factor_alphas(ret.to_numpy(), factors, model="ff3")  # type: ignore[arg-type]
