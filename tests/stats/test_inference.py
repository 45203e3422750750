"""Newey–West inference: a worked example, the lag rules and bad input.

Tolerance 1e-12 on the worked example; parity with statsmodels HAC (1e-10) is in
tests/reference/test_metrics_reference.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from alphalab.stats.inference import (
    InferenceInputError,
    bartlett_weights,
    default_lags,
    min_lags_for_horizon,
    newey_west,
)

TOL = 1e-12


def test_worked_example() -> None:
    # x = 1, 2, 3, 4: deviations -1.5, -0.5, 0.5, 1.5; Σu² = 5; Σ u_t u_{t-1} = 1.25;
    # Bartlett weight for lag 1 of L = 1 is 1/2: S = 5 + 2 · 0.5 · 1.25 = 6.25; se = √S / 4.
    r = newey_west([1.0, 2.0, 3.0, 4.0], lags=1)
    assert (r.mean, r.lags, r.n_obs) == (2.5, 1, 4)
    assert r.se == pytest.approx(0.625, abs=TOL)
    assert r.t == pytest.approx(4.0, abs=TOL)
    assert r.p == pytest.approx(2 * (1 - 0.9999683287581669), abs=1e-12)


def test_zero_lags_is_the_iid_standard_error() -> None:
    x = np.random.default_rng(0).normal(size=250)
    r = newey_west(x, lags=0)
    assert r.se == pytest.approx(x.std(ddof=0) / math.sqrt(x.size), abs=TOL)


def test_nans_are_dropped() -> None:
    x = np.array([np.nan, 1.0, 2.0, np.nan, 3.0, 4.0])
    assert newey_west(x, lags=1) == newey_west([1.0, 2.0, 3.0, 4.0], lags=1)


def test_lag_rules() -> None:
    assert [default_lags(n) for n in (1, 100, 252, 1000, 8313)] == [1, 4, 4, 6, 10]
    assert newey_west(np.arange(300.0) % 7).lags == default_lags(300)
    assert min_lags_for_horizon(1) == 0 and min_lags_for_horizon(21) == 20
    np.testing.assert_allclose(bartlett_weights(3), [0.75, 0.5, 0.25])
    with pytest.raises(InferenceInputError, match="horizon"):
        min_lags_for_horizon(0)


def test_bad_input() -> None:
    with pytest.raises(InferenceInputError, match="at least 2"):
        newey_west([1.0])
    with pytest.raises(InferenceInputError, match="lags"):
        newey_west([1.0, 2.0, 3.0], lags=-1)
    with pytest.raises(InferenceInputError, match="below the number"):
        newey_west([1.0, 2.0, 3.0], lags=3)
    with pytest.raises(InferenceInputError, match="infinite"):
        newey_west([1.0, np.inf, 3.0])
    with pytest.raises(InferenceInputError, match="1-D"):
        newey_west(np.zeros((3, 3)))
    assert math.isnan(newey_west([2.0, 2.0, 2.0], lags=0).t)
