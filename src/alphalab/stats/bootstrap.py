"""Block-bootstrap confidence intervals and within-date permutation placebos.

Reproducibility contract. Every random draw ``i`` (a bootstrap resample, a placebo permutation)
uses its own generator, ``numpy.random.default_rng(SeedSequence(seed, spawn_key=(i,)))`` —
the ``i``-th child of ``SeedSequence(seed).spawn(...)`` — and nothing else. A draw therefore
depends only on ``(seed, i)``: splitting the draws into chunks, computing them in any order or
on any worker (e.g. a Dask cluster calling :func:`bootstrap_distribution` or
:func:`placebo_statistic` per chunk) gives bit-for-bit the same numbers as one local call.

Resampling schemes follow ``arch.bootstrap`` exactly: for a given generator the indices equal
those of ``arch.bootstrap.StationaryBootstrap`` / ``CircularBlockBootstrap`` seeded with that
generator (checked in the tests), vectorized and without arch's per-draw object overhead.

References
----------
Politis, D. N. & Romano, J. P. (1994). The stationary bootstrap. *JASA* 89(428), 1303–1313.
Politis, D. N. & Romano, J. P. (1992). A circular block-resampling procedure for stationary
data. In *Exploring the Limits of Bootstrap*, Wiley, 263–270.
Politis, D. N. & White, H. (2004). Automatic block-length selection for the dependent bootstrap.
*Econometric Reviews* 23(1), 53–70; corrected by Patton, A., Politis, D. N. & White, H. (2009),
*Econometric Reviews* 28(4), 372–375.
Efron, B. (1987). Better bootstrap confidence intervals. *JASA* 82(397), 171–185 (BCa).
Künsch, H. R. (1989). The jackknife and the bootstrap for general stationary observations.
*Annals of Statistics* 17(3), 1217–1241 (delete-a-block jackknife).
Phipson, B. & Smyth, G. K. (2010). Permutation p-values should never be zero. *Statistical
Applications in Genetics and Molecular Biology* 9(1), article 39.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from arch.bootstrap import optimal_block_length
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps

from alphalab.stats.overfitting import _returns_vector as _checked_vector

__all__ = [
    "BootstrapResult",
    "PlaceboResult",
    "bootstrap_ci",
    "bootstrap_distribution",
    "draw_generator",
    "permutation_placebo",
    "permute_within_rows",
    "placebo_statistic",
    "resample_indices",
    "resolve_block_size",
]

Statistic = Literal["sharpe", "mean"]
Method = Literal["stationary", "circular"]
Interval = Literal["percentile", "bca"]
Alternative = Literal["greater", "less", "two-sided"]

_CHUNK_ELEMENTS = 2_000_000  # resampled values held in memory at once


# --------------------------------------------------------------------------------------------
# Per-draw randomness
# --------------------------------------------------------------------------------------------


def draw_generator(seed: int, draw: int) -> np.random.Generator:
    """Generator of draw ``draw`` under ``seed``: child ``draw`` of ``SeedSequence(seed)``.

    Equal to ``default_rng(SeedSequence(seed).spawn(n)[draw])`` for any ``n > draw``.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(draw, bool) or not isinstance(draw, int | np.integer) or draw < 0:
        raise ValueError(f"draw must be a non-negative integer, got {draw!r}")
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(draw),)))


