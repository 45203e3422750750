"""Overfitting controls on grid output: PBO, SPA/StepM against arch, ledger DSR, haircuts.

Tolerances: SPA p-values and StepM's superior set equal arch's on the same loss matrix
exactly (same seed, block length, reps); monthly compounding equals a pandas resample to
1e-14; DSR from the ledger equals the direct formula to 1e-14; haircuts equal
``sharpe_haircut`` exactly. PBO: near 0 (≤ 0.05) when one dimension truly predicts, and on
average near 0.5 (0.3–0.7 over 8 markets) among pure noise, as Bailey et al. (2017) show.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from arch.bootstrap import SPA, StepM

from alphalab.config import BacktestParams, RobustnessParams
from alphalab.ledger import TrialLedger
from alphalab.robustness import (
    haircuts,
    monthly_compound,
    multiple_testing,
    run_grid,
    sharpe_report,
    trial_stats,
)
from alphalab.stats.multiple_testing import sharpe_haircut
from alphalab.stats.overfitting import SharpeStats, deflated_sharpe_ratio, pbo
from tests.robustness._market import planted_panel, signal_params

BT = BacktestParams()
R = RobustnessParams(
    scheduler="synchronous",
    progress=False,
    n_groups=[3, 5],
    lag=[1, 2],
    holding=[1, 3],
    universes=["all"],
    dimension_sets=["all", "each"],
    cost_multipliers=[1.0],
    n_subperiods=0,
)


@pytest.fixture(scope="module")
def planted_grid():
    return run_grid(planted_panel(1), robustness=R, backtest=BT, signal=signal_params())


def test_pbo_near_zero_when_one_dimension_predicts(planted_grid) -> None:
    res = pbo(planted_grid.common_returns(), n_splits=10)
    assert res.pbo <= 0.05
    winners = {
        planted_grid.full.set_index("variant").loc[v, "dimensions"]
        for v in np.asarray(res.strategies, dtype=object)[res.selected]
    }
    assert winners <= {"alpha", "score"}  # in sample a noise-only variant never wins


def test_pbo_near_one_half_among_pure_noise() -> None:
    dims = tuple(f"n{k}" for k in range(8))
    noise = R.model_copy(update={"lag": [1], "holding": [1], "dimension_sets": ["each"]})
    values = []
    for seed in range(8):
        g = run_grid(
            planted_panel(seed, loading=0.0, dims=dims),
            robustness=noise,
            backtest=BT,
            signal=signal_params(dims),
        )
        values.append(pbo(g.common_returns(), n_splits=10).pbo)
    assert 0.3 <= float(np.mean(values)) <= 0.7


def test_spa_and_stepm_agree_with_arch_on_the_grid_losses(planted_grid) -> None:
    rets = planted_grid.common_returns()
    mt = multiple_testing(rets, seed=3, pbo_splits=10, reps=300, block_size=3, frequency="daily")
    losses = -rets.to_numpy()
    bench = np.zeros(len(rets))  # -0 benchmark return
    spa = SPA(bench, losses, block_size=3, reps=300, bootstrap="stationary", seed=3)
    spa.compute()
    assert mt.spa.pvalues.to_dict() == spa.pvalues.astype(float).to_dict()
    step = StepM(bench, losses, size=0.05, block_size=3, reps=300, bootstrap="stationary", seed=3)
    step.compute()
    arch_superior = sorted(rets.columns[int(i)] for i in step.superior_models)
    assert sorted(mt.stepm.superior) == arch_superior
    dims = planted_grid.full.set_index("variant")["dimensions"]
    found = {dims[v] for v in mt.stepm.superior}
    assert "alpha" in found and "noise" not in found  # signal found, noise never
    assert mt.spa.pvalue < 0.01


def test_monthly_compounding() -> None:
    idx = pd.bdate_range("2020-01-01", "2020-06-30")
    rng = np.random.default_rng(0)
    r = pd.DataFrame(rng.normal(0, 0.01, (len(idx), 3)), index=idx, columns=list("abc"))
    got = monthly_compound(r)
    ref = (1 + r).groupby(r.index.to_period("M")).prod() - 1
    np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), rtol=0, atol=1e-14)
    assert list(got.index) == list(r.groupby(r.index.to_period("M")).apply(lambda f: f.index[-1]))
    with pytest.raises(ValueError, match="no missing values"):
        monthly_compound(r.where(r > 0))


def test_dsr_uses_the_ledger_count(planted_grid, tmp_path) -> None:
    led = TrialLedger(tmp_path / "trials.jsonl")
    trials = planted_grid.trials(params_hash="p", data_hash="d")
    assert led.record(trials) == len(trials)
    n, var = led.stats(data_hash="d")
    assert (n, var) == trial_stats(np.array([t.sharpe for t in trials]))
    best = planted_grid.full.loc[planted_grid.full["sharpe"].idxmax(), "variant"]
    x = planted_grid.returns[best].dropna().to_numpy()
    report = sharpe_report(x, n_trials=n, var_trials_sharpe=var)
    direct = deflated_sharpe_ratio(SharpeStats.from_returns(x), n_trials=n, var_trials_sharpe=var)
    assert report.dsr == pytest.approx(direct, rel=1e-14)
    assert report.dsr < report.psr  # selection among n trials deflates
    assert report.n_trials == len(trials)
    empty = sharpe_report(x, n_trials=0, var_trials_sharpe=math.nan)
    assert math.isnan(empty.dsr)  # undefined without a trial count, never reported as 1


def test_haircuts_match_sharpe_haircut() -> None:
    others = np.array([0.1, -0.3, 0.5, 0.2])
    got = haircuts(0.8, 2000, other_sharpes_annual=others, periods_per_year=252)
    for method in ("bonferroni", "holm", "bhy"):
        ref = sharpe_haircut(
            0.8,
            2000,
            5,
            periods_per_year=252,
            method=method,
            other_sharpes=None if method == "bonferroni" else others,
        )
        assert got[f"haircut_{method}"]["haircut_sharpe"] == ref.haircut_sharpe
        assert got[f"haircut_{method}"]["n_trials"] == 5
