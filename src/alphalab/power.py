"""Power of a long-short portfolio sort on the study's own shape, by simulation (seeded).

How large an effect can a sample of ~40 banks and ~11 quarters detect? The answer depends on
the study's shape: names per period (and so per group), number of periods, the volatility of a
firm's period return, how correlated firms are, and how fat the tails are. This module

1. estimates that shape from the panel (:func:`shape_from_panel`): the sample the study's own
   regressions use — names with a score at each period end and their next-period return
   (:func:`alphalab.regressions.forward_returns_panel`) — giving names per period, the average
   per-firm volatility, the average pairwise correlation and (optionally) a Student-t tail
   index matched to the pooled kurtosis;
2. simulates returns with that shape under *no* effect (:func:`simulate_null`): firm i's return
   in period t is ``σ_i (√ρ f_t + √(1−ρ) e_it)`` with ``f``, ``e`` independent unit-variance
   innovations (normal or scaled Student-t), firms assigned to ``n_groups`` equal-count groups
   at random each period (the engine's binning), and records, per simulated study, the
   estimated long-short difference and its standard error under the chosen test:

   - ``long_short_t`` (default): the time series of per-period top-minus-bottom returns, its
     mean over its standard error with T − 1 degrees of freedom — the inference the backtest
     and Fama–MacBeth slopes use, robust to cross-sectional correlation;
   - ``pooled_t``: the two-sample t-test of all top-group firm-period returns against all
     bottom-group ones (pooled variance) — the textbook test, which in the independent case is
     exactly the two-sample t-test of statsmodels' ``TTestIndPower``;

3. adds an effect δ (per period, top minus bottom; a constant shift of every period's
   long-short) to the same draws, which moves each study's t-statistic to ``(d + δ) / se``.
   Power at any δ is then the share of studies rejecting at size α; the minimum detectable
   effect (MDE) at the target power is found exactly on the step function
   (:func:`minimum_detectable_effect`). The empirical size (power at δ = 0) is reported: it
   departs from α when fat tails or correlation distort the test.

Not modelled: serial correlation of returns, time-varying volatility, and correlation between
the signal and risk; read the MDE as optimistic when those matter.

References
----------
Cohen, J. (1988), *Statistical Power Analysis for the Behavioral Sciences*, 2nd ed., ch. 2
(power of the t-test; effect size d = δ/σ). Fama, E. F., and J. D. MacBeth (1973), JPE 81
(the time-series t of per-period estimates). Harvey, C. R., and Y. Liu (2020), "False (and
missed) discoveries in financial economics", JF 75(5) (power of return predictability tests by
simulation on the data's own structure).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from alphalab.backtest import assign_groups
from alphalab.panel import Panel
from alphalab.regressions import forward_returns_panel

Test = Literal["long_short_t", "pooled_t"]
Alternative = Literal["two-sided", "larger", "smaller"]
Frequency = Literal["monthly", "quarterly"]
Tails = Literal["normal", "estimated"]
PERIODS_PER_YEAR = {"monthly": 12.0, "quarterly": 4.0}
METRIC_KEYS = frozenset(
    "mde mde_ann target_power alpha size effect effect_ann power n_sims mc_se analytic_mde "
    "n_names vol rho tail_df n_groups".split()
)
"""Statistic names of :meth:`PowerResult.to_metrics` beyond the shared metrics vocabulary."""


class PowerError(ValueError):
    """The shape or the options cannot give a power analysis (names the value and the rule)."""


@dataclass(frozen=True)
class StudyShape:
    """What a study looks like to a long-short test.

    Attributes
    ----------
    names : tuple of int
        Names with a score and a next-period return in each period (one entry per period).
    vol : float
        Average per-period standard deviation of a firm's return.
    rho : float
        Average pairwise correlation of firms' period returns, 0 ≤ ρ < 1 (one common factor).
    n_groups : int
        Equal-count groups; long-short = top minus bottom.
    periods_per_year : float
        To annualize effects (4 quarterly, 12 monthly).
    firm_vols : tuple of float
        Per-firm volatilities to draw from (empty: every firm has ``vol``).
    tail_df : float or None
        Student-t degrees of freedom of the innovations (None: normal).
    frequency : str
        Label of the period (``quarterly``, ``monthly`` …).
    source : dict
        How the shape was obtained (estimated from a panel, or given).
    """

    names: tuple[int, ...]
    vol: float
    rho: float
    n_groups: int = 4
    periods_per_year: float = 4.0
    firm_vols: tuple[float, ...] = ()
    tail_df: float | None = None
    frequency: str = "quarterly"
    source: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_shape(self)

    @property
    def n_periods(self) -> int:
        return len(self.names)

    @property
    def group_sizes(self) -> np.ndarray:
        """(periods, 2): bottom and top group sizes of each period (the engine's binning)."""
        return np.array([_bottom_top(n, self.n_groups) for n in self.names], dtype=np.int64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_periods": self.n_periods,
            "names_median": float(np.median(self.names)),
            "names_min": int(min(self.names)),
            "names_max": int(max(self.names)),
            "vol": self.vol,
            "rho": self.rho,
            "n_groups": self.n_groups,
            "periods_per_year": self.periods_per_year,
            "tail_df": self.tail_df,
            "frequency": self.frequency,
            "heterogeneous_vols": bool(self.firm_vols),
            **{f"source_{k}": v for k, v in self.source.items()},
        }


def _check_shape(s: StudyShape) -> None:
    if len(s.names) < 2:
        raise PowerError(f"names: {len(s.names)} period(s); a t-test needs at least 2 periods")
    if s.n_groups < 2:
        raise PowerError(f"n_groups: {s.n_groups}; need at least 2 groups")
    small = [n for n in s.names if n < 2 * s.n_groups]
    if small:
        raise PowerError(
            f"names: periods with {small} names cannot fill {s.n_groups} groups of 2 or more"
        )
    if not (s.vol > 0 and np.isfinite(s.vol)):
        raise PowerError(f"vol: {s.vol!r} must be a positive number")
    if not (0 <= s.rho < 1):
        raise PowerError(f"rho: {s.rho!r} must be in [0, 1) (the common-factor model)")
    if s.tail_df is not None and not s.tail_df > 2:
        raise PowerError(f"tail_df: {s.tail_df!r} must be > 2 (finite variance)")
    if any(not (v > 0 and np.isfinite(v)) for v in s.firm_vols):
        raise PowerError("firm_vols: every volatility must be a positive number")


def _bottom_top(n: int, n_groups: int) -> tuple[int, int]:
    labels = assign_groups(np.arange(n, dtype=np.float64)[None, :], n_groups)[0]
    return int((labels == 1).sum()), int((labels == n_groups).sum())


# --------------------------------------------------------------------------------------------
# estimating the shape
# --------------------------------------------------------------------------------------------
def shape_from_returns(
    period_returns: pd.DataFrame,
    *,
    n_groups: int = 4,
    periods_per_year: float = 4.0,
    tails: Tails = "estimated",
    frequency: str = "quarterly",
    min_obs: int = 3,
) -> StudyShape:
    """Estimate a :class:`StudyShape` from a periods × firms matrix of period returns.

    ``names`` counts the finite cells per period; ``vol`` averages each firm's sample standard
    deviation (firms with ``min_obs`` or more periods); ``rho`` averages the pairwise
    (pairwise-complete) correlations of firms with ``min_obs`` or more common periods; a
    negative average (sampling noise in small cross-sections) is set to 0, the estimate kept
    in ``source["rho_estimate"]``.
    ``tails="estimated"`` sets the Student-t index matching κ, the average over firms of the
    bias-corrected excess kurtosis G2 (ν = 4 + 6/κ for κ > 0.05; normal otherwise).
    """
    x = period_returns.astype(np.float64)
    names = tuple(int(n) for n in np.isfinite(x.to_numpy()).sum(axis=1) if n > 0)
    counts = x.notna().sum()
    x = x.loc[:, counts >= min_obs]
    if x.shape[1] < 2:
        raise PowerError(f"period_returns: fewer than 2 firms with {min_obs}+ periods")
    sd = x.std(ddof=1)
    corr = x.corr(min_periods=min_obs).to_numpy()
    upper = corr[np.triu_indices_from(corr, k=1)]
    upper = upper[np.isfinite(upper)]
    rho_hat = float(upper.mean()) if upper.size else 0.0
    excess = _excess_kurtosis(x, min_obs=max(min_obs, 4))
    tail_df = 4.0 + 6.0 / excess if tails == "estimated" and excess > 0.05 else None
    return StudyShape(
        names=names,
        vol=float(sd.mean()),
        rho=max(rho_hat, 0.0),
        n_groups=n_groups,
        periods_per_year=periods_per_year,
        firm_vols=tuple(float(v) for v in sd.to_numpy()),
        tail_df=tail_df,
        frequency=frequency,
        source={
            "estimated_from": "period returns",
            "firms": int(x.shape[1]),
            "excess_kurtosis": excess,
            "rho_estimate": rho_hat,
        },
    )


def _excess_kurtosis(x: pd.DataFrame, *, min_obs: int) -> float:
    """Average over firms of the bias-corrected sample excess kurtosis (G2; 0 for normal data)."""
    values = [
        float(stats.kurtosis(col[np.isfinite(col)], fisher=True, bias=False))
        for col in x.to_numpy().T
        if np.isfinite(col).sum() >= min_obs
    ]
    return float(np.nanmean(values)) if values else 0.0


def shape_from_panel(
    panel: Panel,
    *,
    n_groups: int = 4,
    frequency: Frequency = "quarterly",
    lag: int = 1,
    tails: Tails = "estimated",
    min_names_per_group: int = 2,
) -> StudyShape:
    """The study's shape from its panel (see :mod:`alphalab.panel`).

    The sample is the one the regressions stage uses: at each calendar period end, the names
    with a score, and their return over the next period starting ``lag`` sessions after the
    score's close (:func:`~alphalab.regressions.forward_returns_panel`). Periods with fewer
    than ``n_groups × min_names_per_group`` such names are left out (the sort cannot run).
    """
    if panel.score is None:
        raise PowerError("panel: no score matrix (run the panel stage with a signal)")
    data = forward_returns_panel(panel.ret, panel.score, periods=frequency, lag=lag)
    data = data[np.isfinite(data["score"]) & np.isfinite(data["fwd_ret"])]
    wide = data["fwd_ret"].unstack("ticker").sort_index()
    n = wide.notna().sum(axis=1)
    wide = wide.loc[n >= n_groups * min_names_per_group]
    if len(wide) < 2:
        raise PowerError(
            f"panel: {len(wide)} {frequency} period(s) with {n_groups * min_names_per_group}+ "
            "scored names; a power analysis needs at least 2"
        )
    shape = shape_from_returns(
        wide,
        n_groups=n_groups,
        periods_per_year=PERIODS_PER_YEAR[frequency],
        tails=tails,
        frequency=frequency,
    )
    src = {
        **shape.source,
        "estimated_from": "panel",
        "first_period": str(wide.index[0].date()),
        "last_period": str(wide.index[-1].date()),
        "lag": lag,
    }
    return StudyShape(**{**shape.__dict__, "source": src})


# --------------------------------------------------------------------------------------------
# simulation
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NullDraws:
    """Per simulated study under no effect: the long-short estimate, its SE and the df."""

    diff: np.ndarray
    se: np.ndarray
    df: np.ndarray
    test: Test
    seed: int | None

    @property
    def n_sims(self) -> int:
        return len(self.diff)


def _innovations(
    rng: np.random.Generator, size: tuple[int, ...], tail_df: float | None
) -> np.ndarray:
    if tail_df is None:
        return rng.standard_normal(size)
    return rng.standard_t(tail_df, size) * np.sqrt((tail_df - 2.0) / tail_df)


def simulate_null(
    shape: StudyShape,
    *,
    n_sims: int = 4000,
    test: Test = "long_short_t",
    seed: int | np.random.Generator | None = 0,
) -> NullDraws:
    """Simulate ``n_sims`` studies of ``shape`` with no effect (see the module docstring).

    Parameters
    ----------
    shape : StudyShape
    n_sims : int
        Simulated studies (the Monte Carlo standard error of a power p is √(p(1−p)/n_sims)).
    test : {"long_short_t", "pooled_t"}
    seed : int, Generator or None

    Returns
    -------
    NullDraws
    """
    if n_sims < 100:
        raise PowerError(f"n_sims: {n_sims}; use at least 100 simulated studies")
    if test not in ("long_short_t", "pooled_t"):
        raise PowerError(f"test: {test!r} must be 'long_short_t' or 'pooled_t'")
    rng = np.random.default_rng(seed)
    sizes = shape.group_sizes
    n_bot, n_top = sizes[:, 0], sizes[:, 1]
    width = int((n_bot + n_top).max())
    t_len = shape.n_periods
    common = _innovations(rng, (n_sims, t_len, 1), shape.tail_df)
    own = _innovations(rng, (n_sims, t_len, width), shape.tail_df)
    if shape.firm_vols:
        sig = rng.choice(np.asarray(shape.firm_vols), size=(n_sims, t_len, width))
    else:
        sig = np.full((n_sims, t_len, width), shape.vol)
    r = sig * (np.sqrt(shape.rho) * common + np.sqrt(1.0 - shape.rho) * own)
    col = np.arange(width)[None, :]
    bot = col < n_bot[:, None]
    top = (col >= n_bot[:, None]) & (col < (n_bot + n_top)[:, None])
    if test == "long_short_t":
        diff, se, df = _long_short_t(r, bot, top, n_bot, n_top)
    else:
        diff, se, df = _pooled_t(r, bot, top, n_bot, n_top)
    seed_out = seed if isinstance(seed, int) else None
    return NullDraws(diff, se, df, test, seed_out)


def _long_short_t(
    r: np.ndarray, bot: np.ndarray, top: np.ndarray, n_bot: np.ndarray, n_top: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ls = (r * top).sum(axis=2) / n_top - (r * bot).sum(axis=2) / n_bot  # sims × periods
    t_len = ls.shape[1]
    diff = ls.mean(axis=1)
    se = ls.std(axis=1, ddof=1) / np.sqrt(t_len)
    return diff, se, np.full(len(diff), t_len - 1.0)


def _pooled_t(
    r: np.ndarray, bot: np.ndarray, top: np.ndarray, n_bot: np.ndarray, n_top: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n1, n2 = float(n_top.sum()), float(n_bot.sum())
    m1 = (r * top).sum(axis=(1, 2)) / n1
    m2 = (r * bot).sum(axis=(1, 2)) / n2
    ss1 = (((r - m1[:, None, None]) ** 2) * top).sum(axis=(1, 2))
    ss2 = (((r - m2[:, None, None]) ** 2) * bot).sum(axis=(1, 2))
    sp2 = (ss1 + ss2) / (n1 + n2 - 2.0)
    se = np.sqrt(sp2 * (1.0 / n1 + 1.0 / n2))
    return m1 - m2, se, np.full(len(m1), n1 + n2 - 2.0)


# --------------------------------------------------------------------------------------------
# power and minimum detectable effect
# --------------------------------------------------------------------------------------------
def _thresholds(
    draws: NullDraws, alpha: float, alternative: Alternative
) -> tuple[np.ndarray, np.ndarray]:
    """Effects at which each study starts rejecting upwards (``up``) / stops rejecting downwards.

    A study rejects at effect δ when ``δ >= up`` or ``δ <= down`` (two-sided), ``δ >= up``
    (larger) or ``δ <= down`` (smaller).
    """
    if not 0 < alpha < 1:
        raise PowerError(f"alpha: {alpha!r} must be in (0, 1)")
    tail = alpha / 2 if alternative == "two-sided" else alpha
    crit = stats.t.ppf(1.0 - tail, draws.df)
    up = crit * draws.se - draws.diff
    down = -crit * draws.se - draws.diff
    if alternative == "larger":
        down = np.full_like(down, -np.inf)
    elif alternative == "smaller":
        up = np.full_like(up, np.inf)
    elif alternative != "two-sided":
        raise PowerError(f"alternative: {alternative!r} must be two-sided, larger or smaller")
    return up, down


def power_at(
    draws: NullDraws,
    effect: float | Sequence[float] | np.ndarray,
    *,
    alpha: float = 0.05,
    alternative: Alternative = "two-sided",
) -> np.ndarray:
    """Share of simulated studies rejecting "no effect" at size ``alpha`` when the effect is ``effect``.

    ``effect`` is the true top-minus-bottom difference in mean return per period (decimals);
    the result has the shape of ``effect``.
    """
    up, down = _thresholds(draws, alpha, alternative)
    e = np.asarray(effect, dtype=np.float64)
    ups, downs = np.sort(up), np.sort(down)
    n = len(up)
    hit_up = np.searchsorted(ups, e, side="right")  # up <= e
    hit_down = n - np.searchsorted(downs, e, side="left")  # down >= e
    return (hit_up + hit_down) / n  # disjoint: up > down for every study (se > 0)


def minimum_detectable_effect(
    draws: NullDraws,
    *,
    power: float = 0.8,
    alpha: float = 0.05,
    alternative: Alternative = "two-sided",
) -> float:
    """Smallest positive effect (per period) detected with probability ``power`` at size ``alpha``.

    Exact on the simulated step function: power only rises at the studies' upward thresholds,
    so the answer is the first of them (in increasing order) where power reaches the target.
    For ``alternative="smaller"`` the MDE of a negative effect is returned as a positive
    magnitude.
    """
    if not 0 < power < 1:
        raise PowerError(f"power: {power!r} must be in (0, 1)")
    if alternative == "smaller":
        flipped = NullDraws(-draws.diff, draws.se, draws.df, draws.test, draws.seed)
        return minimum_detectable_effect(flipped, power=power, alpha=alpha, alternative="larger")
    up, _ = _thresholds(draws, alpha, alternative)
    cand = np.sort(up[up > 0])
    if float(power_at(draws, 0.0, alpha=alpha, alternative=alternative)) >= power:
        return 0.0
    if cand.size == 0:
        raise PowerError("no simulated study ever rejects: the shape has no power")
    p = power_at(draws, cand, alpha=alpha, alternative=alternative)
    ok = np.flatnonzero(p >= power)
    if ok.size == 0:
        raise PowerError(f"power {power} is not reached at any effect (max {p.max():.3f})")
    return float(cand[ok[0]])


# --------------------------------------------------------------------------------------------
# the result
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PowerResult:
    """A power analysis: shape, MDE at the target power, power at the named effect, curve."""

    shape: StudyShape
    test: Test
    alternative: Alternative
    alpha: float
    target_power: float
    mde: float
    size: float
    effect: float | None
    power: float | None
    n_sims: int
    seed: int | None
    curve: pd.DataFrame
    analytic_mde: float

    @property
    def mc_se(self) -> float:
        """Monte Carlo standard error of a power near the target."""
        p = self.target_power
        return float(np.sqrt(p * (1 - p) / self.n_sims))

    def to_metrics(self) -> dict[str, Any]:
        """One metrics series (``reports/metrics/*.json`` style): MDE, power, shape."""
        ppy = self.shape.periods_per_year
        out = {
            "mde": self.mde,
            "mde_ann": self.mde * ppy,
            "target_power": self.target_power,
            "alpha": self.alpha,
            "size": self.size,
            "effect": self.effect,
            "effect_ann": None if self.effect is None else self.effect * ppy,
            "power": self.power,
            "n_sims": self.n_sims,
            "mc_se": self.mc_se,
            "analytic_mde": self.analytic_mde,
            "n_obs": self.shape.n_periods,
            "n_names": float(np.median(self.shape.names)),
            "vol": self.shape.vol,
            "rho": self.shape.rho,
            "tail_df": self.shape.tail_df,
            "n_groups": self.shape.n_groups,
        }
        return out

    def to_markdown(self) -> str:
        """A short paragraph for reports."""
        s = self.shape
        per = s.frequency.removesuffix("ly") if s.frequency.endswith("ly") else s.frequency
        text = (
            f"**Power ({self.test}, {self.alternative}, α = {self.alpha:g}; {self.n_sims} simulated "
            f"studies, seed {self.seed}).** Shape: {s.n_periods} {s.frequency} periods, "
            f"{int(np.median(s.names))} names per period (median; {s.n_groups} groups), per-firm "
            f"volatility {s.vol:.2%} per {per}, average correlation {s.rho:.2f}"
            f"{'' if s.tail_df is None else f', Student-t tails (ν = {s.tail_df:.1f})'}. "
            f"Minimum detectable top-minus-bottom effect at {self.target_power:.0%} power: "
            f"**{self.mde:.2%} per {per}** ({self.mde * s.periods_per_year:.1%} a year; "
            f"normal-theory {self.analytic_mde:.2%}). Size of the test in simulation: "
            f"{self.size:.3f}."
        )
        if self.effect is not None and self.power is not None:
            text += (
                f" Power at an effect of {self.effect:.2%} per {per}: **{self.power:.1%}** "
                f"(± {np.sqrt(self.power * (1 - self.power) / self.n_sims):.1%} Monte Carlo)."
            )
        return text


def analytic_mde(
    shape: StudyShape,
    *,
    power: float = 0.8,
    alpha: float = 0.05,
    test: Test = "long_short_t",
) -> float:
    """Normal-theory MDE (equal volatilities, normal returns, two-sided) via the noncentral t.

    ``long_short_t``: one-sample t on T periods with sd σ√(2(1−ρ)/n) per period (n the
    median of the harmonic group sizes); ``pooled_t``: two-sample t with n₁, n₂ firm-periods
    and sd σ (correlation ignored, as the test ignores it).
    """
    sizes = shape.group_sizes
    if test == "long_short_t":
        inv = float(np.mean(1.0 / sizes[:, 0] + 1.0 / sizes[:, 1]))
        sd = shape.vol * np.sqrt((1.0 - shape.rho) * inv)
        df = shape.n_periods - 1.0
        scale = sd / np.sqrt(shape.n_periods)
    else:
        n1, n2 = float(sizes[:, 1].sum()), float(sizes[:, 0].sum())
        df = n1 + n2 - 2.0
        scale = shape.vol * np.sqrt(1.0 / n1 + 1.0 / n2)
    crit = stats.t.ppf(1 - alpha / 2, df)

    def gap(nc: float) -> float:
        p = float(stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc))
        return (p if np.isfinite(p) else 1.0) - power

    from scipy.optimize import brentq

    hi = 4.0
    while gap(hi) < 0 and hi < 1e4:
        hi *= 2
    nc = brentq(gap, 0.0, hi)
    return float(nc * scale)


def power_analysis(
    shape: StudyShape,
    *,
    effect: float | None = None,
    power: float = 0.8,
    alpha: float = 0.05,
    n_sims: int = 4000,
    test: Test = "long_short_t",
    alternative: Alternative = "two-sided",
    seed: int = 0,
) -> PowerResult:
    """Simulate ``shape`` and report the MDE at ``power`` and the power at ``effect``.

    Parameters
    ----------
    shape : StudyShape
        From :func:`shape_from_panel` / :func:`shape_from_returns`, or given.
    effect : float, optional
        An effect to evaluate: top-minus-bottom mean return per period, in decimals (e.g.
        0.022 for 220 bps a quarter).
    power, alpha : float
        Target power and size.
    n_sims : int
        Simulated studies.
    test, alternative
        See :func:`simulate_null` and :func:`power_at`.
    seed : int
        Seeds every draw (same seed, same answer).

    Returns
    -------
    PowerResult

    References
    ----------
    Cohen (1988), ch. 2; Harvey and Liu (2020), JF 75(5), section II (power by simulation).
    """
    draws = simulate_null(shape, n_sims=n_sims, test=test, seed=seed)
    mde = minimum_detectable_effect(draws, power=power, alpha=alpha, alternative=alternative)
    grid = np.linspace(0.0, 2.0 * mde if mde > 0 else shape.vol, 41)
    curve = pd.DataFrame(
        {"effect": grid, "power": power_at(draws, grid, alpha=alpha, alternative=alternative)}
    )
    at = (
        None
        if effect is None
        else float(power_at(draws, effect, alpha=alpha, alternative=alternative))
    )
    return PowerResult(
        shape=shape,
        test=test,
        alternative=alternative,
        alpha=alpha,
        target_power=power,
        mde=mde,
        size=float(power_at(draws, 0.0, alpha=alpha, alternative=alternative)),
        effect=effect,
        power=at,
        n_sims=n_sims,
        seed=seed,
        curve=curve,
        analytic_mde=analytic_mde(shape, power=power, alpha=alpha, test=test),
    )


def power_from_panel(
    panel: Panel,
    *,
    n_groups: int = 4,
    frequency: Frequency = "quarterly",
    lag: int = 1,
    effect: float | None = None,
    power: float = 0.8,
    alpha: float = 0.05,
    n_sims: int = 4000,
    test: Test = "long_short_t",
    tails: Tails = "estimated",
    seed: int = 0,
) -> PowerResult:
    """:func:`power_analysis` on the shape estimated from ``panel`` (what reports call)."""
    shape = shape_from_panel(panel, n_groups=n_groups, frequency=frequency, lag=lag, tails=tails)
    return power_analysis(
        shape, effect=effect, power=power, alpha=alpha, n_sims=n_sims, test=test, seed=seed
    )


# --------------------------------------------------------------------------------------------
# CLI: alphalab power
# --------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="alphalab power",
        description="Minimum detectable long-short effect and power, by simulation on the "
        "study's shape (from the panel, or given with --names/--periods/--vol/--rho).",
    )
    p.add_argument("--panel", type=Path, help="panel file (default data/processed/panel.parquet)")
    p.add_argument("--names", type=int, help="names per period (instead of a panel)")
    p.add_argument("--periods", type=int, help="number of periods (instead of a panel)")
    p.add_argument("--vol", type=float, help="per-period volatility of a firm's return")
    p.add_argument("--rho", type=float, default=0.0, help="average pairwise correlation")
    p.add_argument("--n-groups", type=int, help="groups (default backtest.n_groups, else 4)")
    p.add_argument("--frequency", choices=("quarterly", "monthly"), default="quarterly")
    p.add_argument("--lag", type=int, default=1, help="sessions between score and returns")
    p.add_argument("--effect", type=float, help="effect per period to evaluate (0.022 = 220 bps)")
    p.add_argument("--power", type=float, default=0.8, help="target power (default 0.8)")
    p.add_argument("--alpha", type=float, default=0.05, help="size (default 0.05)")
    p.add_argument("--sims", type=int, default=4000, help="simulated studies (default 4000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--test", choices=("long_short_t", "pooled_t"), default="long_short_t")
    p.add_argument("--tails", choices=("estimated", "normal"), default="estimated")
    p.add_argument("--json", type=Path, help="also write the result as JSON here")
    return p


def _default_groups() -> int:
    from alphalab.config import ParamsError, load_params

    try:
        return load_params().backtest.n_groups
    except (ParamsError, OSError):
        return 4


def _shape_from_args(args: argparse.Namespace, n_groups: int) -> StudyShape:
    given = [args.names, args.periods, args.vol]
    if any(v is not None for v in given):
        if any(v is None for v in given):
            raise PowerError("give --names, --periods and --vol together (or none, to use a panel)")
        return StudyShape(
            names=(args.names,) * args.periods,
            vol=args.vol,
            rho=args.rho,
            n_groups=n_groups,
            periods_per_year=PERIODS_PER_YEAR[args.frequency],
            frequency=args.frequency,
            source={"estimated_from": "given"},
        )
    from alphalab.config import Paths

    path = args.panel or Paths().processed / "panel.parquet"
    if not Path(path).is_file():
        raise PowerError(
            f"{path}: no panel (run `dvc repro panel`, or give --names/--periods/--vol)"
        )
    return shape_from_panel(
        Panel.load(path),
        n_groups=n_groups,
        frequency=args.frequency,
        lag=args.lag,
        tails=args.tails,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``alphalab power``; returns 0 on success, 1 on a problem, 2 on a usage error."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        shape = _shape_from_args(args, args.n_groups or _default_groups())
        res = power_analysis(
            shape,
            effect=args.effect,
            power=args.power,
            alpha=args.alpha,
            n_sims=args.sims,
            test=args.test,
            seed=args.seed,
        )
    except PowerError as exc:
        print(f"power: {exc}", file=sys.stderr)
        return 1
    print(res.to_markdown().replace("**", ""))
    if args.json is not None:
        from alphalab.io import atomic_write_json

        atomic_write_json({"power": res.to_metrics(), "shape": shape.to_dict()}, args.json)
    return 0


__all__ = [
    "METRIC_KEYS",
    "NullDraws",
    "PowerError",
    "PowerResult",
    "StudyShape",
    "analytic_mde",
    "minimum_detectable_effect",
    "power_analysis",
    "power_at",
    "power_from_panel",
    "shape_from_panel",
    "shape_from_returns",
    "simulate_null",
]


if __name__ == "__main__":
    raise SystemExit(main())
