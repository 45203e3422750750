"""Performance and risk statistics of a return series.

Conventions (written into every report through :func:`summarize`):

- Returns are simple, per period, in decimals; missing values are dropped first.
- ``ann_return``: geometric, ``(Π(1 + r))^(P / n) - 1`` (CAGR), ``P`` periods per year.
- ``ann_vol``: sample standard deviation (``ddof=1``) × sqrt(P).
- ``sharpe``: arithmetic mean excess return / its sample sd (``ddof=1``) × sqrt(P)
  (DESIGN.md §7; Sharpe 1994). ``rf`` is a per-period rate (scalar or aligned series).
- ``sortino``: mean excess return × P / (sqrt(mean(min(r - rf, 0)²)) × sqrt(P)), the
  target semideviation over *all* periods (Sortino and Price 1994).
- ``max_drawdown``: the worst fall of the wealth index from a running peak, the start (1.0)
  counting as a peak; ``max_drawdown_duration``: the longest spell, in periods, below a
  previous peak (still-open spells count up to the last period).
- ``calmar``: ``ann_return / |max_drawdown|``.
- ``hit_rate``: share of periods with a return strictly above 0.
- ``skew`` and ``kurtosis`` (Pearson, normal = 3): the moment estimators ``m3 / m2^1.5`` and
  ``m4 / m2²`` (population moments, as in the PSR formulas of Bailey and López de Prado).
- ``var`` / ``cvar`` are *returns* (a loss is negative), as in empyrical: historical VaR is
  the ``alpha`` quantile (linear interpolation), historical CVaR the mean of the worst
  ``floor((n - 1)·alpha) + 1`` returns; Cornish–Fisher VaR is ``μ + σ z_cf`` and CVaR the
  mean of the Cornish–Fisher quantile function below ``alpha`` (closed form, Maillard 2012).
- ``tail_ratio``: ``abs(95th percentile) / abs(5th percentile)``.
- ``break_even_cost``: the cost per unit turnover, in bps, that would take the mean return to
  zero: ``mean(gross) / mean(turnover) × 10⁴`` (Novy-Marx and Velikov 2016).

These match empyrical-reloaded's ``annual_return``, ``annual_volatility``, ``sharpe_ratio``,
``sortino_ratio``, ``max_drawdown``, ``calmar_ratio``, ``value_at_risk``,
``conditional_value_at_risk`` and ``tail_ratio`` on series without missing values (the
reference tests check this); empyrical keeps NaNs in the period count of ``annual_return``.

References
----------
Sharpe, W. F. (1994), "The Sharpe ratio", Journal of Portfolio Management 21(1), 49–58.
Sortino, F. A. and Price, L. N. (1994), "Performance measurement in a downside risk
framework", Journal of Investing 3(3), 59–64.
Young, T. W. (1991), "Calmar ratio: a smoother tool", Futures 20(1).
Zangari, P. (1996), "A VaR methodology for portfolios that include options", RiskMetrics
Monitor Q1, 4–12 (Cornish–Fisher VaR, eq. 3).
Maillard, D. (2012), "A user's guide to the Cornish Fisher expansion", SSRN 1997178, §3
(Cornish–Fisher expected shortfall).
Bailey, D. H. and López de Prado, M. (2012), "The Sharpe ratio efficient frontier", Journal
of Risk 15(2) (moment conventions).
Novy-Marx, R. and Velikov, M. (2016), Review of Financial Studies 29(1), 104–147.
"""

from __future__ import annotations

import math
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats as sps

from alphalab.stats.inference import InferenceInputError, newey_west

Returns: TypeAlias = pd.Series | np.ndarray | ArrayLike
VarMethod = Literal["historical", "cornish_fisher"]


class PerformanceInputError(ValueError):
    """Bad input to a performance statistic (wrong shape, infinite values, bad option)."""


def _clean(returns: Returns, name: str = "returns") -> np.ndarray:
    arr = np.asarray(returns, dtype=np.float64)
    if arr.ndim != 1:
        raise PerformanceInputError(f"{name}: expected a 1-D series, got shape {arr.shape}")
    if np.isinf(arr).any():
        raise PerformanceInputError(f"{name}: contains infinite values")
    return arr[~np.isnan(arr)]


def _excess(returns: Returns, rf: float | pd.Series | ArrayLike | None) -> np.ndarray:
    """Returns minus a per-period risk-free rate (aligned by date for two Series)."""
    if rf is None:
        return _clean(returns)
    if isinstance(returns, pd.Series) and isinstance(rf, pd.Series):
        missing = returns.index.difference(rf.index)
        if len(missing):
            raise PerformanceInputError(
                f"rf: no value for {len(missing)} return date(s), first {missing[0]}"
            )
        return _clean(returns - rf.reindex(returns.index))
    r = np.asarray(returns, dtype=np.float64)
    f = np.asarray(rf, dtype=np.float64)
    if f.ndim and f.shape != r.shape:
        raise PerformanceInputError(f"rf: shape {f.shape} does not match returns {r.shape}")
    return _clean(r - f)


