"""Tests for alphalab.stats.bootstrap: block-bootstrap CIs and within-date permutation placebos.

Tolerances
----------
- Resampling indices against ``arch.bootstrap.StationaryBootstrap`` / ``CircularBlockBootstrap``
  seeded with the same per-draw generator: exact equality.
- Block length against ``arch.bootstrap.optimal_block_length``: exact (rounded up for the
  circular bootstrap).
- Determinism: bit-for-bit equality across chunkings and draw orders.
- BCa and percentile intervals of iid data (block length 1) against
  ``scipy.stats.bootstrap``: 0.15 bootstrap standard errors (20 000 draws each; measured gaps
  shrink from ≈ 0.08 SE at 20 000 draws to ≈ 0.02 SE at 100 000, i.e. Monte-Carlo error; on this
  skewed sample dropping the acceleration moves the upper BCa endpoint by 0.5 SE and the BCa
  interval differs from the percentile one by 0.25–0.55 SE, so a wrong formula fails).
- Coverage of the nominal 95% percentile interval of the Sharpe ratio on iid normal data:
  150 seeded replications, coverage in [0.89, 0.99] (binomial sd ≈ 0.018).
- Block bootstrap on AR(1) data: 95% interval of the mean covers in [0.85, 0.99] with the
  optimal block length, while iid resampling (block 1) covers clearly less (< 0.85).
- Placebo p-values under the null: over 300 independent null panels the share of p ≤ 0.1 is
  0.1 ± 0.06 and of p ≤ 0.5 is 0.5 ± 0.1 (binomial sds 0.017 and 0.029); the p-value is exactly
  (1 + #{placebo ≥ observed}) / (1 + n_perm).
- Within-row permutation uniformity: chi-square over the 6 orderings of 3 values, p > 0.001.
"""

from __future__ import annotations

import math
from itertools import permutations

import numpy as np
import pandas as pd
import pytest
from arch.bootstrap import CircularBlockBootstrap, StationaryBootstrap, optimal_block_length
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from alphalab.stats.bootstrap import (
    bootstrap_ci,
    bootstrap_distribution,
    draw_generator,
    permutation_placebo,
    permute_within_rows,
    placebo_statistic,
    resample_indices,
    resolve_block_size,
)

# --------------------------------------------------------------------------------------------
# Per-draw randomness and arch agreement
# --------------------------------------------------------------------------------------------


def test_draw_generator_is_the_spawned_child() -> None:
    children = np.random.SeedSequence(42).spawn(10)
    for i in (0, 3, 9):
        expected = np.random.default_rng(children[i]).random(5)
        np.testing.assert_array_equal(draw_generator(42, i).random(5), expected)


@pytest.mark.parametrize("block", [1.0, 3.7, 25.0])
def test_stationary_indices_equal_arch(block: float) -> None:
    x = np.arange(97, dtype=float)
    for draw in range(5):
        arch_bs = StationaryBootstrap(block, x, seed=draw_generator(7, draw))
        (arch_x,), _ = next(arch_bs.bootstrap(1))
        ours = resample_indices(97, seed=7, draw=draw, method="stationary", block_size=block)
        np.testing.assert_array_equal(x[ours], arch_x)


@pytest.mark.parametrize("block", [1, 4, 10])
def test_circular_indices_equal_arch(block: int) -> None:
    x = np.arange(53, dtype=float)
    for draw in range(5):
        arch_bs = CircularBlockBootstrap(block, x, seed=draw_generator(3, draw))
        (arch_x,), _ = next(arch_bs.bootstrap(1))
        ours = resample_indices(53, seed=3, draw=draw, method="circular", block_size=block)
        np.testing.assert_array_equal(x[ours], arch_x)


