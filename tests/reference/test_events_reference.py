"""Event-study statistics against their published formulas, statsmodels/scipy, and simulation.

Tolerances
----------
* ``RTOL = 1e-10`` — a statistic against its formula worked by hand (numbers written out) or
  against statsmodels / scipy on the same numbers.
* Size: under the null, 1000 seeded replications of 50 firms, every 5 % test that is meant to be
  well specified rejects between ``SIZE_LO = 3 %`` and ``SIZE_HI = 8 %`` (binomial sd ≈ 0.7 %).
  Under clustered event dates with cross-correlated residuals (r ≈ 0.1) only Kolari–Pynnönen and
  Corrado must hold; BMP must over-reject (> 15 %), which is what KP fixes.
* Power: with a planted day-0 abnormal return every test rejects in at least ``POWER = 80 %`` of
  200 replications.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from alphalab.events import (
    bmp_t,
    calendar_time_alpha,
    corrado_rank_test,
    cross_sectional_t,
    event_study,
    event_study_arrays,
    generalized_sign_z,
    kolari_pynnonen_t,
    patell_z,
    standardized_ranks,
    welch_t,
)

RTOL = 1e-10
SIZE_LO, SIZE_HI = 0.03, 0.08
POWER = 0.80
TESTS = ("cs", "patell", "bmp", "kp", "corrado", "gsign")


# --------------------------------------------------------------------------------------------
# hand-worked examples
# --------------------------------------------------------------------------------------------
def _one_firm_market_model() -> tuple[np.ndarray, ...]:
    """Estimation days −6…−2, a gap day −1, event days 0 and +1 (see the test docstrings)."""
    rel = np.arange(-6, 2)
    rm = np.array([-0.02, -0.01, 0.00, 0.01, 0.02, 0.0, 0.01, 0.03])
    r = np.array([-0.03, -0.01, 0.01, 0.01, 0.03, 0.0, 0.02, 0.05])
    x = np.stack([np.ones_like(rm), rm], axis=-1)
    return r[None], x[None], np.zeros((1, rel.size)), rel


def test_patell_sar_hand_worked() -> None:
    """Market model on 5 days: R̄m = 0, Sxx = 0.001, β = 0.0014/0.001 = 1.4, α = 0.002.

    Residuals −0.004, 0.002, 0.008, −0.006, 0 → SSE = 120e-6, s² = SSE/(L − 2) = 40e-6.
    Day +1 (Rm = 0.03, R = 0.05): AR = 0.05 − 0.002 − 1.4·0.03 = 0.006; the Patell correction
    1 + 1/L + (Rm − R̄m)²/Sxx = 1 + 0.2 + 0.9 = 2.1, so SAR = 0.006 / √(40e-6 · 2.1) = 0.006/√8.4e-5.
    Window [0, +1] (Rm 0.01, 0.03; R 0.02, 0.05): AR 0.004, 0.006, CAR = 0.010 and
    Var(CAR) = s² (L_w + L_w²/L + (Σ(Rm − R̄m))²/Sxx) = 40e-6 (2 + 0.8 + 1.6) = 176e-6.
    """
    r, x, off, rel = _one_firm_market_model()
    res = event_study_arrays(
        r, x, off, rel, estimation_window=(-6, -2), event_windows=[(1, 1), (0, 1)],
        min_estimation_obs=5,
    )  # fmt: skip
    np.testing.assert_allclose(res.fit.params[0], [0.002, 1.4], rtol=RTOL)
    np.testing.assert_allclose(res.fit.s2[0], 40e-6, rtol=RTOL)
    np.testing.assert_allclose(res.car["p1_p1"][0], 0.006, rtol=RTOL)
    np.testing.assert_allclose(res.scar["p1_p1"][0], 0.006 / np.sqrt(8.4e-5), rtol=RTOL)
    assert not np.isclose(res.scar["p1_p1"][0], 0.006 / np.sqrt(40e-6))  # uncorrected SAR
    np.testing.assert_allclose(res.car["0_p1"][0], 0.010, rtol=RTOL)
    np.testing.assert_allclose(res.scar["0_p1"][0], 0.010 / np.sqrt(176e-6), rtol=RTOL)


def test_patell_z_hand_worked() -> None:
    """Z = Σ SCAR / √Σ d/(d − 2): SCAR 1, 2, 0.5, 1.5 and d = 8, 10, 12, 20."""
    scar = np.array([1.0, 2.0, 0.5, 1.5])
    dof = np.array([8.0, 10.0, 12.0, 20.0])
    expected = 5.0 / np.sqrt(8 / 6 + 10 / 8 + 12 / 10 + 20 / 18)
    out = patell_z(scar, dof)
    np.testing.assert_allclose(out.statistic, expected, rtol=RTOL)
    np.testing.assert_allclose(out.p_value, 2 * stats.norm.sf(expected), rtol=RTOL)


def test_bmp_and_kp_hand_worked() -> None:
    """SCAR 1, 2, 0.5, 1.5: mean 1.25, s² = 1.25/3, t_BMP = 1.25·√4/s = √15.

    With r̄ = 0.1 and N = 4: t_KP = √15 · √((1 − 0.1)/(1 + 3·0.1)) = √(15·0.9/1.3).
    """
    scar = np.array([1.0, 2.0, 0.5, 1.5])
    np.testing.assert_allclose(bmp_t(scar).statistic, np.sqrt(15.0), rtol=RTOL)
    kp = kolari_pynnonen_t(scar, np.array(0.1))
    np.testing.assert_allclose(kp.statistic, np.sqrt(15 * 0.9 / 1.3), rtol=RTOL)
    np.testing.assert_allclose(kp.p_value, 2 * stats.t.sf(np.sqrt(15 * 0.9 / 1.3), 3), rtol=RTOL)
    ref = stats.ttest_1samp(scar, 0.0)
    np.testing.assert_allclose(bmp_t(scar).p_value, ref.pvalue, rtol=RTOL)


def test_corrado_hand_worked() -> None:
    """Two firms, T = 4 combined days, event on the last day.

    Firm A ARs 0.01, −0.02, 0.00, 0.03 → ranks 3, 1, 2, 4; firm B 0.02, 0.01, −0.01, 0.05 → 3,
    2, 1, 4. Deviations from (T + 1)/2 = 2.5: A .5, −1.5, −.5, 1.5; B .5, −.5, −1.5, 1.5; daily
    means .5, −1, −1, 1.5; S² = (0.25 + 1 + 1 + 2.25)/4 = 1.125; T_rank = 1.5/√1.125 = √2.
    Two-day window (days 3–4): (−1 + 1.5)/(√2 · √1.125) = 1/3.
    """
    ar = np.array([[0.01, -0.02, 0.00, 0.03], [0.02, 0.01, -0.01, 0.05]])
    u = standardized_ranks(ar)
    np.testing.assert_allclose(u * 5, [[0.5, -1.5, -0.5, 1.5], [0.5, -0.5, -1.5, 1.5]], rtol=RTOL)
    day0 = corrado_rank_test(u, np.array([False, False, False, True]))
    np.testing.assert_allclose(day0.statistic, np.sqrt(2.0), rtol=RTOL)
    np.testing.assert_allclose(day0.p_value, 2 * stats.norm.sf(np.sqrt(2.0)), rtol=RTOL)
    two = corrado_rank_test(u, np.array([False, False, True, True]))
    np.testing.assert_allclose(two.statistic, 1.0 / 3.0, rtol=RTOL)
    # the common mistake, per-firm variance (T + 1)(2T + 1)/6 = 7.5 instead of the series S²
    assert not np.isclose(day0.statistic, 1.5 / np.sqrt(7.5 / 2))


def test_corrado_zivney_missing_hand_worked() -> None:
    """Firm A misses day 2: M = 3, ranks 2, ·, 1, 3, U = K/4 − ½ = 0, ·, −.25, .25.

    Firm B complete: U = K/5 − ½ = .1, −.1, −.3, .3. Daily means .05, −.1, −.275, .275;
    S² = (.0025 + .01 + .075625 + .075625)/4; T_rank = .275/S.
    """
    ar = np.array([[0.01, np.nan, 0.00, 0.03], [0.02, 0.01, -0.01, 0.05]])
    u = standardized_ranks(ar)
    np.testing.assert_allclose(u, [[0, np.nan, -0.25, 0.25], [0.1, -0.1, -0.3, 0.3]], atol=1e-15)
    s = np.sqrt((0.0025 + 0.01 + 0.075625 + 0.075625) / 4)
    out = corrado_rank_test(u, np.array([False, False, False, True]))
    np.testing.assert_allclose(out.statistic, 0.275 / s, rtol=RTOL)


def test_generalized_sign_hand_worked() -> None:
    """p̂ = mean(0.4, 0.5, 0.6, 0.5) = 0.5; CARs .01, .02, −.01, .03 → w = 3, N = 4.

    Z = (3 − 4·0.5)/√(4·0.5·0.5) = 1.
    """
    out = generalized_sign_z(np.array([0.01, 0.02, -0.01, 0.03]), np.array([0.4, 0.5, 0.6, 0.5]))
    np.testing.assert_allclose(out.statistic, 1.0, rtol=RTOL)
    np.testing.assert_allclose(out.p_value, 2 * stats.norm.sf(1.0), rtol=RTOL)


def test_bhar_hand_worked() -> None:
    """Constant mean μ = 0.01 (estimation returns 0, .02, .01, .005, .015).

    Window [0, +1] returns .02, −.01: BHAR = 1.02·0.99 − 1.01² = −0.0103; CAR = −0.01.
    """
    rel = np.arange(-5, 2)
    r = np.array([[0.0, 0.02, 0.01, 0.005, 0.015, 0.02, -0.01]])
    x = np.ones((1, rel.size, 1))
    res = event_study_arrays(
        r, x, np.zeros_like(r), rel, estimation_window=(-5, -1), event_windows=[(0, 1)],
        min_estimation_obs=5,
    )  # fmt: skip
    np.testing.assert_allclose(res.fit.params[0, 0], 0.01, rtol=RTOL)
    np.testing.assert_allclose(res.bhar["0_p1"][0], 1.02 * 0.99 - 1.01**2, rtol=RTOL)
    np.testing.assert_allclose(res.car["0_p1"][0], -0.01, rtol=RTOL)


def test_cross_sectional_and_welch_match_scipy() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(0.01, 0.02, 23), rng.normal(0.0, 0.04, 17)
    cs = cross_sectional_t(a)
    ref = stats.ttest_1samp(a, 0.0)
    np.testing.assert_allclose([cs.statistic, cs.p_value], [ref.statistic, ref.pvalue], rtol=RTOL)
    w, df = welch_t(np.r_[a, np.nan], b)
    ref = stats.ttest_ind(a, b, equal_var=False)
    np.testing.assert_allclose([w.statistic, w.p_value], [ref.statistic, ref.pvalue], rtol=RTOL)
    np.testing.assert_allclose(df, ref.df, rtol=RTOL)


# --------------------------------------------------------------------------------------------
# full pipeline against statsmodels
# --------------------------------------------------------------------------------------------
def _study_frame(n_firms: int = 6, seed: int = 11) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2021-01-04", periods=160)
    mkt = pd.Series(rng.normal(0.0005, 0.01, dates.size), index=dates)
    beta = rng.uniform(0.5, 1.5, n_firms)
    ret = mkt.to_numpy()[:, None] * beta + rng.normal(0, 0.02, (dates.size, n_firms))
    return pd.DataFrame(ret, index=dates, columns=[f"F{i}" for i in range(n_firms)]), mkt


def test_market_model_pipeline_matches_statsmodels() -> None:
    """α, β, s from sm.OLS; day-0 SAR = AR / se_obs (statsmodels prediction standard error);
    SCAR = CAR / √(L_w s² + x_w' Cov(b) x_w); BMP, Patell, cross-sectional t from those."""
    ret, mkt = _study_frame()
    day0 = ret.index[130]
    events = pd.DataFrame({"ticker": ret.columns, "event_date": day0})
    res = event_study(
        ret, events, market=mkt, estimation_window=(-100, -11), event_windows=[(0, 0), (-1, 2)],
        min_estimation_obs=60,
    )  # fmt: skip
    sar, scar, car, dof = [], [], [], []
    for tic in ret.columns:
        est = slice(130 - 100, 130 - 11 + 1)
        fit = sm.OLS(ret[tic].iloc[est].to_numpy(), sm.add_constant(mkt.iloc[est].to_numpy())).fit()
        x0 = np.array([[1.0, mkt.iloc[130]]])
        pred = fit.get_prediction(x0)
        sar.append((ret[tic].iloc[130] - pred.predicted[0]) / pred.se_obs[0])
        xw = np.column_stack([np.ones(4), mkt.iloc[129:133].to_numpy()])
        arw = ret[tic].iloc[129:133].to_numpy() - xw @ fit.params
        var = 4 * fit.scale + xw.sum(0) @ fit.cov_params() @ xw.sum(0)
        car.append(arw.sum())
        scar.append(arw.sum() / np.sqrt(var))
        dof.append(fit.df_resid)
        row = res.firms.set_index("ticker").loc[tic]
        np.testing.assert_allclose(row[["alpha", "beta"]].to_numpy(float), fit.params, rtol=RTOL)
        np.testing.assert_allclose(row["sigma"], np.sqrt(fit.scale), rtol=RTOL)
    firms = res.firms.set_index("ticker").loc[list(ret.columns)]
    np.testing.assert_allclose(firms["SCAR_0_0"], sar, rtol=RTOL)
    np.testing.assert_allclose(firms["SCAR_m1_p2"], scar, rtol=RTOL)
    np.testing.assert_allclose(firms["CAR_m1_p2"], car, rtol=RTOL)
    row = res.summary.set_index(["group", "window"]).loc[("all", "m1_p2")]
    np.testing.assert_allclose(row["bmp_t"], stats.ttest_1samp(scar, 0).statistic, rtol=RTOL)
    np.testing.assert_allclose(row["t_cs"], stats.ttest_1samp(car, 0).statistic, rtol=RTOL)
    d = np.array(dof)
    np.testing.assert_allclose(row["patell_z"], sum(scar) / np.sqrt((d / (d - 2)).sum()), rtol=RTOL)


def test_ff3_pipeline_matches_statsmodels() -> None:
    ret, mkt = _study_frame(n_firms=3, seed=5)
    rng = np.random.default_rng(6)
    fac = pd.DataFrame(
        {"mkt_rf": mkt - 0.0001, "smb": rng.normal(0, 0.005, mkt.size),
         "hml": rng.normal(0, 0.005, mkt.size), "rf": 0.0001},
        index=mkt.index,
    )  # fmt: skip
    events = pd.DataFrame({"ticker": ret.columns, "event_date": ret.index[140]})
    res = event_study(
        ret, events, factors=fac, model="ff3", estimation_window=(-120, -6),
        event_windows=[(0, 0)], min_estimation_obs=60,
    )  # fmt: skip
    est = slice(140 - 120, 140 - 6 + 1)
    xf = sm.add_constant(fac[["mkt_rf", "smb", "hml"]].to_numpy())
    for tic in ret.columns:
        fit = sm.OLS((ret[tic] - fac["rf"]).to_numpy()[est], xf[est]).fit()
        row = res.firms.set_index("ticker").loc[tic]
        params = row[["alpha", "b_mkt", "b_smb", "b_hml"]].to_numpy(float)
        np.testing.assert_allclose(params, fit.params, rtol=RTOL)
        ar0 = ret[tic].iloc[140] - fac["rf"].iloc[140] - xf[140] @ fit.params
        np.testing.assert_allclose(row["CAR_0_0"], ar0, rtol=RTOL)


def test_kp_rbar_equals_mean_residual_correlation() -> None:
    """Common event date: r̄ = mean off-diagonal of np.corrcoef of the estimation residuals."""
    ret, mkt = _study_frame(n_firms=5, seed=8)
    common = np.random.default_rng(9).normal(0, 0.01, ret.shape[0])
    ret = ret.add(common, axis=0)
    events = pd.DataFrame({"ticker": ret.columns, "event_date": ret.index[150]})
    res = event_study(
        ret, events, market=mkt, estimation_window=(-140, -6), event_windows=[(0, 0), (-2, 2)],
        min_estimation_obs=100,
    )  # fmt: skip
    est = slice(150 - 140, 150 - 6 + 1)
    resid = []
    for tic in ret.columns:
        x = sm.add_constant(mkt.iloc[est].to_numpy())
        resid.append(sm.OLS(ret[tic].iloc[est].to_numpy(), x).fit().resid)
    c = np.corrcoef(np.array(resid))
    expected = c[~np.eye(5, dtype=bool)].mean()
    got = res.summary.set_index(["group", "window"])["r_bar"]
    np.testing.assert_allclose(got.loc[("all", "0_0")], expected, rtol=RTOL)
    np.testing.assert_allclose(got.loc[("all", "m2_p2")], expected, rtol=RTOL)
    assert expected > 0.1  # the planted common component (rho = 0.2) is visible


def test_calendar_time_hand_worked() -> None:
    """A's event in January, B's in February, H = 2 months from the month after the event.

    Feb holds A; Mar holds A and B (equal weight); Apr holds B. Monthly returns compound the
    daily returns: every day A earns 1 % and B 2 %, so a 20-session month is 1.01²⁰ − 1.
    """
    dates = pd.bdate_range("2022-01-03", "2022-06-30")
    ret = pd.DataFrame({"A": 0.01, "B": 0.02}, index=dates)
    months = pd.period_range("2022-01", "2022-06", freq="M")
    rng = np.random.default_rng(1)
    fac = pd.DataFrame(
        {"mkt_rf": rng.normal(0, 0.04, 6), "smb": rng.normal(0, 0.02, 6),
         "hml": rng.normal(0, 0.02, 6), "rf": 0.001},
        index=months.to_timestamp(),
    )  # fmt: skip
    events = pd.DataFrame({"ticker": ["A", "B"], "event_date": ["2022-01-15", "2022-02-10"]})
    res = calendar_time_alpha(ret, events, fac, horizon_months=2, model="capm", nw_lags=0)
    n_days = pd.Series(1, index=dates).groupby(dates.to_period("M")).sum()
    port = res.portfolio
    assert list(port.index.astype(str)) == ["2022-02", "2022-03", "2022-04"]
    assert port["n_firms"].tolist() == [1, 2, 1]
    a = 1.01 ** n_days.to_numpy() - 1
    b = 1.02 ** n_days.to_numpy() - 1
    np.testing.assert_allclose(port["ret"], [a[1], (a[2] + b[2]) / 2, b[3]], rtol=RTOL)
    np.testing.assert_allclose(port["excess"], port["ret"] - 0.001, rtol=RTOL)
    # regression wiring: the same numbers through statsmodels HAC (maxlags 0, no correction)
    x = sm.add_constant(fac["mkt_rf"].iloc[1:4].to_numpy())
    ref = sm.OLS(port["excess"].to_numpy(), x).fit(cov_type="HAC", cov_kwds={"maxlags": 0})
    np.testing.assert_allclose(res.coefficients["coef"], ref.params, rtol=RTOL)
    np.testing.assert_allclose(res.coefficients["se"], ref.bse, rtol=RTOL)


def test_calendar_time_recovers_planted_alpha() -> None:
    """Firms earn 0.5 % a month over a one-factor model; alpha ≈ 0.005 (3 NW standard errors)."""
    rng = np.random.default_rng(21)
    dates = pd.bdate_range("2010-01-01", "2019-12-31")
    months = dates.to_period("M")
    mk = pd.Series(rng.normal(0.008, 0.04, months.nunique()), index=months.unique())
    per_day = (mk / pd.Series(months).value_counts().reindex(mk.index)).reindex(months).to_numpy()
    tickers = [f"S{i}" for i in range(30)]
    daily = per_day[:, None] + 0.005 / 21 + rng.normal(0, 0.004, (dates.size, 30))
    ret = pd.DataFrame(daily, index=dates, columns=tickers)
    mkt_month = np.expm1(np.log1p(pd.Series(per_day, index=dates)).groupby(months).sum())
    fac = pd.DataFrame({"mkt_rf": mkt_month, "rf": 0.0})
    ev_dates = rng.choice(dates[:-300], size=30)
    events = pd.DataFrame({"ticker": tickers, "event_date": ev_dates})
    res = calendar_time_alpha(ret, events, fac, horizon_months=24, model="capm")
    assert res.nw_lags == int(np.floor(4 * (res.n_months / 100) ** (2 / 9)))
    assert abs(res.alpha - 0.005) < 3 * res.coefficients.at["alpha", "se"]
    assert res.t_alpha > 3


# --------------------------------------------------------------------------------------------
# size and power by simulation (vectorized over replications)
# --------------------------------------------------------------------------------------------
def _simulate(
    reps: int, n: int, *, clustered: bool, rng: np.random.Generator, rho: float = 0.0,
    shock: float = 0.0,
) -> tuple[np.ndarray, ...]:  # fmt: skip
    """Market model with t(5) market and residuals; clustered = one event date per replication
    (common market days) plus a common factor giving residual correlation ``rho``."""
    rel = np.arange(-250, 6)
    size = (reps, 1 if clustered else n, rel.size)
    scale = np.sqrt(5 / 3)
    mkt = np.broadcast_to(rng.standard_t(5, size) * 0.01 / scale, (reps, n, rel.size))
    common = rng.normal(0, 1, size)
    beta = rng.uniform(0.5, 1.5, (reps, n, 1))
    sig = rng.uniform(0.01, 0.03, (reps, n, 1))
    load = rng.uniform(0.5, 1.5, (reps, n, 1)) * np.sqrt(rho) * sig
    eps = rng.standard_t(5, (reps, n, rel.size)) / scale * sig * np.sqrt(1 - rho)
    y = 0.0002 + beta * mkt + load * common + eps
    y[..., rel == 0] += shock
    x = np.stack([np.ones_like(y), mkt], axis=-1)
    return y, x, np.zeros_like(y), rel


def _rejection_rates(
    reps: int, *, clustered: bool, seed: int, rho: float = 0.0, shock: float = 0.0
) -> dict[tuple[str, str], float]:
    rng = np.random.default_rng(seed)
    hits: dict[tuple[str, str], list[np.ndarray]] = {}
    for _ in range(reps // 100):
        y, x, off, rel = _simulate(100, 50, clustered=clustered, rng=rng, rho=rho, shock=shock)
        out = event_study_arrays(y, x, off, rel, min_estimation_obs=100)
        for (lab, _code), res in out.tests.items():
            for t in TESTS:
                hits.setdefault((lab, t), []).append(res[f"{t}_p"] < 0.05)
    return {k: float(np.concatenate(v).mean()) for k, v in hits.items()}


@pytest.mark.slow
def test_size_independent_events() -> None:
    rates = _rejection_rates(1000, clustered=False, seed=20240501)
    bad = {k: v for k, v in rates.items() if not SIZE_LO <= v <= SIZE_HI}
    assert not bad, f"rejection rates outside [{SIZE_LO}, {SIZE_HI}]: {bad}"


@pytest.mark.slow
def test_size_clustered_events_kp_and_corrado() -> None:
    rates = _rejection_rates(1000, clustered=True, seed=20240502, rho=0.1)
    for lab in ("m1_p1", "0_0", "0_p5", "m5_p5"):
        assert SIZE_LO <= rates[(lab, "kp")] <= SIZE_HI, (lab, rates[(lab, "kp")])
        assert SIZE_LO <= rates[(lab, "corrado")] <= SIZE_HI, (lab, rates[(lab, "corrado")])
        assert rates[(lab, "bmp")] > 0.15, (lab, rates[(lab, "bmp")])  # BMP over-rejects


def test_power_planted_abnormal_return() -> None:
    indep = _rejection_rates(200, clustered=False, seed=7, shock=0.01)
    for t in TESTS:
        assert indep[("0_0", t)] >= POWER, (t, indep[("0_0", t)])
    clus = _rejection_rates(200, clustered=True, seed=8, rho=0.1, shock=0.03)
    for t in ("kp", "corrado"):
        assert clus[("0_0", t)] >= POWER, (t, clus[("0_0", t)])


def test_dataframe_path_equals_batched_core() -> None:
    """event_study on a frame gives the statistics of event_study_arrays on the same arrays."""
    rng = np.random.default_rng(4)
    y, x, off, rel = _simulate(2, 12, clustered=True, rng=rng, rho=0.1)
    batched = event_study_arrays(y, x, off, rel, min_estimation_obs=100)
    dates = pd.bdate_range("2019-01-01", periods=rel.size)
    for rep in range(2):
        ret = pd.DataFrame(y[rep].T, index=dates, columns=[f"F{i}" for i in range(12)])
        mkt = pd.Series(x[rep, 0, :, 1], index=dates)
        events = pd.DataFrame({"ticker": ret.columns, "event_date": dates[250]})
        res = event_study(ret, events, market=mkt)
        summ = res.summary.set_index(["group", "window"])
        for lab in ("m1_p1", "0_p5"):
            got = summ.loc[("all", lab)]
            want = batched.tests[(lab, None)]
            for name, col in (("kp_stat", "kp_t"), ("corrado_stat", "corrado_t"),
                              ("gsign_stat", "gsign_z"), ("patell_stat", "patell_z")):  # fmt: skip
                np.testing.assert_allclose(got[col], want[name][rep], rtol=RTOL)
