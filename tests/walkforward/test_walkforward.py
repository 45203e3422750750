"""Walk-forward behaviour on planted signals, look-ahead and holdout isolation, exact stitching.

Tolerances (stated once, here):

- stitched out-of-sample series vs each fold's chosen parameters run directly through the
  engine on its test window: max absolute difference <= 1e-12;
- in-sample objectives vs independent implementations (empyrical-reloaded's Sharpe ratio,
  statsmodels' HAC t-statistic): relative 1e-10;
- "unchanged" under perturbation means bit-identical (``assert_frame_equal(check_exact=True)``).

The synthetic panels (``_synth.py``) plant a signal of known strength (annualized long-short
Sharpe about 4); the grid chooses between the planted score and a pure-noise score.
"""

from __future__ import annotations

import datetime as dt

import empyrical
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from alphalab.backtest import sort_portfolios
from alphalab.stats.inference import default_lags
from alphalab.walkforward import (
    Fold,
    FoldTask,
    objective_value,
    run_fold,
    run_study,
    walkforward_efficiency,
)
from alphalab.walkforward.optimize import EngineSettings
from alphalab.walkforward.study import engine_settings, grid_variants, panel_data, score_sets
from tests.walkforward._synth import BACKTEST, perturb, planted_panel, wf_params


@pytest.fixture(scope="module")
def stable():
    panel = planted_panel(seed=0)
    return panel, run_study(panel, wf_params(), backtest=BACKTEST)


def test_stable_planted_signal_passes(stable) -> None:
    _, study = stable
    assert study.gate.decision == "PASS", study.gate.reasons
    assert all(c.passed for c in study.gate.criteria)
    assert len(study.gate.criteria) == 6
    assert (study.result.table["signal"] == "planted").all()  # never the noise score
    assert study.series["oos"]["sharpe"] > 2.5
    assert 0.6 < study.result.efficiency < 1.5


def test_signal_switched_off_halfway_fails_for_the_right_reason() -> None:
    panel = planted_panel(seed=0, off_from=1000)  # first test window starts at row 1000
    study = run_study(panel, wf_params(), backtest=BACKTEST)
    table = study.result.table
    # in-sample success: the first fold trains on the live signal and sees a strong Sharpe
    assert table.loc[0, "is_sharpe"] > 3.0 and table.loc[0, "signal"] == "planted"
    # out-of-sample failure: the stitched record (all after the switch) earns nothing
    assert study.series["oos"]["sharpe"] < 0.5
    assert study.result.efficiency < 0.2
    assert study.gate.decision == "FAIL"
    failed = {c.name for c in study.gate.failed}
    assert {"min_oos_sharpe", "min_t_stat", "min_dsr"} <= failed
    assert "min_oos_periods" not in failed  # it fails on performance, not for lack of data
    assert all("not measured" not in c.reason for c in study.gate.criteria)
    assert any(
        r.startswith("oos_sharpe") and "fails the minimum 1" in r for r in study.gate.reasons
    )


def test_no_fold_choice_uses_its_test_window() -> None:
    panel = planted_panel(n_sessions=2250, seed=3)
    params = wf_params()
    base = run_study(panel, params, backtest=BACKTEST).result.folds
    assert len(base) == 5
    for k, fold in enumerate(base):
        moved = run_study(
            perturb(panel, fold.fold.test_start, seed=k), params, backtest=BACKTEST
        ).result.folds
        for before, after in zip(base[: k + 1], moved[: k + 1], strict=True):
            assert after.chosen == before.chosen
            pd.testing.assert_frame_equal(after.in_sample, before.in_sample, check_exact=True)
        # the perturbation is real: the fold's own test returns changed ...
        assert not np.allclose(moved[k].oos["net"], fold.oos["net"])
        # ... and the next fold, which trains on those rows, sees it
        if k + 1 < len(base):
            assert not moved[k + 1].in_sample.equals(base[k + 1].in_sample)


