"""Backtest overfitting: probabilistic and deflated Sharpe ratios, CSCV probability of overfitting.

Conventions (DESIGN.md §7):

- Every Sharpe ratio here is **per period** (not annualized): ``mean / sd`` of the per-period
  excess returns, sd with ``ddof=1``. Annualize only for display (``× sqrt(periods_per_year)``);
  :meth:`SharpeStats.from_annualized` converts published annual figures.
- Skewness ``γ3`` and kurtosis ``γ4`` are the sample moment ratios (``scipy.stats.skew`` and
  ``scipy.stats.kurtosis(fisher=False)``, ``bias=True``); kurtosis is **Pearson** (normal = 3).
- ``n_trials`` is the number of independent variants tried, taken from the trial ledger, and
  ``var_trials_sharpe`` the variance of their per-period Sharpe ratios.

References
----------
Bailey, D. H. & López de Prado, M. (2012). The Sharpe ratio efficient frontier. *Journal of
Risk* 15(2), 3–44.
Bailey, D. H. & López de Prado, M. (2014). The deflated Sharpe ratio: correcting for selection
bias, backtest overfitting and non-normality. *Journal of Portfolio Management* 40(5), 94–107.
Bailey, D. H., Borwein, J. M., López de Prado, M. & Zhu, Q. J. (2017). The probability of
backtest overfitting. *Journal of Computational Finance* 20(4), 39–69.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps

__all__ = [
    "PBOResult",
    "SharpeStats",
    "deflated_sharpe_ratio",
    "expected_max_sharpe",
    "min_track_record_length",
    "pbo",
    "probabilistic_sharpe_ratio",
]

EULER_GAMMA = float(np.euler_gamma)

Metric = Literal["sharpe", "mean"] | Callable[[NDArray[np.float64]], NDArray[np.float64]]


# --------------------------------------------------------------------------------------------
# Sample statistics
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SharpeStats:
    """Summary statistics of a return series, as the PSR/DSR formulas use them.

    Parameters
    ----------
    sr : float
        Per-period Sharpe ratio (not annualized).
    n_obs : int
        Number of return observations ``T`` (at least 2).
    skew : float
        Skewness ``γ3`` of the returns.
    kurtosis : float
        Pearson kurtosis ``γ4`` of the returns (normal = 3, not excess kurtosis).
    """

    sr: float
    n_obs: int
    skew: float
    kurtosis: float

    def __post_init__(self) -> None:
        if isinstance(self.n_obs, bool) or int(self.n_obs) != self.n_obs or self.n_obs < 2:
            raise ValueError(f"SharpeStats.n_obs must be an integer >= 2, got {self.n_obs!r}")
        for name in ("sr", "skew", "kurtosis"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"SharpeStats.{name} must be finite, got {getattr(self, name)!r}")
        if self.kurtosis < 1.0:
            raise ValueError(
                f"SharpeStats.kurtosis is Pearson kurtosis (normal = 3) and cannot be below 1, "
                f"got {self.kurtosis!r} (did you pass excess kurtosis?)"
            )

    @classmethod
    def from_returns(cls, returns: ArrayLike) -> SharpeStats:
        """Estimate the statistics from per-period (excess) returns.

        ``sr = mean / std(ddof=1)``; skewness and Pearson kurtosis are the biased sample moment
        ratios (``scipy.stats.skew``, ``scipy.stats.kurtosis(fisher=False)``).
        """
        x = _returns_vector(returns, name="returns", min_obs=3)
        sd = float(np.std(x, ddof=1))
        if np.ptp(x) == 0.0:
            raise ValueError("returns are constant (zero standard deviation): Sharpe undefined")
        return cls(
            sr=float(np.mean(x)) / sd,
            n_obs=int(x.size),
            skew=float(sps.skew(x, bias=True)),
            kurtosis=float(sps.kurtosis(x, fisher=False, bias=True)),
        )

    @classmethod
    def from_annualized(
        cls,
        sr_annual: float,
        n_obs: int,
        skew: float,
        kurtosis: float,
        *,
        periods_per_year: float,
    ) -> SharpeStats:
        """Build from an annualized Sharpe ratio: ``sr = sr_annual / sqrt(periods_per_year)``."""
        _check_positive(periods_per_year, "periods_per_year")
        return cls(float(sr_annual) / math.sqrt(periods_per_year), n_obs, skew, kurtosis)

    @property
    def sr_variance_factor(self) -> float:
        """``1 − γ3·SR + (γ4 − 1)/4·SR²``, so that ``Var[SR̂] ≈ factor / (T − 1)``."""
        return 1.0 - self.skew * self.sr + (self.kurtosis - 1.0) / 4.0 * self.sr**2


def _returns_vector(
    returns: ArrayLike, *, name: str, min_obs: int, purpose: str = "calling"
) -> NDArray[np.float64]:
    """A finite 1-D float vector of at least ``min_obs`` values, or a ValueError naming ``name``."""
    x = np.asarray(returns, dtype=np.float64)
    if x.ndim == 2 and 1 in x.shape:
        x = x.reshape(-1)
    if x.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {x.shape}")
    bad = np.flatnonzero(~np.isfinite(x))
    if bad.size:
        raise ValueError(
            f"{name} has {bad.size} non-finite value(s) (first at position {bad[0]}); "
            f"drop or fill them explicitly before {purpose}"
        )
    if x.size < min_obs:
        raise ValueError(f"{name} needs at least {min_obs} observations, got {x.size}")
    return x


def _check_positive(value: float, name: str) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def _as_stats(returns_or_stats: ArrayLike | SharpeStats) -> SharpeStats:
    if isinstance(returns_or_stats, SharpeStats):
        return returns_or_stats
    if isinstance(returns_or_stats, tuple):
        raise TypeError(
            "pass summary statistics as SharpeStats(sr, n_obs, skew, kurtosis), not a bare tuple "
            "(a tuple is ambiguous with a short return series); returns go in as an array/Series"
        )
    return SharpeStats.from_returns(returns_or_stats)


# --------------------------------------------------------------------------------------------
# PSR, MinTRL, DSR
# --------------------------------------------------------------------------------------------


def _psr_z(s: SharpeStats, sr_benchmark: float) -> float:
    factor = s.sr_variance_factor
    if factor <= 0.0:
        raise ValueError(
            f"1 - skew*SR + (kurtosis-1)/4*SR^2 = {factor:.4g} <= 0 for SR={s.sr:.4g}, "
            f"skew={s.skew:.4g}, kurtosis={s.kurtosis:.4g}: the PSR variance is undefined"
        )
    return (s.sr - sr_benchmark) * math.sqrt(s.n_obs - 1) / math.sqrt(factor)


def probabilistic_sharpe_ratio(
    returns_or_stats: ArrayLike | SharpeStats,
    *,
    sr_benchmark: float = 0.0,
) -> float:
    r"""Probability that the true Sharpe ratio exceeds ``sr_benchmark`` (PSR).

    .. math::

        \widehat{PSR}(SR^*) = \Phi\left[\frac{(\widehat{SR} - SR^*)\sqrt{T - 1}}
            {\sqrt{1 - \hat\gamma_3 \widehat{SR} + \frac{\hat\gamma_4 - 1}{4}\widehat{SR}^2}}\right]

    Parameters
    ----------
    returns_or_stats : array_like or SharpeStats
        Per-period excess returns (1-D, no NaN), or their :class:`SharpeStats`.
    sr_benchmark : float, default 0.0
        Benchmark Sharpe ratio ``SR*``, **per period** like the returns.

    Returns
    -------
    float
        PSR in [0, 1].

    References
    ----------
    Bailey & López de Prado (2012), "The Sharpe ratio efficient frontier", J. Risk 15(2),
    the PSR equation above (Section "Probabilistic Sharpe ratio"), built on the asymptotic
    variance of SR̂ under non-normal iid returns, (1 − γ3·SR + (γ4 − 1)/4·SR²)/(T − 1)
    (Mertens 2002). Equation numbers are not quoted: they could not be checked offline.

    Examples
    --------
    >>> s = SharpeStats(sr=0.1, n_obs=250, skew=0.0, kurtosis=3.0)
    >>> round(probabilistic_sharpe_ratio(s), 4)
    0.9423
    """
    s = _as_stats(returns_or_stats)
    return float(sps.norm.cdf(_psr_z(s, float(sr_benchmark))))


def min_track_record_length(
    returns_or_stats: ArrayLike | SharpeStats,
    *,
    sr_benchmark: float = 0.0,
    confidence: float = 0.95,
) -> float:
    r"""Minimum track record length (in periods) for ``PSR(sr_benchmark) >= confidence``.

    .. math::

        MinTRL = 1 + \left[1 - \hat\gamma_3\widehat{SR} + \frac{\hat\gamma_4 - 1}{4}
            \widehat{SR}^2\right]\left(\frac{Z_\alpha}{\widehat{SR} - SR^*}\right)^2,
            \quad Z_\alpha = \Phi^{-1}(\text{confidence})

    Parameters
    ----------
    returns_or_stats : array_like or SharpeStats
        Per-period excess returns, or their :class:`SharpeStats`.
    sr_benchmark : float, default 0.0
        Benchmark Sharpe ratio ``SR*``, per period.
    confidence : float, default 0.95
        Required probability ``1 − α`` that the true SR exceeds ``SR*``.

    Returns
    -------
    float
        Number of observations (same frequency as the returns; not rounded). ``inf`` when the
        observed SR does not exceed ``SR*`` (no track record length suffices).

    References
    ----------
    Bailey & López de Prado (2012), "The Sharpe ratio efficient frontier", J. Risk 15(2),
    the MinTRL equation above (Section "Track record length").
    """
    s = _as_stats(returns_or_stats)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if s.sr <= sr_benchmark:
        return math.inf
    _psr_z(s, sr_benchmark)  # validates the variance factor
    z = float(sps.norm.ppf(confidence))
    return 1.0 + s.sr_variance_factor * (z / (s.sr - sr_benchmark)) ** 2


def expected_max_sharpe(n_trials: int, var_trials_sharpe: float) -> float:
    r"""Expected maximum Sharpe ratio ``SR₀`` among ``n_trials`` unskilled trials.

    .. math::

        SR_0 = \sqrt{V[\widehat{SR}_n]}\left((1 - \gamma)\Phi^{-1}\left[1 - \frac1N\right]
            + \gamma\,\Phi^{-1}\left[1 - \frac{1}{Ne}\right]\right)

    with ``γ`` the Euler–Mascheroni constant. ``SR₀`` is in the units of ``var_trials_sharpe``
    (per period when the variance is of per-period Sharpe ratios). With one trial there is no
    selection and ``SR₀ = 0``.

    Parameters
    ----------
    n_trials : int
        Number of independent trials ``N`` (>= 1), from the trial ledger.
    var_trials_sharpe : float
        Variance ``V[SR_n]`` of the trials' Sharpe ratios (>= 0).

    References
    ----------
    Bailey & López de Prado (2014), "The deflated Sharpe ratio", JPM 40(5), the SR₀ equation
    above (the
    "False Strategy" theorem's approximation of the expected maximum of N Gaussian draws).
    """
    n = _check_n_trials(n_trials)
    if not (math.isfinite(var_trials_sharpe) and var_trials_sharpe >= 0):
        raise ValueError(
            f"var_trials_sharpe must be a finite number >= 0, got {var_trials_sharpe!r}"
        )
    if n == 1:
        return 0.0
    q1 = float(sps.norm.ppf(1.0 - 1.0 / n))
    q2 = float(sps.norm.ppf(1.0 - 1.0 / (n * math.e)))
    return math.sqrt(var_trials_sharpe) * ((1.0 - EULER_GAMMA) * q1 + EULER_GAMMA * q2)


def _check_n_trials(n_trials: int) -> int:
    if isinstance(n_trials, bool) or int(n_trials) != n_trials or n_trials < 1:
        raise ValueError(f"n_trials must be an integer >= 1, got {n_trials!r}")
    return int(n_trials)


def deflated_sharpe_ratio(
    returns_or_stats: ArrayLike | SharpeStats,
    *,
    n_trials: int,
    var_trials_sharpe: float,
) -> float:
    r"""Deflated Sharpe ratio: the PSR against the expected maximum SR of unskilled trials.

    ``DSR = PSR(SR₀)`` with ``SR₀ = expected_max_sharpe(n_trials, var_trials_sharpe)``.

    Parameters
    ----------
    returns_or_stats : array_like or SharpeStats
        Per-period excess returns of the selected strategy, or their :class:`SharpeStats`.
    n_trials : int
        Number of independent trials ``N`` the strategy was selected from (trial ledger).
    var_trials_sharpe : float
        Variance of the trials' **per-period** Sharpe ratios (divide an annualized variance
        by ``periods_per_year``).

    Returns
    -------
    float
        DSR in [0, 1]: probability that the true SR exceeds what selection alone would give.

    References
    ----------
    Bailey & López de Prado (2014), "The deflated Sharpe ratio", JPM 40(5): the DSR
    equation, DSR = Φ[(SR̂ − SR₀)·sqrt(T − 1) / sqrt(1 − γ3·SR̂ + (γ4 − 1)/4·SR̂²)], with the
    SR₀ equation of :func:`expected_max_sharpe`. Worked example in the paper (annual SR 2.5,
    T = 1250, γ3 = −3, γ4 = 10, N = 100, annual V = 0.5) gives DSR ≈ 0.9004.

    Examples
    --------
    >>> s = SharpeStats.from_annualized(2.5, 1250, -3.0, 10.0, periods_per_year=250)
    >>> round(deflated_sharpe_ratio(s, n_trials=100, var_trials_sharpe=0.5 / 250), 4)
    0.9004
    """
    s = _as_stats(returns_or_stats)
    sr0 = expected_max_sharpe(n_trials, var_trials_sharpe)
    return float(sps.norm.cdf(_psr_z(s, sr0)))


# --------------------------------------------------------------------------------------------
# PBO via combinatorially symmetric cross-validation (CSCV)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PBOResult:
    """Outcome of :func:`pbo`; one entry per CSCV combination in the arrays.

    Attributes
    ----------
    pbo : float
        Probability of backtest overfitting: share of combinations with logit ``λ ≤ 0``.
    logits : ndarray
        ``λ_c = ln(ω_c / (1 − ω_c))`` per combination.
    relative_rank : ndarray
        ``ω_c``: out-of-sample rank (1 = worst, average rank for ties) of the in-sample winner,
        divided by ``N + 1``.
    is_performance, oos_performance : ndarray
        Metric of the in-sample winner in-sample and out-of-sample (degradation plot pairs).
    selected : ndarray
        Column index of the in-sample winner per combination.
    prob_oos_loss : float
        Share of combinations whose winner's out-of-sample metric is below ``loss_threshold``.
    degradation_slope, degradation_intercept : float
        OLS fit ``oos = intercept + slope · is`` over the combinations (NaN if IS is constant).
    """

    pbo: float
    logits: NDArray[np.float64]
    relative_rank: NDArray[np.float64]
    is_performance: NDArray[np.float64]
    oos_performance: NDArray[np.float64]
    selected: NDArray[np.int64]
    prob_oos_loss: float
    degradation_slope: float
    degradation_intercept: float
    strategies: tuple[object, ...]
    n_splits: int
    metric: str

    @property
    def n_combinations(self) -> int:
        """Number of CSCV combinations, ``C(S, S/2)``."""
        return int(self.logits.size)

    def to_frame(self) -> pd.DataFrame:
        """One row per combination: winner label, IS and OOS metric, rank ω and logit λ."""
        labels = np.asarray(self.strategies, dtype=object)[self.selected]
        return pd.DataFrame(
            {
                "selected": labels,
                "is_performance": self.is_performance,
                "oos_performance": self.oos_performance,
                "relative_rank": self.relative_rank,
                "logit": self.logits,
            }
        )


def pbo(
    performance_matrix: pd.DataFrame | ArrayLike,
    *,
    n_splits: int = 16,
    metric: Metric = "sharpe",
    loss_threshold: float = 0.0,
    chunk_size: int = 2048,
) -> PBOResult:
    """Probability of backtest overfitting by combinatorially symmetric cross-validation.

    The ``T × N`` matrix (rows = periods, columns = strategy variants, per-period returns) is cut
    into ``S = n_splits`` contiguous row blocks (``numpy.array_split``: sizes differ by at most
    one row when ``S`` does not divide ``T``). For each of the ``C(S, S/2)`` ways to choose half
    of the blocks as in-sample (IS), the rest being out-of-sample (OOS), the strategy with the
    best IS metric is selected and the relative rank ``ω`` of its OOS metric among all ``N`` OOS
    metrics is recorded; ``λ = logit(ω)`` and ``PBO = mean(λ ≤ 0)``.

    Parameters
    ----------
    performance_matrix : DataFrame or array_like
        ``T × N`` per-period returns, no NaN; DataFrame columns name the strategies.
    n_splits : int, default 16
        Even number of blocks ``S`` (>= 2); each block needs at least 2 rows.
    metric : {"sharpe", "mean"} or callable, default "sharpe"
        Performance measure computed on the concatenated rows of a set of blocks. ``"sharpe"`` is
        mean / sd (ddof=1) per period; ``"mean"`` the arithmetic mean. These two are computed for
        all combinations at once from per-block sums. A callable receives an ``rows × N`` float
        array and returns ``N`` values (higher is better); it is evaluated per combination.
    loss_threshold : float, default 0.0
        ``prob_oos_loss`` counts OOS winner metrics below this value (e.g. 1.0 for Omega).
    chunk_size : int, default 2048
        Combinations evaluated per vectorized batch (bounds memory at ``chunk_size × N``).

    Returns
    -------
    PBOResult

    References
    ----------
    Bailey, Borwein, López de Prado & Zhu (2017), "The probability of backtest overfitting",
    J. Computational Finance 20(4): the CSCV procedure (steps 1–6: relative rank ω̄_c, logit
    λ_c = ln(ω̄_c / (1 − ω̄_c)), PBO φ = ∫_{−∞}^{0} f(λ) dλ estimated by the share of λ_c ≤ 0),
    then performance degradation (OOS on IS regression) and probability of loss.
    """
    if not callable(metric) and metric not in ("sharpe", "mean"):
        raise ValueError(f"metric must be 'sharpe', 'mean' or a callable, got {metric!r}")
    x, labels = _performance_array(performance_matrix)
    block_of_row = _block_ids(x.shape[0], n_splits)
    combos = np.array(list(combinations(range(n_splits), n_splits // 2)), dtype=np.int64)
    in_sample = np.zeros((combos.shape[0], n_splits), dtype=bool)
    in_sample[np.arange(combos.shape[0])[:, None], combos] = True
    perf_is, perf_oos = _cscv_performance(x, block_of_row, in_sample, metric, chunk_size)
    return _pbo_from_performance(perf_is, perf_oos, labels, n_splits, metric, loss_threshold)


def _performance_array(
    performance_matrix: pd.DataFrame | ArrayLike,
) -> tuple[NDArray[np.float64], tuple[object, ...]]:
    if isinstance(performance_matrix, pd.DataFrame):
        labels: tuple[object, ...] = tuple(performance_matrix.columns)
        x = performance_matrix.to_numpy(dtype=np.float64)
    else:
        x = np.asarray(performance_matrix, dtype=np.float64)
        labels = tuple(range(x.shape[1])) if x.ndim == 2 else ()
    if x.ndim != 2:
        raise ValueError(
            f"performance_matrix must be 2-D (T periods × N strategies), got {x.shape}"
        )
    if x.shape[1] < 2:
        raise ValueError(
            f"performance_matrix needs at least 2 strategies (columns), got {x.shape[1]}"
        )
    bad_rows, bad_cols = np.nonzero(~np.isfinite(x))
    if bad_rows.size:
        raise ValueError(
            f"performance_matrix has {bad_rows.size} non-finite value(s); first at row "
            f"{bad_rows[0] + 1} (1-based), column {labels[bad_cols[0]]!r}"
        )
    return x, labels


def _block_ids(n_rows: int, n_splits: int) -> NDArray[np.int64]:
    if isinstance(n_splits, bool) or int(n_splits) != n_splits or n_splits < 2 or n_splits % 2:
        raise ValueError(f"n_splits must be an even integer >= 2, got {n_splits!r}")
    if n_rows < 2 * n_splits:
        raise ValueError(
            f"performance_matrix has {n_rows} rows; n_splits={n_splits} needs at least "
            f"{2 * n_splits} (2 rows per block)"
        )
    block = np.empty(n_rows, dtype=np.int64)
    for b, rows in enumerate(np.array_split(np.arange(n_rows), n_splits)):
        block[rows] = b
    return block


def _cscv_performance(
    x: NDArray[np.float64],
    block_of_row: NDArray[np.int64],
    in_sample: NDArray[np.bool_],
    metric: Metric,
    chunk_size: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """IS and OOS metric for every combination (rows) and strategy (columns)."""
    if callable(metric):
        return _callable_performance(x, block_of_row, in_sample, metric)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size!r}")
    n_blocks = in_sample.shape[1]
    shift = x.mean(axis=0)  # centring keeps the sum-of-squares variance numerically stable
    xc = x - shift
    count = np.bincount(block_of_row, minlength=n_blocks).astype(np.float64)
    s1 = np.zeros((n_blocks, x.shape[1]))
    s2 = np.zeros((n_blocks, x.shape[1]))
    np.add.at(s1, block_of_row, xc)
    np.add.at(s2, block_of_row, xc * xc)
    out_is: list[NDArray[np.float64]] = []
    out_oos: list[NDArray[np.float64]] = []
    for start in range(0, in_sample.shape[0], chunk_size):
        sel = in_sample[start : start + chunk_size].astype(np.float64)
        for w, out in ((sel, out_is), (1.0 - sel, out_oos)):
            out.append(_metric_from_sums(w @ count, w @ s1, w @ s2, shift, metric))
    return np.vstack(out_is), np.vstack(out_oos)


def _metric_from_sums(
    n: NDArray[np.float64],
    s1: NDArray[np.float64],
    s2: NDArray[np.float64],
    shift: NDArray[np.float64],
    metric: str,
) -> NDArray[np.float64]:
    n = n[:, None]
    mean_c = s1 / n
    mean = mean_c + shift
    if metric == "mean":
        return mean
    var = np.maximum(s2 - n * mean_c**2, 0.0) / (n - 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return mean / np.sqrt(var)


def _callable_performance(
    x: NDArray[np.float64],
    block_of_row: NDArray[np.int64],
    in_sample: NDArray[np.bool_],
    metric: Callable[[NDArray[np.float64]], NDArray[np.float64]],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    n_comb, n_strat = in_sample.shape[0], x.shape[1]
    perf_is = np.empty((n_comb, n_strat))
    perf_oos = np.empty((n_comb, n_strat))
    for c in range(n_comb):
        rows_is = in_sample[c][block_of_row]
        perf_is[c] = _call_metric(metric, x[rows_is], n_strat)
        perf_oos[c] = _call_metric(metric, x[~rows_is], n_strat)
    return perf_is, perf_oos


def _call_metric(
    metric: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    sub: NDArray[np.float64],
    n_strat: int,
) -> NDArray[np.float64]:
    values = np.asarray(metric(sub), dtype=np.float64)
    if values.shape != (n_strat,):
        raise ValueError(
            f"metric callable must return {n_strat} values (one per strategy), got shape "
            f"{values.shape}"
        )
    return values


def _pbo_from_performance(
    perf_is: NDArray[np.float64],
    perf_oos: NDArray[np.float64],
    labels: Sequence[object],
    n_splits: int,
    metric: Metric,
    loss_threshold: float,
) -> PBOResult:
    _check_metric_values(perf_is, perf_oos, labels)
    n_comb, n_strat = perf_is.shape
    rows = np.arange(n_comb)
    best = np.argmax(perf_is, axis=1)
    oos_best = perf_oos[rows, best]
    below = (perf_oos < oos_best[:, None]).sum(axis=1)
    ties = (perf_oos == oos_best[:, None]).sum(axis=1)
    rank = below + (ties + 1) / 2.0  # average rank, 1 = worst (scipy.stats.rankdata 'average')
    omega = rank / (n_strat + 1.0)
    logits = np.log(omega / (1.0 - omega))
    is_best = perf_is[rows, best]
    slope, intercept = _degradation_fit(is_best, oos_best)
    return PBOResult(
        pbo=float(np.mean(2.0 * rank <= n_strat + 1.0)),  # λ ≤ 0 ⇔ ω ≤ 1/2, exact on ranks
        logits=logits,
        relative_rank=omega,
        is_performance=is_best,
        oos_performance=oos_best,
        selected=best.astype(np.int64),
        prob_oos_loss=float(np.mean(oos_best < loss_threshold)),
        degradation_slope=slope,
        degradation_intercept=intercept,
        strategies=tuple(labels),
        n_splits=int(n_splits),
        metric=metric if isinstance(metric, str) else getattr(metric, "__name__", "callable"),
    )


def _check_metric_values(
    perf_is: NDArray[np.float64], perf_oos: NDArray[np.float64], labels: Sequence[object]
) -> None:
    for name, perf in (("in-sample", perf_is), ("out-of-sample", perf_oos)):
        bad = np.nonzero(np.isnan(perf))
        if bad[0].size:
            raise ValueError(
                f"{name} metric is NaN for strategy {labels[bad[1][0]]!r} in combination "
                f"{bad[0][0]} (constant returns in a block set?)"
            )


def _degradation_fit(
    is_perf: NDArray[np.float64], oos_perf: NDArray[np.float64]
) -> tuple[float, float]:
    finite = np.isfinite(is_perf) & np.isfinite(oos_perf)
    xi, yi = is_perf[finite], oos_perf[finite]
    if xi.size < 2 or np.ptp(xi) == 0.0:
        return math.nan, math.nan
    slope, intercept = np.polyfit(xi, yi, 1)
    return float(slope), float(intercept)