def test_default_block_size_is_arch_optimal_block_length() -> None:
    rng = np.random.default_rng(0)
    x = np.convolve(rng.normal(size=600), np.ones(4) / 4, mode="same")  # autocorrelated
    opt = optimal_block_length(x)
    b_sb, auto = resolve_block_size(x, method="stationary")
    assert auto
    assert b_sb == float(opt.iloc[0, 0])
    b_cb, _ = resolve_block_size(x, method="circular")
    assert b_cb == float(math.ceil(opt.iloc[0, 1]))
    result = bootstrap_ci(x, seed=1, periods_per_year=252, reps=50)
    assert result.block_size == b_sb
    assert result.block_size_auto


# --------------------------------------------------------------------------------------------
# Determinism (the Dask contract)
# --------------------------------------------------------------------------------------------


def test_bootstrap_is_deterministic_and_order_independent() -> None:
    x = np.random.default_rng(1).normal(0.0005, 0.01, 300)
    kw = {"statistic": "sharpe", "method": "stationary", "block_size": 4.2, "seed": 99}
    full = bootstrap_distribution(x, draws=range(400), periods_per_year=252, **kw)
    chunks = [range(300, 400), range(0, 150), range(150, 300)]  # any order, any chunking
    parts = {
        c.start: bootstrap_distribution(x, draws=c, periods_per_year=252, **kw) for c in chunks
    }
    np.testing.assert_array_equal(np.concatenate([parts[k] for k in sorted(parts)]), full)
    shuffled = np.random.default_rng(5).permutation(400)
    again = bootstrap_distribution(x, draws=shuffled, periods_per_year=252, **kw)
    np.testing.assert_array_equal(again[np.argsort(shuffled)], full)
    ci = bootstrap_ci(x, seed=99, periods_per_year=252, block_size=4.2, reps=400)
    np.testing.assert_array_equal(ci.distribution, full)
    other = bootstrap_ci(x, seed=100, periods_per_year=252, block_size=4.2, reps=400)
    assert not np.array_equal(other.distribution, full)


def test_placebo_is_deterministic_and_draw_addressable() -> None:
    scores = _panel(0)[0]

    def stat(m: pd.DataFrame) -> float:
        return float(np.nanmean(m.to_numpy()[:, :3]))

    res = permutation_placebo(stat, scores, n_perm=30, seed=4)
    again = permutation_placebo(stat, scores, n_perm=30, seed=4)
    np.testing.assert_array_equal(res.distribution, again.distribution)
    for i in (0, 17, 29):
        assert placebo_statistic(stat, scores, seed=4, draw=i) == res.distribution[i]


# --------------------------------------------------------------------------------------------
# Confidence intervals
# --------------------------------------------------------------------------------------------


def test_estimate_and_statistics() -> None:
    x = np.random.default_rng(2).normal(0.001, 0.01, 250)
    sharpe = bootstrap_ci(x, seed=0, periods_per_year=252, reps=100)
    assert sharpe.estimate == pytest.approx(x.mean() / x.std(ddof=1) * math.sqrt(252))
    mean = bootstrap_ci(x, seed=0, periods_per_year=252, reps=100, statistic="mean")
    assert mean.estimate == pytest.approx(x.mean() * 252)
    assert mean.lower < mean.estimate < mean.upper
    assert mean.percentile_ci == (mean.lower, mean.upper)
    bca = bootstrap_ci(x, seed=0, periods_per_year=252, reps=100, interval="bca")
    assert (bca.lower, bca.upper) == bca.bca_ci


def test_iid_bootstrap_variance_of_mean_matches_theory() -> None:
    # Block length 1: iid resampling, Var*(mean) = (1/n)·Σ(x − x̄)²/n exactly in expectation.
    x = np.random.default_rng(3).normal(size=200)
    res = bootstrap_ci(x, seed=1, periods_per_year=1, statistic="mean", block_size=1, reps=4000)
    theory = math.sqrt(np.var(x) / x.size)
    assert res.std_error == pytest.approx(theory, rel=0.05)