def resample_indices(
    n_obs: int, *, seed: int, draw: int, method: Method, block_size: float
) -> NDArray[np.int64]:
    """Row indices of bootstrap draw ``draw``: stationary or circular block resampling.

    Parameters
    ----------
    n_obs : int
        Length of the series.
    seed, draw : int
        Seed of the whole bootstrap and index of this draw (see :func:`draw_generator`).
    method : {"stationary", "circular"}
        Stationary bootstrap (blocks of geometric length with mean ``block_size``, Politis &
        Romano 1994) or circular block bootstrap (blocks of fixed integer length, wrapping).
    block_size : float
        Expected block length (stationary, >= 1) or block length (circular, integer >= 1).

    Returns
    -------
    ndarray of int64
        ``n_obs`` indices into the series; identical to the indices arch's
        ``StationaryBootstrap`` / ``CircularBlockBootstrap`` draw from the same generator.

    References
    ----------
    Politis & Romano (1994), JASA 89, Section 2 (stationary bootstrap with p = 1/block_size);
    Politis & Romano (1992) (circular block bootstrap).
    """
    rng = draw_generator(seed, draw)
    b = float(block_size)
    if not (math.isfinite(b) and 1.0 <= b):
        raise ValueError(f"block_size must be >= 1, got {block_size!r}")
    if method == "stationary":
        return _stationary_indices(rng, n_obs, 1.0 / float(block_size))
    if method == "circular":
        if b != int(b):
            raise ValueError(f"circular bootstrap needs an integer block_size, got {block_size!r}")
        return _circular_indices(rng, n_obs, int(b))
    raise ValueError(f"method must be 'stationary' or 'circular', got {method!r}")


def _stationary_indices(rng: np.random.Generator, n: int, p: float) -> NDArray[np.int64]:
    start_idx = rng.integers(n, size=n, dtype=np.int64)
    u = rng.random(n)
    pos = np.arange(n, dtype=np.int64)
    new_block = u <= p  # arch continues the block when u > p
    new_block[0] = True
    block_start = np.maximum.accumulate(np.where(new_block, pos, 0))
    return (start_idx[block_start] + (pos - block_start)) % n


