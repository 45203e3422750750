"""Price dimensions, cross-sectional z-scores and the composite score.

Tolerances: ``ATOL = RTOL = 1e-12`` for every formula, checked against direct per-window
computations (plain numpy / ``statistics``-style loops, not rolling) and against
``scipy.stats.zscore``; bit-exact where the docstring promises it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from alphalab.calendar import period_ends
from alphalab.config import SignalParams
from alphalab.signals import (
    PRICE_DIMENSIONS,
    SignalError,
    composite_from_params,
    composite_score,
    compute_composite,
    cross_sectional_zscore,
    get_dimension,
    high_52w,
    mom_12_1,
    rev_1m,
    vol_63d,
)
from tests.signals._synth_market import grid, wide_prices

ATOL = 1e-12
RTOL = 1e-12


@pytest.fixture(scope="module")
def close() -> pd.DataFrame:
    return wide_prices(7, n_tickers=6, n_sessions=320)


def _close_at(c: np.ndarray, t: int, j: int, k: int) -> float:
    return c[t - k, j] if t - k >= 0 else np.nan


def test_mom_12_1_direct(close: pd.DataFrame) -> None:
    c = close.to_numpy()
    expected = np.full(c.shape, np.nan)
    for t in range(c.shape[0]):
        for j in range(c.shape[1]):
            if not np.isnan(c[t, j]):
                expected[t, j] = _close_at(c, t, j, 21) / _close_at(c, t, j, 252) - 1
    got = mom_12_1(close)
    np.testing.assert_allclose(got.to_numpy(), expected, rtol=RTOL, atol=ATOL)
    assert got.iloc[:252].isna().all().all()  # minimum history
    assert got.iloc[252:].notna().any().any()
    assert got.index.equals(close.index) and got.columns.equals(close.columns)


def test_rev_1m_direct(close: pd.DataFrame) -> None:
    expected = close / close.shift(21) - 1
    np.testing.assert_allclose(rev_1m(close).to_numpy(), expected.to_numpy(), rtol=RTOL, atol=ATOL)
    assert rev_1m(close).iloc[:21].isna().all().all()


def test_vol_63d_direct_per_window(close: pd.DataFrame) -> None:
    c = close.to_numpy()
    r = np.full(c.shape, np.nan)
    r[1:] = c[1:] / c[:-1] - 1
    expected = np.full(c.shape, np.nan)
    for t in range(62, c.shape[0]):
        for j in range(c.shape[1]):
            w = r[t - 62 : t + 1, j]
            if not np.isnan(c[t, j]) and np.isfinite(w).sum() == 63:
                w = w[np.isfinite(w)]
                expected[t, j] = np.sqrt(((w - w.sum() / w.size) ** 2).sum() / (w.size - 1))
    got = vol_63d(close)
    np.testing.assert_allclose(got.to_numpy(), expected, rtol=RTOL, atol=ATOL)
    assert got.iloc[:63].isna().all().all()


def test_vol_min_periods_allows_gaps(close: pd.DataFrame) -> None:
    c = close.to_numpy()
    r = pd.DataFrame(c).pct_change(fill_method=None).to_numpy()
    got = vol_63d(close, min_periods=40).to_numpy()
    checked = 0
    for t in range(62, c.shape[0]):
        for j in range(c.shape[1]):
            w = r[t - 62 : t + 1, j]
            w = w[np.isfinite(w)]
            if np.isnan(c[t, j]) or w.size < 40:
                assert np.isnan(got[t, j])
            else:
                assert got[t, j] == pytest.approx(np.std(w, ddof=1), rel=RTOL, abs=ATOL)
                checked += w.size < 63
    assert checked > 0  # windows with gaps were scored


def test_high_52w_direct_per_window(close: pd.DataFrame) -> None:
    c = close.to_numpy()
    expected = np.full(c.shape, np.nan)
    for t in range(251, c.shape[0]):
        for j in range(c.shape[1]):
            w = c[t - 251 : t + 1, j]
            if not np.isnan(c[t, j]) and np.isfinite(w).sum() == 252:
                expected[t, j] = c[t, j] / np.nanmax(w)
    got = high_52w(close)
    np.testing.assert_allclose(got.to_numpy(), expected, rtol=RTOL, atol=ATOL)
    assert (got.stack().dropna() <= 1.0).all()


def test_registry_and_unknown_name() -> None:
    assert set(PRICE_DIMENSIONS) == {"mom_12_1", "rev_1m", "vol_63d", "high_52w"}
    assert get_dimension("rev_1m") is rev_1m
    with pytest.raises(SignalError, match=r"unknown dimension 'mom_6'.*known: high_52w"):
        get_dimension("mom_6")


def test_bad_close_matrix_raises() -> None:
    with pytest.raises(SignalError, match="> 0"):
        rev_1m(pd.DataFrame({"A": [1.0, -2.0]}, index=grid(2)))
    with pytest.raises(SignalError, match="DatetimeIndex"):
        rev_1m(pd.DataFrame({"A": [1.0, 2.0]}))


# -- z-scores ---------------------------------------------------------------------------------
def _random_matrix(
    seed: int, shape: tuple[int, int] = (40, 9), nan_rate: float = 0.3
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(3, 2, size=shape)
    x[rng.random(shape) < nan_rate] = np.nan
    return pd.DataFrame(x, index=grid(shape[0]), columns=[f"N{i}" for i in range(shape[1])])


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 100_000))
def test_zscore_against_scipy_and_moments(seed: int) -> None:
    m = _random_matrix(seed)
    z = cross_sectional_zscore(m).to_numpy()
    x = m.to_numpy()
    for t in range(x.shape[0]):
        row = x[t]
        valid = np.isfinite(row)
        if valid.sum() < 3:
            assert np.isnan(z[t]).all()
            continue
        ref = stats.zscore(row[valid], ddof=1)
        np.testing.assert_allclose(z[t, valid], ref, rtol=RTOL, atol=ATOL)
        assert np.isnan(z[t, ~valid]).all()
        assert abs(z[t, valid].mean()) < ATOL * 10
        assert np.std(z[t, valid], ddof=1) == pytest.approx(1.0, abs=ATOL * 10)


def test_zscore_min_names_and_zero_dispersion() -> None:
    m = pd.DataFrame(
        [[1.0, 2.0, np.nan, np.nan], [5.0, 5.0, 5.0, 5.0], [1.0, 2.0, 3.0, np.nan]],
        index=grid(3),
        columns=list("ABCD"),
    )
    z = cross_sectional_zscore(m)
    assert z.iloc[0].isna().all() and z.iloc[1].isna().all()
    np.testing.assert_allclose(z.iloc[2, :3], [-1.0, 0.0, 1.0], atol=ATOL)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 100_000), where=st.integers(0, 9))
def test_zscore_bit_identical_when_an_empty_name_is_inserted(seed: int, where: int) -> None:
    m = _random_matrix(seed, shape=(20, 25), nan_rate=0.2)
    wider = m.copy()
    wider.insert(min(where, m.shape[1]), "NEW", np.nan)
    a = cross_sectional_zscore(m)
    b = cross_sectional_zscore(wider)[m.columns]
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())


# -- composite --------------------------------------------------------------------------------
def test_composite_weights_signs_and_missing_dimensions() -> None:
    idx = grid(2)
    a = pd.DataFrame([[1.0, -1.0], [0.5, np.nan]], index=idx, columns=["X", "Y"])
    b = pd.DataFrame([[2.0, 0.0], [np.nan, np.nan]], index=idx, columns=["X", "Y"])
    got = composite_score({"a": a, "b": b}, {"a": 0.75, "b": 0.25}, {"a": 1, "b": -1})
    expected = [[0.75 * 1 - 0.25 * 2, 0.75 * -1 - 0.25 * 0], [0.5, np.nan]]  # renormalized
    np.testing.assert_allclose(got.to_numpy(), expected, atol=ATOL)
    strict = composite_score({"a": a, "b": b}, {"a": 0.25, "b": 0.75}, min_weight_share=0.5)
    assert np.isnan(strict.iloc[1, 0])  # only 25% of the weight present
    assert strict.iloc[0, 0] == pytest.approx(0.25 * 1 + 0.75 * 2, abs=ATOL)


def test_composite_cnoi_weights_reproduce_the_index() -> None:
    rng = np.random.default_rng(3)
    w = dict(zip("DGRJTSX", [0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.1], strict=True))
    dims = {k: pd.DataFrame(rng.uniform(0, 100, (4, 5)), index=grid(4)) for k in w}
    got = composite_score(dims, w)
    expected = 0.2 * (dims["D"] + dims["G"] + dims["R"]) + 0.1 * (
        dims["J"] + dims["T"] + dims["S"] + dims["X"]
    )
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=RTOL, atol=1e-10)


def test_composite_spec_errors() -> None:
    a = _random_matrix(1)
    with pytest.raises(SignalError, match="weights: keys"):
        composite_score({"a": a}, {"b": 1.0})
    with pytest.raises(SignalError, match="≥ 0"):
        composite_score({"a": a}, {"a": -1.0})
    with pytest.raises(SignalError, match="signs"):
        composite_score({"a": a}, {"a": 1.0}, {"a": 2})
    with pytest.raises(SignalError, match="labels differ"):
        composite_score({"a": a, "b": a.iloc[1:]}, {"a": 1.0, "b": 1.0})


def test_compute_composite_is_zscored_dims_at_month_ends(close: pd.DataFrame) -> None:
    spec = SignalParams().dimensions
    comp = compute_composite(close, dimensions=spec, frequency="monthly")
    ends = period_ends(close.index, "monthly", calendar="XNYS")
    assert comp.score.index.equals(pd.DatetimeIndex(ends, name="date"))
    assert close.index[-1] not in comp.score.index  # 2020-03-31 is not in a 320-session grid end
    manual = {}
    for name in spec:
        raw = PRICE_DIMENSIONS[name](close).loc[ends]
        manual[name] = cross_sectional_zscore(raw)
        np.testing.assert_array_equal(comp.dimensions[name].to_numpy(), manual[name].to_numpy())
    expected = composite_score(
        manual, {n: s.weight for n, s in spec.items()}, {n: s.sign for n, s in spec.items()}
    )
    np.testing.assert_array_equal(comp.score.to_numpy(), expected.to_numpy())
    signed = {"mom_12_1": 0.4, "rev_1m": -0.2, "vol_63d": -0.2, "high_52w": 0.2}
    for t in range(comp.score.shape[0]):  # by hand, renormalizing over present dimensions
        for j in range(comp.score.shape[1]):
            zs = {n: comp.dimensions[n].iat[t, j] for n in spec}
            have = [n for n in spec if np.isfinite(zs[n])]
            got = comp.score.iat[t, j]
            if not have:
                assert np.isnan(got)
                continue
            by_hand = sum(signed[n] * zs[n] for n in have) / sum(abs(signed[n]) for n in have)
            assert got == pytest.approx(by_hand, rel=RTOL, abs=ATOL)
    assert comp.dimensions["mom_12_1"].iloc[-1].notna().sum() >= 3  # the loop saw full rows too


def test_composite_from_params_daily(close: pd.DataFrame) -> None:
    params = SignalParams(frequency="daily", dimensions={"rev_1m": {"weight": 1, "sign": -1}})
    comp = composite_from_params(close, params)
    assert comp.score.index.equals(close.index)
    np.testing.assert_allclose(
        comp.score.to_numpy(), -cross_sectional_zscore(rev_1m(close)).to_numpy(), atol=ATOL
    )
    with pytest.raises(SignalError, match="composite"):
        composite_from_params(close, SignalParams(kind="file", dimensions={"D": {"weight": 1}}))
