"""Power analysis by simulation (alphalab.power) against analytic t-test power.

References (independent implementations): statsmodels ``TTestIndPower`` (two-sample t-test)
and ``TTestPower`` (one-sample t-test), noncentral-t power (Cohen 1988, ch. 2).

Tolerances:
- simulated power vs analytic power in the independent, normal case: within 4 Monte Carlo
  standard errors, SE = sqrt(p(1−p)/n_sims) with n_sims = 20 000 (≈ 0.011 at p = 0.5);
- simulated MDE: the analytic power *at the simulated MDE* is within 4 SE of the target 0.8;
- empirical size at effect 0: within 4 SE of α = 0.05;
- shape estimates from simulated equicorrelated returns (σ = 0.10, ρ = 0.30; 400 periods ×
  30 firms): σ within 3 %, ρ within 0.03;
- everything else (step-function identities, determinism, errors) is exact.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.power import TTestIndPower, TTestPower

from alphalab import power as pw
from alphalab.panel import Panel
from alphalab.reporting.metrics import check_metrics

N_SIMS = 20_000


def _se(p: float, n: int = N_SIMS) -> float:
    return float(np.sqrt(max(p * (1 - p), 1e-4) / n))


@pytest.fixture(scope="module")
def indep() -> pw.StudyShape:
    """40 names in quartiles (10 per leg), 11 periods, σ = 10 %, independent, normal."""
    return pw.StudyShape(names=(40,) * 11, vol=0.10, rho=0.0, n_groups=4)


@pytest.fixture(scope="module")
def pooled_draws(indep: pw.StudyShape) -> pw.NullDraws:
    return pw.simulate_null(indep, n_sims=N_SIMS, test="pooled_t", seed=11)


@pytest.fixture(scope="module")
def ls_draws(indep: pw.StudyShape) -> pw.NullDraws:
    return pw.simulate_null(indep, n_sims=N_SIMS, test="long_short_t", seed=12)


@pytest.mark.parametrize("effect", [0.0, 0.01, 0.02, 0.035, 0.05])
def test_pooled_t_reproduces_ttestindpower(pooled_draws: pw.NullDraws, effect: float) -> None:
    # 10 top and 10 bottom names × 11 periods: two samples of 110 firm-periods, sd 0.10
    analytic = TTestIndPower().power(effect_size=effect / 0.10, nobs1=110, alpha=0.05, ratio=1.0)
    sim = float(pw.power_at(pooled_draws, effect))
    assert abs(sim - analytic) < 4 * _se(analytic)


@pytest.mark.parametrize("effect", [0.0, 0.02, 0.04, 0.06])
def test_long_short_t_reproduces_ttestpower(ls_draws: pw.NullDraws, effect: float) -> None:
    # per-period long-short sd = 0.10·sqrt(1/10 + 1/10); one-sample t over 11 periods
    d = effect / (0.10 * np.sqrt(0.2))
    analytic = TTestPower().power(effect_size=d, nobs=11, alpha=0.05, alternative="two-sided")
    sim = float(pw.power_at(ls_draws, effect))
    assert abs(sim - analytic) < 4 * _se(analytic)


def test_two_groups_unbalanced_pooled_matches_ttestindpower() -> None:
    # 7 names in 2 groups: the engine's bins (qcut rule) are 4 (bottom) and 3 (top) per period
    shape = pw.StudyShape(names=(7,) * 20, vol=0.05, rho=0.0, n_groups=2)
    assert shape.group_sizes.tolist() == [[4, 3]] * 20
    draws = pw.simulate_null(shape, n_sims=N_SIMS, test="pooled_t", seed=3)
    analytic = TTestIndPower().power(effect_size=0.4, nobs1=60, alpha=0.05, ratio=80 / 60)
    sim = float(pw.power_at(draws, 0.4 * 0.05))
    assert abs(sim - analytic) < 4 * _se(analytic)


def test_mde_matches_statsmodels_solve_power(
    pooled_draws: pw.NullDraws, ls_draws: pw.NullDraws
) -> None:
    mde = pw.minimum_detectable_effect(pooled_draws, power=0.8)
    at = TTestIndPower().power(effect_size=mde / 0.10, nobs1=110, alpha=0.05, ratio=1.0)
    assert abs(at - 0.8) < 4 * _se(0.8)
    mde_ls = pw.minimum_detectable_effect(ls_draws, power=0.8)
    at_ls = TTestPower().power(effect_size=mde_ls / (0.10 * np.sqrt(0.2)), nobs=11, alpha=0.05)
    assert abs(at_ls - 0.8) < 4 * _se(0.8)


def test_analytic_mde_matches_statsmodels(indep: pw.StudyShape) -> None:
    solved = TTestIndPower().solve_power(effect_size=None, nobs1=110, alpha=0.05, power=0.8)
    assert pw.analytic_mde(indep, test="pooled_t") == pytest.approx(solved * 0.10, rel=1e-6)
    one = TTestPower().solve_power(effect_size=None, nobs=11, alpha=0.05, power=0.8)
    assert pw.analytic_mde(indep) == pytest.approx(one * 0.10 * np.sqrt(0.2), rel=1e-6)


def test_power_analysis_reports_named_effect_and_size(indep: pw.StudyShape) -> None:
    res = pw.power_analysis(indep, effect=0.022, n_sims=4000, seed=5)
    assert abs(res.size - 0.05) < 4 * _se(0.05, 4000)
    assert res.power == pytest.approx(
        float(pw.power_at(pw.simulate_null(indep, n_sims=4000, seed=5), 0.022))
    )
    m = res.to_metrics()
    assert m["mde_ann"] == pytest.approx(4 * res.mde) and m["n_obs"] == 11
    check_metrics({"power": m, "conventions": {}}, extra_keys=pw.METRIC_KEYS)
    assert "per quarter" in res.to_markdown()
    assert res.curve["power"].is_monotonic_increasing


def test_correlation_cancels_in_long_short_but_not_in_pooled_size() -> None:
    """Equicorrelation: the long-short t keeps its size; the pooled t (ignoring it) becomes conservative."""
    shape = pw.StudyShape(names=(40,) * 11, vol=0.10, rho=0.5, n_groups=4)
    ls = pw.simulate_null(shape, n_sims=N_SIMS, seed=1)
    assert abs(float(pw.power_at(ls, 0.0)) - 0.05) < 4 * _se(0.05)
    pooled = pw.simulate_null(shape, n_sims=N_SIMS, test="pooled_t", seed=1)
    assert float(pw.power_at(pooled, 0.0)) < 0.05 - 4 * _se(0.05)
    # and the long-short MDE shrinks by sqrt(1 - rho) (normal theory)
    assert pw.analytic_mde(shape) == pytest.approx(
        pw.analytic_mde(pw.StudyShape(names=(40,) * 11, vol=0.10, rho=0.0)) * np.sqrt(0.5)
    )


def test_same_seed_same_answer(indep: pw.StudyShape) -> None:
    a = pw.power_analysis(indep, effect=0.03, n_sims=500, seed=9)
    b = pw.power_analysis(indep, effect=0.03, n_sims=500, seed=9)
    assert a.mde == b.mde and a.power == b.power
    c = pw.power_analysis(indep, effect=0.03, n_sims=500, seed=10)
    assert c.mde != a.mde


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    names=st.integers(8, 60),
    periods=st.integers(2, 15),
    rho=st.floats(0.0, 0.8),
    target=st.floats(0.2, 0.95),
)
def test_mde_is_the_first_effect_reaching_the_target(
    seed: int, names: int, periods: int, rho: float, target: float
) -> None:
    shape = pw.StudyShape(names=(names,) * periods, vol=0.1, rho=rho, n_groups=4)
    draws = pw.simulate_null(shape, n_sims=300, seed=seed)
    grid = np.linspace(0, 1.0, 201)
    one = pw.power_at(draws, grid, alternative="larger")
    assert np.all(np.diff(one) >= 0)  # one-sided power rises with the effect
    mde = pw.minimum_detectable_effect(draws, power=target, alternative="larger")
    assert float(pw.power_at(draws, mde, alternative="larger")) >= target
    assert float(pw.power_at(draws, np.nextafter(mde, 0.0), alternative="larger")) < target
    # a negative effect of the same size is found by the 'smaller' alternative on mirrored draws
    mirrored = pw.NullDraws(-draws.diff, draws.se, draws.df, draws.test, seed)
    assert pw.minimum_detectable_effect(mirrored, power=target, alternative="smaller") == mde
    two = pw.minimum_detectable_effect(draws, power=target)
    assert float(pw.power_at(draws, two)) >= target


def test_shape_estimates_recover_known_vol_and_rho() -> None:
    rng = np.random.default_rng(0)
    t, n, sigma, rho = 400, 30, 0.10, 0.30
    f = rng.standard_normal((t, 1))
    e = rng.standard_normal((t, n))
    r = sigma * (np.sqrt(rho) * f + np.sqrt(1 - rho) * e)
    r[rng.uniform(size=r.shape) < 0.05] = np.nan  # some missing cells
    shape = pw.shape_from_returns(pd.DataFrame(r), n_groups=4, tails="normal")
    assert shape.vol == pytest.approx(sigma, rel=0.03)
    assert shape.rho == pytest.approx(rho, abs=0.03)
    assert shape.n_periods == t and max(shape.names) <= n
    assert shape.tail_df is None


def test_shape_estimates_fat_tails() -> None:
    rng = np.random.default_rng(1)
    r = rng.standard_t(6, size=(300, 20)) * 0.05  # excess kurtosis 6 / (6 - 4) = 3
    shape = pw.shape_from_returns(pd.DataFrame(r), tails="estimated")
    assert shape.tail_df is not None and 4.5 < shape.tail_df < 9


def _panel(n_days: int = 504, n: int = 24, daily_sd: float = 0.01) -> Panel:
    rng = np.random.default_rng(4)
    dates = pd.bdate_range("2021-01-04", periods=n_days, name="date")
    tickers = pd.Index([f"T{i:02d}" for i in range(n)], name="ticker")
    ret = pd.DataFrame(daily_sd * rng.standard_normal((n_days, n)), dates, tickers)
    close = 50 * (1 + ret).cumprod()
    score = pd.DataFrame(rng.standard_normal((n_days, n)), dates, tickers)
    score.iloc[:70] = np.nan  # nothing known in the first quarter
    flags = score.notna() & score.shift(1).isna()
    return Panel(close, close * 0 > 1, ret, score, flags)


def test_shape_from_panel_uses_the_regression_sample() -> None:
    panel = _panel()
    shape = pw.shape_from_panel(panel, n_groups=4, frequency="quarterly", tails="normal")
    # 504 sessions from 2021-01-04 end on 2022-12-05; scores from mid-April 2021, so the
    # quarter ends 2021-06-30 … 2022-06-30 have a score and a full next quarter (+1 session)
    assert shape.n_periods == 5 and set(shape.names) == {24}
    assert shape.source["first_period"] == "2021-06-30"
    assert shape.source["last_period"] == "2022-06-30"
    assert shape.vol == pytest.approx(0.01 * np.sqrt(63), rel=0.15)
    assert 0 <= shape.rho < 0.1 and abs(shape.source["rho_estimate"]) < 0.1
    res = pw.power_from_panel(panel, n_groups=4, n_sims=500, effect=0.02, tails="normal")
    assert res.shape.source["estimated_from"] == "panel" and 0 <= res.power <= 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"names": (40,), "vol": 0.1, "rho": 0.0}, "at least 2 periods"),
        ({"names": (5, 40), "vol": 0.1, "rho": 0.0}, r"\[5\] names"),
        ({"names": (40, 40), "vol": -0.1, "rho": 0.0}, "vol"),
        ({"names": (40, 40), "vol": 0.1, "rho": 1.0}, "rho"),
        ({"names": (40, 40), "vol": 0.1, "rho": -0.01}, "rho"),
        ({"names": (40, 40), "vol": 0.1, "rho": 0.0, "tail_df": 2.0}, "tail_df"),
    ],
)
def test_bad_shapes_are_rejected(kwargs: dict, match: str) -> None:
    with pytest.raises(pw.PowerError, match=match):
        pw.StudyShape(**kwargs)


def test_bad_options_are_rejected(indep: pw.StudyShape) -> None:
    with pytest.raises(pw.PowerError, match="n_sims"):
        pw.simulate_null(indep, n_sims=10)
    draws = pw.simulate_null(indep, n_sims=200)
    with pytest.raises(pw.PowerError, match="alpha"):
        pw.power_at(draws, 0.01, alpha=1.5)
    with pytest.raises(pw.PowerError, match="power"):
        pw.minimum_detectable_effect(draws, power=1.0)


def test_cli_given_shape_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "power.json"
    code = pw.main(
        ["--names", "40", "--periods", "11", "--vol", "0.12", "--rho", "0.4", "--n-groups", "4",
         "--effect", "0.022", "--sims", "1000", "--json", str(out)]
    )  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    assert "Minimum detectable" in text and "2.20% per quarter" in text
    doc = json.loads(out.read_text())
    assert doc["power"]["n_sims"] == 1000 and doc["shape"]["n_periods"] == 11


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert pw.main(["--names", "40"]) == 1
    assert "together" in capsys.readouterr().err
    assert pw.main(["--panel", str(tmp_path / "none.parquet"), "--n-groups", "4"]) == 1
    assert "no panel" in capsys.readouterr().err
    assert pw.main(["--frequency", "weekly"]) == 2
