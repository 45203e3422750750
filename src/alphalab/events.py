"""Event studies: abnormal returns around events, their tests, and calendar-time portfolios.

Inputs follow the data contract (DESIGN.md §4, see :mod:`alphalab.panel`): wide daily simple
returns (session dates × tickers), a market return on the same sessions, optionally daily
factors ``mkt_rf smb hml rf``, and an events frame with ``ticker``, ``event_date`` and optional
group labels.

Timing. Relative day 0 is the event session; an event dated on a non-session rolls forward to
the next session. Windows are counted in sessions: an estimation window (default −250…−11), a
gap, then event windows (default [−1,+1], [0,0], [0,+5], [−5,+5]). The normal-return model is
fitted on the estimation window only — or, with ``estimation_end``, on a window of the same
length ending at a fixed calendar date — and abnormal returns (AR) on event days are
out-of-sample prediction errors.

Two layers:

* :func:`event_study` takes pandas objects, converts them once and returns an
  :class:`EventStudyResult` of tidy frames (per-event table, summary by window and group, the
  top-minus-bottom difference, the CAAR path with bands, exclusions).
* :func:`event_study_arrays` is the vectorized core on event-time arrays ``(..., N, T)``: any
  leading axes are independent studies (simulation replications), the statistics
  (:func:`cross_sectional_t`, :func:`patell_z`, :func:`bmp_t`, :func:`kolari_pynnonen_t`,
  :func:`corrado_rank_test`, :func:`generalized_sign_z`) take firms on the last axis, with NaN
  meaning "not in the sample".

Multi-day windows. Every parametric test uses one standardized cumulative abnormal return per
firm, SCAR_i = CAR_i / σ̂(CAR_i), where σ̂² is the prediction-error variance of the CAR including
parameter-estimation error (Campbell, Lo & MacKinlay 1997, §4.4, γ'Vγ; for a one-day window
SCAR is Patell's SAR). The rank test uses the multi-day version of Campbell & Wasley (1993) /
Cowan (1992); the sign test counts positive CARs (Cowan 1992).

Choices worth knowing. A window with any missing return gives that firm no CAR for the window
(counted as ``n_missing``), never a partial sum. Ranks for the Corrado test run over the
estimation window plus the event period (first to last day of all requested windows; the gap
is left out). The Kolari–Pynnönen r̄ averages pairwise residual correlations matched on calendar
sessions, each scaled by the share of the window the two events have in common — exactly KP's
r̄ for a common event date, zero for events whose windows do not overlap.

Calendar time. :func:`calendar_time_alpha` forms the monthly equal-weighted portfolio of firms
in the months after their event and regresses its excess return on monthly factors (Fama 1998;
Mitchell & Stafford 2000) with a Newey–West t-statistic.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "CalendarTimeResult",
    "EventArrays",
    "EventStudyError",
    "EventStudyResult",
    "NormalModelFit",
    "Statistic",
    "average_cross_correlation",
    "bmp_t",
    "calendar_time_alpha",
    "corrado_rank_test",
    "cross_sectional_t",
    "event_study",
    "event_study_arrays",
    "fit_normal_model",
    "generalized_sign_z",
    "kolari_pynnonen_t",
    "patell_z",
    "residual_correlation",
    "standardized_ranks",
    "welch_t",
    "window_label",
]

NormalModel = Literal["market", "market_adjusted", "constant_mean", "ff3"]
CalendarModel = Literal["capm", "ff3", "carhart"]
Window = tuple[int, int]

FF3_COLUMNS = ("mkt_rf", "smb", "hml", "rf")
DEFAULT_WINDOWS: tuple[Window, ...] = ((-1, 1), (0, 0), (0, 5), (-5, 5))
_PARAM_NAMES: dict[str, tuple[str, ...]] = {
    "market": ("alpha", "beta"),
    "market_adjusted": (),
    "constant_mean": ("mu",),
    "ff3": ("alpha", "b_mkt", "b_smb", "b_hml"),
}
_CALENDAR_FACTORS: dict[str, tuple[str, ...]] = {
    "capm": ("mkt_rf",),
    "ff3": ("mkt_rf", "smb", "hml"),
    "carhart": ("mkt_rf", "smb", "hml", "mom"),
}
_MIN_PAIR_OVERLAP = 30
_SINGULAR_COND = 1e12


class EventStudyError(ValueError):
    """Bad input to an event study (names the argument, value and rule)."""


class Statistic(NamedTuple):
    """A test statistic, its two-sided p-value and the number of firms it uses."""

    statistic: np.ndarray
    p_value: np.ndarray
    n: np.ndarray


# --------------------------------------------------------------------------------------------
# windows
# --------------------------------------------------------------------------------------------
def window_label(window: Window) -> str:
    """Identifier-safe label of a window in sessions: ``(-1, 1)`` → ``"m1_p1"``.

    Examples
    --------
    >>> window_label((-5, 5)), window_label((0, 0))
    ('m5_p5', '0_0')
    """

    def one(d: int) -> str:
        return "0" if d == 0 else (f"m{-d}" if d < 0 else f"p{d}")

    return f"{one(window[0])}_{one(window[1])}"


def _check_windows(
    estimation: Window, windows: Sequence[Window], *, relative: bool = True
) -> list[Window]:
    e1, e2 = (int(v) for v in estimation)
    if e1 > e2:
        raise EventStudyError(f"estimation_window {estimation}: start must not exceed end")
    out: list[Window] = []
    for w in windows:
        if len(w) != 2 or int(w[0]) > int(w[1]):
            raise EventStudyError(f"event window {w}: must be (start, end) with start <= end")
        a, b = int(w[0]), int(w[1])
        if relative and a <= e2:
            raise EventStudyError(
                f"event window {w} overlaps the estimation window {estimation}: "
                "event windows must start after the estimation window ends"
            )
        out.append((a, b))
    if not out:
        raise EventStudyError("event_windows: give at least one window")
    if len({window_label(w) for w in out}) != len(out):
        raise EventStudyError(f"event_windows {list(windows)}: windows must be distinct")
    return out


def _relative_days(estimation: Window, windows: Sequence[Window]) -> np.ndarray:
    return np.arange(estimation[0], max(b for _, b in windows) + 1)


# --------------------------------------------------------------------------------------------
# small nan-aware helpers (firms on the last axis, NaN = out of sample), quiet on empty samples
# --------------------------------------------------------------------------------------------
def _count(a: np.ndarray) -> np.ndarray:
    return np.isfinite(a).sum(-1)


def _nmean(a: np.ndarray) -> np.ndarray:
    n = _count(a)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.where(np.isfinite(a), a, 0.0).sum(-1) / n, np.nan)


def _nvar(a: np.ndarray, ddof: int = 1) -> np.ndarray:
    n = _count(a)
    dev = np.where(np.isfinite(a), a - _nmean(a)[..., None], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > ddof, (dev**2).sum(-1) / (n - ddof), np.nan)


def _p_t(stat: np.ndarray, df: np.ndarray) -> np.ndarray:
    df = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(df > 0, 2.0 * stats.t.sf(np.abs(stat), np.where(df > 0, df, 1.0)), np.nan)


def _p_norm(stat: np.ndarray) -> np.ndarray:
    return 2.0 * stats.norm.sf(np.abs(stat))


# --------------------------------------------------------------------------------------------
# test statistics on firm arrays
# --------------------------------------------------------------------------------------------
def cross_sectional_t(car: np.ndarray) -> Statistic:
    """Cross-sectional t-test of the mean (cumulative) abnormal return.

    t = CAAR / (s_CAR / √N), s_CAR the cross-sectional standard deviation (ddof 1); two-sided
    p-value from t(N − 1). Ignores cross-sectional correlation (over-rejects under clustering).

    Parameters
    ----------
    car : ndarray
        ``(..., N)`` CARs (or ARs, BHARs); NaN = firm not in the sample.

    References
    ----------
    Brown, S. J. & Warner, J. B. (1985). Using daily stock returns: the case of event studies.
    JFE 14, 3–31 — the t-test with the cross-sectional standard deviation of the abnormal
    returns (their "cross-sectional independence" statistic).
    """
    n = _count(car)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = _nmean(car) / np.sqrt(_nvar(car) / n)
    return Statistic(t, _p_t(t, n - 1), n)


def patell_z(scar: np.ndarray, dof: np.ndarray) -> Statistic:
    """Patell (1976) standardized-residual test, Z = Σ SCAR_i / √(Σ (d_i)/(d_i − 2)).

    Each SCAR_i is t-distributed with d_i = L_i − k residual degrees of freedom (L_i estimation
    observations, k model parameters), so its variance is d_i/(d_i − 2) — for the market model
    (L_i − 2)/(L_i − 4). Normal p-value. For a one-day window SCAR_i is Patell's SAR,
    AR / (s_i √(1 + 1/L + (R_m0 − R̄_m)² / Σ(R_mt − R̄_m)²)); for multi-day windows the
    standardization uses the CAR's prediction-error variance (the J2 statistic of Campbell, Lo
    & MacKinlay 1997, §4.4.3, with Patell's t-variance).

    Parameters
    ----------
    scar : ndarray
        ``(..., N)`` standardized (cumulative) abnormal returns; NaN = not in the sample.
    dof : ndarray
        ``(..., N)`` residual degrees of freedom of each firm's estimation regression.

    References
    ----------
    Patell, J. M. (1976). Corporate forecasts of earnings per share and stock price behavior:
    empirical tests. JAR 14, 246–276 (SAR with the prediction-error correction; Z statistic).
    """
    dof = np.broadcast_to(np.asarray(dof, dtype=float), scar.shape)
    use = np.isfinite(scar) & (dof > 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.where(use, dof / (dof - 2.0), 0.0).sum(-1)
        z = np.where(use, scar, 0.0).sum(-1) / np.sqrt(var)
    n = use.sum(-1)
    z = np.where(n > 0, z, np.nan)
    return Statistic(z, _p_norm(z), n)


def bmp_t(scar: np.ndarray) -> Statistic:
    """Boehmer–Musumeci–Poulsen (1991) standardized cross-sectional test.

    t = mean(SCAR) · √N / s(SCAR), s the cross-sectional standard deviation of the standardized
    (cumulative) abnormal returns (ddof 1); p-value from t(N − 1). Robust to event-induced
    variance, not to cross-correlation (see :func:`kolari_pynnonen_t`).

    References
    ----------
    Boehmer, E., Musumeci, J. & Poulsen, A. B. (1991). Event-study methodology under conditions
    of event-induced variance. JFE 30, 253–272 (the standardized cross-sectional test, their
    t-statistic on standardized residuals).
    """
    return cross_sectional_t(scar)


def kolari_pynnonen_t(scar: np.ndarray, r_bar: np.ndarray) -> Statistic:
    """Kolari–Pynnönen (2010) cross-correlation adjusted BMP test.

    t_KP = t_BMP · √((1 − r̄) / (1 + (N − 1) r̄)), r̄ the average pairwise correlation of the
    firms' abnormal returns (estimated from estimation-window residuals, see
    :func:`average_cross_correlation`). For multi-day windows t_BMP is computed on the SCARs.
    p-value from t(N − 1).

    References
    ----------
    Kolari, J. W. & Pynnönen, S. (2010). Event study testing with cross-sectional correlation of
    abnormal returns. RFS 23, 3996–4025 (the adjusted BMP statistic, their eq. for t_AB with the
    factor √((1 − r̄)/(1 + (n − 1) r̄)); the cumulated version with SCAR).
    """
    base = bmp_t(scar)
    n = base.n
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.sqrt((1.0 - r_bar) / (1.0 + (n - 1.0) * r_bar))
    t = base.statistic * factor
    return Statistic(t, _p_t(t, n - 1), n)


def standardized_ranks(ar: np.ndarray) -> np.ndarray:
    """Corrado–Zivney standardized rank deviations U = K / (M + 1) − 1/2 along the last axis.

    K is the rank of each abnormal return among the firm's M non-missing days of the combined
    estimation + event window (average ranks for ties); NaN stays NaN. Without missing returns
    U = (K − (T + 1)/2) / (T + 1), Corrado's deviation scaled by the constant 1/(T + 1), which
    cancels in :func:`corrado_rank_test`.

    References
    ----------
    Corrado, C. J. (1989). A nonparametric test for abnormal security-price performance in event
    studies. JFE 23, 385–395. Corrado, C. J. & Zivney, T. L. (1992). The specification and power
    of the sign test in event study hypothesis tests using daily stock returns. JFQA 27, 465–478
    (standardized ranks K/(1 + M) with missing returns).
    """
    ranks = stats.rankdata(ar, axis=-1, nan_policy="omit")
    m = np.isfinite(ar).sum(-1, keepdims=True)
    return ranks / (m + 1.0) - 0.5


def corrado_rank_test(u: np.ndarray, window: np.ndarray) -> Statistic:
    """Corrado (1989) rank test; multi-day windows as in Campbell & Wasley (1993) / Cowan (1992).

    With Ū_t the cross-sectional mean of the firms' rank deviations on day t of the combined
    estimation + event window (T days) and S(U) = √((1/T) Σ_t Ū_t²) its time-series standard
    deviation (expected deviation zero), the statistic for window w of L_w days is

        T_rank = Σ_{t∈w} Ū_t / (√L_w · S(U)),

    which for a one-day window is Corrado's Ū_0 / S(U). Normal p-value. The variance comes from
    the time series of the daily mean deviation — not the per-firm (T + 1)(2T + 1)/6 — so it
    absorbs cross-sectional correlation of clustered events.

    Parameters
    ----------
    u : ndarray
        ``(..., N, T)`` rank deviations (:func:`standardized_ranks`) on the combined window; NaN
        = missing or firm not in the sample.
    window : ndarray
        ``(T,)`` boolean, the event-window days.

    References
    ----------
    Corrado (1989), JFE 23, the T statistic with S(K) from the T-day series of mean rank
    deviations. Campbell, C. J. & Wasley, C. E. (1993). Measuring security price performance
    using daily NASDAQ returns. JFE 33, 73–92 (cumulated rank statistic). Cowan, A. R. (1992),
    RQFA 2, 343–358.
    """
    ubar = _nmean(np.swapaxes(u, -1, -2))  # (..., T)
    days = np.isfinite(ubar)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.sqrt(np.where(days, ubar**2, 0.0).sum(-1) / days.sum(-1))
        in_w = days & window
        num = np.where(in_w, ubar, 0.0).sum(-1)
        stat = num / (np.sqrt(in_w.sum(-1)) * s)
    n = (np.isfinite(u) & window).any(-1).sum(-1)
    stat = np.where(n > 0, stat, np.nan)
    return Statistic(stat, _p_norm(stat), n)


def generalized_sign_z(car: np.ndarray, p_hat: np.ndarray) -> Statistic:
    """Cowan (1992) generalized sign test.

    Z = (w − N p̂) / √(N p̂ (1 − p̂)), w the number of firms with a positive (cumulative) abnormal
    return in the window, p̂ the average over the same firms of each firm's fraction of positive
    abnormal returns in the estimation window. Normal p-value.

    References
    ----------
    Cowan, A. R. (1992). Nonparametric event study tests. RQFA 2, 343–358 (generalized sign
    test Z_G).
    """
    use = np.isfinite(car)
    n = use.sum(-1)
    p = _nmean(np.where(use, p_hat, np.nan))
    w = (np.where(use, car, 0.0) > 0).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (w - n * p) / np.sqrt(n * p * (1.0 - p))
    return Statistic(z, _p_norm(z), n)


def welch_t(a: np.ndarray, b: np.ndarray) -> tuple[Statistic, np.ndarray]:
    """Welch (1947) unequal-variance t-test of mean(a) − mean(b); returns (test, df).

    Applied to CARs it compares groups' CAAR; applied to SCARs it is the BMP-style test of the
    difference (standardized returns, cross-sectional variances). Under equicorrelated
    returns — the Kolari–Pynnönen setting — the common component cancels in the difference and
    each group's sample variance estimates σ²(1 − r), so the test needs no KP adjustment.

    References
    ----------
    Welch, B. L. (1947). The generalization of "Student's" problem when several different
    population variances are involved. Biometrika 34, 28–35 (Welch–Satterthwaite df).
    """
    na, nb = _count(a), _count(b)
    va, vb = _nvar(a) / na, _nvar(b) / nb
    with np.errstate(invalid="ignore", divide="ignore"):
        t = (_nmean(a) - _nmean(b)) / np.sqrt(va + vb)
        df = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    return Statistic(t, _p_t(t, df), na + nb), df


# --------------------------------------------------------------------------------------------
# cross-correlation of residuals (Kolari–Pynnönen r̄)
# --------------------------------------------------------------------------------------------
def residual_correlation(
    z: np.ndarray, sessions: np.ndarray, *, min_overlap: int = _MIN_PAIR_OVERLAP
) -> np.ndarray:
    """Pairwise correlations of estimation-window residuals, aligned in calendar time.

    ``z[..., i, :]`` holds firm i's demeaned standardized residuals on the estimation days in
    event time, and ``sessions[..., i]`` the calendar position of its event day; residuals are
    matched on calendar sessions. The correlation of a pair is Σ z_i z_j / √(Σ z_i² Σ z_j²) over
    their common sessions (Pearson for residuals demeaned over a common window); pairs with fewer
    than ``min_overlap`` common sessions get 0.

    Returns
    -------
    ndarray
        ``(..., N, N)`` with ones on the diagonal.
    """
    lead, (n, length) = z.shape[:-2], z.shape[-2:]
    zf = z.reshape(-1, n, length)
    sf = np.broadcast_to(sessions, (*lead, n)).reshape(-1, n).astype(np.int64)
    off = sf - sf.min(-1, keepdims=True)
    width = int(off.max(initial=0)) + length
    cal = np.full((zf.shape[0], width, n), np.nan)
    b_idx = np.arange(zf.shape[0])[:, None, None]
    rows = off[:, :, None] + np.arange(length)[None, None, :]
    cal[b_idx, rows, np.arange(n)[None, :, None]] = zf
    mask = np.isfinite(cal).astype(float)
    c0 = np.where(mask > 0, cal, 0.0)
    c0t = np.swapaxes(c0, -1, -2)
    num = c0t @ c0
    sq = np.swapaxes(c0**2, -1, -2) @ mask
    cnt = np.swapaxes(mask, -1, -2) @ mask
    with np.errstate(invalid="ignore", divide="ignore"):
        r = num / np.sqrt(sq * np.swapaxes(sq, -1, -2))
    r = np.where((cnt >= min_overlap) & np.isfinite(r), r, 0.0)
    eye = np.eye(n, dtype=bool)
    r[:, eye] = 1.0
    return r.reshape(*lead, n, n)


def average_cross_correlation(
    corr: np.ndarray, sessions: np.ndarray, members: np.ndarray, window_length: int
) -> np.ndarray:
    """Average pairwise correlation r̄ of the window CARs of the member firms.

    With i.i.d. days, corr(CAR_i, CAR_j) = ρ_ij · o_ij / L_w where o_ij is the number of calendar
    sessions the two event windows share; for a common event date o_ij = L_w and r̄ is the
    Kolari–Pynnönen average of the residual correlations, for windows that do not overlap the
    pair contributes 0.

    Parameters
    ----------
    corr : ndarray
        ``(..., N, N)`` residual correlations (:func:`residual_correlation`).
    sessions : ndarray
        ``(..., N)`` calendar position of each firm's event day.
    members : ndarray
        ``(..., N)`` boolean, firms in the test.
    window_length : int
        L_w, sessions in the window.

    References
    ----------
    Kolari & Pynnönen (2010), RFS 23: r̄ = average of the sample cross-correlations of the
    estimation-period abnormal returns.
    """
    s = np.broadcast_to(sessions, members.shape).astype(float)
    gap = np.abs(s[..., :, None] - s[..., None, :])
    share = np.clip(window_length - gap, 0, window_length) / window_length
    pair = members[..., :, None] & members[..., None, :]
    pair &= ~np.eye(members.shape[-1], dtype=bool)
    n = members.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pair, corr * share, 0.0).sum((-1, -2)) / (n * (n - 1.0))


# --------------------------------------------------------------------------------------------
# normal-return model
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NormalModelFit:
    """A per-firm OLS fit of the normal-return model on the estimation window (batched).

    Attributes
    ----------
    ar : ndarray
        ``(..., N, T)`` abnormal returns: in-sample residuals on estimation days, prediction
        errors elsewhere; NaN where a return or regressor is missing.
    params : ndarray
        ``(..., N, k)`` coefficients (empty for ``market_adjusted``).
    xtx_inv : ndarray
        ``(..., N, k, k)`` (X'X)⁻¹ of the estimation regression.
    s2 : ndarray
        ``(..., N)`` residual variance, SSE / (L − k) (sample variance for k = 0).
    dof : ndarray
        ``(..., N)`` residual degrees of freedom L − k (L − 1 for k = 0).
    n_est : ndarray
        ``(..., N)`` estimation observations L.
    singular : ndarray
        ``(..., N)`` the estimation design was singular.
    ok : ndarray
        ``(..., N)`` firm usable: ``n_est >= min_obs``, not singular, positive variance.
    est_mask : ndarray
        ``(..., N, T)`` the observations used in the estimation.
    """

    ar: np.ndarray
    params: np.ndarray
    xtx_inv: np.ndarray
    s2: np.ndarray
    dof: np.ndarray
    n_est: np.ndarray
    singular: np.ndarray
    ok: np.ndarray
    est_mask: np.ndarray


def fit_normal_model(
    returns: np.ndarray,
    regressors: np.ndarray,
    offset: np.ndarray,
    estimation: np.ndarray,
    *,
    min_obs: int,
) -> NormalModelFit:
    """Fit y = R − offset on X by OLS per firm over the estimation days (batched).

    Models map to (X, offset): market model X = [1, R_m], offset 0; constant mean X = [1];
    market-adjusted X = [] (k = 0), offset R_m; Fama–French X = [1, MKT−RF, SMB, HML], offset
    R_f. For k = 0 nothing is estimated: the variance is the sample variance (ddof 1) of the
    estimation-window abnormal returns, as in Brown & Warner (1985).

    Parameters
    ----------
    returns, offset : ndarray
        ``(..., N, T)`` in event time.
    regressors : ndarray
        ``(..., N, T, k)``.
    estimation : ndarray
        ``(T,)`` boolean, the estimation-window days.
    min_obs : int
        Minimum non-missing estimation observations.

    References
    ----------
    Brown & Warner (1985), JFE 14 (market model, mean-adjusted and market-adjusted returns);
    Campbell, Lo & MacKinlay (1997), *The Econometrics of Financial Markets*, §4.3–4.4 (OLS
    market model, σ̂² = SSE/(L − 2)); Fama & French (1993), JFE 33 (three factors).
    """
    y = returns - offset
    k = regressors.shape[-1]
    valid = estimation & np.isfinite(y) & np.isfinite(regressors).all(-1)
    n_est = valid.sum(-1)
    if k == 0:
        ar, params, inv, s2, dof, singular = _fit_no_params(y, valid, n_est)
    else:
        ar, params, inv, s2, dof, singular = _fit_ols(y, regressors, valid, n_est)
    ok = (n_est >= min_obs) & ~singular & (dof > 2) & (s2 > 0)
    return NormalModelFit(ar, params, inv, s2, dof, n_est, singular, ok, valid)


def _fit_no_params(y: np.ndarray, valid: np.ndarray, n_est: np.ndarray) -> tuple[np.ndarray, ...]:
    lead = y.shape[:-1]
    mean = _nmean(np.where(valid, y, np.nan))
    dof = n_est - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = np.where(valid, (y - mean[..., None]) ** 2, 0.0).sum(-1) / dof
    empty = np.zeros((*lead, 0))
    return y, empty, np.zeros((*lead, 0, 0)), s2, dof, np.zeros(lead, dtype=bool)


def _fit_ols(
    y: np.ndarray, x: np.ndarray, valid: np.ndarray, n_est: np.ndarray
) -> tuple[np.ndarray, ...]:
    k = x.shape[-1]
    xm = np.where(valid[..., None], x, 0.0)
    xtx = np.swapaxes(xm, -1, -2) @ xm
    xty = (np.swapaxes(xm, -1, -2) @ np.where(valid, y, 0.0)[..., None])[..., 0]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        cond = np.linalg.cond(xtx)
    singular = ~(cond < _SINGULAR_COND) | (n_est <= k)
    inv = np.linalg.inv(np.where(singular[..., None, None], np.eye(k), xtx))
    params = np.einsum("...kl,...l->...k", inv, xty)
    ar = y - (x @ params[..., None])[..., 0]
    dof = n_est - k
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = (np.where(valid, ar, 0.0) ** 2).sum(-1) / dof
    return ar, params, inv, s2, dof, singular


# --------------------------------------------------------------------------------------------
# array-level battery
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EventArrays:
    """Result of :func:`event_study_arrays` (arrays; leading axes as in the inputs).

    Attributes
    ----------
    fit : NormalModelFit
    rel_days : ndarray
        ``(T,)`` relative session of each event-time column.
    car, scar, bhar : dict
        Window label → ``(..., N)``; NaN where the firm is unusable or the window has a missing
        return.
    tests : dict
        ``(window label, group code or None)`` → statistic name → ``(...)`` array; ``None`` is
        all usable firms.
    corr : ndarray
        ``(..., N, N)`` residual correlations.
    p_hat : ndarray
        ``(..., N)`` fraction of positive estimation-window abnormal returns.
    """

    fit: NormalModelFit
    rel_days: np.ndarray
    windows: list[Window]
    car: dict[str, np.ndarray]
    scar: dict[str, np.ndarray]
    bhar: dict[str, np.ndarray]
    tests: dict[tuple[str, int | None], dict[str, np.ndarray]]
    corr: np.ndarray
    p_hat: np.ndarray


def event_study_arrays(
    returns: np.ndarray,
    regressors: np.ndarray,
    offset: np.ndarray,
    rel_days: np.ndarray,
    *,
    estimation_window: Window = (-250, -11),
    event_windows: Sequence[Window] = DEFAULT_WINDOWS,
    min_estimation_obs: int = 100,
    sessions: np.ndarray | None = None,
    groups: np.ndarray | None = None,
    estimation_mask: np.ndarray | None = None,
) -> EventArrays:
    """Run the whole test battery on event-time arrays (vectorized over leading axes).

    Parameters
    ----------
    returns, offset : ndarray
        ``(..., N, T)`` simple returns and the model offset in event time (columns =
        ``rel_days``); NaN = missing.
    regressors : ndarray
        ``(..., N, T, k)`` normal-model regressors (see :func:`fit_normal_model`).
    rel_days : ndarray
        ``(T,)`` consecutive relative sessions covering the estimation and event windows.
    estimation_window, event_windows : tuple
        Inclusive session ranges relative to the event day 0.
    min_estimation_obs : int
        Firms with fewer non-missing estimation observations are unusable.
    sessions : ndarray, optional
        ``(..., N)`` calendar position of each event day (default: a common date), used to
        match residuals in calendar time for the Kolari–Pynnönen r̄.
    groups : ndarray, optional
        ``(..., N)`` integer group codes, −1 = no group; tests are also run per code.
    estimation_mask : ndarray, optional
        ``(..., N, T)`` boolean per-event estimation days, replacing ``estimation_window``
        (used for a fixed calendar estimation end); each must end before the event windows.

    Returns
    -------
    EventArrays

    References
    ----------
    See the statistics: :func:`cross_sectional_t`, :func:`patell_z`, :func:`bmp_t`,
    :func:`kolari_pynnonen_t`, :func:`corrado_rank_test`, :func:`generalized_sign_z`.
    """
    windows = _check_windows(estimation_window, event_windows, relative=estimation_mask is None)
    if regressors.shape[:-1] != returns.shape or offset.shape != returns.shape:
        raise EventStudyError(
            f"shapes: returns {returns.shape} and offset {offset.shape} must match, and "
            f"regressors {regressors.shape} must be returns' shape plus a k axis"
        )
    rel = np.asarray(rel_days)
    if rel.ndim != 1 or rel.shape[0] != returns.shape[-1] or np.any(np.diff(rel) != 1):
        raise EventStudyError("rel_days must be consecutive sessions, one per returns column")
    est = _estimation_days(rel, estimation_window, estimation_mask, returns.shape, windows)
    fit = fit_normal_model(returns, regressors, offset, est, min_obs=min_estimation_obs)
    ok = fit.ok
    sess = np.zeros(ok.shape, dtype=np.int64) if sessions is None else np.asarray(sessions)
    z = _standardized_residuals(fit, est)
    corr = residual_correlation(z, sess, min_overlap=min(_MIN_PAIR_OVERLAP, min_estimation_obs))
    pos = np.where(fit.est_mask, fit.ar > 0, False).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_hat = np.where(ok, pos / fit.n_est, np.nan)
    period = (rel >= min(a for a, _ in windows)) & (rel <= max(b for _, b in windows))
    combined = est | period
    days = combined.reshape(-1, rel.size).any(0)
    ranked = np.where(ok[..., None] & combined, fit.ar, np.nan)[..., days]
    u = standardized_ranks(ranked)
    codes: list[int | None] = [None]
    if groups is not None:
        codes += sorted(int(c) for c in np.unique(groups) if c >= 0)
    car, scar, bhar, tests = {}, {}, {}, {}
    for w in windows:
        lab = window_label(w)
        car[lab], scar[lab], bhar[lab] = _window_returns(fit, returns, regressors, rel, w)
        in_w = (rel[days] >= w[0]) & (rel[days] <= w[1])
        for code in codes:
            members = np.isfinite(car[lab])
            if code is not None and groups is not None:
                members &= groups == code
            tests[(lab, code)] = _battery(
                members, car[lab], scar[lab], bhar[lab], fit, u, in_w, corr, sess, p_hat, w
            )
    return EventArrays(fit, rel, windows, car, scar, bhar, tests, corr, p_hat)


def _estimation_days(
    rel: np.ndarray,
    estimation_window: Window,
    mask: np.ndarray | None,
    shape: tuple[int, ...],
    windows: list[Window],
) -> np.ndarray:
    if mask is None:
        return (rel >= estimation_window[0]) & (rel <= estimation_window[1])
    est = np.asarray(mask, dtype=bool)
    if est.shape != shape:
        raise EventStudyError(f"estimation_mask: shape {est.shape} must equal returns' {shape}")
    first = min(a for a, _ in windows)
    if (est & (rel >= first)).any():
        raise EventStudyError(
            f"estimation_mask: estimation days on or after the first event-window day {first}"
        )
    return est


def _standardized_residuals(fit: NormalModelFit, est: np.ndarray) -> np.ndarray:
    days = est.reshape(-1, est.shape[-1]).any(0)
    e = np.where(fit.est_mask & fit.ok[..., None], fit.ar, np.nan)[..., days]
    with np.errstate(invalid="ignore", divide="ignore"):
        return (e - _nmean(e)[..., None]) / np.sqrt(fit.s2)[..., None]


def _window_returns(
    fit: NormalModelFit, returns: np.ndarray, x: np.ndarray, rel: np.ndarray, w: Window
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cols = (rel >= w[0]) & (rel <= w[1])
    arw = fit.ar[..., cols]
    complete = np.isfinite(arw).all(-1) & fit.ok
    car = np.where(complete, arw.sum(-1), np.nan)
    xs = np.where(complete[..., None], x[..., cols, :].sum(-2), 0.0)
    quad = np.einsum("...k,...kl,...l->...", xs, fit.xtx_inv, xs)
    with np.errstate(invalid="ignore", divide="ignore"):
        scar = car / np.sqrt(fit.s2 * (cols.sum() + quad))
    rw = returns[..., cols]
    bhar = np.prod(1.0 + rw, axis=-1) - np.prod(1.0 + rw - arw, axis=-1)
    return car, scar, np.where(complete, bhar, np.nan)


def _battery(
    members: np.ndarray,
    car: np.ndarray,
    scar: np.ndarray,
    bhar: np.ndarray,
    fit: NormalModelFit,
    u: np.ndarray,
    in_w: np.ndarray,
    corr: np.ndarray,
    sessions: np.ndarray,
    p_hat: np.ndarray,
    w: Window,
) -> dict[str, np.ndarray]:
    c = np.where(members, car, np.nan)
    sc = np.where(members, scar, np.nan)
    bh = np.where(members, bhar, np.nan)
    r_bar = average_cross_correlation(corr, sessions, members, w[1] - w[0] + 1)
    tests = {
        "cs": cross_sectional_t(c),
        "patell": patell_z(sc, fit.dof),
        "bmp": bmp_t(sc),
        "kp": kolari_pynnonen_t(sc, r_bar),
        "corrado": corrado_rank_test(np.where(members[..., None], u, np.nan), in_w),
        "gsign": generalized_sign_z(c, p_hat),
        "bhar": cross_sectional_t(bh),
    }
    out: dict[str, np.ndarray] = {
        "n": members.sum(-1),
        "caar": _nmean(c),
        "median_car": _nmedian(c),
        "pos_frac": _nmean(np.where(members, c > 0, np.nan)),
        "scar_mean": _nmean(sc),
        "bhar_mean": _nmean(bh),
        "r_bar": r_bar,
    }
    for name, stat in tests.items():
        out[f"{name}_stat"], out[f"{name}_p"] = stat.statistic, stat.p_value
    return out


def _nmedian(a: np.ndarray) -> np.ndarray:
    if a.shape[-1] == 0:
        return np.full(a.shape[:-1], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices give NaN
        return np.nanmedian(a, axis=-1)


# --------------------------------------------------------------------------------------------
# pandas front end
# --------------------------------------------------------------------------------------------
_STAT_COLUMNS = {
    "n": "n",
    "caar": "caar",
    "median_car": "median_car",
    "pos_frac": "pos_frac",
    "cs_stat": "t_cs",
    "cs_p": "p_cs",
    "scar_mean": "scar_mean",
    "patell_stat": "patell_z",
    "patell_p": "p_patell",
    "bmp_stat": "bmp_t",
    "bmp_p": "p_bmp",
    "r_bar": "r_bar",
    "kp_stat": "kp_t",
    "kp_p": "p_kp",
    "corrado_stat": "corrado_t",
    "corrado_p": "p_corrado",
    "gsign_stat": "gsign_z",
    "gsign_p": "p_gsign",
    "bhar_mean": "bhar_mean",
    "bhar_stat": "t_bhar",
    "bhar_p": "p_bhar",
}


@dataclass(frozen=True)
class EventStudyResult:
    """Tidy output of :func:`event_study`.

    Attributes
    ----------
    firms : DataFrame
        One row per usable event: ``event`` (row of the input), ``ticker``, ``event_date``,
        ``event_session`` (day 0 after rolling), ``group``, ``n_est``, ``sigma``, model
        parameters, and per window ``CAR_<w>``, ``SCAR_<w>``, ``BHAR_<w>`` (labels from
        :func:`window_label`; NaN when the window has a missing return).
    summary : DataFrame
        One row per (group, window), ``group == "all"`` for every usable event: ``n``,
        ``n_missing`` (usable events lacking a window return), ``caar``, ``median_car``,
        ``pos_frac``, ``t_cs``/``p_cs`` (Brown–Warner), ``scar_mean``, ``patell_z``/``p_patell``,
        ``bmp_t``/``p_bmp``, ``r_bar``, ``kp_t``/``p_kp`` (Kolari–Pynnönen), ``corrado_t``/
        ``p_corrado``, ``gsign_z``/``p_gsign`` (Cowan), ``bhar_mean``, ``t_bhar``/``p_bhar``.
    difference : DataFrame
        Per window, top minus bottom group: CAR difference with Welch t, SCAR difference with
        the BMP-style Welch t on standardized returns (see :func:`welch_t`). Empty without
        groups.
    path : DataFrame
        ``group, day, n, aar, caar, se, lower, upper``: the CAAR cumulated from the first
        event-period day, with (1 − alpha) cross-sectional t bands (for figures).
    excluded : DataFrame
        ``event, ticker, event_date, reason`` for every event left out.
    abnormal : DataFrame
        Abnormal returns of usable events (index ``event``) on the event-period days.
    settings : dict
        The options used (model, windows, minimum observations, alpha).
    """

    firms: pd.DataFrame
    summary: pd.DataFrame
    difference: pd.DataFrame
    path: pd.DataFrame
    excluded: pd.DataFrame
    abnormal: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)

    def metrics(self) -> dict[str, dict[str, Any]]:
        """Summary as the metrics-file shape: ``car_<group>_<window>`` → statistics.

        ``n`` is reported as ``n_obs`` and ``caar`` as ``mean`` (DESIGN.md §5 vocabulary).
        """
        out: dict[str, dict[str, Any]] = {}
        for row in self.summary.to_dict("records"):
            key = f"car_{_group_key(row['group'])}_{row['window']}"
            stats_ = {k: _plain(v) for k, v in row.items() if k not in ("group", "window")}
            stats_["n_obs"] = stats_.pop("n")
            stats_["mean"] = stats_.pop("caar")
            out[key] = stats_
        for row in self.difference.to_dict("records"):
            out[f"car_diff_{row['window']}"] = {
                k: _plain(v) for k, v in row.items() if k != "window"
            }
        return out


def _group_key(g: Any) -> str:
    if isinstance(g, float | np.floating) and float(g).is_integer():
        return str(int(g))
    return str(g)


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v


def event_study(
    returns: pd.DataFrame,
    events: pd.DataFrame,
    *,
    market: pd.Series | None = None,
    factors: pd.DataFrame | None = None,
    model: NormalModel = "market",
    estimation_window: Window = (-250, -11),
    event_windows: Sequence[Window] = DEFAULT_WINDOWS,
    min_estimation_obs: int = 100,
    group_col: str | None = None,
    alpha: float = 0.05,
    estimation_end: str | pd.Timestamp | None = None,
) -> EventStudyResult:
    """Short-horizon event study with the standard test battery, overall and by group.

    Parameters
    ----------
    returns : DataFrame
        Daily simple returns, session dates × tickers (see :mod:`alphalab.panel`).
    events : DataFrame
        ``ticker`` and ``event_date`` (one common date or per-firm dates; a date that is not a
        session rolls to the next session; a time of day is ignored), optionally a group column.
    market : Series, optional
        Market return on the same sessions; required for ``market`` and ``market_adjusted``.
    factors : DataFrame, optional
        Daily ``mkt_rf smb hml rf`` (decimals); required for ``ff3``.
    model : {"market", "market_adjusted", "constant_mean", "ff3"}
        Normal-return model (see :func:`fit_normal_model`).
    estimation_window, event_windows : tuple
        Session ranges relative to day 0, inclusive; event windows start after the estimation
        window.
    min_estimation_obs : int
        Events whose firm has fewer non-missing estimation returns are excluded (with reason).
    group_col : str, optional
        Column of ``events`` with group labels (e.g. the signal quantile known before the
        event); missing labels keep the event in the overall results only.
    alpha : float
        Level of the CAAR-path confidence bands.
    estimation_end : date, optional
        Fix the estimation window in calendar time: for every event it has the length of
        ``estimation_window`` and ends at the last session on or before this date (e.g. to fit
        the normal model on calm data before a stress period). Events whose event windows
        start on or before that session are excluded with a reason.

    Returns
    -------
    EventStudyResult

    References
    ----------
    Brown & Warner (1985), JFE 14; Patell (1976), JAR 14; Boehmer, Musumeci & Poulsen (1991),
    JFE 30; Kolari & Pynnönen (2010), RFS 23; Corrado (1989), JFE 23; Cowan (1992), RQFA 2;
    Campbell, Lo & MacKinlay (1997), ch. 4. Each statistic's function names its equation.

    Examples
    --------
    >>> res = event_study(ret, events, market=mkt, group_col="quartile")  # doctest: +SKIP
    >>> res.summary.query("window == 'm1_p1'")  # doctest: +SKIP
    """
    windows = _check_windows(estimation_window, event_windows, relative=estimation_end is None)
    _check_options(model, min_estimation_obs, alpha)
    ev = _check_events(events, group_col)
    dates = _check_returns(returns)
    pos, excluded = _locate_events(ev, dates, returns.columns)
    rel, est_mask = _estimation_design(
        dates, pos, excluded, estimation_window, windows, estimation_end
    )
    keep = np.flatnonzero(excluded == "")
    if keep.size == 0:
        counts = pd.Series(excluded).value_counts().to_dict()
        raise EventStudyError(f"events: no event can be studied; reasons {counts}")
    y, x, off = _event_time(returns, market, factors, model, ev, pos, keep, rel)
    codes, labels = _group_codes(ev, group_col, keep)
    arr = event_study_arrays(
        y,
        x,
        off,
        rel,
        estimation_window=estimation_window,
        event_windows=windows,
        min_estimation_obs=min_estimation_obs,
        sessions=pos[keep],
        groups=codes,
        estimation_mask=None if est_mask is None else est_mask[keep],
    )
    excluded = _fit_exclusions(excluded, keep, arr.fit, min_estimation_obs)
    usable = arr.fit.ok
    settings = {
        "model": model,
        "estimation_window": tuple(estimation_window),
        "event_windows": windows,
        "min_estimation_obs": min_estimation_obs,
        "estimation_end": None
        if estimation_end is None
        else str(pd.Timestamp(estimation_end).date()),
        "alpha": alpha,
        "n_events": len(ev),
        "n_used": int(usable.sum()),
        "n_excluded": int((excluded != "").sum()),
    }
    return EventStudyResult(
        firms=_firm_table(ev, dates, pos, keep, usable, arr, model, group_col),
        summary=_summary_table(arr, labels, codes, usable),
        difference=_difference_table(arr, codes, labels),
        path=_path_table(arr, codes, labels, alpha),
        excluded=_excluded_table(ev, excluded),
        abnormal=_abnormal_table(arr, keep, usable),
        settings=settings,
    )


def _estimation_design(
    dates: pd.DatetimeIndex,
    pos: np.ndarray,
    reason: np.ndarray,
    estimation_window: Window,
    windows: list[Window],
    estimation_end: str | pd.Timestamp | None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Relative days and, for a calendar estimation end, each event's estimation days.

    Marks events whose window starts on or before the estimation end in ``reason`` (in place).
    """
    if estimation_end is None:
        return _relative_days(estimation_window, windows), None
    end = pd.Timestamp(estimation_end)
    last = int(dates.searchsorted(end, side="right")) - 1
    if last < 0:
        raise EventStudyError(f"estimation_end {end.date()}: before the first session")
    first_day = min(a for a, _ in windows)
    length = estimation_window[1] - estimation_window[0]
    e2 = last - pos
    late = (reason == "") & (e2 >= first_day)
    reason[late] = f"estimation_end {end.date()} is not before the event window (day {first_day})"
    ok = reason == ""
    lo = int((e2[ok] - length).min()) if ok.any() else estimation_window[0]
    rel = np.arange(lo, max(b for _, b in windows) + 1)
    mask = (rel >= (e2 - length)[:, None]) & (rel <= e2[:, None])
    return rel, mask


def _check_options(model: str, min_obs: int, alpha: float) -> None:
    if model not in _PARAM_NAMES:
        raise EventStudyError(f"model {model!r}: must be one of {sorted(_PARAM_NAMES)}")
    k = len(_PARAM_NAMES[model])
    if min_obs < k + 3:
        raise EventStudyError(
            f"min_estimation_obs={min_obs}: must be at least {k + 3} for model {model!r} "
            "(the Patell variance needs more than 2 residual degrees of freedom)"
        )
    if not 0 < alpha < 1:
        raise EventStudyError(f"alpha={alpha}: must be in (0, 1)")


def _check_returns(returns: pd.DataFrame) -> pd.DatetimeIndex:
    if not isinstance(returns, pd.DataFrame):
        raise EventStudyError("returns: must be a DataFrame of session dates × tickers")
    idx = returns.index
    if not isinstance(idx, pd.DatetimeIndex):
        raise EventStudyError(f"returns.index: must be a DatetimeIndex, got {type(idx).__name__}")
    if idx.tz is not None:
        raise EventStudyError("returns.index: session dates must be tz-naive (DESIGN.md §4)")
    if not idx.is_monotonic_increasing or idx.has_duplicates:
        raise EventStudyError("returns.index: dates must be unique and increasing")
    if returns.columns.has_duplicates:
        dup = returns.columns[returns.columns.duplicated()].tolist()
        raise EventStudyError(f"returns.columns: duplicated tickers {dup[:5]}")
    return idx


def _check_events(events: pd.DataFrame, group_col: str | None) -> pd.DataFrame:
    need = ["ticker", "event_date"] + ([group_col] if group_col else [])
    missing = [c for c in need if c not in events.columns]
    if missing:
        raise EventStudyError(f"events: missing column(s) {missing}; have {list(events.columns)}")
    ev = events.reset_index(drop=True).copy()
    try:
        ev["event_date"] = pd.to_datetime(ev["event_date"]).dt.tz_localize(None).dt.normalize()
    except (ValueError, TypeError) as exc:
        raise EventStudyError(f"events.event_date: not parseable as dates ({exc})") from None
    dup = ev.duplicated(["ticker", "event_date"], keep=False)
    if dup.any():
        rows = (np.flatnonzero(dup.to_numpy()) + 1).tolist()[:10]
        raise EventStudyError(f"events: duplicated (ticker, event_date) at 1-based rows {rows}")
    return ev


def _locate_events(
    ev: pd.DataFrame, dates: pd.DatetimeIndex, tickers: pd.Index
) -> tuple[np.ndarray, np.ndarray]:
    when = pd.DatetimeIndex(ev["event_date"])
    pos = dates.searchsorted(when, side="left").astype(np.int64)
    reason = np.full(len(ev), "", dtype=object)
    reason[~ev["ticker"].isin(tickers).to_numpy()] = "ticker not in returns"
    nat = when.isna()
    reason[(reason == "") & nat] = "event_date missing"
    before = ~nat & (when < dates[0])
    reason[(reason == "") & before] = f"event_date before the first session {dates[0].date()}"
    after = ~nat & (pos >= len(dates))
    reason[(reason == "") & after] = f"event_date after the last session {dates[-1].date()}"
    return pos, reason


def _event_time(
    returns: pd.DataFrame,
    market: pd.Series | None,
    factors: pd.DataFrame | None,
    model: str,
    ev: pd.DataFrame,
    pos: np.ndarray,
    keep: np.ndarray,
    rel: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n_dates = len(returns.index)
    idx = pos[keep][:, None] + rel[None, :]
    inside = (idx >= 0) & (idx < n_dates)
    idx = np.clip(idx, 0, n_dates - 1)
    col = returns.columns.get_indexer(ev["ticker"].to_numpy()[keep])
    y = returns.to_numpy(dtype=np.float64, na_value=np.nan)[idx, col[:, None]]
    y = np.where(inside, y, np.nan)

    def series(values: np.ndarray) -> np.ndarray:
        return np.where(inside, values[idx], np.nan)

    ones = np.ones_like(y)
    zeros = np.zeros_like(y)
    if model in ("market", "market_adjusted"):
        m = series(_aligned_market(market, returns.index))
        if model == "market":
            return y, np.stack([ones, m], axis=-1), zeros
        return y, np.empty((*y.shape, 0)), m
    if model == "constant_mean":
        return y, ones[..., None], zeros
    f = _aligned_factors(factors, returns.index)
    cols = [series(f[:, j]) for j in range(4)]
    return y, np.stack([ones, *cols[:3]], axis=-1), cols[3]


def _aligned_market(market: pd.Series | None, dates: pd.DatetimeIndex) -> np.ndarray:
    if market is None:
        raise EventStudyError("market: required for models 'market' and 'market_adjusted'")
    if not isinstance(market, pd.Series) or not isinstance(market.index, pd.DatetimeIndex):
        raise EventStudyError("market: must be a Series on a DatetimeIndex of sessions")
    return market.reindex(dates).to_numpy(dtype=np.float64, na_value=np.nan)


def _aligned_factors(factors: pd.DataFrame | None, dates: pd.DatetimeIndex) -> np.ndarray:
    if factors is None:
        raise EventStudyError(f"factors: daily {list(FF3_COLUMNS)} required for model 'ff3'")
    missing = [c for c in FF3_COLUMNS if c not in factors.columns]
    if missing:
        raise EventStudyError(f"factors: missing column(s) {missing} for model 'ff3'")
    if not isinstance(factors.index, pd.DatetimeIndex):
        raise EventStudyError("factors: index must be a DatetimeIndex of sessions (daily)")
    return factors.loc[:, list(FF3_COLUMNS)].reindex(dates).to_numpy(np.float64, na_value=np.nan)


def _group_codes(
    ev: pd.DataFrame, group_col: str | None, keep: np.ndarray
) -> tuple[np.ndarray | None, list[Hashable]]:
    if group_col is None:
        return None, []
    lab = ev[group_col].iloc[keep]
    known = lab.dropna()
    try:
        labels: list[Hashable] = sorted(known.unique().tolist())
    except TypeError as exc:
        raise EventStudyError(
            f"events.{group_col}: group labels must be sortable ({exc})"
        ) from None
    lookup = {v: i for i, v in enumerate(labels)}
    codes = np.array([lookup.get(v, -1) if pd.notna(v) else -1 for v in lab], dtype=np.int64)
    return codes, labels


def _fit_exclusions(
    reason: np.ndarray, keep: np.ndarray, fit: NormalModelFit, min_obs: int
) -> np.ndarray:
    out = reason.copy()
    for j, row in enumerate(keep):
        if fit.ok[j]:
            continue
        if fit.n_est[j] < min_obs:
            out[row] = f"n_est={int(fit.n_est[j])} < min_estimation_obs={min_obs}"
        elif fit.singular[j]:
            out[row] = "singular estimation design (constant regressor in the estimation window)"
        else:
            out[row] = "zero residual variance in the estimation window"
    return out


def _firm_table(
    ev: pd.DataFrame,
    dates: pd.DatetimeIndex,
    pos: np.ndarray,
    keep: np.ndarray,
    usable: np.ndarray,
    arr: EventArrays,
    model: str,
    group_col: str | None,
) -> pd.DataFrame:
    rows = keep[usable]
    out = pd.DataFrame(
        {
            "event": rows,
            "ticker": ev["ticker"].to_numpy()[rows],
            "event_date": ev["event_date"].to_numpy()[rows],
            "event_session": dates[pos[rows]],
            "group": ev[group_col].to_numpy()[rows] if group_col else None,
            "est_start": _est_dates(arr, dates, pos[rows], usable, first=True),
            "est_end": _est_dates(arr, dates, pos[rows], usable, first=False),
            "n_est": arr.fit.n_est[usable],
            "sigma": np.sqrt(arr.fit.s2[usable]),
        }
    )
    for j, name in enumerate(_PARAM_NAMES[model]):
        out[name] = arr.fit.params[usable, j]
    for lab in arr.car:
        out[f"CAR_{lab}"] = arr.car[lab][usable]
        out[f"SCAR_{lab}"] = arr.scar[lab][usable]
        out[f"BHAR_{lab}"] = arr.bhar[lab][usable]
    return out


def _est_dates(
    arr: EventArrays, dates: pd.DatetimeIndex, pos: np.ndarray, usable: np.ndarray, *, first: bool
) -> pd.DatetimeIndex:
    """First or last session with an estimation observation of each usable event."""
    used = arr.fit.est_mask[usable]
    at = used.argmax(-1) if first else used.shape[-1] - 1 - used[:, ::-1].argmax(-1)
    return dates[pos + arr.rel_days[at]]


def _summary_table(
    arr: EventArrays, labels: list[Hashable], codes: np.ndarray | None, usable: np.ndarray
) -> pd.DataFrame:
    records = []
    for (lab, code), res in arr.tests.items():
        group: Hashable = "all" if code is None else labels[code]
        in_group = usable if code is None or codes is None else usable & (codes == code)
        rec: dict[str, Any] = {"group": group, "window": lab}
        rec.update({_STAT_COLUMNS[k]: _plain(np.asarray(v)[()]) for k, v in res.items()})
        rec["n_missing"] = int(in_group.sum()) - int(rec["n"])
        records.append(rec)
    cols = ["group", "window", "n", "n_missing", *list(_STAT_COLUMNS.values())[1:]]
    return pd.DataFrame.from_records(records, columns=cols)


def _difference_table(
    arr: EventArrays, codes: np.ndarray | None, labels: list[Hashable]
) -> pd.DataFrame:
    cols = [
        "window", "top", "bottom", "n_top", "n_bottom", "car_top", "car_bottom", "diff_car",
        "welch_t", "welch_df", "p_welch", "diff_scar", "scar_t", "scar_df", "p_scar",
    ]  # fmt: skip
    if codes is None or len(labels) < 2:
        return pd.DataFrame(columns=cols)
    top, bot = len(labels) - 1, 0
    records = []
    for lab in arr.car:
        a = np.where(codes == top, arr.car[lab], np.nan)
        b = np.where(codes == bot, arr.car[lab], np.nan)
        sa = np.where(codes == top, arr.scar[lab], np.nan)
        sb = np.where(codes == bot, arr.scar[lab], np.nan)
        tc, dfc = welch_t(a, b)
        ts, dfs = welch_t(sa, sb)
        records.append(
            [lab, labels[top], labels[bot], int(_count(a)), int(_count(b)), float(_nmean(a)),
             float(_nmean(b)), float(_nmean(a) - _nmean(b)), float(tc.statistic), float(dfc),
             float(tc.p_value), float(_nmean(sa) - _nmean(sb)), float(ts.statistic), float(dfs),
             float(ts.p_value)]
        )  # fmt: skip
    return pd.DataFrame.from_records(records, columns=cols)


def _path_table(
    arr: EventArrays, codes: np.ndarray | None, labels: list[Hashable], alpha: float
) -> pd.DataFrame:
    lo = min(a for a, _ in arr.windows)
    hi = max(b for _, b in arr.windows)
    cols = (arr.rel_days >= lo) & (arr.rel_days <= hi)
    ar = np.where(arr.fit.ok[:, None], arr.fit.ar[:, cols], np.nan)
    path = np.cumsum(ar, axis=1)  # NaN propagates: a firm leaves the path after a gap
    groups: list[tuple[Hashable, np.ndarray]] = [("all", np.ones(ar.shape[0], dtype=bool))]
    if codes is not None:
        groups += [(lab, codes == i) for i, lab in enumerate(labels)]
    frames = []
    for name, sel in groups:
        p = np.where(sel[:, None], path, np.nan).T  # days × firms
        a = np.where(sel[:, None], ar, np.nan).T
        n = _count(p)
        caar = _nmean(p)
        with np.errstate(invalid="ignore", divide="ignore"):
            se = np.sqrt(_nvar(p) / n)
            q = stats.t.ppf(1 - alpha / 2, np.where(n > 1, n - 1, 1))
        frames.append(
            pd.DataFrame(
                {"group": [name] * len(n), "day": arr.rel_days[cols], "n": n, "aar": _nmean(a),
                 "caar": caar, "se": se, "lower": caar - q * se, "upper": caar + q * se}
            )
        )  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def _excluded_table(ev: pd.DataFrame, reason: np.ndarray) -> pd.DataFrame:
    rows = np.flatnonzero(reason != "")
    return pd.DataFrame(
        {
            "event": rows,
            "ticker": ev["ticker"].to_numpy()[rows],
            "event_date": ev["event_date"].to_numpy()[rows],
            "reason": reason[rows].astype(str),
        }
    )


def _abnormal_table(arr: EventArrays, keep: np.ndarray, usable: np.ndarray) -> pd.DataFrame:
    lo = min(a for a, _ in arr.windows)
    cols = arr.rel_days >= lo
    return pd.DataFrame(
        arr.fit.ar[usable][:, cols],
        index=pd.Index(keep[usable], name="event"),
        columns=pd.Index(arr.rel_days[cols], name="day"),
    )


# --------------------------------------------------------------------------------------------
# calendar-time portfolios
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CalendarTimeResult:
    """Output of :func:`calendar_time_alpha`.

    Attributes
    ----------
    alpha, t_alpha, p_alpha : float
        Monthly intercept, its Newey–West t-statistic and two-sided normal p-value.
    coefficients : DataFrame
        ``coef, se, t, p`` for the intercept and every factor.
    portfolio : DataFrame
        Per month (PeriodIndex) ``ret``, ``rf``, ``excess``, ``n_firms``; months in the span
        with no firm have ``n_firms == 0`` and NaN returns.
    empty_months : list
        Months inside the portfolio's span with no firm (left out of the regression).
    n_months : int
        Months in the regression.
    nw_lags : int
    excluded : DataFrame
        Events left out (``event, ticker, event_date, reason``).
    raw : Any
        The statsmodels results object.
    """

    alpha: float
    t_alpha: float
    p_alpha: float
    coefficients: pd.DataFrame
    portfolio: pd.DataFrame
    empty_months: list[pd.Period]
    n_months: int
    nw_lags: int
    model: str
    horizon_months: int
    excluded: pd.DataFrame
    raw: Any = field(repr=False, default=None)


def calendar_time_alpha(
    returns: pd.DataFrame,
    events: pd.DataFrame,
    factors_monthly: pd.DataFrame,
    *,
    horizon_months: int = 12,
    model: CalendarModel = "ff3",
    nw_lags: int | None = None,
    start_lag_months: int = 1,
) -> CalendarTimeResult:
    """Calendar-time portfolio alpha of firms after their events.

    Each calendar month m holds, equally weighted, every firm with an event session in months
    m − start_lag_months − horizon_months + 1 … m − start_lag_months (by default the H months
    after the event month; a firm with overlapping events counts once). A firm's monthly return
    compounds its available daily returns. The portfolio's excess return over ``rf`` is
    regressed on the factors; the intercept is the monthly abnormal return, with a Newey–West
    (Bartlett) t-statistic. Months inside the portfolio's span with no firm are reported in
    ``empty_months`` and left out.

    Parameters
    ----------
    returns : DataFrame
        Daily simple returns, session dates × tickers.
    events : DataFrame
        ``ticker``, ``event_date`` (non-sessions roll to the next session).
    factors_monthly : DataFrame
        Monthly factors in decimals with ``rf`` and the model's columns (``mkt_rf``; ``smb``,
        ``hml``; ``mom``), indexed by month (DatetimeIndex at any day of the month, or a
        monthly PeriodIndex).
    horizon_months : int
        H, months a firm stays in the portfolio.
    model : {"capm", "ff3", "carhart"}
    nw_lags : int, optional
        Newey–West lags; default ⌊4 (T/100)^(2/9)⌋.
    start_lag_months : int
        Months between the event month and the first portfolio month (1 = the month after).

    Returns
    -------
    CalendarTimeResult

    References
    ----------
    Fama, E. F. (1998). Market efficiency, long-term returns, and behavioral finance. JFE 49,
    283–306 (calendar-time portfolio regressions). Mitchell, M. L. & Stafford, E. (2000).
    Managerial decisions and long-term stock price performance. J. Business 73, 287–329
    (calendar-time portfolios of event firms). Newey, W. K. & West, K. D. (1987), Econometrica
    55 (HAC variance, Bartlett kernel).
    """
    import statsmodels.api as sm

    if horizon_months < 1 or start_lag_months < 0:
        raise EventStudyError(
            f"horizon_months={horizon_months}, start_lag_months={start_lag_months}: "
            "need horizon_months >= 1 and start_lag_months >= 0"
        )
    if model not in _CALENDAR_FACTORS:
        raise EventStudyError(f"model {model!r}: must be one of {sorted(_CALENDAR_FACTORS)}")
    dates = _check_returns(returns)
    ev = _check_events(events, None)
    fac = _monthly_factors(factors_monthly, _CALENDAR_FACTORS[model])
    pos, reason = _locate_events(ev, dates, returns.columns)
    monthly = _monthly_returns(returns)
    member = _membership(monthly, ev, dates, pos, reason == "", horizon_months, start_lag_months)
    port = _portfolio(monthly, member, fac)
    used = port[(port["n_firms"] > 0) & port["has_factors"]]
    factor_cols = list(_CALENDAR_FACTORS[model])
    x = sm.add_constant(fac.loc[used.index, factor_cols].to_numpy(np.float64), prepend=True)
    t_obs = len(used)
    if t_obs <= len(factor_cols) + 1:
        raise EventStudyError(
            f"calendar_time_alpha: only {t_obs} months with firms and factors; need more than "
            f"{len(factor_cols) + 1}"
        )
    lags = math.floor(4 * (t_obs / 100) ** (2 / 9)) if nw_lags is None else int(nw_lags)
    res = sm.OLS(used["excess"].to_numpy(np.float64), x).fit(
        cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": False}
    )
    names = ["alpha", *factor_cols]
    coef = pd.DataFrame(
        {"coef": res.params, "se": res.bse, "t": res.tvalues, "p": res.pvalues},
        index=pd.Index(names, name="term"),
    )
    empty = [m for m in port.index if port.at[m, "n_firms"] == 0]
    return CalendarTimeResult(
        alpha=float(coef.at["alpha", "coef"]),
        t_alpha=float(coef.at["alpha", "t"]),
        p_alpha=float(coef.at["alpha", "p"]),
        coefficients=coef,
        portfolio=port,
        empty_months=empty,
        n_months=t_obs,
        nw_lags=lags,
        model=model,
        horizon_months=horizon_months,
        excluded=_excluded_table(ev, reason),
        raw=res,
    )


def _monthly_factors(factors: pd.DataFrame, needed: Sequence[str]) -> pd.DataFrame:
    missing = [c for c in (*needed, "rf") if c not in factors.columns]
    if missing:
        raise EventStudyError(f"factors_monthly: missing column(s) {missing}")
    idx = factors.index
    if isinstance(idx, pd.DatetimeIndex):
        idx = idx.to_period("M")
    elif not isinstance(idx, pd.PeriodIndex):
        raise EventStudyError("factors_monthly: index must be a DatetimeIndex or PeriodIndex")
    out = factors.loc[:, [*needed, "rf"]].set_axis(idx.asfreq("M"), axis=0).astype(np.float64)
    if out.index.has_duplicates:
        raise EventStudyError("factors_monthly: more than one row for a month")
    return out


def _monthly_returns(returns: pd.DataFrame) -> pd.DataFrame:
    growth = np.log1p(returns.astype(np.float64))
    months = returns.index.to_period("M")
    return np.expm1(growth.groupby(months).sum(min_count=1))


def _membership(
    monthly: pd.DataFrame,
    ev: pd.DataFrame,
    dates: pd.DatetimeIndex,
    pos: np.ndarray,
    valid: np.ndarray,
    horizon: int,
    start: int,
) -> np.ndarray:
    rows = np.flatnonzero(valid)
    member = np.zeros(monthly.shape, dtype=bool)
    event_month = dates[pos[rows]].to_period("M")
    m_pos = monthly.index.get_indexer(event_month)
    col = monthly.columns.get_indexer(ev["ticker"].to_numpy()[rows])
    for h in range(start, start + horizon):
        r = m_pos + h
        inside = r < len(monthly)
        member[r[inside], col[inside]] = True
    return member


def _portfolio(monthly: pd.DataFrame, member: np.ndarray, fac: pd.DataFrame) -> pd.DataFrame:
    vals = monthly.to_numpy(np.float64)
    held = member & np.isfinite(vals)
    n = held.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ret = np.where(n > 0, np.where(held, vals, 0.0).sum(1) / n, np.nan)
    port = pd.DataFrame({"ret": ret, "n_firms": n}, index=monthly.index)
    active = np.flatnonzero(member.any(1))
    if active.size == 0:
        raise EventStudyError("calendar_time_alpha: no event firm is in any portfolio month")
    port = port.iloc[active[0] : active[-1] + 1]
    port["rf"] = fac["rf"].reindex(port.index)
    port["excess"] = port["ret"] - port["rf"]
    port["has_factors"] = fac.reindex(port.index).notna().all(axis=1)
    return port[["ret", "rf", "excess", "n_firms", "has_factors"]]
