"""Numba kernels behind the portfolio-sort engine (private; see :mod:`alphalab.backtest`).

Every kernel works on aligned, C-contiguous float64 matrices (dates × tickers) and loops over
rows in date order, so an output on row ``t`` is computed from rows ``<= t`` only (the one
exception, forward returns, is built outside the kernels and named as such). Column order
never changes a result: zero weights and missing names are skipped, never added as ``0.0``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types

# One compiled signature per public kernel: read-only arrays of any layout. pandas hands out
# read-only, Fortran-ordered views (copy-on-write), derived arrays are C-ordered and
# writable; without explicit signatures numba would compile (and cache) every combination.
_F2 = types.Array(types.float64, 2, "A", readonly=True)
_B2 = types.Array(types.boolean, 2, "A", readonly=True)
_I2 = types.Array(types.int8, 2, "A", readonly=True)
_J1 = types.Array(types.int64, 1, "A", readonly=True)
_OUT_F2 = types.float64[:, ::1]
_OUT_J2 = types.int64[:, ::1]

# --------------------------------------------------------------------------------------------
# group assignment: equal-count bins of the cross-sectional rank (pandas.qcut's rule)
# --------------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _select(a: np.ndarray, lo: int, hi: int, k: int) -> None:  # pragma: no cover - numba
    """Rearrange ``a[lo:hi+1]`` so that ``a[k]`` holds its order statistic (Hoare select)."""
    while hi > lo:
        mid = (lo + hi) >> 1
        x = a[lo]
        y = a[mid]
        z = a[hi]
        if x > y:
            x, y = y, x
        if y > z:
            y = z
            if x > y:
                y = x
        pivot = y
        i = lo
        j = hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                tmp = a[i]
                a[i] = a[j]
                a[j] = tmp
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            return


N_BUCKETS = 256


@njit(cache=True, inline="always")
def _row_edges(
    buf: np.ndarray,
    n: int,
    n_groups: int,
    lo: float,
    hi: float,
    bucket: np.ndarray,
    hist: np.ndarray,
    sub: np.ndarray,
    edges: np.ndarray,
) -> None:  # pragma: no cover - numba
    """Upper edges ``s[floor((n - 1) k / n_groups)]`` of the sorted ``buf[:n]`` (bucket select).

    One pass drops each value into one of 256 equal-width buckets over ``[lo, hi]`` (a
    monotone map, so bucket order is value order); each edge is then selected exactly among
    the few values of the bucket its rank falls in. Skewed rows only make buckets fuller,
    never the answer different.
    """
    span = hi - lo
    scale = (N_BUCKETS * (1.0 - 1e-12)) / span if span > 0.0 else 0.0
    if not np.isfinite(scale):
        scale = 0.0
    hist[:] = 0
    for m in range(n):
        b = int((buf[m] - lo) * scale)
        if b >= N_BUCKETS:
            b = N_BUCKETS - 1
        bucket[m] = b
        hist[b] += 1
    for j in range(n_groups - 1):
        kk = ((n - 1) * (j + 1)) // n_groups
        below = 0
        b = 0
        while below + hist[b] <= kk:
            below += hist[b]
            b += 1
        k = 0
        for m in range(n):
            if bucket[m] == b:
                sub[k] = buf[m]
                k += 1
        _select(sub, 0, k - 1, kk - below)
        edges[j] = sub[kk - below]


@njit(types.int8[:, ::1](_F2, _B2, types.int64), cache=True)
def group_labels(x: np.ndarray, valid: np.ndarray, n_groups: int) -> np.ndarray:  # pragma: no cover
    """Label each valid cell 1..n_groups by its row's equal-count rank bin (0 = unassigned).

    With ``n`` valid names in a row and ``s`` their sorted values, the upper edge of group
    ``k`` is ``s[floor((n - 1) k / n_groups)]`` and a name's group is 1 plus the number of
    edges its value exceeds: ``pandas.qcut(x, n_groups, labels=False) + 1`` in exact integer
    arithmetic (see :mod:`alphalab.backtest.quantiles` for qcut's one floating-point
    difference); tied values share the group of their lowest sorted position. Only the ``n_groups - 1``
    order statistics are selected (no full sort).
    """
    n_rows, n_cols = x.shape
    out = np.zeros((n_rows, n_cols), dtype=np.int8)
    buf = np.empty(n_cols)
    sub = np.empty(n_cols)
    bucket = np.empty(n_cols, dtype=np.int64)
    hist = np.zeros(N_BUCKETS, dtype=np.int64)
    edges = np.empty(max(n_groups - 1, 1))
    for t in range(n_rows):
        n = 0
        lo = np.inf
        hi = -np.inf
        for i in range(n_cols):
            if valid[t, i]:
                v = x[t, i]
                buf[n] = v
                n += 1
                lo = min(lo, v)
                hi = max(hi, v)
        if n == 0:
            continue
        _row_edges(buf, n, n_groups, lo, hi, bucket, hist, sub, edges)
        for i in range(n_cols):
            if valid[t, i]:
                v = x[t, i]
                g = 1
                for j in range(n_groups - 1):
                    g += v > edges[j]
                out[t, i] = g
    return out


@njit(types.Tuple((_OUT_F2, _OUT_J2))(_I2, _F2, types.int64), cache=True)
def group_sums(
    labels: np.ndarray, y: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """Per row and group: sum and count of the finite ``y`` of the names labelled that group."""
    n_rows, n_cols = y.shape
    sums = np.zeros((n_rows, n_groups))
    counts = np.zeros((n_rows, n_groups), dtype=np.int64)
    for t in range(n_rows):
        for i in range(n_cols):
            g = labels[t, i]
            if g > 0:
                v = y[t, i]
                if v == v:
                    sums[t, g - 1] += v
                    counts[t, g - 1] += 1
    return sums, counts


# --------------------------------------------------------------------------------------------
# Spearman rank correlation per row
# --------------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _average_ranks(v: np.ndarray, n: int, out: np.ndarray) -> None:  # pragma: no cover
    """Average ranks (1-based, ties share their mean rank) of ``v[:n]`` into ``out[:n]``."""
    order = np.argsort(v[:n], kind="mergesort")
    i = 0
    while i < n:
        j = i
        while j + 1 < n and v[order[j + 1]] == v[order[i]]:
            j += 1
        r = 0.5 * (i + j) + 1.0
        for m in range(i, j + 1):
            out[order[m]] = r
        i = j + 1


@njit(types.float64[::1](_F2, _F2, _B2), cache=True)
def spearman_rows(
    x: np.ndarray, y: np.ndarray, valid: np.ndarray
) -> np.ndarray:  # pragma: no cover
    """Spearman correlation of ``x[t]`` and ``y[t]`` over names valid in ``x`` with finite ``y``."""
    n_rows, n_cols = x.shape
    out = np.full(n_rows, np.nan)
    bx = np.empty(n_cols)
    by = np.empty(n_cols)
    rx = np.empty(n_cols)
    ry = np.empty(n_cols)
    for t in range(n_rows):
        n = 0
        for i in range(n_cols):
            if valid[t, i] and y[t, i] == y[t, i]:
                bx[n] = x[t, i]
                by[n] = y[t, i]
                n += 1
        if n < 3:
            continue
        _average_ranks(bx, n, rx)
        _average_ranks(by, n, ry)
        mean = 0.5 * (n + 1)
        sxy = 0.0
        sxx = 0.0
        syy = 0.0
        for m in range(n):
            dx = rx[m] - mean
            dy = ry[m] - mean
            sxy += dx * dy
            sxx += dx * dx
            syy += dy * dy
        if sxx > 0.0 and syy > 0.0:
            out[t] = sxy / np.sqrt(sxx * syy)
    return out


# --------------------------------------------------------------------------------------------
# the holding simulation
# --------------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _drift_group(
    w: np.ndarray, r_row: np.ndarray, delist_ret: float, flag: np.ndarray
) -> tuple[float, int]:  # pragma: no cover
    """One session of buy-and-hold for one group's weights ``w`` (in place).

    Returns the group's return and the number of names newly flagged as delisted. Weights
    are left *unnormalized* (w · (1 + r)); a delisted name's value w · (1 + delist_ret)
    moves to cash, which earns 0 and is implicit (1 minus the sum of the weights).
    """
    ret = 0.0
    n_flag = 0
    for i in range(w.shape[0]):
        wi = w[i]
        if wi != 0.0:
            r = r_row[i]
            if r == r:
                ret += wi * r
                w[i] = wi * (1.0 + r)
            else:
                ret += wi * delist_ret
                w[i] = 0.0
                if not flag[i]:
                    flag[i] = True
                    n_flag += 1
    return ret, n_flag


@njit(cache=True, inline="always")
def _normalize_group(w: np.ndarray, growth: float) -> int:  # pragma: no cover
    """Divide the drifted weights by the group's growth; return the number of names held."""
    held = 0
    if growth > 0.0:
        inv = 1.0 / growth
        for i in range(w.shape[0]):
            if w[i] != 0.0:
                w[i] = w[i] * inv
                held += 1
    else:
        for i in range(w.shape[0]):
            w[i] = 0.0
    return held