def test_perturbation_would_catch_a_leaky_fold() -> None:
    """Control: a fold whose training overlapped its test window changes under the same perturbation."""
    panel = planted_panel(n_sessions=2250, seed=3)
    params = wf_params()
    variants = grid_variants(params, BACKTEST)
    settings = engine_settings(BACKTEST)
    leaky = Fold(0, "walkforward", 0, 1250, 1000, 1250)  # trains through its own test rows
    task = FoldTask(leaky, tuple(variants), settings, "sharpe", lead_in=24, min_train_obs=100)

    def is_table(p):
        return run_fold(
            task, panel_data(p, variants, score_sets(p, params.grid.signals, {"z": 1, "noise": 1}))
        )

    assert not is_table(panel).in_sample.equals(is_table(perturb(panel, 1000, seed=0)).in_sample)


def test_holdout_is_never_touched_by_any_fold() -> None:
    panel = planted_panel(n_sessions=2500, seed=1)
    params = wf_params(holdout_start=dt.date(2009, 1, 1))
    base = run_study(panel, params, backtest=BACKTEST)
    hold = base.result.holdout_start
    assert hold is not None and panel.dates[hold] == pd.Timestamp("2009-01-02")
    assert all(f.fold.test_stop <= hold for f in base.result.folds)
    assert (
        base.result.holdout.fold.train_stop <= hold - base.conventions["folds"]["embargo_sessions"]
    )
    moved = run_study(perturb(panel, hold, seed=7), params, backtest=BACKTEST)
    for before, after in zip(base.result.folds, moved.result.folds, strict=True):
        assert after.chosen == before.chosen
        pd.testing.assert_frame_equal(after.in_sample, before.in_sample, check_exact=True)
        pd.testing.assert_frame_equal(after.oos, before.oos, check_exact=True)
    pd.testing.assert_frame_equal(moved.result.oos, base.result.oos, check_exact=True)
    pd.testing.assert_frame_equal(moved.trials, base.trials, check_exact=True)  # DSR/PBO inputs too
    assert moved.pbo.pbo == base.pbo.pbo
    # the holdout itself did change
    assert not np.allclose(moved.result.holdout.oos["net"], base.result.holdout.oos["net"])


def test_stitched_series_equals_direct_engine_runs() -> None:
    panel = planted_panel(n_sessions=2500, seed=2)
    params = wf_params(unit="months", train=48, test=6, holdout_start=dt.date(2009, 7, 1))
    study = run_study(panel, params, backtest=BACKTEST)
    r = study.result
    lead = r.conventions["lead_in_sessions"]
    record = r.record
    rows = [*r.folds, r.holdout]
    assert len(rows) > 10
    for fr in rows:
        row = r.table[r.table["fold"] == fr.fold.fold].iloc[0]
        score = panel.dimensions["z" if row["signal"] == "planted" else "noise"]
        lo, hi = fr.fold.test_start - lead, fr.fold.test_stop
        direct = (
            sort_portfolios(
                score.iloc[lo:hi],
                panel.ret.iloc[lo:hi],
                n_groups=int(row["n_groups"]),
                rebalance="monthly",
                holding=int(row["holding"]),
                lag=BACKTEST.lag,
                direction=int(row["direction"]),
                costs=BACKTEST.costs,
            )
            .net["long_short"]
            .iloc[fr.fold.test_start - lo :]
        )
        got = record.loc[direct.index, "net"]
        assert got.index.equals(direct.index)
        assert np.max(np.abs(got.to_numpy() - direct.to_numpy())) <= 1e-12
        # and the in-sample score of the chosen variant is the Sharpe ratio of a direct run too
        a = max(fr.fold.train_start - lead, 0)
        is_net = (
            sort_portfolios(
                score.iloc[a : fr.fold.train_stop],
                panel.ret.iloc[a : fr.fold.train_stop],
                n_groups=int(row["n_groups"]),
                rebalance="monthly",
                holding=int(row["holding"]),
                lag=BACKTEST.lag,
                direction=int(row["direction"]),
                costs=BACKTEST.costs,
            )
            .net["long_short"]
            .iloc[fr.fold.train_start - a :]
            .dropna()
        )
        assert row["is_objective"] == pytest.approx(
            empyrical.sharpe_ratio(is_net, annualization=252), rel=1e-10
        )
    # the stitched record is contiguous: every session from the first test day to the end
    assert record.index.equals(panel.dates[r.folds[0].fold.test_start :])


