"""Overfitting and multiple-testing controls over the specification grid.

Given the grid's full-sample variants and the trial ledger:

- **PSR / DSR / MinTRL** of a reported series (the base specification, and the best grid
  variant): the deflated Sharpe ratio uses ``n_trials`` and ``var_trials_sharpe`` from the
  ledger (:meth:`alphalab.ledger.TrialLedger.stats`) — every variant ever evaluated on
  these data, not just this run's grid.
- **PBO** by CSCV over the variants' daily returns (rows where every variant has a return).
- **Hansen's SPA and Romano–Wolf StepM** of the variants against a zero benchmark (does any
  variant earn a positive mean; which ones do, controlling the family-wise error rate),
  on monthly compounded returns by default: the bootstrap is ~20× cheaper than on daily
  rows and monthly returns carry far less serial dependence (``spa_frequency`` in params).
- **Harvey–Liu–Zhu haircuts** of a reported Sharpe ratio (Bonferroni, Holm, BHY) with the
  other ledger trials as the competing tests.

A "best" variant is never reported without ``n_trials`` and ``n_variants`` next to it.

References
----------
Bailey, D. H. & López de Prado, M. (2012). The Sharpe ratio efficient frontier. *Journal of
Risk* 15(2), 3–44 (PSR, MinTRL).
Bailey, D. H. & López de Prado, M. (2014). The deflated Sharpe ratio. *Journal of Portfolio
Management* 40(5), 94–107 (DSR).
Bailey, D. H., Borwein, J. M., López de Prado, M. & Zhu, Q. J. (2017). The probability of
backtest overfitting. *Journal of Computational Finance* 20(4), 39–69 (CSCV, PBO).
Hansen, P. R. (2005). A test for superior predictive ability. *JBES* 23(4), 365–380.
Romano, J. P. & Wolf, M. (2005). Stepwise multiple testing as formalized data snooping.
*Econometrica* 73(4), 1237–1282.
Harvey, C. R., Liu, Y. & Zhu, H. (2016). … and the cross-section of expected returns. *RFS*
29(1), 5–68; Harvey, C. R. & Liu, Y. (2015). Backtesting. *JPM* 42(1), 13–28 (haircuts).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from alphalab.stats.multiple_testing import SPAResult, StepMResult, sharpe_haircut, spa_test, stepm
from alphalab.stats.overfitting import (
    PBOResult,
    SharpeStats,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    min_track_record_length,
    pbo,
    probabilistic_sharpe_ratio,
)

__all__ = [
    "SharpeReport",
    "haircuts",
    "monthly_compound",
    "multiple_testing",
    "sharpe_report",
    "trial_stats",
]

Frequency = Literal["daily", "monthly"]
HaircutMethod = Literal["bonferroni", "holm", "bhy"]


def trial_stats(sharpes: pd.Series | np.ndarray) -> tuple[int, float]:
    """``(n_trials, var_trials_sharpe)`` of per-period trial Sharpe ratios (``ddof=1``).

    The same rule as :meth:`alphalab.ledger.TrialLedger.stats`: 0 trials → NaN variance,
    1 trial → 0.0.

    References
    ----------
    Bailey & López de Prado (2014), JPM 40(5): ``N`` and ``V[SR_n]`` of the SR₀ equation.
    """
    s = np.asarray(sharpes, dtype=np.float64)
    s = s[np.isfinite(s)]
    if s.size == 0:
        return 0, math.nan
    return int(s.size), float(np.var(s, ddof=1)) if s.size > 1 else 0.0


@dataclass(frozen=True)
class SharpeReport:
    """PSR, DSR and MinTRL of one per-period return series (metrics vocabulary names)."""

    sharpe_per_period: float
    n_obs: int
    skew: float
    kurtosis: float
    psr: float
    dsr: float
    min_trl: float
    n_trials: int
    var_trials_sharpe: float
    sr0: float

    def as_metrics(self) -> dict[str, Any]:
        return {
            "psr": self.psr,
            "dsr": self.dsr,
            "min_trl": self.min_trl,
            "n_trials": self.n_trials,
            "var_trials_sharpe": self.var_trials_sharpe,
            "sr0": self.sr0,
        }


def sharpe_report(
    returns: pd.Series | np.ndarray, *, n_trials: int, var_trials_sharpe: float
) -> SharpeReport:
    """PSR (vs 0), MinTRL (vs 0, 95%) and DSR (ledger ``n_trials`` and variance) of a series.

    ``var_trials_sharpe`` is the variance of the trials' **per-period** Sharpe ratios at the
    series' frequency. With no trials recorded the DSR is NaN (it is undefined, not 1).

    References
    ----------
    Bailey & López de Prado (2012), J. Risk 15(2) (PSR, MinTRL); Bailey & López de Prado
    (2014), JPM 40(5) (DSR = PSR(SR₀)).
    """
    x = np.asarray(returns, dtype=np.float64)
    s = SharpeStats.from_returns(x[np.isfinite(x)])
    ok = n_trials >= 1 and math.isfinite(var_trials_sharpe)
    dsr = (
        deflated_sharpe_ratio(s, n_trials=n_trials, var_trials_sharpe=var_trials_sharpe)
        if ok
        else math.nan
    )
    return SharpeReport(
        sharpe_per_period=s.sr,
        n_obs=s.n_obs,
        skew=s.skew,
        kurtosis=s.kurtosis,
        psr=probabilistic_sharpe_ratio(s),
        dsr=dsr,
        min_trl=min_track_record_length(s),
        n_trials=int(n_trials),
        var_trials_sharpe=float(var_trials_sharpe),
        sr0=expected_max_sharpe(n_trials, var_trials_sharpe) if ok else math.nan,
    )


def monthly_compound(returns: pd.DataFrame) -> pd.DataFrame:
    """Compound daily returns within calendar months: ``Π(1 + r) − 1`` per month and column.

    Rows must be complete (no NaN); the result is indexed by each month's last date.
    """
    if returns.isna().to_numpy().any():
        raise ValueError("monthly_compound: returns must have no missing values (use common rows)")
    index = pd.DatetimeIndex(returns.index)
    month = index.year * 12 + index.month
    starts = np.flatnonzero(np.r_[True, month[1:] != month[:-1]])
    logs = np.log1p(returns.to_numpy(dtype=np.float64))
    summed = np.add.reduceat(logs, starts, axis=0)
    ends = np.r_[starts[1:] - 1, len(index) - 1]
    return pd.DataFrame(np.expm1(summed), index=index[ends], columns=returns.columns)


@dataclass(frozen=True)
class MultipleTesting:
    """PBO, SPA and StepM over the grid's variants."""

    pbo: PBOResult
    spa: SPAResult
    stepm: StepMResult
    frequency: Frequency
    n_rows: int

    def as_metrics(self) -> dict[str, dict[str, Any]]:
        return {
            "pbo": {
                "pbo": self.pbo.pbo,
                "n_splits": self.pbo.n_splits,
                "n_combinations": self.pbo.n_combinations,
                "prob_oos_loss": self.pbo.prob_oos_loss,
                "degradation_slope": self.pbo.degradation_slope,
                "n_variants": len(self.pbo.strategies),
            },
            "spa": {
                "pvalue": self.spa.pvalue,
                "pvalue_lower": float(self.spa.pvalues["lower"]),
                "pvalue_upper": float(self.spa.pvalues["upper"]),
                "n_variants": int(self.spa.mean_advantage.size),
                "n_obs": self.n_rows,
                "reps": self.spa.reps,
                "block_size": self.spa.block_size,
            },
            "stepm": {
                "n_superior": len(self.stepm.superior),
                "n_variants": int(self.stepm.mean_advantage.size),
                "fwer": self.stepm.size,
                "n_obs": self.n_rows,
                "reps": self.stepm.reps,
                "block_size": self.stepm.block_size,
            },
        }


