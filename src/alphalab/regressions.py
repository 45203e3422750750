"""Panel and Fama–MacBeth regressions of forward returns on a signal.

Inputs are long frames on an (entity, time) MultiIndex — the panel contract of
:mod:`alphalab.panel` — such as the one :func:`forward_returns_panel` builds from wide
(dates × tickers) return and score matrices, point in time.

* :func:`panel_regression` — pooled / fixed-effects OLS with linearmodels ``PanelOLS`` and a
  choice of covariance: clustered by entity and/or time (Petersen 2009; Thompson 2011),
  Driscoll–Kraay (1998) ``kernel``, White ``robust`` or ``unadjusted``.
* :func:`fama_macbeth` — per-period cross-sectional OLS, the time-series mean of the slopes and
  its Newey–West standard error (Fama & MacBeth 1973; Newey & West 1987), vectorized in numpy.
* :func:`horse_race` — each dimension alone, then all together, as one tidy table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "FamaMacBethResult",
    "PanelRegressionResult",
    "RegressionError",
    "fama_macbeth",
    "forward_returns_panel",
    "horse_race",
    "newey_west_lags",
    "newey_west_mean_se",
    "panel_regression",
]

CovType = Literal["clustered", "kernel", "robust", "unadjusted"]
_SINGULAR_COND = 1e12


class RegressionError(ValueError):
    """Bad input to a regression (names the argument, value and rule)."""


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def newey_west_lags(n: int) -> int:
    """Rule-of-thumb Newey–West lag count ⌊4 (n/100)^(2/9)⌋ (Newey & West 1994).

    References
    ----------
    Newey, W. K. & West, K. D. (1994). Automatic lag selection in covariance matrix estimation.
    REStud 61, 631–653 (the fixed-rate rule for the Bartlett kernel).
    """
    return math.floor(4 * (n / 100) ** (2 / 9))


def newey_west_mean_se(x: np.ndarray, lags: int) -> np.ndarray:
    """Newey–West standard error of the sample mean of each column of ``x``.

    se² = S / T with S = γ₀ + 2 Σ_{l=1}^{L} (1 − l/(L + 1)) γ_l and γ_l = (1/T) Σ_t d_t d_{t−l}
    for the demeaned series d (Bartlett kernel, no small-sample correction).

    Parameters
    ----------
    x : ndarray
        ``(T,)`` or ``(T, k)`` series.
    lags : int
        L ≥ 0, below T.

    References
    ----------
    Newey, W. K. & West, K. D. (1987). A simple, positive semi-definite, heteroskedasticity and
    autocorrelation consistent covariance matrix. Econometrica 55, 703–708 (eq. for Ŝ with
    Bartlett weights w(l, L) = 1 − l/(L + 1)).
    """
    z = np.asarray(x, dtype=np.float64)
    z = z[:, None] if z.ndim == 1 else z
    t = z.shape[0]
    if not 0 <= lags < t:
        raise RegressionError(f"nw_lags={lags}: must be in [0, {t - 1}] for {t} periods")
    d = z - z.mean(0)
    s = (d * d).sum(0) / t
    for lag in range(1, lags + 1):
        s = s + 2.0 * (1.0 - lag / (lags + 1.0)) * (d[lag:] * d[:-lag]).sum(0) / t
    se = np.sqrt(s / t)
    return se[0] if np.ndim(x) == 1 else se


def _as_list(v: str | Sequence[str]) -> list[str]:
    return [v] if isinstance(v, str) else list(v)


def _check_panel(df: pd.DataFrame, columns: Sequence[str]) -> None:
    if not isinstance(df, pd.DataFrame) or not isinstance(df.index, pd.MultiIndex):
        raise RegressionError("df: must be a DataFrame on an (entity, time) MultiIndex")
    if df.index.nlevels != 2:
        raise RegressionError(f"df.index: needs 2 levels (entity, time), has {df.index.nlevels}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise RegressionError(f"df: missing column(s) {missing}; have {list(df.columns)}")
    if len(set(columns)) != len(columns):
        raise RegressionError(f"variables {list(columns)}: a column is used twice")
    if df.index.has_duplicates:
        raise RegressionError("df.index: (entity, time) pairs must be unique")


def _complete_rows(df: pd.DataFrame, columns: Sequence[str]) -> tuple[pd.DataFrame, int]:
    data = df.loc[:, list(columns)].astype(np.float64)
    keep = np.isfinite(data.to_numpy()).all(axis=1)
    return data.loc[keep], int((~keep).sum())


def _tidy(params: Any, se: Any, t: Any, p: Any) -> pd.DataFrame:
    out = pd.DataFrame({"coef": params, "se": se, "t": t, "p": p})
    out.index.name = "variable"
    return out


# --------------------------------------------------------------------------------------------
# panel OLS
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PanelRegressionResult:
    """Tidy output of :func:`panel_regression`.

    Attributes
    ----------
    table : DataFrame
        Index ``variable`` (``const`` first), columns ``coef, se, t, p``.
    nobs, entities, periods : int
        Observations used and the distinct entities and periods among them.
    dropped : int
        Rows left out for a missing value in ``y``, ``x`` or ``controls``.
    r2, r2_within, r2_between, r2_overall : float
        linearmodels' R² of the estimated model (within when effects are absorbed) and its
        three decompositions.
    cov : str
        Description of the covariance estimator (type, clusters or bandwidth).
    raw : Any
        The linearmodels ``PanelEffectsResults``.
    """

    table: pd.DataFrame
    nobs: int
    entities: int
    periods: int
    dropped: int
    r2: float
    r2_within: float
    r2_between: float
    r2_overall: float
    cov: str
    raw: Any = field(repr=False, default=None)


def panel_regression(
    df: pd.DataFrame,
    *,
    y: str,
    x: str | Sequence[str],
    controls: Sequence[str] = (),
    entity_effects: bool = False,
    time_effects: bool = False,
    cov: CovType = "clustered",
    cluster_entity: bool = True,
    cluster_time: bool = False,
    kernel_lags: int | None = None,
) -> PanelRegressionResult:
    """OLS of ``y`` on ``x`` and ``controls`` (plus a constant) with linearmodels ``PanelOLS``.

    Parameters
    ----------
    df : DataFrame
        (entity, time) MultiIndex; time must be dates or numbers (linearmodels' rule).
    y, x, controls : str
        Column names; rows with a missing value in any of them are dropped and counted.
    entity_effects, time_effects : bool
        Absorb entity and/or time fixed effects.
    cov : {"clustered", "kernel", "robust", "unadjusted"}
        ``clustered`` by entity and/or time (one- or two-way); ``kernel`` is Driscoll–Kraay
        (Bartlett kernel over periods of cross-sectional sums); ``robust`` is White's
        heteroskedasticity-robust estimator. Every type uses linearmodels' small-sample scaling
        n/(n − k) (``debiased=True``); clustered ones also G/(G − 1)·(n − 1)/n
        (``group_debias=True``), together Stata's ``vce(cluster)`` (CR1).
    cluster_entity, cluster_time : bool
        Cluster dimensions for ``cov="clustered"`` (at least one). Two-way clustering
        (V_entity + V_time − V_white) need not be positive semi-definite: a negative variance
        shows as a NaN standard error.
    kernel_lags : int, optional
        Driscoll–Kraay bandwidth; default ⌊4 (T/100)^(2/9)⌋ with T periods.

    Returns
    -------
    PanelRegressionResult

    References
    ----------
    Petersen, M. A. (2009). Estimating standard errors in finance panel data sets. RFS 22,
    435–480 (clustered by firm and time). Thompson, S. B. (2011). Simple formulas for standard
    errors that cluster by both firm and time. JFE 99, 1–10 (two-way: V_firm + V_time − V_white).
    Driscoll, J. C. & Kraay, A. C. (1998). Consistent covariance matrix estimation with spatially
    dependent panel data. REStat 80, 549–560. White, H. (1980), Econometrica 48.

    Examples
    --------
    >>> res = panel_regression(panel, y="fwd_ret", x="score", time_effects=True)  # doctest: +SKIP
    >>> res.table.loc["score"]  # doctest: +SKIP
    """
    from linearmodels import PanelOLS

    xs, ctrl = _as_list(x), list(controls)
    _check_panel(df, [y, *xs, *ctrl])
    if cov not in ("clustered", "kernel", "robust", "unadjusted"):
        raise RegressionError(f"cov={cov!r}: must be clustered, kernel, robust or unadjusted")
    if cov == "clustered" and not (cluster_entity or cluster_time):
        raise RegressionError("cov='clustered' needs cluster_entity and/or cluster_time True")
    data, dropped = _complete_rows(df, [y, *xs, *ctrl])
    if data.empty:
        raise RegressionError(f"no complete rows for {[y, *xs, *ctrl]}")
    exog = data[[*xs, *ctrl]].copy()
    exog.insert(0, "const", 1.0)
    model = PanelOLS(data[y], exog, entity_effects=entity_effects, time_effects=time_effects)
    periods = int(data.index.get_level_values(1).nunique())
    fit_kw, desc = _cov_config(cov, cluster_entity, cluster_time, kernel_lags, periods, data)
    res = model.fit(**fit_kw)
    return PanelRegressionResult(
        table=_tidy(res.params, res.std_errors, res.tstats, res.pvalues),
        nobs=int(res.nobs),
        entities=int(data.index.get_level_values(0).nunique()),
        periods=periods,
        dropped=dropped,
        r2=float(res.rsquared),
        r2_within=float(res.rsquared_within),
        r2_between=float(res.rsquared_between),
        r2_overall=float(res.rsquared_overall),
        cov=desc,
        raw=res,
    )


def _cov_config(
    cov: str,
    cluster_entity: bool,
    cluster_time: bool,
    kernel_lags: int | None,
    periods: int,
    data: pd.DataFrame,
) -> tuple[dict[str, Any], str]:
    if cov == "unadjusted":
        return {"cov_type": "unadjusted"}, "unadjusted (homoskedastic)"
    if cov == "robust":
        return {"cov_type": "robust"}, "robust (White heteroskedasticity-consistent)"
    if cov == "kernel":
        lags = newey_west_lags(periods) if kernel_lags is None else int(kernel_lags)
        if not 0 <= lags < periods:
            raise RegressionError(f"kernel_lags={lags}: must be in [0, {periods - 1}]")
        kw = {"cov_type": "kernel", "kernel": "bartlett", "bandwidth": lags}
        return kw, f"Driscoll-Kraay (Bartlett kernel, bandwidth {lags}, {periods} periods)"
    dims = []
    if cluster_entity:
        dims.append(f"entity (G={data.index.get_level_values(0).nunique()})")
    if cluster_time:
        dims.append(f"time (G={periods})")
    kw = {
        "cov_type": "clustered",
        "cluster_entity": cluster_entity,
        "cluster_time": cluster_time,
        "group_debias": True,
    }
    return kw, "clustered by " + " and ".join(dims) + ", CR1 (Stata) small-sample scaling"


# --------------------------------------------------------------------------------------------
# Fama–MacBeth
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FamaMacBethResult:
    """Output of :func:`fama_macbeth`.

    Attributes
    ----------
    table : DataFrame
        Index ``variable`` (``const`` first), ``coef`` (mean slope), ``se`` (Newey–West over
        the slope series), ``t``, ``p`` (two-sided, t with T − 1 df).
    slopes : DataFrame
        Per estimated period (index: time) the cross-sectional coefficients, ``n`` and ``r2``.
    periods : int
        T, periods estimated.
    skipped : list
        Periods not estimated (fewer than ``min_obs`` complete rows or a singular design).
    nw_lags : int
    avg_r2, avg_adj_r2, avg_n : float
        Means over the estimated periods of the cross-sectional R², adjusted R² and sample size.
    nobs : int
        Observations in the estimated periods.
    dropped : int
        Rows left out for a missing value.
    """

    table: pd.DataFrame
    slopes: pd.DataFrame
    periods: int
    skipped: list[Any]
    nw_lags: int
    avg_r2: float
    avg_adj_r2: float
    avg_n: float
    nobs: int
    dropped: int


def fama_macbeth(
    df: pd.DataFrame,
    *,
    y: str,
    x: str | Sequence[str],
    controls: Sequence[str] = (),
    nw_lags: int | None = None,
    min_obs: int | None = None,
) -> FamaMacBethResult:
    """Fama–MacBeth (1973) regression with Newey–West standard errors on the slope series.

    For each period t, OLS of y on [1, x, controls] across entities gives b_t; the estimate is
    b̄ = (1/T) Σ b_t and its standard error the Newey–West (Bartlett) standard error of the mean
    of the b_t series (:func:`newey_west_mean_se`). Per-period X'X and X'y are accumulated for all
    periods at once (no per-period loop in pandas).

    Parameters
    ----------
    df : DataFrame
        (entity, time) MultiIndex.
    y, x, controls : str
        Columns; rows with a missing value are dropped and counted.
    nw_lags : int, optional
        Lags; default ⌊4 (T/100)^(2/9)⌋. With h-period overlapping forward returns use at
        least h − 1 (DESIGN.md §7).
    min_obs : int, optional
        Minimum rows for a period to be estimated; default k + 1 (k regressors incl. constant).

    Returns
    -------
    FamaMacBethResult

    References
    ----------
    Fama, E. F. & MacBeth, J. D. (1973). Risk, return, and equilibrium: empirical tests. JPE 81,
    607–636 (time-series average of monthly cross-sectional slopes and its standard error).
    Newey & West (1987), Econometrica 55 (HAC variance of the slope mean).

    Examples
    --------
    >>> fm = fama_macbeth(panel, y="fwd_ret", x="score", nw_lags=3)  # doctest: +SKIP
    >>> fm.table  # doctest: +SKIP
    """
    xs, ctrl = _as_list(x), list(controls)
    _check_panel(df, [y, *xs, *ctrl])
    data, dropped = _complete_rows(df, [y, *xs, *ctrl])
    names = ["const", *xs, *ctrl]
    k = len(names)
    need = k + 1 if min_obs is None else int(min_obs)
    if need < k:
        raise RegressionError(f"min_obs={min_obs}: must be at least {k} (the regressors)")
    times, code = np.unique(data.index.get_level_values(1).to_numpy(), return_inverse=True)
    yv = data[y].to_numpy()
    xv = np.column_stack([np.ones(len(data)), data[[*xs, *ctrl]].to_numpy()])
    beta, r2, adj, n, ok = _cross_sections(yv, xv, code, len(times), need)
    t_obs = int(ok.sum())
    if t_obs < 2:
        raise RegressionError(f"fama_macbeth: {t_obs} estimable period(s); need at least 2")
    lags = newey_west_lags(t_obs) if nw_lags is None else int(nw_lags)
    b = beta[ok]
    coef = b.mean(0)
    se = newey_west_mean_se(b, lags)
    tstat = coef / se
    p = 2.0 * stats.t.sf(np.abs(tstat), t_obs - 1)
    slopes = pd.DataFrame(b, index=pd.Index(times[ok], name="time"), columns=names)
    slopes["n"], slopes["r2"] = n[ok], r2[ok]
    return FamaMacBethResult(
        table=_tidy(pd.Series(coef, index=names), se, tstat, p),
        slopes=slopes,
        periods=t_obs,
        skipped=list(times[~ok]),
        nw_lags=lags,
        avg_r2=float(r2[ok].mean()),
        avg_adj_r2=float(np.nanmean(adj[ok])) if np.isfinite(adj[ok]).any() else float("nan"),
        avg_n=float(n[ok].mean()),
        nobs=int(n[ok].sum()),
        dropped=dropped,
    )


def _cross_sections(
    y: np.ndarray, x: np.ndarray, code: np.ndarray, n_periods: int, min_obs: int
) -> tuple[np.ndarray, ...]:
    """Per-period OLS of y on x for every period at once (code = period of each row)."""
    k = x.shape[1]
    xtx = np.zeros((n_periods, k, k))
    np.add.at(xtx, code, x[:, :, None] * x[:, None, :])
    xty = np.zeros((n_periods, k))
    np.add.at(xty, code, x * y[:, None])
    n = np.bincount(code, minlength=n_periods)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        cond = np.linalg.cond(xtx)
    ok = (n >= min_obs) & (cond < _SINGULAR_COND)
    safe = np.where(ok[:, None, None], xtx, np.eye(k))
    beta = np.linalg.solve(safe, xty[:, :, None])[:, :, 0]
    resid = y - (x * beta[code]).sum(1)
    sse = np.bincount(code, resid**2, minlength=n_periods)
    ybar = np.bincount(code, y, minlength=n_periods) / np.maximum(n, 1)
    tss = np.bincount(code, (y - ybar[code]) ** 2, minlength=n_periods)
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = 1.0 - sse / tss
        adj = np.where(n > k, 1.0 - (sse / (n - k)) / (tss / (n - 1)), np.nan)
    return beta, r2, adj, n, ok


# --------------------------------------------------------------------------------------------
# horse race
# --------------------------------------------------------------------------------------------
def horse_race(
    df: pd.DataFrame,
    *,
    y: str,
    dimensions: Sequence[str],
    controls: Sequence[str] = (),
    method: Literal["fama_macbeth", "panel"] = "fama_macbeth",
    **options: Any,
) -> pd.DataFrame:
    """Each dimension alone, then all dimensions together, as one tidy table.

    Every specification uses the same rows (complete in ``y``, all ``dimensions`` and
    ``controls``), so the columns are comparable.

    Parameters
    ----------
    df : DataFrame
        (entity, time) MultiIndex.
    y : str
        Dependent variable (e.g. the forward return).
    dimensions : sequence of str
        The competing regressors (e.g. the seven CNOI dimensions).
    controls : sequence of str
        Included in every specification.
    method : {"fama_macbeth", "panel"}
        :func:`fama_macbeth` or :func:`panel_regression`.
    **options
        Passed to the estimator (``nw_lags``; ``cov``, ``time_effects`` ...).

    Returns
    -------
    DataFrame
        Columns ``spec`` (the dimension, or ``"all"``), ``variable``, ``coef, se, t, p``,
        ``nobs``, ``r2`` (average cross-sectional R² for Fama–MacBeth), ``periods``.

    References
    ----------
    Fama & MacBeth (1973), JPE 81; see :func:`fama_macbeth` and :func:`panel_regression`.
    """
    dims = list(dimensions)
    if not dims:
        raise RegressionError("dimensions: give at least one column")
    if method not in ("fama_macbeth", "panel"):
        raise RegressionError(f"method={method!r}: must be 'fama_macbeth' or 'panel'")
    _check_panel(df, [y, *dims, *controls])
    data = df.loc[np.isfinite(df[[y, *dims, *controls]].astype(np.float64)).all(axis=1)]
    specs: list[tuple[str, list[str]]] = [(d, [d]) for d in dims]
    if len(dims) > 1:
        specs.append(("all", dims))
    frames = []
    for name, regs in specs:
        if method == "fama_macbeth":
            fm = fama_macbeth(data, y=y, x=regs, controls=controls, **options)
            table, nobs, r2, periods = fm.table, fm.nobs, fm.avg_r2, fm.periods
        else:
            pr = panel_regression(data, y=y, x=regs, controls=controls, **options)
            table, nobs, r2, periods = pr.table, pr.nobs, pr.r2, pr.periods
        t = table.reset_index()
        t.insert(0, "spec", name)
        t["nobs"], t["r2"], t["periods"] = nobs, r2, periods
        frames.append(t)
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------------------------
# forward-return panel
# --------------------------------------------------------------------------------------------
def forward_returns_panel(
    returns: pd.DataFrame,
    scores: pd.DataFrame | Mapping[str, pd.DataFrame],
    *,
    periods: Literal["monthly", "quarterly"] | Sequence[Any] = "monthly",
    lag: int = 0,
    max_age_sessions: int | None = None,
    max_missing: int = 0,
) -> pd.DataFrame:
    """Long (ticker, date) panel of scores at period ends and the next period's return.

    Period ends are the last session of each calendar month or quarter in ``returns.index``,
    or, for a list of dates, the last session at or before each date. For period end p (row
    r_p) and the next one (row r_q), the score is the value on row r_p — known at the close of
    r_p — and the forward return compounds the sessions r_p + 1 + lag … r_q + lag, strictly
    after the score is known. The last period end has no forward period and is dropped.

    Parameters
    ----------
    returns : DataFrame
        Daily simple returns, session dates × tickers (see :mod:`alphalab.panel`).
    scores : DataFrame or mapping
        One score matrix, or name → matrix (e.g. the composite and its dimensions), each
        dates × tickers; reindexed to ``returns``' sessions and tickers.
    periods : {"monthly", "quarterly"} or sequence of dates
        Rebalancing dates.
    lag : int
        Extra sessions between the score's close and the start of the forward return
        (DESIGN.md §6; 0 = the next session's return is the first one).
    max_age_sessions : int, optional
        Carry the last non-missing score forward up to this many sessions before sampling;
        default None uses the row as given (for a matrix already carried forward).
    max_missing : int
        Forward returns with more missing daily returns than this are NaN; up to this many
        missing days count as zero return.

    Returns
    -------
    DataFrame
        Index ``(ticker, date)`` (date = period end); one column per score (``score`` for a
        single matrix) and ``fwd_ret``; rows with every score missing are dropped.
    """
    dates = _check_wide(returns, "returns")
    mats = {"score": scores} if isinstance(scores, pd.DataFrame) else dict(scores)
    if not mats:
        raise RegressionError("scores: give at least one score matrix")
    if lag < 0 or max_missing < 0:
        raise RegressionError(f"lag={lag}, max_missing={max_missing}: must be >= 0")
    ends = _period_end_rows(dates, periods)
    start, stop = ends[:-1] + 1 + lag, ends[1:] + lag
    valid = stop < len(dates)
    fwd = _compound(returns.to_numpy(np.float64, na_value=np.nan), start, stop, valid, max_missing)
    cols: dict[str, np.ndarray] = {"fwd_ret": fwd}
    for name, m in mats.items():
        _check_wide(m, f"scores[{name!r}]")
        aligned = m.reindex(index=dates, columns=returns.columns).astype(np.float64)
        if max_age_sessions is not None:
            aligned = aligned.ffill(limit=max_age_sessions)
        cols[name] = aligned.to_numpy(np.float64, na_value=np.nan)[ends[:-1]]
    when = dates[ends[:-1]]
    tickers = returns.columns
    idx = pd.MultiIndex.from_product([when, tickers], names=["date", "ticker"])
    out = pd.DataFrame({k: v.ravel() for k, v in cols.items()}, index=idx)
    out = out[[*mats, "fwd_ret"]]
    out = out.loc[out[list(mats)].notna().any(axis=1)]
    return out.swaplevel().sort_index()


def _check_wide(m: pd.DataFrame, name: str) -> pd.DatetimeIndex:
    if not isinstance(m, pd.DataFrame) or not isinstance(m.index, pd.DatetimeIndex):
        raise RegressionError(f"{name}: must be a DataFrame of dates × tickers (DatetimeIndex)")
    if not m.index.is_monotonic_increasing or m.index.has_duplicates:
        raise RegressionError(f"{name}.index: dates must be unique and increasing")
    return m.index


def _period_end_rows(dates: pd.DatetimeIndex, periods: Any) -> np.ndarray:
    if isinstance(periods, str):
        if periods not in ("monthly", "quarterly"):
            raise RegressionError(f"periods={periods!r}: 'monthly', 'quarterly' or a date list")
        key = dates.to_period("M" if periods == "monthly" else "Q").asi8
        last = np.r_[key[1:] != key[:-1], True]
        rows = np.flatnonzero(last)
    else:
        when = pd.DatetimeIndex(pd.to_datetime(list(periods))).sort_values().unique()
        rows = dates.searchsorted(when, side="right") - 1
        if (rows < 0).any():
            raise RegressionError(f"periods: dates before the first session {dates[0].date()}")
        rows = np.unique(rows)
    if len(rows) < 2:
        raise RegressionError(f"periods: need at least 2 period ends, got {len(rows)}")
    return rows


def _compound(
    r: np.ndarray, start: np.ndarray, stop: np.ndarray, valid: np.ndarray, max_missing: int
) -> np.ndarray:
    """Compound rows start..stop (inclusive) per column via cumulative log growth.

    A return of −100 % or worse inside the window makes the forward return −1.
    """
    miss = ~np.isfinite(r)
    wiped = ~miss & (r <= -1.0)
    g = np.log1p(np.where(miss | wiped, 0.0, r))

    def cum(a: np.ndarray) -> np.ndarray:
        return np.vstack([np.zeros((1, r.shape[1]), dtype=a.dtype), np.cumsum(a, axis=0)])

    cg, cm, cw = cum(g), cum(miss.astype(np.int64)), cum(wiped.astype(np.int64))
    st, sp = start[valid], stop[valid] + 1
    growth = np.where(cw[sp] > cw[st], -1.0, np.expm1(cg[sp] - cg[st]))
    out = np.full((len(start), r.shape[1]), np.nan)
    out[valid] = np.where(cm[sp] - cm[st] <= max_missing, growth, np.nan)
    return out