def test_objectives_against_references() -> None:
    x = np.random.default_rng(5).normal(0.0004, 0.01, 600)
    x[[3, 50]] = np.nan
    clean = x[np.isfinite(x)]
    assert objective_value(x, "sharpe", periods_per_year=252, min_obs=10) == pytest.approx(
        empyrical.sharpe_ratio(clean, annualization=252), rel=1e-10
    )
    ols = sm.OLS(clean, np.ones(clean.size)).fit(
        cov_type="HAC", cov_kwds={"maxlags": default_lags(clean.size), "use_correction": False}
    )
    assert objective_value(x, "t_stat", periods_per_year=252, min_obs=10) == pytest.approx(
        ols.tvalues[0], rel=1e-10
    )
    assert objective_value(x, "net_return", periods_per_year=252, min_obs=10) == pytest.approx(
        clean.mean() * 252
    )
    assert np.isnan(objective_value(x[:20], "sharpe", periods_per_year=252, min_obs=100))


def test_walkforward_efficiency() -> None:
    assert walkforward_efficiency(0.05, 0.10) == pytest.approx(0.5)
    assert np.isnan(walkforward_efficiency(0.05, -0.10))
    assert np.isnan(walkforward_efficiency(np.nan, 0.10))


def test_fold_table_efficiency_and_choice(stable) -> None:
    _, study = stable
    t = study.result.table
    ok = t["is_ann_mean"] > 0
    np.testing.assert_allclose(
        t.loc[ok, "wf_efficiency"], t.loc[ok, "oos_ann_mean"] / t.loc[ok, "is_ann_mean"], rtol=1e-12
    )
    v = study.result.variants_is
    for fold, grp in v.groupby("fold"):
        assert grp.loc[grp["chosen"], "objective"].iloc[0] == grp["objective"].max(), fold


@pytest.mark.slow
def test_local_dask_cluster_gives_identical_results(stable) -> None:
    panel, study = stable
    local = run_study(panel, wf_params(scheduler="local", n_workers=2), backtest=BACKTEST)
    pd.testing.assert_frame_equal(local.result.oos, study.result.oos, check_exact=True)
    pd.testing.assert_frame_equal(local.result.table, study.result.table, check_exact=True)


def test_engine_settings_cost_multiplier() -> None:
    s = EngineSettings(costs=engine_settings(BACKTEST).costs).with_cost_multiplier(5)
    assert s.costs.total_bps == pytest.approx(5 * 6.0)


@pytest.mark.parametrize(
    ("grid", "fragment"),
    [
        ({"weighting": ["value"]}, "weighting 'value' needs market caps"),
        ({"signals": {"bad": {"momentum": 1.0}}}, "dimension(s) ['momentum'] not in the panel"),
    ],
)
def test_bad_grid_inputs_are_named(grid: dict, fragment: str) -> None:
    from alphalab.walkforward import WalkForwardError

    params = wf_params(grid={"n_groups": [3], "holding": [1], **grid})
    with pytest.raises(WalkForwardError) as info:
        run_study(planted_panel(n_sessions=1300), params, backtest=BACKTEST)
    assert fragment in str(info.value)


def test_without_lead_in_each_window_starts_in_cash() -> None:
    panel = planted_panel(n_sessions=1800, seed=0)
    study = run_study(panel, wf_params(lead_in=0), backtest=BACKTEST)
    oos = study.result.oos
    for fr in study.result.folds:
        first = oos.loc[oos["fold"] == fr.fold.fold, "gross"]
        assert np.isnan(first.iloc[0])  # no book yet: the engine reports NaN before its first trade
    assert study.series["oos"]["n_obs"] == int(oos["net"].notna().sum())