@pytest.mark.parametrize("kind", ["percentile", "BCa"])
def test_iid_intervals_match_scipy_bootstrap(kind: str) -> None:
    x = np.random.default_rng(4).lognormal(0.0, 1.0, 40)
    ours = bootstrap_ci(x, seed=2, periods_per_year=1, statistic="mean", block_size=1, reps=20_000)
    ref = sps.bootstrap(
        (x,), np.mean, n_resamples=20_000, method=kind, confidence_level=0.95, rng=3
    )
    got = ours.percentile_ci if kind == "percentile" else ours.bca_ci
    expected = (ref.confidence_interval.low, ref.confidence_interval.high)
    np.testing.assert_allclose(got, expected, atol=0.15 * ours.std_error)


def test_percentile_interval_coverage_on_iid_normal() -> None:
    mu, n = 0.05, 120
    truth = mu * math.sqrt(12)  # sd 1, monthly data
    hits = []
    for rep in range(150):
        x = np.random.default_rng([2024, rep]).normal(mu, 1.0, n)
        r = bootstrap_ci(x, seed=rep, periods_per_year=12, reps=300)
        hits.append(r.lower <= truth <= r.upper)
    assert 0.89 <= np.mean(hits) <= 0.99


@pytest.mark.slow
def test_block_bootstrap_covers_on_autocorrelated_data_where_iid_does_not() -> None:
    phi, n = 0.6, 300
    hits_block, hits_iid = [], []
    for rep in range(100):
        rng = np.random.default_rng([7, rep])
        e = rng.normal(size=n + 100)
        x = np.empty_like(e)
        x[0] = e[0]
        for t in range(1, e.size):
            x[t] = phi * x[t - 1] + e[t]
        x = x[100:]  # true mean 0
        kw = {"seed": rep, "periods_per_year": 1, "statistic": "mean", "reps": 300}
        b = bootstrap_ci(x, **kw)
        i = bootstrap_ci(x, block_size=1, **kw)
        hits_block.append(b.lower <= 0.0 <= b.upper)
        hits_iid.append(i.lower <= 0.0 <= i.upper)
    assert 0.85 <= np.mean(hits_block) <= 0.99
    assert np.mean(hits_iid) < 0.85


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"alpha": 1.5}, "alpha"),
        ({"reps": 1}, "reps"),
        ({"statistic": "median"}, "statistic"),
        ({"method": "moving"}, "method"),
        ({"block_size": 0.5}, "block_size"),
        ({"method": "circular", "block_size": 2.5}, "integer block_size"),
        ({"interval": "studentized"}, "interval"),
        ({"periods_per_year": 0}, "periods_per_year"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bootstrap_ci_rejects_bad_options(kwargs: dict, match: str) -> None:
    base = {"seed": 0, "periods_per_year": 252, "reps": 20}
    with pytest.raises(ValueError, match=match):
        bootstrap_ci(np.random.default_rng(0).normal(size=50), **{**base, **kwargs})


def test_bootstrap_ci_rejects_nan_with_position() -> None:
    x = np.random.default_rng(0).normal(size=50)
    x[7] = np.nan
    with pytest.raises(ValueError, match="position 7"):
        bootstrap_ci(x, seed=0, periods_per_year=252)


# --------------------------------------------------------------------------------------------
# Placebo
# --------------------------------------------------------------------------------------------


def _panel(
    seed: int, t: int = 24, n: int = 12, signal: float = 0.0
) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(t, n))
    returns = signal * scores + rng.normal(size=(t, n))
    scores[rng.random((t, n)) < 0.15] = np.nan  # ragged coverage
    dates = pd.date_range("2020-01-31", periods=t, freq="ME")
    cols = [f"T{i:02d}" for i in range(n)]
    return pd.DataFrame(scores, index=dates, columns=cols), returns


def _mean_ic(scores: np.ndarray, returns: np.ndarray) -> float:
    """Mean over dates of the cross-sectional Pearson correlation (NaN scores skipped)."""
    s = np.where(np.isnan(scores), np.nan, scores)
    r = np.where(np.isnan(scores), np.nan, returns)
    sc = s - np.nanmean(s, axis=1, keepdims=True)
    rc = r - np.nanmean(r, axis=1, keepdims=True)
    num = np.nansum(sc * rc, axis=1)
    den = np.sqrt(np.nansum(sc**2, axis=1) * np.nansum(rc**2, axis=1))
    return float(np.mean(num / den))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31), draw=st.integers(0, 10_000), nan_share=st.floats(0.0, 0.9))
