"""Reference checks of the overfitting statistics against published numbers and independent
computations.

Sources and tolerances
----------------------
- Bailey & López de Prado (2014), "The deflated Sharpe ratio", JPM 40(5), worked example:
  annualized SR 2.5, T = 1250 daily returns (5 years of 250 days), γ3 = −3, γ4 = 10, N = 100
  trials, annualized V[SR_n] = 0.5 → DSR ≈ 0.9004 (printed to 4 decimals): tolerance 5e-5.
- Bailey & López de Prado (2012), "The Sharpe ratio efficient frontier", J. Risk 15(2): I could
  not recall the paper's numerical PSR/MinTRL examples with certainty, so no number is quoted
  from it. The PSR/MinTRL formulas are instead checked independently:
  * the asymptotic standard deviation of SR̂ that PSR uses, sqrt((1 − γ3·SR + (γ4 − 1)/4·SR²)
    / (T − 1)), against a Monte-Carlo of 4000 samples of T = 1000 skewed returns
    (SR = 0.2, γ3 = −2, γ4 = 9): relative tolerance 5% (Monte-Carlo sd of the estimate ≈ 1.1%;
    the normal-theory value is 20% off, so a missing skew/kurtosis term fails);
  * calibration: when the true SR equals SR*, PSR(SR*) computed on each sample should be
    ≈ Uniform(0, 1): the share above 0.95 must be 0.05 ± 0.015 (binomial sd 0.0034);
  * MinTRL: a Monte-Carlo at T = ceil(MinTRL) gives a rejection rate of H0: SR ≤ SR* close to
    the target power implied by PSR (see the test): tolerance 0.03.
- SR₀ (expected maximum of N unskilled Sharpe ratios): the paper's approximation against the
  exact expectation of the maximum of N iid N(0, V) draws by numerical integration (scipy
  quad): relative error < 3% for N ≥ 10 and shrinking with N (the approximation is asymptotic).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate
from scipy import stats as sps

from alphalab.stats.overfitting import (
    SharpeStats,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    min_track_record_length,
    probabilistic_sharpe_ratio,
)


def test_dsr_worked_example_bailey_lopez_de_prado_2014() -> None:
    stats = SharpeStats.from_annualized(2.5, 1250, -3.0, 10.0, periods_per_year=250)
    dsr = deflated_sharpe_ratio(stats, n_trials=100, var_trials_sharpe=0.5 / 250)
    assert dsr == pytest.approx(0.9004, abs=5e-5)


def test_dsr_worked_example_sr0_is_consistent() -> None:
    # SR₀ of the example, recomputed by hand from eq. (2) with scipy's normal quantiles.
    gamma = np.euler_gamma
    by_hand = math.sqrt(0.5 / 250) * (
        (1 - gamma) * sps.norm.ppf(1 - 1 / 100) + gamma * sps.norm.ppf(1 - 1 / (100 * math.e))
    )
    assert expected_max_sharpe(100, 0.5 / 250) == pytest.approx(by_hand, rel=1e-12)


def _exact_expected_max(n: int) -> float:
    def integrand(x: float) -> float:
        return x * n * sps.norm.pdf(x) * sps.norm.cdf(x) ** (n - 1)

    return integrate.quad(integrand, -np.inf, np.inf, limit=200)[0]


def test_expected_max_sharpe_approximates_exact_expectation() -> None:
    errors = []
    for n in (10, 100, 1000, 10_000):
        exact = _exact_expected_max(n) * math.sqrt(0.3)
        approx = expected_max_sharpe(n, 0.3)
        errors.append(abs(approx / exact - 1))
    assert max(errors) < 0.03
    assert errors == sorted(errors, reverse=True)


def _skewed_samples(sr: float, t: int, reps: int, seed: int) -> np.ndarray:
    # sd 1, skewness −2, Pearson kurtosis 9: sr minus a centred unit exponential.
    rng = np.random.default_rng(seed)
    return sr - (rng.exponential(size=(reps, t)) - 1.0)


def test_sr_sampling_sd_matches_psr_variance_monte_carlo() -> None:
    sr, t = 0.2, 1000
    x = _skewed_samples(sr, t, 4000, seed=2)
    sr_hat = x.mean(axis=1) / x.std(axis=1, ddof=1)
    theory = SharpeStats(sr=sr, n_obs=t, skew=-2.0, kurtosis=9.0)
    expected_sd = math.sqrt(theory.sr_variance_factor / (t - 1))
    assert sr_hat.std(ddof=1) == pytest.approx(expected_sd, rel=0.05)


def test_psr_is_calibrated_when_true_sr_equals_benchmark() -> None:
    sr, t = 0.1, 500
    x = _skewed_samples(sr, t, 4000, seed=1)
    psr = _vector_psr(x, sr)  # equal to the module's PSR (test below), vectorized for speed
    assert np.mean(psr > 0.95) == pytest.approx(0.05, abs=0.015)
    assert np.mean(psr < 0.05) == pytest.approx(0.05, abs=0.015)


def _vector_psr(x: np.ndarray, bench: float) -> np.ndarray:
    """PSR on many samples at once, written independently from the module (scipy moments)."""
    sr = x.mean(axis=1) / x.std(axis=1, ddof=1)
    g3 = sps.skew(x, axis=1)
    g4 = sps.kurtosis(x, axis=1, fisher=False)
    t = x.shape[1]
    return sps.norm.cdf((sr - bench) * np.sqrt(t - 1) / np.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr**2))


def test_module_psr_equals_independent_vector_psr() -> None:
    x = _skewed_samples(0.05, 300, 20, seed=4)
    ours = [probabilistic_sharpe_ratio(row, sr_benchmark=0.02) for row in x]
    np.testing.assert_allclose(ours, _vector_psr(x, 0.02), atol=1e-12)


def test_min_track_record_length_gives_target_power_monte_carlo() -> None:
    # With true SR = 0.15 and SR* = 0.05, MinTRL(0.95) is the T at which the *expected* PSR
    # z-statistic equals z_0.95. At that T, the z-statistic is ≈ N(z_0.95, 1), so a one-sided
    # 5% test of H0: SR <= SR* rejects with probability ≈ Φ(z_0.95 − z_0.95) = 0.5.
    sr, bench = 0.15, 0.05
    truth = SharpeStats(sr=sr, n_obs=10, skew=-2.0, kurtosis=9.0)
    t = math.ceil(min_track_record_length(truth, sr_benchmark=bench, confidence=0.95))
    x = _skewed_samples(sr, t, 4000, seed=3)
    sr_hat = x.mean(axis=1) / x.std(axis=1, ddof=1)
    z = (sr_hat - bench) * math.sqrt(t - 1) / math.sqrt(truth.sr_variance_factor)
    assert np.mean(z > sps.norm.ppf(0.95)) == pytest.approx(0.5, abs=0.03)
