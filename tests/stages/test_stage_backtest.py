"""Backtest stage logic: artifacts, metrics shape, dimension analysis against direct computations."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alphalab import config
from alphalab.backtest import sort_portfolios
from alphalab.data.simulate import simulate_market
from alphalab.panel import build_panel
from alphalab.reporting.metrics import VOCABULARY
from alphalab.stages import backtest as bt

TOL = 1e-12


@pytest.fixture(scope="module")
def market():
    return simulate_market(
        n_stocks=60,
        n_sessions=800,
        seed=21,
        signal_loading=0.001,
        missing_rate=0.0,
        delisting_rate=0.05,
        start=pd.Timestamp("2001-01-02").date(),
    )


@pytest.fixture(scope="module")
def panel(market):
    sig = market.signal.assign(available_at=market.signal["event_date"])
    rng = np.random.default_rng(0)
    sig["D"] = sig["score"] + rng.normal(0, 1, len(sig))
    sig["G"] = rng.normal(0, 1, len(sig))
    return build_panel(market.prices, sig, dimensions=["D", "G"])


def test_dimension_correlation_equals_per_date_pandas_average(panel) -> None:
    got = bt.dimension_correlation(panel.dimensions)
    per_date = []
    d, g = panel.dimensions["D"], panel.dimensions["G"]
    for t in panel.dates:
        frame = pd.DataFrame({"D": d.loc[t], "G": g.loc[t]}).dropna()
        if len(frame) >= 3:
            per_date.append(frame.corr().loc["D", "G"])
    assert got.loc["D", "G"] == pytest.approx(np.mean(per_date), abs=1e-10)
    assert got.loc["D", "D"] == pytest.approx(1.0, abs=TOL)


def test_dimension_sorts_equal_direct_engine_calls(panel) -> None:
    params = config.BacktestParams()
    rf = pd.Series(0.0, index=panel.dates)
    table = bt.dimension_sorts(panel, params, rf)
    direct = sort_portfolios(
        panel.dimensions["D"],
        panel.ret,
        n_groups=params.n_groups,
        rebalance=params.rebalance,
        lag=params.lag,
        costs=bt.cost_model(params),
    )
    ls = direct.returns["long_short"].dropna()
    row = table.loc["D:long_short"]
    assert row["mean"] == pytest.approx(ls.mean(), rel=TOL)
    assert row["n_obs"] == len(ls)


def test_run_backtest_artifacts_and_planted_signal(panel, market, tmp_path: Path) -> None:
    paths = config.Paths(tmp_path)
    params = config.validate_params({"backtest": {"n_groups": 5, "horizons": [1, 5]}})
    run = bt.run_backtest(panel, market.benchmark, market.factors, params, paths)
    doc = json.loads((paths.metrics / "backtest.json").read_text())
    assert set(doc["long_short"]) <= VOCABULARY
    assert doc["long_short"]["sharpe"] == pytest.approx(
        run.stats.loc["long_short", "sharpe"], rel=TOL
    )
    assert doc["long_short"]["t_nw"] > 2  # the planted loading is found
    conv = doc["conventions"]
    assert conv["lag"] == 1 and "timing" in conv
    assert conv["cost_model"] and conv["delisting"]  # the engine's own descriptions, not blanks
    returns = pd.read_parquet(paths.reports / "backtest" / "returns.parquet")
    assert {"g1", "g5", "long_short", "long_short_net"} <= set(returns.columns)
    assert (returns["long_short_net"] <= returns["long_short"] + 1e-15).all()
    q = pd.read_parquet(paths.reports / "backtest" / "quantile_means.parquet")
    assert (q.loc[q["horizon"] == 5, "nw_lags"] >= 4).all()  # at least h - 1 lags
    assert "dim_D" in doc and (paths.reports / "tables" / "backtest.tex").is_file()