def test_permutation_keeps_nan_cells_and_row_values(seed: int, draw: int, nan_share: float) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(7, 9))
    x[rng.random(x.shape) < nan_share] = np.nan
    y = permute_within_rows(x, seed=seed, draw=draw)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(x))
    for row_x, row_y in zip(x, y, strict=True):
        np.testing.assert_array_equal(
            np.sort(row_x[~np.isnan(row_x)]), np.sort(row_y[~np.isnan(row_y)])
        )


def test_within_row_permutation_is_uniform() -> None:
    x = np.array([[1.0, np.nan, 2.0, 3.0]])
    counts = dict.fromkeys(permutations((1.0, 2.0, 3.0)), 0)
    for draw in range(3000):
        y = permute_within_rows(x, seed=11, draw=draw)[0]
        counts[(y[0], y[2], y[3])] += 1
    assert sps.chisquare(list(counts.values())).pvalue > 1e-3


def test_placebo_pvalue_formula() -> None:
    scores, returns = _panel(1)

    def stat(m: pd.DataFrame) -> float:
        return _mean_ic(m.to_numpy(), returns)

    res = permutation_placebo(stat, scores, n_perm=60, seed=2)
    assert res.observed == pytest.approx(_mean_ic(scores.to_numpy(), returns))
    expected = (1 + np.sum(res.distribution >= res.observed)) / 61
    assert res.pvalue == expected
    less = permutation_placebo(stat, scores, n_perm=60, seed=2, alternative="less")
    assert less.pvalue == (1 + np.sum(res.distribution <= res.observed)) / 61
    two = permutation_placebo(stat, scores, n_perm=60, seed=2, alternative="two-sided")
    assert two.pvalue == (1 + np.sum(np.abs(res.distribution) >= abs(res.observed))) / 61


def test_placebo_pvalues_are_uniform_under_the_null() -> None:
    pvals = []
    for rep in range(300):
        scores, returns = _panel(10_000 + rep, t=12, n=10)
        s = scores.to_numpy()
        res = permutation_placebo(lambda m, r=returns: _mean_ic(m, r), s, n_perm=49, seed=rep)
        pvals.append(res.pvalue)
    pvals_arr = np.array(pvals)
    assert np.mean(pvals_arr <= 0.1) == pytest.approx(0.1, abs=0.06)
    assert np.mean(pvals_arr <= 0.5) == pytest.approx(0.5, abs=0.1)


def test_placebo_detects_a_planted_signal() -> None:
    scores, returns = _panel(3, signal=0.5)
    res = permutation_placebo(lambda m: _mean_ic(m.to_numpy(), returns), scores, n_perm=99, seed=0)
    assert res.pvalue == pytest.approx(1 / 100)


def test_placebo_passes_dataframe_labels_and_rejects_bad_statistic() -> None:
    scores, _ = _panel(4)
    seen = []

    def stat(m: pd.DataFrame) -> float:
        seen.append((m.index.equals(scores.index), list(m.columns) == list(scores.columns)))
        return 0.0

    permutation_placebo(stat, scores, n_perm=3, seed=0)
    assert all(a and b for a, b in seen)
    calls: list[int] = []

    def nan_on_placebos(m: pd.DataFrame) -> float:
        calls.append(1)
        return 0.0 if len(calls) == 1 else math.nan  # first call is the real matrix

    with pytest.raises(ValueError, match="permutation 0"):
        permutation_placebo(nan_on_placebos, scores, n_perm=2, seed=0)
    with pytest.raises(ValueError, match="n_perm"):
        permutation_placebo(stat, scores, n_perm=0, seed=0)
    with pytest.raises(ValueError, match="2-D"):
        permutation_placebo(stat, np.zeros(5), n_perm=2, seed=0)