def _periods(periods_per_year: float) -> float:
    if not (isinstance(periods_per_year, int | float) and periods_per_year > 0):
        raise PerformanceInputError(
            f"periods_per_year: must be a positive number, got {periods_per_year!r}"
        )
    return float(periods_per_year)


def ann_return(returns: Returns, *, periods_per_year: float = 252) -> float:
    """Compound annual growth rate ``(Π(1 + r))^(P / n) - 1``.

    References
    ----------
    Bacon, C. (2008), *Practical Portfolio Performance Measurement and Attribution*, 2nd ed.,
    Wiley, eq. (2.17) (annualized return).
    """
    r = _clean(returns)
    if r.size == 0:
        return math.nan
    growth = float(np.prod(1.0 + r))
    if growth <= 0:
        return -1.0
    return growth ** (_periods(periods_per_year) / r.size) - 1.0


def ann_vol(returns: Returns, *, periods_per_year: float = 252) -> float:
    """Sample standard deviation (ddof=1) × sqrt(periods per year).

    References
    ----------
    Bacon (2008), eq. (4.3).
    """
    r = _clean(returns)
    if r.size < 2:
        return math.nan
    return float(r.std(ddof=1)) * math.sqrt(_periods(periods_per_year))


def sharpe(
    returns: Returns,
    *,
    periods_per_year: float = 252,
    rf: float | pd.Series | ArrayLike | None = None,
) -> float:
    """Annualized Sharpe ratio: mean excess return / its sd (ddof=1) × sqrt(P).

    References
    ----------
    Sharpe (1994), eq. (1)–(3) (ex-post Sharpe ratio); annualization by sqrt(P) as in Lo,
    A. W. (2002), "The statistics of Sharpe ratios", Financial Analysts Journal 58(4), eq. (8)
    under i.i.d. returns.
    """
    x = _excess(returns, rf)
    if x.size < 2:
        return math.nan
    sd = float(x.std(ddof=1))
    if sd == 0.0 or x.max() == x.min():
        return math.nan
    return float(x.mean()) / sd * math.sqrt(_periods(periods_per_year))


def downside_deviation(
    returns: Returns,
    *,
    periods_per_year: float = 252,
    rf: float | pd.Series | ArrayLike | None = None,
) -> float:
    """Annualized target semideviation ``sqrt(mean(min(r - rf, 0)²)) × sqrt(P)``.

    References
    ----------
    Sortino and Price (1994), eq. (2).
    """
    x = _excess(returns, rf)
    if x.size == 0:
        return math.nan
    return math.sqrt(float(np.mean(np.minimum(x, 0.0) ** 2))) * math.sqrt(
        _periods(periods_per_year)
    )


def sortino(
    returns: Returns,
    *,
    periods_per_year: float = 252,
    rf: float | pd.Series | ArrayLike | None = None,
) -> float:
    """Sortino ratio: annualized mean excess return / annualized target semideviation.

    References
    ----------
    Sortino and Price (1994), eq. (1)–(2).
    """
    x = _excess(returns, rf)
    if x.size < 2:
        return math.nan
    dd = downside_deviation(x, periods_per_year=periods_per_year)
    if dd == 0.0:
        return math.inf if x.mean() > 0 else math.nan
    return float(x.mean()) * _periods(periods_per_year) / dd


def drawdown(returns: Returns) -> np.ndarray:
    """Drawdown of the wealth index from its running peak (the start, 1.0, is a peak)."""
    r = _clean(returns)
    wealth = np.concatenate([[1.0], np.cumprod(1.0 + r)])
    peak = np.maximum.accumulate(wealth)
    return (wealth / peak - 1.0)[1:]


def max_drawdown(returns: Returns) -> float:
    """Largest peak-to-trough fall of the wealth index, as a negative decimal (0 if none).

    References
    ----------
    Magdon-Ismail, M. and Atiya, A. F. (2004), "Maximum drawdown", Risk 17(10), 99–102.
    """
    dd = drawdown(returns)
    return float(dd.min()) if dd.size else math.nan


def max_drawdown_duration(returns: Returns) -> int:
    """Longest number of consecutive periods spent below a previous peak."""
    under = drawdown(returns) < 0
    longest = run = 0
    for flag in under:
        run = run + 1 if flag else 0
        longest = max(longest, run)
    return longest


