"""Panel and Fama–MacBeth regressions against linearmodels and statsmodels.

Tolerances
----------
* ``TOL = 1e-8`` (relative) for coefficients, standard errors, t-statistics and average R²
  against a direct linearmodels / statsmodels call on the same data.

Correspondences checked (same data, same constant):

* ``unadjusted`` = statsmodels ``nonrobust``; ``robust`` = statsmodels ``HC1``;
* ``clustered`` (linearmodels ``group_debias=True``) = statsmodels ``cluster`` (one- and
  two-way);
* ``kernel`` (Driscoll–Kraay) = statsmodels ``hac-groupsum`` with ``use_correction="hac"``;
* entity effects: slopes = statsmodels OLS with entity dummies;
* Fama–MacBeth = linearmodels ``FamaMacBeth(cov_type="kernel", kernel="bartlett",
  bandwidth=L, debiased=False)``; NW on the slope series = statsmodels OLS on a constant with
  ``cov_type="HAC", maxlags=L``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from linearmodels import FamaMacBeth, PanelOLS

from alphalab.regressions import fama_macbeth, newey_west_mean_se, panel_regression

TOL = 1e-8


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    rng = np.random.default_rng(12)
    n_ent, n_per = 30, 48
    idx = pd.MultiIndex.from_product(
        [
            [f"F{i:02d}" for i in range(n_ent)],
            pd.date_range("2016-01-31", periods=n_per, freq="ME"),
        ],
        names=["ticker", "date"],
    )
    n = len(idx)
    df = pd.DataFrame({"x": rng.normal(size=n), "c": rng.normal(size=n)}, index=idx)
    firm = np.repeat(rng.normal(size=n_ent), n_per)
    time = np.tile(rng.normal(size=n_per), n_ent)
    noise = rng.normal(size=n) * (1 + 0.5 * np.abs(df["x"].to_numpy()))
    df["y"] = 0.1 + 0.3 * df["x"] - 0.2 * df["c"] + 0.5 * firm + 0.5 * time + noise
    df.iloc[::11, 0] = np.nan  # missing regressor values are dropped and counted
    return df


def _sm_inputs(df: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame, np.ndarray, np.ndarray]:
    d = df.dropna()
    ent = pd.factorize(d.index.get_level_values(0))[0]
    tim = np.unique(d.index.get_level_values(1), return_inverse=True)[1]  # chronological codes
    return d["y"], sm.add_constant(d[["x", "c"]]), ent, tim


def _close(a: object, b: object) -> None:
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=TOL, atol=0)


@pytest.mark.parametrize(
    ("cov", "opts", "lm_kw", "sm_kw"),
    [
        ("unadjusted", {}, {"cov_type": "unadjusted"}, {"cov_type": "nonrobust"}),
        ("robust", {}, {"cov_type": "robust"}, {"cov_type": "HC1"}),
        ("clustered", {}, {"cov_type": "clustered", "cluster_entity": True, "group_debias": True},
         {"cov_type": "cluster", "groups": "entity"}),
        ("clustered", {"cluster_entity": False, "cluster_time": True},
         {"cov_type": "clustered", "cluster_time": True, "group_debias": True},
         {"cov_type": "cluster", "groups": "time"}),
        ("clustered", {"cluster_time": True},
         {"cov_type": "clustered", "cluster_entity": True, "cluster_time": True,
          "group_debias": True},
         {"cov_type": "cluster", "groups": "both"}),
        ("kernel", {"kernel_lags": 3},
         {"cov_type": "kernel", "kernel": "bartlett", "bandwidth": 3},
         {"cov_type": "hac-groupsum", "maxlags": 3}),
    ],
)  # fmt: skip
def test_pooled_panel_matches_linearmodels_and_statsmodels(
    panel: pd.DataFrame, cov: str, opts: dict, lm_kw: dict, sm_kw: dict
) -> None:
    res = panel_regression(panel, y="y", x="x", controls=["c"], cov=cov, **opts)  # type: ignore[arg-type]
    y, x, ent, tim = _sm_inputs(panel)
    direct = PanelOLS(y, x).fit(**lm_kw)
    _close(res.table["coef"], direct.params)
    _close(res.table["se"], direct.std_errors)
    _close(res.table["t"], direct.tstats)
    _close(res.table["p"], direct.pvalues)
    kind = sm_kw.pop("cov_type")
    kw: dict = {}
    if kind == "cluster":
        groups = {"entity": ent, "time": tim, "both": np.column_stack([ent, tim])}
        kw = {"cov_kwds": {"groups": groups[sm_kw["groups"]]}}
    elif kind == "hac-groupsum":
        kw = {"cov_kwds": {"time": tim, "maxlags": sm_kw["maxlags"], "use_correction": "hac"}}
    ref = sm.OLS(y, x).fit(cov_type=kind, **kw)
    _close(res.table["coef"], ref.params)
    _close(res.table["se"], ref.bse)
    assert res.nobs == len(y) and res.dropped == len(panel) - len(y)


@pytest.mark.parametrize("cov", ["unadjusted", "robust", "clustered", "kernel"])
def test_effects_match_direct_linearmodels(panel: pd.DataFrame, cov: str) -> None:
    res = panel_regression(
        panel, y="y", x=["x", "c"], entity_effects=True, time_effects=True, cov=cov,
        kernel_lags=2,
    )  # fmt: skip
    y, x, _, _ = _sm_inputs(panel)
    kw = {
        "unadjusted": {"cov_type": "unadjusted"},
        "robust": {"cov_type": "robust"},
        "clustered": {"cov_type": "clustered", "cluster_entity": True, "group_debias": True},
        "kernel": {"cov_type": "kernel", "kernel": "bartlett", "bandwidth": 2},
    }[cov]  # fmt: skip
    direct = PanelOLS(y, x, entity_effects=True, time_effects=True).fit(**kw)
    _close(res.table["coef"], direct.params)
    _close(res.table["se"], direct.std_errors)
    _close(res.r2, direct.rsquared)


def test_entity_effects_slopes_equal_dummy_ols(panel: pd.DataFrame) -> None:
    res = panel_regression(panel, y="y", x="x", controls=["c"], entity_effects=True,
                           cov="unadjusted")  # fmt: skip
    y, x, ent, _ = _sm_inputs(panel)
    dummies = pd.get_dummies(ent, drop_first=True, dtype=float).set_axis(y.index)
    ref = sm.OLS(y, pd.concat([x, dummies], axis=1)).fit()
    _close(res.table.loc[["x", "c"], "coef"], ref.params[["x", "c"]])
    _close(res.table.loc[["x", "c"], "se"], ref.bse[["x", "c"]])


@pytest.mark.parametrize("lags", [0, 3, 6])
def test_fama_macbeth_matches_linearmodels(panel: pd.DataFrame, lags: int) -> None:
    res = fama_macbeth(panel, y="y", x="x", controls=["c"], nw_lags=lags)
    d = panel.dropna()
    lm = FamaMacBeth(d["y"], sm.add_constant(d[["x", "c"]])).fit(
        cov_type="kernel", kernel="bartlett", bandwidth=lags, debiased=False
    )
    _close(res.table["coef"], lm.params)
    _close(res.table["se"], lm.std_errors)
    _close(res.avg_r2, lm.avg_rsquared)
    _close(res.slopes[["const", "x", "c"]], lm.all_params)
    assert res.periods == 48 and res.nw_lags == lags


def test_fama_macbeth_skips_thin_periods_like_linearmodels(panel: pd.DataFrame) -> None:
    """A period with 3 rows and 3 regressors: linearmodels estimates it (n = k), ours skips it
    by default (min_obs = k + 1) and matches linearmodels once the period is left out."""
    thin_date = panel.index.get_level_values(1).unique()[5]
    keep = panel.index.get_level_values(1) != thin_date
    thin = panel.loc[~keep].dropna().iloc[:3]
    data = pd.concat([panel.loc[keep], thin])
    res = fama_macbeth(data, y="y", x="x", controls=["c"], nw_lags=2)
    assert res.skipped == [thin_date] and res.periods == 47
    d = panel.loc[keep].dropna()
    lm = FamaMacBeth(d["y"], sm.add_constant(d[["x", "c"]])).fit(
        cov_type="kernel", kernel="bartlett", bandwidth=2, debiased=False
    )
    _close(res.table["coef"], lm.params)
    _close(res.table["se"], lm.std_errors)


def test_newey_west_on_slopes_matches_statsmodels(panel: pd.DataFrame) -> None:
    res = fama_macbeth(panel, y="y", x="x", controls=["c"], nw_lags=4)
    for name in ("const", "x", "c"):
        series = res.slopes[name].to_numpy()
        ref = sm.OLS(series, np.ones_like(series)).fit(cov_type="HAC", cov_kwds={"maxlags": 4})
        _close(res.table.at[name, "se"], ref.bse[0])
        _close(newey_west_mean_se(series, 4), ref.bse[0])
