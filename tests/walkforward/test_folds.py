"""Fold planning, the holding horizon and embargo validation.

Tolerances: none — every check here is exact (row positions and session counts).
Independent references: the holding horizon is checked against a plain pandas count of
sessions per calendar month; fold invariants are hypothesis properties.
"""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphalab import config
from alphalab.backtest import rebalance_rows
from alphalab.data.simulate import xnys_sessions
from alphalab.walkforward import (
    EmbargoError,
    WalkForwardError,
    check_embargo,
    holding_horizon,
    holdout_fold,
    plan_folds,
    run_study,
)
from tests.walkforward._synth import BACKTEST, planted_panel, wf_params

INDEX = xnys_sessions(dt.date(2001, 1, 2), 1500)


def test_sessions_folds_by_hand() -> None:
    idx = pd.bdate_range("2020-01-01", periods=20)
    folds = plan_folds(idx, train=8, test=5, embargo=2, unit="sessions")
    got = [(f.train_start, f.train_stop, f.test_start, f.test_stop) for f in folds]
    assert got == [(0, 6, 8, 13), (5, 11, 13, 18), (10, 16, 18, 20)]
    anchored = plan_folds(idx, train=8, test=5, embargo=2, unit="sessions", mode="anchored")
    assert [(f.train_start, f.train_stop) for f in anchored] == [(0, 6), (0, 11), (0, 16)]


def test_month_folds_start_at_month_starts() -> None:
    folds = plan_folds(INDEX, train=12, test=3, embargo=30, unit="months")
    months = INDEX.to_period("M")
    for f in folds:
        assert months[f.test_start] != months[f.test_start - 1]  # first session of a month
        assert f.test_start - f.train_stop == 30
        # the rolling training window starts 12 months before the test window
        assert (months[f.test_start] - months[f.train_start]).n == 12
    assert folds[0].train_start == 0
    assert folds[-1].test_stop == len(INDEX)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(80, 400),
    train=st.integers(20, 60),
    test=st.integers(1, 40),
    embargo=st.integers(0, 19),
    first=st.integers(0, 10),
    anchored=st.booleans(),
    cut=st.integers(0, 30),
)
def test_fold_invariants(
    n: int, train: int, test: int, embargo: int, first: int, anchored: bool, cut: int
) -> None:
    idx = pd.bdate_range("2015-01-01", periods=n)
    stop = n - cut
    mode = "anchored" if anchored else "rolling"
    if stop - first <= train:
        with pytest.raises(WalkForwardError, match="leave no test window"):
            plan_folds(
                idx,
                train=train,
                test=test,
                embargo=embargo,
                unit="sessions",
                mode=mode,
                first=first,
                stop=stop,
            )
        return
    folds = plan_folds(
        idx,
        train=train,
        test=test,
        embargo=embargo,
        unit="sessions",
        mode=mode,
        first=first,
        stop=stop,
    )
    assert folds[0].test_start == first + train
    assert folds[-1].test_stop == stop  # nothing at or after `stop` is ever used
    for a, b in itertools.pairwise(folds):
        assert a.test_stop == b.test_start  # test windows tile the range
    for f in folds:
        assert f.train_start >= first
        assert f.train_stop + embargo == f.test_start  # the purge, exactly
        assert f.train_stop <= f.test_start  # no overlap with the test window
        assert 1 <= f.n_test <= test
        assert f.train_start == first if anchored else f.n_train == train - embargo


def test_holdout_fold_trains_before_the_holdout() -> None:
    hold = int(INDEX.searchsorted(pd.Timestamp("2006-01-01")))
    f = holdout_fold(INDEX, holdout_start=hold, train=24, embargo=40, unit="months")
    assert (f.kind, f.fold) == ("holdout", -1)
    assert (f.test_start, f.test_stop) == (hold, len(INDEX))
    assert f.train_stop == hold - 40
    assert INDEX[f.train_start] == INDEX[INDEX.searchsorted(pd.Timestamp("2004-01-01"))]


def test_holding_horizon_matches_longest_month() -> None:
    mask = rebalance_rows(INDEX, "monthly")
    longest = int(pd.Series(1, index=INDEX).groupby(INDEX.to_period("M")).size().iloc[1:-1].max())
    assert holding_horizon(mask, holding=3, lag=1) == 1 + 3 * longest
    assert holding_horizon(np.ones(len(INDEX), dtype=bool), holding=5, lag=2) == 7


def test_check_embargo_names_the_variant() -> None:
    check_embargo(70, {"a": 70, "b": 24})
    with pytest.raises(EmbargoError, match=r"variant a \(70 sessions"):
        check_embargo(69, {"a": 70, "b": 24})


def test_config_rejects_embargo_below_grid_horizon() -> None:
    raw = {"walkforward": {"embargo": 20, "grid": {"holding": [1, 3], "rebalance": ["monthly"]}}}
    with pytest.raises(config.ParamsError) as info:
        config.validate_params(raw)
    text = "\n".join(info.value.problems)
    assert (
        "walkforward" in text
        and "embargo" in text
        and "holding horizon" in text
        and ">= 69" in text
    )
    ok = {"walkforward": {"embargo": 69, "grid": {"holding": [1, 3], "rebalance": ["monthly"]}}}
    assert config.validate_params(ok).walkforward.embargo == 69


@pytest.mark.parametrize(
    ("section", "fragment"),
    [
        ({"mode": "expanding"}, "walkforward.mode"),
        ({"grid": {"n_groups": []}}, "empty list"),
        ({"grid": {"holding": [1, 1]}}, "repeated"),
        ({"gate": {k: None for k in config.WalkforwardParams.Gate.model_fields}}, "decide nothing"),
        ({"stress_windows": {"x": ["2020-02-01", "2020-01-01"]}}, "is after"),
        ({"delays": [0]}, "delays"),
        ({"cost_shocks": [0]}, "cost_shocks"),
        ({"scheduler": "remote"}, "walkforward.scheduler"),
        ({"pbo_splits": 5}, "even"),
        ({"optimizer": "optuna"}, "walkforward.optimizer"),
    ],
)
def test_config_rejects_bad_walkforward(section: dict, fragment: str) -> None:
    with pytest.raises(config.ParamsError) as info:
        config.validate_params({"walkforward": section})
    assert fragment in "\n".join(info.value.problems)


def test_runtime_embargo_check_uses_lag_and_calendar() -> None:
    # the config bound only knows holding x sessions-per-period (daily: 1 when rebalance is not in the grid);
    # the run knows the backtest's monthly rebalance and lag, and refuses the short embargo
    params = wf_params(embargo=5)
    with pytest.raises(EmbargoError, match="holding horizon"):
        run_study(planted_panel(n_sessions=1300), params, backtest=BACKTEST)