def calmar(returns: Returns, *, periods_per_year: float = 252) -> float:
    """Calmar ratio: annualized (geometric) return / ``abs(max drawdown)`` (NaN without drawdown).

    References
    ----------
    Young (1991).
    """
    mdd = max_drawdown(returns)
    if not mdd < 0:
        return math.nan
    return ann_return(returns, periods_per_year=periods_per_year) / abs(mdd)


def hit_rate(returns: Returns) -> float:
    """Share of periods with a return strictly above zero."""
    r = _clean(returns)
    return float((r > 0).mean()) if r.size else math.nan


def skew(returns: Returns) -> float:
    """Sample skewness ``m3 / m2^1.5`` (moment estimator, ``scipy.stats.skew(bias=True)``).

    References
    ----------
    Joanes, D. N. and Gill, C. A. (1998), "Comparing measures of sample skewness and
    kurtosis", The Statistician 47(1), 183–189: g1.
    """
    r = _clean(returns)
    if r.size < 3:
        return math.nan
    return float(sps.skew(r, bias=True))


def kurtosis(returns: Returns) -> float:
    """Pearson kurtosis ``m4 / m2²`` (normal = 3; ``scipy.stats.kurtosis(fisher=False)``).

    References
    ----------
    Joanes and Gill (1998): b2 = g2 + 3.
    """
    r = _clean(returns)
    if r.size < 4:
        return math.nan
    return float(sps.kurtosis(r, fisher=False, bias=True))


def _check_alpha(alpha: float) -> float:
    if not (isinstance(alpha, int | float) and 0 < alpha < 1):
        raise PerformanceInputError(f"alpha: tail probability must be in (0, 1), got {alpha!r}")
    return float(alpha)


def _cf_quantile(z: float | np.ndarray, s: float, k_excess: float) -> Any:
    """Cornish–Fisher adjusted standard normal quantile (Zangari 1996, eq. 3)."""
    return (
        z
        + (z**2 - 1.0) * s / 6.0
        + (z**3 - 3.0 * z) * k_excess / 24.0
        - (2.0 * z**3 - 5.0 * z) * s**2 / 36.0
    )


def var(returns: Returns, *, alpha: float = 0.05, method: VarMethod = "historical") -> float:
    """Value at risk as a return: the ``alpha`` quantile of returns (negative = loss).

    Parameters
    ----------
    returns : array-like
        Per-period returns.
    alpha : float
        Tail probability (0.05 = 95% VaR).
    method : {"historical", "cornish_fisher"}
        Empirical quantile (linear interpolation, as ``numpy.percentile`` and empyrical), or
        ``μ + σ z_cf(alpha)`` with the sample mean, sd (ddof=1), skewness and excess kurtosis.

    References
    ----------
    Jorion, P. (2007), *Value at Risk*, 3rd ed., ch. 5 (historical); Zangari (1996), eq. 3
    (Cornish–Fisher).
    """
    a = _check_alpha(alpha)
    r = _clean(returns)
    if r.size < 2:
        return math.nan
    if method == "historical":
        return float(np.percentile(r, 100.0 * a))
    if method == "cornish_fisher":
        z = _cf_quantile(float(sps.norm.ppf(a)), skew(r), kurtosis(r) - 3.0)
        return float(r.mean() + r.std(ddof=1) * z)
    raise PerformanceInputError(f"method: {method!r} is not 'historical' or 'cornish_fisher'")


def cvar(returns: Returns, *, alpha: float = 0.05, method: VarMethod = "historical") -> float:
    """Conditional VaR (expected shortfall) as a return: the mean return in the ``alpha`` tail.

    ``historical``: the mean of the ``floor((n - 1)·alpha) + 1`` lowest returns (empyrical's
    rule). ``cornish_fisher``: ``(1/alpha) ∫_0^alpha q_cf(u) du`` for the Cornish–Fisher
    quantile function ``q_cf``, in closed form
    ``μ − σ φ(z)/alpha · [1 + z S/6 + (z² − 1) K/24 − (2z² − 1) S²/36]``, ``z = Φ⁻¹(alpha)``,
    ``S`` skewness, ``K`` excess kurtosis.

    References
    ----------
    Acerbi, C. and Tasche, D. (2002), "On the coherence of expected shortfall", Journal of
    Banking & Finance 26(7), 1487–1503 (historical ES); Maillard (2012), §3 (Cornish–Fisher).
    """
    a = _check_alpha(alpha)
    r = _clean(returns)
    if r.size < 2:
        return math.nan
    if method == "historical":
        k = int((r.size - 1) * a)
        return float(np.partition(r, k)[: k + 1].mean())
    if method == "cornish_fisher":
        z = float(sps.norm.ppf(a))
        s, k_ex = skew(r), kurtosis(r) - 3.0
        bracket = 1.0 + z * s / 6.0 + (z**2 - 1.0) * k_ex / 24.0 - (2.0 * z**2 - 1.0) * s**2 / 36.0
        return float(r.mean() - r.std(ddof=1) * sps.norm.pdf(z) / a * bracket)
    raise PerformanceInputError(f"method: {method!r} is not 'historical' or 'cornish_fisher'")