def multiple_testing(
    returns: pd.DataFrame,
    *,
    seed: int,
    pbo_splits: int = 16,
    reps: int = 1000,
    bootstrap: Literal["stationary", "circular", "moving_block"] = "stationary",
    block_size: int | None = None,
    fwer: float = 0.05,
    frequency: Frequency = "monthly",
) -> MultipleTesting:
    """PBO (daily rows) and SPA / StepM against zero (``frequency`` rows) over the variants.

    Parameters
    ----------
    returns : DataFrame
        Dates × variants per-period returns with no missing values (the grid's
        :meth:`~alphalab.robustness.grid.GridResult.common_returns`).
    seed : int
        Seed of the SPA and StepM bootstraps.
    pbo_splits : int
        Even number of CSCV blocks ``S``.
    reps, bootstrap, block_size
        SPA / StepM bootstrap (block length None = Politis–White of the loss differentials).
    fwer : float
        Family-wise error rate of StepM.
    frequency : {"daily", "monthly"}
        Rows fed to SPA / StepM: the daily returns or their monthly compounding.

    Returns
    -------
    MultipleTesting

    References
    ----------
    Bailey, Borwein, López de Prado & Zhu (2017) (CSCV); Hansen (2005), JBES 23(4) (SPA);
    Romano & Wolf (2005), Econometrica 73(4) (StepM); implementations in
    :mod:`alphalab.stats.overfitting` and :mod:`alphalab.stats.multiple_testing` (arch).
    """
    rows = returns if frequency == "daily" else monthly_compound(returns)
    common = {"kind": "returns", "seed": seed, "reps": reps, "bootstrap": bootstrap}
    return MultipleTesting(
        pbo=pbo(returns, n_splits=pbo_splits, metric="sharpe"),
        spa=spa_test(rows, 0.0, block_size=block_size, **common),  # type: ignore[arg-type]
        stepm=stepm(rows, 0.0, size=fwer, block_size=block_size, **common),  # type: ignore[arg-type]
        frequency=frequency,
        n_rows=int(rows.shape[0]),
    )


