"""The specification grid: spec expansion, filters, one engine, statistics, planted signal.

Tolerances: grid statistics equal ``alphalab.stats.performance.summarize`` to 1e-12
(relative, 1e-15 absolute); every variant's series equals a direct
``alphalab.backtest.sort_portfolios`` call exactly (same engine, same inputs); the cost rule
equals the engine's own ``net`` to 1e-15.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphalab.backtest import CostModel, sort_portfolios
from alphalab.config import BacktestParams, RobustnessParams
from alphalab.robustness import (
    GridError,
    base_config,
    grid_configs,
    grid_inputs,
    run_grid,
    series_stats,
)
from alphalab.robustness.grid import (
    SCORE,
    EngineConfig,
    _lowest,
    mark_base,
    resolve_dimension_sets,
    universe_exclusion,
    variant_score,
)
from alphalab.stats.performance import summarize
from tests.robustness._market import SIGNAL, planted_panel

BT = BacktestParams()
SMALL = RobustnessParams(
    scheduler="synchronous",
    progress=False,
    n_groups=[3, 5],
    lag=[1, 2],
    holding=[1],
    universes=["all", "ex_volatile:0.25"],
    dimension_sets=["all", "each"],
    cost_multipliers=[0.0, 1.0],
    n_subperiods=2,
)


@pytest.fixture(scope="module")
def panel():
    return planted_panel(0)


@pytest.fixture(scope="module")
def grid(panel):
    return run_grid(panel, robustness=SMALL, backtest=BT, signal=SIGNAL)


def test_spec_expansion_counts_and_order(panel) -> None:
    configs, notes = grid_configs(SMALL, list(panel.dimensions))
    assert len(configs) == 2 * 2 * 1 * 2 * 3 and notes == []
    assert configs[0] == EngineConfig(3, "equal", 1, 1, "monthly", "all", (SCORE,))
    assert configs[1].dimensions == ("alpha",) and configs[-1].n_groups == 5
    default = RobustnessParams()
    n_default = len(grid_configs(default, ["a", "b", "c", "d"])[0]) * 3
    assert n_default == 240  # the default study's grid: 80 engine runs x 3 cost levels


def test_dimension_sets() -> None:
    dims = ["a", "b", "c"]
    assert resolve_dimension_sets(["all", "each"], dims) == [(SCORE,), ("a",), ("b",), ("c",)]
    assert resolve_dimension_sets(["drop_each", "a+b"], dims) == [
        ("b", "c"),
        ("a", "c"),
        ("a", "b"),
    ]
    assert resolve_dimension_sets(["each", "drop_each"], ["a"]) == [("a",)]
    with pytest.raises(GridError, match="'a\\+z' names \\['z'\\]"):
        resolve_dimension_sets(["a+z"], dims)
    _, notes = grid_configs(RobustnessParams(dimension_sets=["all", "each"]), [])
    assert notes and "adds no variant" in notes[0]


def test_lowest_share_by_hand() -> None:
    values = np.array([[5.0, 1.0, np.nan, 3.0, 2.0], [1.0, 1.0, 1.0, np.nan, np.nan]])
    got = _lowest(values, 0.5)
    # row 0: 4 finite -> floor(2) lowest (1.0, 2.0); row 1: 3 finite -> 1, ties by column
    assert got.tolist() == [[False, True, False, False, True], [True, False, False, False, False]]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6) | st.just(math.nan), min_size=1, max_size=30),
    st.floats(0.0, 0.99),
)
def test_lowest_share_property(row: list[float], share: float) -> None:
    x = np.array([row])
    got = _lowest(x, share)[0]
    finite = np.isfinite(x[0])
    assert got.sum() == math.floor(share * finite.sum())
    assert not got[~finite].any()
    if got.any() and (~got & finite).any():
        assert x[0][got].max() <= x[0][~got & finite].min()


def test_universe_filters_are_point_in_time(panel) -> None:
    inputs = grid_inputs(panel, robustness=SMALL, backtest=BT, signal=SIGNAL)
    excl = universe_exclusion("ex_volatile:0.25", inputs)
    vol = panel.ret.rolling(63, min_periods=42).std().to_numpy()
    row = 300
    expected = np.argsort(-vol[row], kind="stable")[:10]
    assert set(np.flatnonzero(excl[row])) == set(expected)
    assert not excl[:42].any()  # no volatility estimate yet: nobody excluded
    changed = panel.ret.copy()
    changed.iloc[row + 1 :] = 0.0123  # garble the future
    again = grid_inputs(
        type(panel)(
            panel.close,
            panel.close_filled,
            changed,
            panel.score,
            panel.new_signal,
            panel.dimensions,
            None,
            panel.meta,
        ),
        robustness=SMALL,
        backtest=BT,
        signal=SIGNAL,
    )
    assert (universe_exclusion("ex_volatile:0.25", again)[: row + 1] == excl[: row + 1]).all()
    cheap = universe_exclusion("min_price:100", inputs)
    assert (cheap == (panel.close.to_numpy() < 100)).all()
    with pytest.raises(GridError, match="needs market caps"):
        universe_exclusion("ex_smallest:0.2", inputs)


def test_all_dimensions_recompute_the_panel_score(panel) -> None:
    inputs = grid_inputs(panel, robustness=SMALL, backtest=BT, signal=SIGNAL)
    both = variant_score(
        EngineConfig(5, "equal", 1, 1, "monthly", "all", ("alpha", "noise")), inputs
    )
    pd.testing.assert_frame_equal(both, panel.score, check_exact=False, rtol=1e-15, atol=1e-15)
    alone = variant_score(EngineConfig(5, "equal", 1, 1, "monthly", "all", ("alpha",)), inputs)
    pd.testing.assert_frame_equal(alone, panel.dimensions["alpha"], check_exact=True)


def test_variant_equals_direct_engine_call_and_summarize(panel, grid) -> None:
    row = grid.full[
        (grid.full["universe"] == "ex_volatile:0.25")
        & (grid.full["lag"] == 2)
        & (grid.full["dimensions"] == "alpha")
        & (grid.full["n_groups"] == 5)
        & (grid.full["cost_multiplier"] == 1.0)
    ].iloc[0]
    inputs = grid_inputs(panel, robustness=SMALL, backtest=BT, signal=SIGNAL)
    score = panel.dimensions["alpha"].mask(universe_exclusion("ex_volatile:0.25", inputs))
    costs = CostModel(**BT.costs.model_dump())
    direct = sort_portfolios(score, panel.ret, n_groups=5, lag=2, rebalance="monthly", costs=costs)
    net = direct.net["long_short"]
    np.testing.assert_array_equal(grid.returns[row["variant"]].to_numpy(), net.to_numpy())
    ref = summarize(
        net.dropna(), periods_per_year=252, turnover=direct.turnover["long_short"][net.notna()]
    )
    for key in (
        "n_obs",
        "mean",
        "ann_return",
        "ann_vol",
        "sharpe",
        "t_nw",
        "nw_lags",
        "max_drawdown",
        "skew",
        "kurtosis",
        "hit_rate",
        "turnover",
    ):
        assert row[key] == pytest.approx(ref[key], rel=1e-12, abs=1e-15), key
    gross = direct.returns["long_short"][net.notna()]
    assert row["break_even_bps"] == pytest.approx(
        gross.mean() / direct.turnover["long_short"][net.notna()].mean() * 1e4, rel=1e-12
    )


def test_value_weights_size_filter_and_availability_match_the_engine() -> None:
    panel = planted_panel(6, n_stocks=30, n_sessions=300, market_cap=True)
    r = SMALL.model_copy(
        update={
            "weighting": ["value"],
            "universes": ["ex_smallest:0.3"],
            "n_groups": [3],
            "lag": [0],
            "rebalance": ["availability"],
            "dimension_sets": ["all"],
            "cost_multipliers": [1.0],
            "n_subperiods": 0,
        }
    )
    g = run_grid(panel, robustness=r, backtest=BT, signal=SIGNAL)
    cap = panel.market_cap.to_numpy()
    small = _lowest(cap, 0.3)
    direct = sort_portfolios(
        panel.score.mask(small),
        panel.ret,
        n_groups=3,
        lag=0,
        rebalance="availability",
        rebalance_mask=panel.new_signal.any(axis=1),
        weighting="value",
        market_cap=panel.market_cap,
        costs=CostModel(**BT.costs.model_dump()),
    )
    assert small.sum(axis=1).max() == 9  # floor(0.3 x 30) smallest names out on each row
    np.testing.assert_array_equal(g.returns["v0000"], direct.net["long_short"])


def test_cost_levels_follow_the_engine_rule(panel, grid) -> None:
    f = grid.full
    pair = f[
        (f["dimensions"] == "score")
        & (f["n_groups"] == 3)
        & (f["lag"] == 1)
        & (f["universe"] == "all")
    ]
    gross = grid.returns[pair.loc[pair["cost_multiplier"] == 0.0, "variant"].iloc[0]]
    net = grid.returns[pair.loc[pair["cost_multiplier"] == 1.0, "variant"].iloc[0]]
    direct = sort_portfolios(
        panel.score, panel.ret, n_groups=3, lag=1, costs=CostModel(**BT.costs.model_dump())
    )
    np.testing.assert_allclose(net, direct.net["long_short"], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(gross, direct.returns["long_short"])


def test_windows_partition_the_sample(grid) -> None:
    t = grid.table
    assert set(t["window"]) == {"full", "sub1", "sub2"}
    one = t[t["variant"] == "v0000"].set_index("window")
    assert one.loc["sub1", "n_obs"] + one.loc["sub2", "n_obs"] == one.loc["full", "n_obs"]
    assert one.loc["sub1", "end"] < one.loc["sub2", "start"]


def test_planted_signal_is_found(grid) -> None:
    by_dims = grid.full.groupby("dimensions")["t_nw"].median()
    assert by_dims["alpha"] > 3.0  # the predictive dimension
    assert abs(by_dims["noise"]) < 2.0  # the useless one
    assert by_dims["score"] > 2.0  # the composite keeps the signal


def test_base_specification_and_trials(grid, panel) -> None:
    base = base_config(BT)
    hits = grid.table.loc[mark_base(grid.table, base)]
    assert len(hits) == 3 and set(hits["window"]) == {"full", "sub1", "sub2"}
    trials = grid.trials(params_hash="p", data_hash="d")
    assert len(trials) == grid.n_variants == 2 * 2 * 2 * 3 * 2
    assert len({t.key for t in trials}) == len(trials)
    t0, ret0 = trials[0], grid.returns["v0000"].dropna()
    assert t0.sharpe == pytest.approx(ret0.mean() / ret0.std(ddof=1), rel=1e-12)
    assert t0.variant["score_hash"] and t0.variant["cost_bps"] == 0.0


def test_series_stats_matches_summarize_on_random_series() -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_t(4, 700) * 0.01
    turn = rng.uniform(0, 0.2, 700)
    got = series_stats(x, turn, periods_per_year=52)
    ref = summarize(x, periods_per_year=52, turnover=turn)
    for key, value in got.items():
        assert value == pytest.approx(ref[key], rel=1e-12, abs=1e-15), key


def test_dimension_without_a_weight_is_named(panel) -> None:
    from tests.robustness._market import signal_params

    with pytest.raises(GridError, match=r"'noise' has no weight in signal\.dimensions"):
        grid_inputs(panel, robustness=SMALL, backtest=BT, signal=signal_params(("alpha",)))


def test_grid_needs_a_score(panel) -> None:
    bare = type(panel)(panel.close, panel.close_filled, panel.ret)
    with pytest.raises(GridError, match="no score"):
        grid_inputs(bare, robustness=SMALL, backtest=BT, signal=SIGNAL)