def _circular_indices(rng: np.random.Generator, n: int, b: int) -> NDArray[np.int64]:
    n_blocks = -(-n // b)
    starts = rng.integers(n, size=n_blocks, dtype=np.int64)
    idx = (starts[:, None] + np.arange(b, dtype=np.int64)).reshape(-1) % n
    return idx[:n]


# --------------------------------------------------------------------------------------------
# Block bootstrap confidence intervals
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BootstrapResult:
    """Outcome of :func:`bootstrap_ci`.

    Attributes
    ----------
    estimate : float
        Statistic on the original series.
    lower, upper : float
        The ``interval`` chosen (percentile or BCa) at level ``1 − alpha``.
    percentile_ci, bca_ci : tuple of float
        Both intervals. BCa uses the delete-a-block jackknife for the acceleration (see
        :func:`bootstrap_ci`); NaN when every draw falls on one side of the estimate.
    std_error : float
        Standard deviation (ddof=1) of the bootstrap distribution.
    distribution : ndarray
        The ``reps`` bootstrap statistics, in draw order.
    block_size : float
        Block length used (expected length for the stationary bootstrap).
    block_size_auto : bool
        True when ``block_size`` came from ``arch.bootstrap.optimal_block_length``.
    """

    estimate: float
    lower: float
    upper: float
    interval: Interval
    percentile_ci: tuple[float, float]
    bca_ci: tuple[float, float]
    std_error: float
    distribution: NDArray[np.float64]
    block_size: float
    block_size_auto: bool
    statistic: Statistic
    method: Method
    reps: int
    alpha: float
    seed: int
    periods_per_year: float


def resolve_block_size(
    returns: ArrayLike, *, method: Method, block_size: float | None = None
) -> tuple[float, bool]:
    """Block length to use and whether it was estimated.

    ``None`` takes the Politis–White (2004) / Patton–Politis–White (2009) optimal block length
    from ``arch.bootstrap.optimal_block_length``: its stationary column for the stationary
    bootstrap (kept fractional, it is an expected length), its circular column rounded up for
    the circular bootstrap. Both are clipped to ``[1, n_obs]``.
    """
    x = _returns_vector(returns, min_obs=10)
    if method not in ("stationary", "circular"):
        raise ValueError(f"method must be 'stationary' or 'circular', got {method!r}")
    auto = block_size is None
    if block_size is None:
        # columns: stationary ("b_sb" before arch 8), then circular ("b_cb")
        b = float(optimal_block_length(x).iloc[0, 0 if method == "stationary" else 1])
    else:
        b = float(block_size)
        if not (math.isfinite(b) and b >= 1.0):
            raise ValueError(f"block_size must be >= 1, got {block_size!r}")
        if method == "circular" and b != int(b):
            raise ValueError(f"circular bootstrap needs an integer block_size, got {block_size!r}")
    b = min(max(b, 1.0), float(x.size))
    return (float(math.ceil(b)) if method == "circular" else b), auto


def bootstrap_distribution(
    returns: ArrayLike,
    *,
    statistic: Statistic,
    method: Method,
    block_size: float,
    seed: int,
    draws: Iterable[int],
    periods_per_year: float,
) -> NDArray[np.float64]:
    """Bootstrap statistics for the given draw indices (the unit of work for a scale-out).

    ``bootstrap_distribution(..., draws=range(a, b))`` for consecutive chunks, concatenated,
    equals one call over ``range(0, reps)`` bit for bit, whatever order the chunks run in.
    ``block_size`` must already be resolved (see :func:`resolve_block_size`).
    """
    x = _returns_vector(returns, min_obs=10)
    stat = _statistic_fn(statistic, periods_per_year)
    draw_list = [int(d) for d in draws]
    out = np.empty(len(draw_list))
    chunk = max(1, _CHUNK_ELEMENTS // x.size)
    for start in range(0, len(draw_list), chunk):
        idx = np.stack(
            [
                resample_indices(x.size, seed=seed, draw=d, method=method, block_size=block_size)
                for d in draw_list[start : start + chunk]
            ]
        )
        out[start : start + idx.shape[0]] = stat(x[idx])
    return out


def bootstrap_ci(
    returns: ArrayLike,
    *,
    seed: int,
    periods_per_year: float,
    statistic: Statistic = "sharpe",
    method: Method = "stationary",
    block_size: float | None = None,
    reps: int = 2000,
    alpha: float = 0.05,
    interval: Interval = "percentile",
) -> BootstrapResult:
    r"""Block-bootstrap confidence interval for the Sharpe ratio or the mean of a return series.

    Parameters
    ----------
    returns : array_like
        Per-period (excess) returns, 1-D, no NaN, at least 10 observations.
    seed : int
        Seed of the bootstrap; draw ``i`` uses :func:`draw_generator` ``(seed, i)``.
    periods_per_year : float
        Annualization: Sharpe ``mean/sd(ddof=1)·sqrt(periods_per_year)``, mean
        ``mean·periods_per_year``. Pass 1 for per-period figures.
    statistic : {"sharpe", "mean"}, default "sharpe"
    method : {"stationary", "circular"}, default "stationary"
        Politis–Romano stationary bootstrap or circular block bootstrap.
    block_size : float, optional
        ``None`` (default) estimates it with ``arch.bootstrap.optimal_block_length``
        (see :func:`resolve_block_size`); the value used is in the result.
    reps : int, default 2000
        Number of bootstrap draws.
    alpha : float, default 0.05
        Two-sided level; the interval covers ``1 − alpha``.
    interval : {"percentile", "bca"}, default "percentile"
        Which interval goes in ``lower`` / ``upper``; both are always computed.

    Returns
    -------
    BootstrapResult

    Notes
    -----
    *Percentile* interval: the ``alpha/2`` and ``1 − alpha/2`` quantiles of the bootstrap
    distribution (``numpy.quantile``, linear). *BCa* (Efron 1987): bias correction
    ``z0 = Φ⁻¹(share of draws below the estimate, ties counted half)`` and acceleration
    ``a = Σ(θ̄ − θ₍ₖ₎)³ / (6 [Σ(θ̄ − θ₍ₖ₎)²]^{3/2})`` from a delete-a-block jackknife over
    non-overlapping blocks of length ``round(block_size)`` (Künsch 1989); with block length 1 this
    is the ordinary BCa of iid data (as ``scipy.stats.bootstrap(method="BCa")``). For dependent
    data BCa's higher-order accuracy is not established — the percentile interval is the default.
    No studentized interval is offered: a studentized block bootstrap needs a block-consistent
    standard error in every draw (Götze & Künsch 1996), which this function does not compute.

    References
    ----------
    Politis & Romano (1994), JASA 89 (stationary bootstrap); Patton, Politis & White (2009)
    (block length, ``arch.bootstrap.optimal_block_length``); Efron (1987), JASA 82 (BCa);
    Künsch (1989), Ann. Stat. 17 (block jackknife).
    """
    x = _returns_vector(returns, min_obs=10)
    _check_alpha(alpha)
    n_reps = _check_int(reps, "reps", minimum=2)
    if interval not in ("percentile", "bca"):
        raise ValueError(f"interval must be 'percentile' or 'bca', got {interval!r}")
    b, auto = resolve_block_size(x, method=method, block_size=block_size)
    stat = _statistic_fn(statistic, periods_per_year)
    estimate = float(stat(x[None, :])[0])
    dist = bootstrap_distribution(
        x,
        statistic=statistic,
        method=method,
        block_size=b,
        seed=seed,
        draws=range(n_reps),
        periods_per_year=periods_per_year,
    )
    pct = _percentile_interval(dist, alpha)
    jack = _block_jackknife(x, statistic, periods_per_year, b)
    bca = _bca_interval(dist, estimate, jack, alpha)
    chosen = pct if interval == "percentile" else bca
    return BootstrapResult(
        estimate=estimate,
        lower=chosen[0],
        upper=chosen[1],
        interval=interval,
        percentile_ci=pct,
        bca_ci=bca,
        std_error=float(np.std(dist, ddof=1)),
        distribution=dist,
        block_size=b,
        block_size_auto=auto,
        statistic=statistic,
        method=method,
        reps=n_reps,
        alpha=float(alpha),
        seed=int(seed),
        periods_per_year=float(periods_per_year),
    )


def _check_periods(periods_per_year: float) -> float:
    if not (math.isfinite(periods_per_year) and periods_per_year > 0):
        raise ValueError(f"periods_per_year must be a positive number, got {periods_per_year!r}")
    return float(periods_per_year)


def _from_moments(
    statistic: Statistic,
    mean: NDArray[np.float64],
    sd: NDArray[np.float64] | None,
    periods_per_year: float,
) -> NDArray[np.float64]:
    if statistic == "mean":
        return mean * periods_per_year
    assert sd is not None
    with np.errstate(divide="ignore", invalid="ignore"):
        return mean / sd * math.sqrt(periods_per_year)


def _statistic_fn(
    statistic: Statistic, periods_per_year: float
) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
    """Row-wise statistic of a ``draws × n_obs`` array."""
    ppy = _check_periods(periods_per_year)
    if statistic not in ("sharpe", "mean"):
        raise ValueError(f"statistic must be 'sharpe' or 'mean', got {statistic!r}")

    def stat(a: NDArray[np.float64]) -> NDArray[np.float64]:
        sd = a.std(axis=1, ddof=1) if statistic == "sharpe" else None
        return _from_moments(statistic, a.mean(axis=1), sd, ppy)

    return stat


def _percentile_interval(dist: NDArray[np.float64], alpha: float) -> tuple[float, float]:
    lo, hi = np.quantile(dist, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(lo), float(hi)


def _block_jackknife(
    x: NDArray[np.float64], statistic: Statistic, periods_per_year: float, block_size: float
) -> NDArray[np.float64]:
    """Statistic with each non-overlapping block of ``round(block_size)`` rows left out.

    Computed from leave-block-out sums (both statistics are functions of the mean and sd), so
    memory stays O(n) whatever the number of blocks.
    """
    length = max(1, round(block_size))
    n_blocks = x.size // length
    shift = x.mean()
    xc = x - shift  # centring keeps the sum-of-squares variance numerically stable
    blocks = xc[: n_blocks * length].reshape(n_blocks, length)
    m = x.size - length
    mean_c = (xc.sum() - blocks.sum(axis=1)) / m
    s2 = (xc * xc).sum() - (blocks * blocks).sum(axis=1)
    sd = np.sqrt(np.maximum(s2 - m * mean_c**2, 0.0) / (m - 1))
    return _from_moments(statistic, mean_c + shift, sd, periods_per_year)


def _bca_interval(
    dist: NDArray[np.float64],
    estimate: float,
    jackknife: NDArray[np.float64],
    alpha: float,
) -> tuple[float, float]:
    share_below = (np.sum(dist < estimate) + np.sum(dist <= estimate)) / (2.0 * dist.size)
    z0 = float(sps.norm.ppf(share_below))
    dev = jackknife.mean() - jackknife
    denom = 6.0 * float(np.sum(dev**2)) ** 1.5
    a = float(np.sum(dev**3)) / denom if denom > 0 else 0.0
    if not math.isfinite(z0):
        return math.nan, math.nan
    levels = []
    for z_alpha in sps.norm.ppf([alpha / 2.0, 1.0 - alpha / 2.0]):
        num = z0 + z_alpha
        levels.append(float(sps.norm.cdf(z0 + num / (1.0 - a * num))))
    lo, hi = np.quantile(dist, levels)
    return float(lo), float(hi)


# --------------------------------------------------------------------------------------------
# Within-date permutation placebo
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlaceboResult:
    """Outcome of :func:`permutation_placebo`.

    Attributes
    ----------
    observed : float
        Statistic on the real score matrix.
    distribution : ndarray
        Statistic on each of the ``n_perm`` within-date permutations, in draw order.
    pvalue : float
        ``(1 + #{placebo ≥ observed}) / (1 + n_perm)`` for ``alternative="greater"``
        (``≤`` for "less", ``|placebo| ≥ |observed|`` for "two-sided").
    """

    observed: float
    distribution: NDArray[np.float64]
    pvalue: float
    n_perm: int
    alternative: Alternative
    seed: int


def permute_within_rows(
    matrix: pd.DataFrame | ArrayLike, *, seed: int, draw: int
) -> NDArray[np.float64]:
    """Permutation ``draw`` of a dates × tickers matrix: values shuffled within each row.

    NaN cells stay where they are; the non-NaN values of each row are permuted among that row's
    non-NaN cells (a uniformly random permutation per row, independent across rows).
    """
    x = _score_array(matrix)
    return _permute(x, np.isnan(x), _valid_first(np.isnan(x)), draw_generator(seed, draw))


def _score_array(matrix: pd.DataFrame | ArrayLike) -> NDArray[np.float64]:
    x = (
        matrix.to_numpy(dtype=np.float64)
        if isinstance(matrix, pd.DataFrame)
        else np.asarray(matrix, dtype=np.float64)
    )
    if x.ndim != 2:
        raise ValueError(f"score_matrix must be 2-D (dates × tickers), got shape {x.shape}")
    if np.isinf(x).any():
        raise ValueError("score_matrix contains infinite values")
    return x


def _valid_first(nan_mask: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Per row, the column positions of non-NaN cells (ascending), then the NaN ones."""
    return np.argsort(nan_mask, axis=1, kind="stable")


def _permute(
    x: NDArray[np.float64],
    nan_mask: NDArray[np.bool_],
    valid_first: NDArray[np.int64],
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    keys = rng.random(x.shape)
    keys[nan_mask] = np.inf  # NaN cells sort last, so they only swap among themselves
    source = np.argsort(keys, axis=1, kind="stable")
    rows = np.arange(x.shape[0])[:, None]
    out = np.empty_like(x)
    out[rows, valid_first] = x[rows, source]
    return out


def placebo_statistic(
    statistic_fn: Callable[[pd.DataFrame | NDArray[np.float64]], float],
    score_matrix: pd.DataFrame | ArrayLike,
    *,
    seed: int,
    draw: int,
) -> float:
    """Statistic on permutation ``draw`` (the unit of work for a scale-out).

    ``statistic_fn`` receives the permuted matrix as the same type as ``score_matrix`` (a
    DataFrame keeps its index and columns).
    """
    return _evaluate(
        statistic_fn, permute_within_rows(score_matrix, seed=seed, draw=draw), score_matrix, draw
    )


def permutation_placebo(
    statistic_fn: Callable[[pd.DataFrame | NDArray[np.float64]], float],
    score_matrix: pd.DataFrame | ArrayLike,
    *,
    n_perm: int,
    seed: int,
    alternative: Alternative = "greater",
) -> PlaceboResult:
    """Placebo test: the statistic on within-date permutations of the score matrix.

    Shuffling scores across tickers within each date keeps the cross-sectional distribution
    and the coverage (NaN pattern) of the signal, and breaks only its link to which stock has
    which score. Under H0 (no link) the real statistic is exchangeable with the placebos.

    Parameters
    ----------
    statistic_fn : callable
        Maps a dates × tickers score matrix (same type as ``score_matrix``) to a float, e.g. the
        mean IC or the long-short Sharpe ratio of a sort on that score. It must not depend on
        anything random.
    score_matrix : DataFrame or array_like
        Dates × tickers scores; NaN marks cells without a score and stays in place.
    n_perm : int
        Number of permutations.
    seed : int
        Seed; permutation ``i`` uses :func:`draw_generator` ``(seed, i)``.
    alternative : {"greater", "less", "two-sided"}, default "greater"

    Returns
    -------
    PlaceboResult
        p-value ``(1 + #{placebo ≥ observed}) / (1 + n_perm)`` (never 0, exact size under H0).

    References
    ----------
    Phipson & Smyth (2010) (the (1 + b)/(1 + m) p-value); permutation placebo of the cross-
    sectional assignment as in e.g. Fama & French's random-portfolio benchmarks.
    """
    n = _check_int(n_perm, "n_perm", minimum=1)
    if alternative not in ("greater", "less", "two-sided"):
        raise ValueError(
            f"alternative must be 'greater', 'less' or 'two-sided', got {alternative!r}"
        )
    x = _score_array(score_matrix)
    nan_mask = np.isnan(x)
    valid_first = _valid_first(nan_mask)
    observed = _evaluate(statistic_fn, x, score_matrix, None)
    dist = np.array(
        [
            _evaluate(
                statistic_fn,
                _permute(x, nan_mask, valid_first, draw_generator(seed, i)),
                score_matrix,
                i,
            )
            for i in range(n)
        ]
    )
    return PlaceboResult(
        observed=observed,
        distribution=dist,
        pvalue=_permutation_pvalue(observed, dist, alternative),
        n_perm=n,
        alternative=alternative,
        seed=int(seed),
    )


def _evaluate(
    statistic_fn: Callable[[pd.DataFrame | NDArray[np.float64]], float],
    values: NDArray[np.float64],
    template: pd.DataFrame | ArrayLike,
    draw: int | None,
) -> float:
    arg: pd.DataFrame | NDArray[np.float64] = (
        pd.DataFrame(values, index=template.index, columns=template.columns)
        if isinstance(template, pd.DataFrame)
        else values
    )
    value = float(statistic_fn(arg))
    if not math.isfinite(value):
        where = "the real score matrix" if draw is None else f"permutation {draw}"
        raise ValueError(
            f"statistic_fn returned {value!r} on {where}; it must return a finite float"
        )
    return value


def _permutation_pvalue(
    observed: float, dist: NDArray[np.float64], alternative: Alternative
) -> float:
    if alternative == "greater":
        hits = np.sum(dist >= observed)
    elif alternative == "less":
        hits = np.sum(dist <= observed)
    else:
        hits = np.sum(np.abs(dist) >= abs(observed))
    return float((1 + hits) / (1 + dist.size))


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------


def _returns_vector(returns: ArrayLike, *, min_obs: int) -> NDArray[np.float64]:
    return _checked_vector(returns, name="returns", min_obs=min_obs, purpose="bootstrapping")


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")


def _check_int(value: int, name: str, *, minimum: int) -> int:
    if isinstance(value, bool) or int(value) != value or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