def haircuts(
    sharpe_annual: float,
    n_obs: int,
    *,
    other_sharpes_annual: Sequence[float] | np.ndarray,
    periods_per_year: float,
    methods: Sequence[HaircutMethod] = ("bonferroni", "holm", "bhy"),
) -> dict[str, dict[str, Any]]:
    """Harvey–Liu–Zhu haircut Sharpe ratios with the other ledger trials as competing tests.

    ``n_trials = len(other_sharpes_annual) + 1``. Returns ``{"haircut_<method>": {...}}``
    with ``sharpe`` (reported), ``haircut_sharpe``, ``haircut``, ``pvalue``, ``p_adjusted``
    and ``n_trials``.

    References
    ----------
    Harvey & Liu (2015), JPM 42(1); Harvey, Liu & Zhu (2016), RFS 29(1)
    (:func:`alphalab.stats.multiple_testing.sharpe_haircut`).
    """
    others = np.asarray(other_sharpes_annual, dtype=np.float64)
    m = int(others.size) + 1
    out: dict[str, dict[str, Any]] = {}
    for method in methods:
        h = sharpe_haircut(
            sharpe_annual,
            n_obs,
            m,
            periods_per_year=periods_per_year,
            method=method,
            other_sharpes=others if method != "bonferroni" else None,
        )
        out[f"haircut_{method}"] = {
            "sharpe": h.sharpe_annual,
            "haircut_sharpe": h.haircut_sharpe,
            "haircut": h.haircut,
            "pvalue": h.pvalue,
            "p_adjusted": h.adjusted_pvalue,
            "n_trials": h.n_trials,
        }
    return out