@njit(cache=True)
def _cohort_targets(
    r_row: np.ndarray,
    labels: np.ndarray,
    raw: np.ndarray,
    use_raw: bool,
    ring: np.ndarray,
    n_ring: int,
    n_groups: int,
    target: np.ndarray,
) -> np.ndarray:  # pragma: no cover
    """Jegadeesh–Titman target weights: the average of the live cohorts' formation weights.

    Each cohort (a formation row in ``ring``) keeps its names tradable on this session
    (finite return), weighted as at formation (1 or market cap) and normalized within each
    group; a group's target is the mean over the cohorts that still have names in it.
    Returns the number of live cohorts per group.
    """
    n_cols = r_row.shape[0]
    target[:, :] = 0.0
    sums = np.zeros((n_ring, n_groups))
    for c in range(n_ring):
        f = ring[c]
        for i in range(n_cols):
            g = labels[f, i]
            if g > 0 and r_row[i] == r_row[i]:
                sums[c, g - 1] += raw[f, i] if use_raw else 1.0
    live = np.zeros(n_groups, dtype=np.int64)
    for c in range(n_ring):
        for g in range(n_groups):
            if sums[c, g] > 0.0:
                live[g] += 1
    for c in range(n_ring):
        f = ring[c]
        for i in range(n_cols):
            g = labels[f, i]
            if g > 0 and r_row[i] == r_row[i]:
                s = sums[c, g - 1]
                if s > 0.0:
                    w = raw[f, i] if use_raw else 1.0
                    target[g - 1, i] += w / s / live[g - 1]
    return live


