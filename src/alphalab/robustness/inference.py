"""Inference that respects dependence, scaled out through Dask.

- :func:`bootstrap_interval` — stationary / circular block-bootstrap confidence interval of
  the Sharpe ratio or the mean of a return series. The draws are split into chunks and run by
  :func:`alphalab.parallel.map_tasks`; each draw's generator depends only on ``(seed, draw)``
  (:mod:`alphalab.stats.bootstrap`), so the distribution is bit-for-bit the one
  :func:`alphalab.stats.bootstrap.bootstrap_ci` computes in one process.
- :func:`placebo_test` — within-date permutation placebo of the signal: the base variant's
  long-short rerun through the engine on ``n_perm`` copies of the score matrix shuffled
  across names within each date (:func:`alphalab.stats.bootstrap.permute_within_rows`).
  It uses **gross** returns: shuffled scores trade far more than a persistent signal, so
  net returns would reward the real signal for its low turnover rather than for its
  information.
- :func:`period_breakdown` — the statistics of a series inside named windows (sub-periods,
  stress periods such as 2000–02, 2008–09, 2020, 2023).

References
----------
Politis, D. N. & Romano, J. P. (1994). The stationary bootstrap. *JASA* 89(428), 1303–1313.
Patton, A., Politis, D. N. & White, H. (2009). Correction to "Automatic block-length
selection for the dependent bootstrap". *Econometric Reviews* 28(4), 372–375.
Phipson, B. & Smyth, G. K. (2010). Permutation p-values should never be zero. *Statistical
Applications in Genetics and Molecular Biology* 9(1), article 39.
Fama, E. F. & French, K. R. (2010). Luck versus skill in the cross-section of mutual fund
alpha returns. *Journal of Finance* 65(5), 1915–1947 (simulated null distributions).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from alphalab.parallel import SchedulerSpec, map_tasks
from alphalab.robustness.grid import (
    EngineConfig,
    GridInputs,
    series_stats,
    sort_config,
    variant_score,
)
from alphalab.stats.bootstrap import (
    bootstrap_distribution,
    permute_within_rows,
    resolve_block_size,
)
from alphalab.stats.inference import newey_west

__all__ = [
    "BootstrapSummary",
    "PlaceboSummary",
    "bootstrap_interval",
    "period_breakdown",
    "placebo_draws",
    "placebo_test",
]

Statistic = Literal["sharpe", "mean"]
Method = Literal["stationary", "circular"]
Alternative = Literal["greater", "less", "two-sided"]
CHUNK_DRAWS = 250


def _chunks(n: int, size: int) -> list[range]:
    return [range(i, min(i + size, n)) for i in range(0, n, size)]


# --------------------------------------------------------------------------------------------
# block bootstrap
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BootstrapSummary:
    """Percentile block-bootstrap interval of one statistic (see :func:`bootstrap_interval`)."""

    statistic: Statistic
    estimate: float
    lower: float
    upper: float
    std_error: float
    block_size: float
    block_size_auto: bool
    method: Method
    reps: int
    alpha: float
    seed: int
    periods_per_year: float
    distribution: np.ndarray

    def as_metrics(self) -> dict[str, Any]:
        return {
            "estimate": self.estimate,
            "ci_lower": self.lower,
            "ci_upper": self.upper,
            "std_error": self.std_error,
            "block_size": self.block_size,
            "reps": self.reps,
        }


@dataclass(frozen=True)
class _BootstrapJob:
    returns: np.ndarray
    statistic: Statistic
    method: Method
    block_size: float
    seed: int
    periods_per_year: float


def _bootstrap_chunk(draws: range, job: _BootstrapJob) -> np.ndarray:
    return bootstrap_distribution(
        job.returns,
        statistic=job.statistic,
        method=job.method,
        block_size=job.block_size,
        seed=job.seed,
        draws=draws,
        periods_per_year=job.periods_per_year,
    )


def bootstrap_interval(
    returns: pd.Series | np.ndarray,
    *,
    statistic: Statistic,
    seed: int,
    periods_per_year: float,
    reps: int = 2000,
    method: Method = "stationary",
    block_size: float | None = None,
    alpha: float = 0.05,
    scheduler: SchedulerSpec | Any = "synchronous",
    n_workers: int = 2,
    progress: bool = False,
) -> BootstrapSummary:
    """Block-bootstrap percentile interval of the annualized Sharpe ratio or mean return.

    Parameters
    ----------
    returns : Series or ndarray
        Per-period returns; missing values are dropped first.
    statistic : {"sharpe", "mean"}
        ``mean/sd·sqrt(P)`` or ``mean·P`` (``P = periods_per_year``).
    seed : int
        Draw ``i`` uses the generator of ``(seed, i)`` (:mod:`alphalab.stats.bootstrap`).
    periods_per_year : float
    reps : int, default 2000
    method : {"stationary", "circular"}
    block_size : float, optional
        Expected (stationary) or fixed (circular) block length; None = Politis–White /
        Patton–Politis–White optimal length (``arch.bootstrap.optimal_block_length``).
    alpha : float, default 0.05
        The interval covers ``1 − alpha`` (``alpha/2`` and ``1 − alpha/2`` quantiles, linear).
    scheduler, n_workers, progress
        :func:`alphalab.parallel.map_tasks` options; chunks of 250 draws per task.

    Returns
    -------
    BootstrapSummary
        Equal to :func:`alphalab.stats.bootstrap.bootstrap_ci`'s distribution and percentile
        interval for the same arguments, whatever the scheduler.

    References
    ----------
    Politis & Romano (1994), JASA 89 (stationary bootstrap); Patton, Politis & White (2009)
    (block length); Efron & Tibshirani (1993), *An Introduction to the Bootstrap*, ch. 13
    (percentile interval).
    """
    x = np.asarray(returns, dtype=np.float64)
    x = x[np.isfinite(x)]
    b, auto = resolve_block_size(x, method=method, block_size=block_size)
    job = _BootstrapJob(x, statistic, method, b, int(seed), float(periods_per_year))
    parts = map_tasks(
        _bootstrap_chunk,
        _chunks(int(reps), CHUNK_DRAWS),
        scheduler=scheduler,
        n_workers=n_workers,
        progress=progress,
        desc=f"bootstrap {statistic}",
        shared=job,
    )
    dist = np.concatenate(parts)
    lo, hi = np.quantile(dist, [alpha / 2.0, 1.0 - alpha / 2.0])
    estimate = _statistic(x, statistic, periods_per_year)
    return BootstrapSummary(
        statistic=statistic,
        estimate=estimate,
        lower=float(lo),
        upper=float(hi),
        std_error=float(np.std(dist, ddof=1)),
        block_size=b,
        block_size_auto=auto,
        method=method,
        reps=int(reps),
        alpha=float(alpha),
        seed=int(seed),
        periods_per_year=float(periods_per_year),
        distribution=dist,
    )


def _statistic(x: np.ndarray, statistic: Statistic, ppy: float) -> float:
    if statistic == "mean":
        return float(x.mean() * ppy)
    return float(x.mean() / x.std(ddof=1) * math.sqrt(ppy))


# --------------------------------------------------------------------------------------------
# within-date permutation placebo
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlaceboSummary:
    """Outcome of :func:`placebo_test` (statistics of the gross long-short mean return).

    ``pvalue`` and ``pvalue_t`` are ``(1 + #{placebo ≥ observed}) / (1 + n_perm)`` for the
    mean and the Newey–West t-statistic (``≤`` for ``less``, ``|·|`` for ``two-sided``).
    """

    observed_mean: float
    observed_t: float
    means: np.ndarray
    t_stats: np.ndarray
    pvalue: float
    pvalue_t: float
    n_perm: int
    alternative: Alternative
    seed: int

    def to_frame(self) -> pd.DataFrame:
        """One row per permutation: ``draw``, ``mean``, ``t_nw``."""
        return pd.DataFrame(
            {"draw": np.arange(self.n_perm), "mean": self.means, "t_nw": self.t_stats}
        )

    def as_metrics(self, periods_per_year: float) -> dict[str, Any]:
        return {
            "observed": self.observed_mean,
            "observed_ann": self.observed_mean * periods_per_year,
            "observed_t": self.observed_t,
            "pvalue": self.pvalue,
            "pvalue_t": self.pvalue_t,
            "placebo_mean": float(self.means.mean()),
            "placebo_sd": float(self.means.std(ddof=1)) if self.n_perm > 1 else math.nan,
            "n_perm": self.n_perm,
        }


@dataclass(frozen=True)
class _PlaceboJob:
    config: EngineConfig
    inputs: GridInputs
    seed: int


def _long_short_stats(score: pd.DataFrame, job: _PlaceboJob) -> tuple[float, float]:
    res = sort_config(score, job.config, job.inputs)
    x = res.returns["long_short"].to_numpy()
    x = x[np.isfinite(x)]
    return float(x.mean()), float(newey_west(x).t)


def _placebo_chunk(draws: Sequence[int], job: _PlaceboJob) -> np.ndarray:
    score = variant_score(job.config, job.inputs)
    out = np.empty((len(draws), 2))
    for k, draw in enumerate(draws):
        shuffled = permute_within_rows(score, seed=job.seed, draw=int(draw))
        frame = pd.DataFrame(shuffled, index=score.index, columns=score.columns)
        out[k] = _long_short_stats(frame, job)
    return out


def placebo_draws(
    config: EngineConfig, inputs: GridInputs, *, seed: int, draws: Sequence[int]
) -> np.ndarray:
    """``(len(draws), 2)`` placebo ``(mean, t_nw)`` for the given draws (the unit of work)."""
    return _placebo_chunk(list(draws), _PlaceboJob(config, inputs, int(seed)))


def _pvalue(observed: float, dist: np.ndarray, alternative: Alternative) -> float:
    if alternative == "greater":
        hits = np.sum(dist >= observed)
    elif alternative == "less":
        hits = np.sum(dist <= observed)
    else:
        hits = np.sum(np.abs(dist) >= abs(observed))
    return float((1 + hits) / (1 + dist.size))


def placebo_test(
    config: EngineConfig,
    inputs: GridInputs,
    *,
    n_perm: int,
    seed: int,
    alternative: Alternative = "greater",
    scheduler: SchedulerSpec | Any = "synchronous",
    n_workers: int = 2,
    progress: bool = False,
) -> PlaceboSummary:
    """Within-date permutation placebo of the signal for one engine configuration.

    Parameters
    ----------
    config : EngineConfig
        The variant tested (usually the base specification).
    inputs : GridInputs
        Panel matrices and fixed engine options (:func:`alphalab.robustness.grid.grid_inputs`).
    n_perm : int
        Number of permutations; permutation ``i`` uses the generator of ``(seed, i)``.
    seed : int
    alternative : {"greater", "less", "two-sided"}, default "greater"
        ``greater``: the real long-short (direction as declared) beats the placebos.
    scheduler, n_workers, progress
        :func:`alphalab.parallel.map_tasks` options; chunks of draws per task.

    Returns
    -------
    PlaceboSummary
        The mean statistic's distribution equals
        :func:`alphalab.stats.bootstrap.permutation_placebo` with the same seed.

    References
    ----------
    Phipson & Smyth (2010) (the (1 + b)/(1 + m) p-value); Fama & French (2010), JF 65(5)
    (a null distribution by simulation with the signal's link to returns removed).
    """
    if isinstance(n_perm, bool) or not isinstance(n_perm, int) or n_perm < 1:
        raise ValueError(f"n_perm must be an integer >= 1, got {n_perm!r}")
    job = _PlaceboJob(config, inputs, int(seed))
    observed = _long_short_stats(variant_score(config, inputs), job)
    parts = map_tasks(
        _placebo_chunk,
        _chunks(n_perm, max(1, math.ceil(n_perm / 16))),
        scheduler=scheduler,
        n_workers=n_workers,
        progress=progress,
        desc="placebo",
        shared=job,
    )
    dist = np.vstack(parts)
    return PlaceboSummary(
        observed_mean=observed[0],
        observed_t=observed[1],
        means=dist[:, 0],
        t_stats=dist[:, 1],
        pvalue=_pvalue(observed[0], dist[:, 0], alternative),
        pvalue_t=_pvalue(observed[1], dist[:, 1], alternative),
        n_perm=n_perm,
        alternative=alternative,
        seed=int(seed),
    )


# --------------------------------------------------------------------------------------------
# sub-period and stress-period breakdowns
# --------------------------------------------------------------------------------------------
def period_breakdown(
    returns: pd.Series,
    periods: Mapping[str, tuple[dt.date | pd.Timestamp, dt.date | pd.Timestamp]],
    *,
    periods_per_year: float,
    turnover: pd.Series | None = None,
) -> pd.DataFrame:
    """Statistics of ``returns`` inside each named window ``[first, last]`` (days inclusive).

    One row per window (in the given order): ``period``, ``first``, ``last``, ``start`` /
    ``end`` (first and last dates with a return) and the grid statistics. A window with fewer
    than 4 returns (e.g. 2023 in a sample ending in 2022) keeps its row with ``n_obs`` and
    NaN statistics — it is reported, not dropped.

    References
    ----------
    The statistics of :func:`alphalab.robustness.grid.series_stats` (Sharpe 1994; Newey &
    West 1987) on each window.
    """
    rows = []
    index = pd.DatetimeIndex(returns.index)
    for name, (first, last) in periods.items():
        inside = (index >= pd.Timestamp(first)) & (index <= pd.Timestamp(last))
        x = returns.to_numpy(dtype=np.float64)[inside]
        ok = np.isfinite(x)
        dates = index[inside][ok]
        row: dict[str, Any] = {
            "period": name,
            "first": pd.Timestamp(first),
            "last": pd.Timestamp(last),
            "start": dates[0] if dates.size else pd.NaT,
            "end": dates[-1] if dates.size else pd.NaT,
        }
        if ok.sum() >= 4:
            turn = None if turnover is None else turnover.to_numpy(dtype=np.float64)[inside][ok]
            row.update(series_stats(x[ok], turn, periods_per_year=periods_per_year))
        else:
            row.update({"n_obs": int(ok.sum())})
        rows.append(row)
    return pd.DataFrame(rows)
