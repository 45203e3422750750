"""Unit and property tests for alphalab.stats.overfitting (PSR, MinTRL, SR₀, DSR, PBO).

Tolerances
----------
- Closed-form identities (PSR at MinTRL, DSR = PSR(SR₀), vectorized vs callable metric):
  1e-10 absolute.
- PBO against the plain brute-force CSCV enumeration below: logits, ranks, IS/OOS pairs
  1e-10 relative (same arithmetic up to summation order); PBO exactly equal.
- PBO on pure noise: mean over 100 seeded panels within 0.5 ± 0.08 (the panel-to-panel sd is
  ≈ 0.2, so the mean's sd is ≈ 0.02). PBO with one dominant strategy: exactly 0.
- PSR vs scipy's one-sided t-test on normal data: 0.01 absolute (asymptotically equal).

Worked examples from the papers and Monte-Carlo checks live in
``tests/reference/test_overfitting_reference.py``.
"""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from alphalab.stats.overfitting import (
    SharpeStats,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    min_track_record_length,
    pbo,
    probabilistic_sharpe_ratio,
)

ATOL = 1e-10


# --------------------------------------------------------------------------------------------
# SharpeStats
# --------------------------------------------------------------------------------------------


def test_sharpe_stats_from_returns_matches_numpy_and_scipy() -> None:
    x = np.random.default_rng(0).standard_t(df=5, size=400) * 0.01 + 0.0005
    s = SharpeStats.from_returns(pd.Series(x))
    assert s.n_obs == 400
    assert s.sr == pytest.approx(x.mean() / x.std(ddof=1), abs=ATOL)
    assert s.skew == pytest.approx(sps.skew(x), abs=ATOL)
    assert s.kurtosis == pytest.approx(sps.kurtosis(x, fisher=False), abs=ATOL)