@njit(
    types.Tuple((_OUT_F2, _OUT_F2, _OUT_J2, types.int64, _OUT_F2))(
        _F2,
        _I2,
        _F2,
        types.boolean,
        _J1,
        types.int64,
        types.int64,
        types.float64,
        types.float64,
        types.int64,
    ),
    cache=True,
)
def simulate(
    returns: np.ndarray,
    labels: np.ndarray,
    raw: np.ndarray,
    use_raw: bool,
    trade_from: np.ndarray,
    n_groups: int,
    holding: int,
    direction: float,
    delist_ret: float,
    store: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, np.ndarray]:  # pragma: no cover
    """Run the sort portfolios through the sample, session by session.

    Parameters
    ----------
    returns : (T, N) simple returns, row ``s`` = close ``s-1`` → close ``s`` (NaN = no price).
    labels : (T, N) int8 group labels on formation rows (0 = not in any group).
    raw : (T, N) raw weights at formation (market caps) when ``use_raw``; else unused.
    trade_from : (T,) formation row whose portfolio is bought at the close of row ``s``, or -1.
    store : group whose end-of-session weights are returned (0-based), ``n_groups`` for the
        long-short, -1 for none.

    Returns
    -------
    gross : (T, n_groups + 1) returns of each group and the long-short (NaN before the first
        trade; 0 on the first trade session, when the book is still in cash).
    turnover : (T, n_groups + 1) sum |w_new - w_drifted| at each trade close (0 otherwise).
    counts : (T, n_groups) names held at each close.
    n_delisted : number of (session, name) delisting events hit by a held name.
    weights : (T, N) end-of-session weights of group ``store`` (or a (1, 1) dummy).
    """
    n_rows, n_cols = returns.shape
    q = n_groups
    top = q - 1
    w = np.zeros((q, n_cols))
    w_new = np.zeros((q, n_cols))
    gross = np.full((n_rows, q + 1), np.nan)
    turnover = np.full((n_rows, q + 1), np.nan)
    counts = np.zeros((n_rows, q), dtype=np.int64)
    weights = np.zeros((n_rows, n_cols)) if store >= 0 else np.zeros((1, 1))
    ring = np.full(holding, -1, dtype=np.int64)
    n_ring = 0
    flag = np.zeros(n_cols, dtype=np.bool_)
    n_delisted = 0
    started = False
    for s in range(n_rows):
        r_row = returns[s]
        if started:
            n_flag = 0
            for g in range(q):
                ret, nf = _drift_group(w[g], r_row, delist_ret, flag)
                n_flag += nf
                growth = 1.0 + ret
                counts[s, g] = _normalize_group(w[g], growth)
                gross[s, g] = ret
            gross[s, q] = direction * (gross[s, top] - gross[s, 0])
            if n_flag > 0:
                n_delisted += n_flag
                flag[:] = False
            turnover[s, :] = 0.0
        f = trade_from[s]
        if f >= 0:
            if not started:
                started = True
                gross[s, :] = 0.0
                turnover[s, :] = 0.0
            if n_ring < holding:
                ring[n_ring] = f
                n_ring += 1
            else:
                for c in range(holding - 1):
                    ring[c] = ring[c + 1]
                ring[holding - 1] = f
            _cohort_targets(r_row, labels, raw, use_raw, ring, n_ring, q, w_new)
            for g in range(q):
                tv = 0.0
                held = 0
                for i in range(n_cols):
                    tv += abs(w_new[g, i] - w[g, i])
                    if w_new[g, i] != 0.0:
                        held += 1
                turnover[s, g] = tv
                counts[s, g] = held
            tv = 0.0
            for i in range(n_cols):
                tv += abs((w_new[top, i] - w_new[0, i]) - (w[top, i] - w[0, i]))
            turnover[s, q] = tv
            w, w_new = w_new, w
        if store >= 0 and started:
            if store < q:
                weights[s, :] = w[store]
            else:
                for i in range(n_cols):
                    weights[s, i] = direction * (w[top, i] - w[0, i])
    return gross, turnover, counts, n_delisted, weights