def tail_ratio(returns: Returns) -> float:
    """``abs(95th percentile) / abs(5th percentile)`` of returns (empyrical's definition)."""
    r = _clean(returns)
    if r.size == 0:
        return math.nan
    low = abs(float(np.percentile(r, 5)))
    return abs(float(np.percentile(r, 95))) / low if low > 0 else math.nan


def break_even_cost(returns: Returns, turnover: Returns) -> float:
    """Cost per unit of turnover, in bps, at which the mean net return would be zero.

    ``mean(gross) / mean(turnover) × 10⁴`` over the periods where both are present; NaN
    without turnover.

    References
    ----------
    Novy-Marx and Velikov (2016), section 3 (break-even costs).
    """
    if isinstance(returns, pd.Series) and isinstance(turnover, pd.Series):
        turnover = turnover.reindex(returns.index)
    r = np.asarray(returns, dtype=np.float64)
    t = np.asarray(turnover, dtype=np.float64)
    if r.shape != t.shape or r.ndim != 1:
        raise PerformanceInputError(f"turnover: shape {t.shape} does not match returns {r.shape}")
    ok = np.isfinite(r) & np.isfinite(t)
    if not ok.any() or t[ok].mean() <= 0:
        return math.nan
    return float(r[ok].mean() / t[ok].mean() * 1e4)


def summarize(
    returns: Returns,
    *,
    periods_per_year: float,
    rf: float | pd.Series | ArrayLike | None = None,
    nw_lags: int | None = None,
    turnover: Returns | None = None,
) -> dict[str, Any]:
    """Every statistic of one return series, keyed by the metrics vocabulary (DESIGN.md §5).

    Parameters
    ----------
    returns : pandas.Series or array-like
        Per-period simple returns (missing values dropped).
    periods_per_year : float
        252 for daily sessions, 12 for months.
    rf : float or pandas.Series, optional
        Per-period risk-free rate for ``sharpe`` and ``sortino``.
    nw_lags : int, optional
        Newey–West lags for ``t_nw`` (the t-statistic of the mean *raw* return, the right
        null for a zero-cost long-short); default rule in :mod:`alphalab.stats.inference`.
    turnover : pandas.Series or array-like, optional
        Per-period turnover aligned with ``returns``: adds ``turnover`` (its mean) and
        ``break_even_bps``.

    Returns
    -------
    dict
        ``n_obs, mean, ann_return, ann_vol, sharpe, sortino, calmar, max_drawdown,
        max_drawdown_duration, hit_rate, skew, kurtosis, var_95, cvar_95, var_95_cf,
        cvar_95_cf, tail_ratio, t_nw, nw_lags`` (+ ``turnover, break_even_bps``), plain floats
        and ints.

    References
    ----------
    See the module docstring.
    """
    p = _periods(periods_per_year)
    r = _clean(returns)
    out: dict[str, Any] = {
        "n_obs": int(r.size),
        "mean": float(r.mean()) if r.size else math.nan,
        "ann_return": ann_return(r, periods_per_year=p),
        "ann_vol": ann_vol(r, periods_per_year=p),
        "sharpe": sharpe(returns, periods_per_year=p, rf=rf),
        "sortino": sortino(returns, periods_per_year=p, rf=rf),
        "calmar": calmar(r, periods_per_year=p),
        "max_drawdown": max_drawdown(r),
        "max_drawdown_duration": max_drawdown_duration(r),
        "hit_rate": hit_rate(r),
        "skew": skew(r),
        "kurtosis": kurtosis(r),
        "var_95": var(r, alpha=0.05),
        "cvar_95": cvar(r, alpha=0.05),
        "var_95_cf": var(r, alpha=0.05, method="cornish_fisher"),
        "cvar_95_cf": cvar(r, alpha=0.05, method="cornish_fisher"),
        "tail_ratio": tail_ratio(r),
    }
    try:
        nw = newey_west(r, lags=nw_lags)
        out["t_nw"], out["nw_lags"] = nw.t, nw.lags
    except InferenceInputError:
        out["t_nw"], out["nw_lags"] = math.nan, nw_lags
    if turnover is not None:
        t = np.asarray(turnover, dtype=np.float64)
        out["turnover"] = float(np.nanmean(t)) if np.isfinite(t).any() else math.nan
        out["break_even_bps"] = break_even_cost(returns, turnover)
    return out