def test_from_annualized_divides_by_sqrt_periods() -> None:
    s = SharpeStats.from_annualized(2.0, 500, 0.0, 3.0, periods_per_year=252)
    assert s.sr == pytest.approx(2.0 / math.sqrt(252), abs=ATOL)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sr": 0.1, "n_obs": 1, "skew": 0.0, "kurtosis": 3.0}, "n_obs"),
        ({"sr": 0.1, "n_obs": 10.5, "skew": 0.0, "kurtosis": 3.0}, "n_obs"),
        ({"sr": math.nan, "n_obs": 10, "skew": 0.0, "kurtosis": 3.0}, "sr"),
        ({"sr": 0.1, "n_obs": 10, "skew": 0.0, "kurtosis": 0.0}, "excess kurtosis"),
    ],
)
def test_sharpe_stats_rejects_bad_values(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        SharpeStats(**kwargs)


def test_returns_with_nan_are_rejected_with_position() -> None:
    with pytest.raises(ValueError, match="position 2"):
        probabilistic_sharpe_ratio([0.01, 0.02, np.nan, 0.01])


def test_bare_tuple_is_refused_as_ambiguous() -> None:
    with pytest.raises(TypeError, match="SharpeStats"):
        probabilistic_sharpe_ratio((0.1, 100, 0.0, 3.0))  # type: ignore[arg-type]


def test_constant_returns_are_rejected() -> None:
    with pytest.raises(ValueError, match="constant"):
        SharpeStats.from_returns(np.full(20, 0.01))


# --------------------------------------------------------------------------------------------
# PSR / MinTRL / SR₀ / DSR
# --------------------------------------------------------------------------------------------


def test_psr_equals_hand_formula() -> None:
    s = SharpeStats(sr=0.12, n_obs=300, skew=-0.7, kurtosis=6.0)
    z = (0.12 - 0.05) * math.sqrt(299) / math.sqrt(1 + 0.7 * 0.12 + 5 / 4 * 0.12**2)
    assert probabilistic_sharpe_ratio(s, sr_benchmark=0.05) == pytest.approx(
        sps.norm.cdf(z), abs=ATOL
    )


def test_psr_from_returns_equals_psr_from_stats() -> None:
    x = np.random.default_rng(3).normal(0.001, 0.01, 300)
    assert probabilistic_sharpe_ratio(x) == pytest.approx(
        probabilistic_sharpe_ratio(SharpeStats.from_returns(x)), abs=ATOL
    )


def test_psr_is_close_to_one_sided_t_test_for_normal_returns() -> None:
    # For Gaussian returns PSR(0) ≈ 1 − p of the one-sided t-test of mean <= 0 (scipy).
    for seed in range(5):
        x = np.random.default_rng(seed).normal(0.0006, 0.01, 250)
        p = sps.ttest_1samp(x, 0.0, alternative="greater").pvalue
        assert probabilistic_sharpe_ratio(x) == pytest.approx(1 - p, abs=0.01)


def test_negative_skew_and_fat_tails_lower_psr() -> None:
    base = SharpeStats(sr=0.1, n_obs=250, skew=0.0, kurtosis=3.0)
    ugly = SharpeStats(sr=0.1, n_obs=250, skew=-2.0, kurtosis=12.0)
    assert probabilistic_sharpe_ratio(ugly) < probabilistic_sharpe_ratio(base)


def test_psr_rejects_undefined_variance() -> None:
    s = SharpeStats(sr=1.0, n_obs=50, skew=3.0, kurtosis=1.0)  # 1 − 3 + 0 < 0
    with pytest.raises(ValueError, match="variance is undefined"):
        probabilistic_sharpe_ratio(s)


@settings(max_examples=60, deadline=None)
@given(
    sr=st.floats(0.02, 0.5),
    gap=st.floats(0.01, 0.3),
    skew=st.floats(-2.0, 1.0),
    excess=st.floats(0.0, 10.0),
    confidence=st.floats(0.6, 0.99),
)
def test_psr_at_min_track_record_equals_confidence(
    sr: float, gap: float, skew: float, excess: float, confidence: float
) -> None:
    # MinTRL inverts PSR: with T = MinTRL (real-valued), PSR(SR*) = confidence exactly.
    bench = sr - gap
    probe = SharpeStats(sr=sr, n_obs=10, skew=skew, kurtosis=3.0 + excess)
    if probe.sr_variance_factor <= 0:
        return
    t = min_track_record_length(probe, sr_benchmark=bench, confidence=confidence)
    factor = probe.sr_variance_factor
    z = (sr - bench) * math.sqrt(t - 1) / math.sqrt(factor)
    assert sps.norm.cdf(z) == pytest.approx(confidence, abs=ATOL)


def test_min_trl_is_infinite_when_sr_does_not_beat_benchmark() -> None:
    s = SharpeStats(sr=0.05, n_obs=100, skew=0.0, kurtosis=3.0)
    assert math.isinf(min_track_record_length(s, sr_benchmark=0.05))
    assert math.isinf(min_track_record_length(s, sr_benchmark=0.1))


def test_min_trl_normal_case_closed_form() -> None:
    s = SharpeStats(sr=0.1, n_obs=100, skew=0.0, kurtosis=3.0)
    z = sps.norm.ppf(0.95)
    expected = 1 + (1 + 0.5 * 0.01) * (z / 0.1) ** 2
    assert min_track_record_length(s) == pytest.approx(expected, abs=ATOL)


def test_expected_max_sharpe_single_trial_and_scaling() -> None:
    assert expected_max_sharpe(1, 0.3) == 0.0
    assert expected_max_sharpe(50, 4.0) == pytest.approx(2 * expected_max_sharpe(50, 1.0))
    values = [expected_max_sharpe(n, 1.0) for n in (2, 10, 100, 1000)]
    assert values == sorted(values)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_expected_max_sharpe_rejects_bad_n_trials(bad: object) -> None:
    with pytest.raises(ValueError, match="n_trials"):
        expected_max_sharpe(bad, 1.0)  # type: ignore[arg-type]


def test_dsr_is_psr_at_sr0() -> None:
    s = SharpeStats(sr=0.15, n_obs=800, skew=-1.0, kurtosis=5.0)
    sr0 = expected_max_sharpe(40, 0.001)
    assert deflated_sharpe_ratio(s, n_trials=40, var_trials_sharpe=0.001) == pytest.approx(
        probabilistic_sharpe_ratio(s, sr_benchmark=sr0), abs=ATOL
    )
    # One trial: no deflation.
    assert deflated_sharpe_ratio(s, n_trials=1, var_trials_sharpe=0.001) == pytest.approx(
        probabilistic_sharpe_ratio(s), abs=ATOL
    )


@settings(max_examples=40, deadline=None)
@given(n1=st.integers(1, 500), extra=st.integers(1, 500), var=st.floats(1e-5, 0.05))
def test_dsr_decreases_with_more_trials(n1: int, extra: int, var: float) -> None:
    s = SharpeStats(sr=0.1, n_obs=500, skew=0.0, kurtosis=3.0)
    few = deflated_sharpe_ratio(s, n_trials=n1, var_trials_sharpe=var)
    many = deflated_sharpe_ratio(s, n_trials=n1 + extra, var_trials_sharpe=var)
    assert many <= few + ATOL


# --------------------------------------------------------------------------------------------
# PBO (CSCV)
# --------------------------------------------------------------------------------------------


def _brute_force_cscv(x: np.ndarray, n_splits: int) -> dict[str, np.ndarray]:
    """CSCV written plainly from the paper, one combination at a time."""
    blocks = np.array_split(np.arange(x.shape[0]), n_splits)
    logits, ranks, is_perf, oos_perf = [], [], [], []
    for combo in combinations(range(n_splits), n_splits // 2):
        train = np.concatenate([blocks[b] for b in combo])
        test = np.concatenate([blocks[b] for b in range(n_splits) if b not in combo])
        r_is = x[train].mean(axis=0) / x[train].std(axis=0, ddof=1)
        r_oos = x[test].mean(axis=0) / x[test].std(axis=0, ddof=1)
        best = int(np.argmax(r_is))
        omega = sps.rankdata(r_oos)[best] / (x.shape[1] + 1)
        ranks.append(omega)
        logits.append(math.log(omega / (1 - omega)))
        is_perf.append(r_is[best])
        oos_perf.append(r_oos[best])
    return {
        "logits": np.array(logits),
        "ranks": np.array(ranks),
        "is": np.array(is_perf),
        "oos": np.array(oos_perf),
    }


@pytest.mark.parametrize(("t", "n", "s", "seed"), [(48, 5, 4, 0), (61, 7, 6, 1), (80, 4, 8, 2)])
def test_pbo_matches_brute_force_enumeration(t: int, n: int, s: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 0.01, size=(t, n)) + rng.normal(0.0, 0.002, size=n)
    expected = _brute_force_cscv(x, s)
    result = pbo(x, n_splits=s, chunk_size=3)  # small chunks exercise the batching
    np.testing.assert_allclose(result.logits, expected["logits"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(result.relative_rank, expected["ranks"], rtol=1e-10)
    np.testing.assert_allclose(result.is_performance, expected["is"], rtol=1e-10)
    np.testing.assert_allclose(result.oos_performance, expected["oos"], rtol=1e-10)
    assert result.pbo == np.mean(expected["logits"] <= 0)
    assert result.prob_oos_loss == np.mean(expected["oos"] < 0)
    assert result.n_combinations == math.comb(s, s // 2)


def test_pbo_handles_ties_like_scipy_average_rank() -> None:
    # Integer-valued returns produce tied OOS Sharpe ratios.
    x = np.tile(np.array([[1.0, 1.0, 2.0, 0.0], [2.0, 2.0, 1.0, 1.0]]), (8, 1))
    x[::3, 3] += 1.0
    expected = _brute_force_cscv(x, 4)
    result = pbo(x, n_splits=4)
    np.testing.assert_allclose(result.relative_rank, expected["ranks"], rtol=1e-12)


def test_pbo_callable_metric_equals_builtin_sharpe() -> None:
    x = np.random.default_rng(5).normal(size=(96, 6))

    def sharpe(a: np.ndarray) -> np.ndarray:
        return a.mean(axis=0) / a.std(axis=0, ddof=1)

    fast = pbo(x, n_splits=6)
    slow = pbo(x, n_splits=6, metric=sharpe)
    np.testing.assert_allclose(slow.logits, fast.logits, rtol=1e-10)
    assert slow.metric == "sharpe"


def test_pbo_mean_metric_matches_brute_force_means() -> None:
    x = np.random.default_rng(6).normal(size=(64, 5))
    result = pbo(x, n_splits=4, metric="mean")
    slow = pbo(x, n_splits=4, metric=lambda a: a.mean(axis=0))
    np.testing.assert_allclose(result.is_performance, slow.is_performance, rtol=1e-10)
    np.testing.assert_allclose(result.oos_performance, slow.oos_performance, rtol=1e-10)


def test_pbo_is_zero_when_one_strategy_dominates() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(0.0, 0.01, size=(640, 30))
    x[:, 11] += 0.01  # SR 1 per period: best in every block set, in and out of sample
    result = pbo(pd.DataFrame(x, columns=[f"v{i}" for i in range(30)]), n_splits=8)
    assert result.pbo == 0.0
    assert result.prob_oos_loss == 0.0
    assert set(result.to_frame()["selected"]) == {"v11"}


def test_pbo_is_about_one_half_among_pure_noise() -> None:
    values = [
        pbo(np.random.default_rng(seed).normal(size=(320, 20)), n_splits=8).pbo
        for seed in range(100)
    ]
    assert np.mean(values) == pytest.approx(0.5, abs=0.08)


def test_pbo_to_frame_shape_and_labels() -> None:
    x = pd.DataFrame(np.random.default_rng(8).normal(size=(40, 3)), columns=["a", "b", "c"])
    frame = pbo(x, n_splits=4).to_frame()
    assert list(frame.columns) == [
        "selected",
        "is_performance",
        "oos_performance",
        "relative_rank",
        "logit",
    ]
    assert len(frame) == 6
    assert set(frame["selected"]) <= {"a", "b", "c"}


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.1, 10.0))
def test_pbo_invariant_to_column_order_and_scale(seed: int, scale: float) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(48, 6))
    perm = rng.permutation(6)
    base = pbo(x, n_splits=4)
    moved = pbo(x[:, perm] * scale, n_splits=4)
    np.testing.assert_allclose(moved.logits, base.logits, rtol=1e-9)
    np.testing.assert_array_equal(perm[moved.selected], base.selected)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_splits": 5}, "even"),
        ({"n_splits": 0}, "even"),
        ({"n_splits": 16}, "at least 32"),
        ({"metric": "sortino"}, "metric"),
    ],
)
def test_pbo_rejects_bad_options(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        pbo(np.random.default_rng(0).normal(size=(20, 3)), **kwargs)


def test_pbo_rejects_nan_naming_row_and_column() -> None:
    x = pd.DataFrame(np.random.default_rng(0).normal(size=(20, 3)), columns=["a", "b", "c"])
    x.iloc[4, 1] = np.nan
    with pytest.raises(ValueError, match=r"row 5 \(1-based\), column 'b'"):
        pbo(x, n_splits=4)


def test_pbo_rejects_single_strategy_and_bad_callable() -> None:
    with pytest.raises(ValueError, match="at least 2 strategies"):
        pbo(np.zeros((20, 1)), n_splits=2)
    with pytest.raises(ValueError, match="one per strategy"):
        pbo(np.random.default_rng(0).normal(size=(20, 3)), n_splits=2, metric=lambda a: a.mean())
