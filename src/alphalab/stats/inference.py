"""Newey–West (HAC) inference for means and OLS coefficients.

The long-run variance uses the Bartlett kernel, weights ``w_j = 1 - j / (L + 1)`` for lags
``j = 1 … L``, with no small-sample correction, and two-sided p-values from the normal
distribution. This is statsmodels' ``OLS(...).fit(cov_type="HAC", cov_kwds={"maxlags": L,
"use_correction": False})`` (its defaults for HAC); the reference tests check equality to
1e-10.

Default lag rule: ``floor(4 · (T / 100) ** (2 / 9))`` (Newey and West 1994, the rule used by
most empirical-finance software), raised to at least ``h - 1`` by callers that know the
returns overlap over ``h`` periods (:func:`min_lags_for_horizon`, DESIGN.md §7).

References
----------
Newey, W. K. and West, K. D. (1987), "A simple, positive semi-definite, heteroskedasticity
and autocorrelation consistent covariance matrix", Econometrica 55(3), 703–708, eq. (2)–(3).
Newey, W. K. and West, K. D. (1994), "Automatic lag selection in covariance matrix
estimation", Review of Economic Studies 61(4), 631–653 (the T^(2/9) rate).
Hansen, L. P. and Hodrick, R. J. (1980), Journal of Political Economy 88(5): h − 1 lags for
h-period overlapping forecasts.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats as sps


class InferenceInputError(ValueError):
    """Bad input to an inference routine (too few observations, bad lags, wrong shapes)."""


def default_lags(n_obs: int) -> int:
    """Newey–West (1994) plug-in lag count ``floor(4 · (T / 100) ** (2 / 9))``.

    Examples
    --------
    >>> default_lags(100), default_lags(252), default_lags(8313)
    (4, 4, 10)
    """
    if n_obs < 1:
        return 0
    return math.floor(4.0 * (n_obs / 100.0) ** (2.0 / 9.0))


def min_lags_for_horizon(h: int) -> int:
    """Fewest lags for ``h``-period overlapping returns: ``h - 1`` (Hansen and Hodrick 1980)."""
    if isinstance(h, bool) or not isinstance(h, int | np.integer) or h < 1:
        raise InferenceInputError(f"h: horizon must be a positive integer, got {h!r}")
    return int(h) - 1


def _check_lags(lags: int | None, n_obs: int) -> int:
    if lags is None:
        return default_lags(n_obs)
    if isinstance(lags, bool) or not isinstance(lags, int | np.integer) or lags < 0:
        raise InferenceInputError(f"lags: expected a non-negative integer or None, got {lags!r}")
    if lags >= n_obs:
        raise InferenceInputError(
            f"lags: {lags} must be below the number of observations ({n_obs})"
        )
    return int(lags)


def bartlett_weights(lags: int) -> np.ndarray:
    """Bartlett kernel weights ``1 - j / (L + 1)`` for ``j = 1 … L``."""
    j = np.arange(1, lags + 1, dtype=np.float64)
    return 1.0 - j / (lags + 1.0)


def long_run_covariance(moments: np.ndarray, lags: int) -> np.ndarray:
    """``S = Σ_t u_t u_t' + Σ_j w_j (Γ_j + Γ_j')`` with ``Γ_j = Σ_t u_t u_{t-j}'`` (not / T).

    Parameters
    ----------
    moments : (T, k) array
        Moment contributions, e.g. ``x_t · e_t`` for OLS or demeaned observations.
    lags : int
        Bartlett truncation lag ``L``.

    References
    ----------
    Newey and West (1987), eq. (2).
    """
    u = np.asarray(moments, dtype=np.float64)
    if u.ndim == 1:
        u = u[:, None]
    s = u.T @ u
    for j, w in enumerate(bartlett_weights(lags), start=1):
        gamma = u[j:].T @ u[:-j]
        s += w * (gamma + gamma.T)
    return s


@dataclass(frozen=True)
class NeweyWestResult:
    """Mean of a series with its Newey–West standard error.

    Attributes
    ----------
    mean, se, t, p : float
        Sample mean, HAC standard error, ``mean / se`` and its two-sided normal p-value.
    lags : int
        Bartlett truncation lag used.
    n_obs : int
        Observations used (missing values dropped).
    """

    mean: float
    se: float
    t: float
    p: float
    lags: int
    n_obs: int

    def as_dict(self) -> dict[str, Any]:
        """The result as a plain dict."""
        return asdict(self)


def _clean_1d(x: ArrayLike | pd.Series, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1:
        raise InferenceInputError(f"{name}: expected a 1-D series, got shape {arr.shape}")
    if np.isinf(arr).any():
        raise InferenceInputError(f"{name}: contains infinite values")
    return arr[~np.isnan(arr)]


def newey_west(x: ArrayLike | pd.Series, *, lags: int | None = None) -> NeweyWestResult:
    """Newey–West t-statistic of the mean of ``x`` (missing values dropped).

    Parameters
    ----------
    x : array-like or pandas.Series
        The series (e.g. long-short returns). NaNs are dropped before lags are counted.
    lags : int, optional
        Bartlett truncation lag; default :func:`default_lags` of the observation count.
        For h-period overlapping returns pass at least ``min_lags_for_horizon(h)``.

    Returns
    -------
    NeweyWestResult

    Notes
    -----
    ``se² = (γ_0 + 2 Σ_j w_j γ_j) / T`` with ``γ_j = Σ_t (x_t - x̄)(x_{t-j} - x̄) / T``:
    statsmodels' OLS of ``x`` on a constant with ``cov_type="HAC"``, ``maxlags=lags``,
    ``use_correction=False``, and normal p-values.

    References
    ----------
    Newey and West (1987), eq. (2)–(3); Newey and West (1994) for the default lag rule.

    Examples
    --------
    >>> r = newey_west([0.01, -0.02, 0.03, 0.00, 0.01, 0.02], lags=1)
    >>> round(r.mean, 6), r.lags, r.n_obs
    (0.008333, 1, 6)
    """
    arr = _clean_1d(x, "x")
    n = arr.size
    if n < 2:
        raise InferenceInputError(f"x: need at least 2 non-missing observations, got {n}")
    lag = _check_lags(lags, n)
    mean = float(arr.mean())
    s = long_run_covariance(arr - mean, lag)[0, 0]
    se = math.sqrt(s) / n if s > 0 else 0.0
    t = mean / se if se > 0 else math.nan
    p = float(2.0 * sps.norm.sf(abs(t))) if math.isfinite(t) else math.nan
    return NeweyWestResult(mean=mean, se=se, t=t, p=p, lags=lag, n_obs=n)


@dataclass(frozen=True)
class OLSResult:
    """OLS coefficients with Newey–West standard errors.

    Attributes
    ----------
    params, se, t, p : numpy.ndarray
        Coefficients, HAC standard errors, t-statistics and two-sided normal p-values.
    cov : numpy.ndarray
        HAC covariance of the coefficients.
    resid : numpy.ndarray
        Residuals.
    r2, adj_r2 : float
        (Adjusted) R² with an intercept in the model.
    n_obs, lags : int
        Observations and Bartlett lag.
    """

    params: np.ndarray
    se: np.ndarray
    t: np.ndarray
    p: np.ndarray
    cov: np.ndarray
    resid: np.ndarray
    r2: float
    adj_r2: float
    n_obs: int
    lags: int


def ols_hac(y: ArrayLike, x: ArrayLike, *, lags: int | None = None) -> OLSResult:
    """OLS of ``y`` on the columns of ``x`` (include a constant yourself) with HAC errors.

    ``cov = (X'X)⁻¹ S (X'X)⁻¹`` with ``S`` from :func:`long_run_covariance` of ``x_t · e_t``:
    statsmodels' ``cov_type="HAC"`` with ``use_correction=False``.

    References
    ----------
    Newey and West (1987), eq. (2)–(3); White, H. (1980), Econometrica 48(4), 817–838 (the
    sandwich form).
    """
    yv = np.asarray(y, dtype=np.float64)
    xv = np.asarray(x, dtype=np.float64)
    if xv.ndim != 2 or yv.ndim != 1 or xv.shape[0] != yv.shape[0]:
        raise InferenceInputError(f"ols_hac: y {yv.shape} and x {xv.shape} do not conform")
    n, k = xv.shape
    if n <= k:
        raise InferenceInputError(f"ols_hac: {n} observations for {k} coefficients")
    if not (np.isfinite(yv).all() and np.isfinite(xv).all()):
        raise InferenceInputError("ols_hac: y and x must be finite (drop missing rows first)")
    lag = _check_lags(lags, n)
    params, *_ = np.linalg.lstsq(xv, yv, rcond=None)
    resid = yv - xv @ params
    xtx_inv = np.linalg.inv(xv.T @ xv)
    cov = xtx_inv @ long_run_covariance(xv * resid[:, None], lag) @ xtx_inv
    se = np.sqrt(np.diag(cov))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = params / se
    p = 2.0 * sps.norm.sf(np.abs(t))
    tss = float(((yv - yv.mean()) ** 2).sum())
    ssr = float(resid @ resid)
    r2 = 1.0 - ssr / tss if tss > 0 else math.nan
    adj = 1.0 - (1.0 - r2) * (n - 1) / (n - k) if tss > 0 else math.nan
    return OLSResult(params, se, t, p, cov, resid, r2, adj, n, lag)
