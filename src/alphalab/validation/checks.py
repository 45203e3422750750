"""Fast vectorized row checks on typed inputs (numpy / pandas, no per-date groupby).

Each check takes the typed working frame (positions = rows of the input as read), the mask of
rows still eligible (parsed, not a duplicate) and returns :class:`Finding` objects. Sequential
checks (split-like jumps, stale runs, missing sessions) sort once by ``(ticker, date)`` and work
on aligned arrays.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from alphalab.validation.findings import Checker, Finding, Table

SPLIT_RATIOS = np.log(np.array([1.5, 2.0, 3.0, 4.0, 5.0, 8.0, 10.0, 20.0]))


class CalendarError(ValueError):
    """``validate.calendar`` names no exchange calendar that ``exchange_calendars`` knows."""


def _keep(found: list[Finding], f: Finding | None) -> None:
    if f is not None:
        found.append(f)


def _iso(values: np.ndarray) -> list[str]:
    return [str(v)[:10] for v in values.astype("datetime64[D]")]


# --------------------------------------------------------------------------------------------
# calendar
# --------------------------------------------------------------------------------------------
def sessions_between(name: str, first: pd.Timestamp, last: pd.Timestamp) -> np.ndarray | None:
    """Exchange sessions of calendar ``name`` from ``first`` to ``last`` (``alphalab.calendar``).

    ``None`` when the span lies outside the calendar's window (those dates are not checked).
    """
    from alphalab import calendar

    try:
        pad = pd.Timedelta(days=10)  # so that a holiday at either end lies inside the array
        days = calendar.sessions(first - pad, last + pad, calendar=name)
    except calendar.CalendarError as exc:
        raise CalendarError(f"validate.calendar: {exc}") from None
    return days.to_numpy(dtype="datetime64[ns]") if len(days) else None


# --------------------------------------------------------------------------------------------
# keys
# --------------------------------------------------------------------------------------------
def check_duplicates(
    work: pd.DataFrame, key: list[str], ok: np.ndarray, tbl: Table, chk: Checker
) -> tuple[np.ndarray, np.ndarray, list[Finding]]:
    """Identical rows → deduplicated (counted); same key with other values → ``duplicate_conflict``.

    Returns the deduplicated mask, the conflict mask and the findings.
    """
    n = len(work)
    rows = tbl.rows
    dedup = np.zeros(n, dtype=bool)
    conflict = np.zeros(n, dtype=bool)
    sub = work.loc[ok]
    keydup = sub.duplicated(key, keep=False)
    if not keydup.any():
        return dedup, conflict, []
    cand = sub[keydup]
    ident = cand.duplicated(list(work.columns), keep="first")
    dedup[cand.index[ident]] = True
    found: list[Finding] = []
    if ident.any():
        first_pos = cand.reset_index().groupby(key, sort=False)["index"].transform("min").to_numpy()
        idx = cand.index.to_numpy()[ident.to_numpy()]
        partner = first_pos[ident.to_numpy()]
        found.append(
            Finding(
                "duplicate_identical",
                "normalise",
                key[-1],
                idx,
                "identical to an earlier row; dropped and counted as deduplicated",
                details=np.asarray([f" (same as row {rows[p]})" for p in partner], dtype=object),
            )
        )
    rest = cand[~ident]
    clash = rest.duplicated(key, keep=False)
    if not clash.any():
        return dedup, conflict, found
    rc = rest[clash].reset_index()
    grp = rc.groupby(key, sort=False)["index"]
    lo, hi = grp.transform("min").to_numpy(), grp.transform("max").to_numpy()
    pos = rc["index"].to_numpy()
    other = np.where(pos == lo, hi, lo)
    conflict[pos] = True
    values = work.drop(columns=key)
    col_of = np.full(len(pos), "", dtype=object)
    for col in values.columns:
        a, b = values[col].to_numpy()[pos], values[col].to_numpy()[other]
        differs = ~((a == b) | (pd.isna(a) & pd.isna(b)))
        col_of = np.where((col_of == "") & differs, col, col_of)
    for name in pd.unique(col_of):
        sel = col_of == name
        col = str(name) or None
        label = tbl.label(col)
        details = [
            f" {tuple(str(work[k].iat[p])[:10] for k in key)} also at row {rows[o]}"
            f"{'' if col is None else f' with {label} ' + repr(tbl.cell(col, o))}"
            for p, o in zip(pos[sel], other[sel], strict=True)
        ]
        names = ", ".join(str(tbl.label(k)) for k in key)
        _keep(
            found,
            chk.make(
                "duplicate_conflict",
                col,
                pos[sel],
                f"same key ({names}) with different values:",
                details=details,
            ),
        )
    return dedup, conflict, found


# --------------------------------------------------------------------------------------------
# dates
# --------------------------------------------------------------------------------------------
def check_window(
    dates: pd.Series, ok: np.ndarray, column: str, chk: Checker, *, window: bool
) -> list[Finding]:
    """Dates after today (``future_date``) and, if ``window``, outside data.start … data.end."""
    found: list[Finding] = []
    d = dates.to_numpy(dtype="datetime64[ns]")
    today = np.datetime64(chk.today, "ns") + np.timedelta64(1, "D")
    future = ok & (d >= today)
    _keep(found, chk.make("future_date", column, future, f"{column} is after today ({chk.today})"))
    if window:
        start = np.datetime64(chk.params.data.start, "ns")
        end = np.datetime64(chk.params.data.end, "ns") + np.timedelta64(1, "D")
        outside = ok & ~future & ((d < start) | (d >= end))
        _keep(
            found,
            chk.make(
                "out_of_window",
                column,
                outside,
                f"{column} outside the study window {chk.params.data.start} … "
                f"{chk.params.data.end}",
            ),
        )
    return found


def session_index(dates: np.ndarray, sessions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of each date in ``sessions`` and whether it is a session."""
    si = np.searchsorted(sessions, dates)
    hit = si < len(sessions)
    hit[hit] = sessions[si[hit]] == dates[hit]
    return si, hit


def check_sessions(
    dates: pd.Series, ok: np.ndarray, column: str, chk: Checker, sessions: np.ndarray
) -> tuple[np.ndarray, list[Finding]]:
    """Rows whose date is not an exchange session; returns the session positions too."""
    d = dates.to_numpy(dtype="datetime64[ns]")
    si, hit = session_index(d, sessions)
    in_range = (d >= sessions[0]) & (d <= sessions[-1])
    off = ok & in_range & ~hit
    weekday = pd.DatetimeIndex(d[off]).day_name()
    f = chk.make(
        "non_session",
        column,
        off,
        f"{column} is not a session of the {chk.params.validate_.calendar} calendar (",
        details=[f"a {w}; weekend or exchange holiday)" for w in weekday],
    )
    return si, [] if f is None else [f]


# --------------------------------------------------------------------------------------------
# prices
# --------------------------------------------------------------------------------------------
def check_price_values(work: pd.DataFrame, ok: np.ndarray, chk: Checker) -> list[Finding]:
    """Non-positive prices, negative volume, inconsistent OHLC."""
    found: list[Finding] = []
    for col in ("close", "open", "high", "low", "market_cap"):
        if col in work.columns:
            v = work[col].to_numpy()
            _keep(found, chk.make("non_positive_price", col, ok & (v <= 0), f"{col} must be > 0"))
    if "volume" in work.columns:
        _keep(
            found,
            chk.make(
                "negative_volume",
                "volume",
                ok & (work["volume"].to_numpy() < 0),
                "volume must be >= 0",
            ),
        )
    if {"high", "low"} <= set(work.columns):
        hi, lo = work["high"].to_numpy(), work["low"].to_numpy()
        _keep(found, chk.make("ohlc_inconsistent", "high", ok & (hi < lo), "high below low"))
        for col in ("close", "open"):
            if col in work.columns:
                v = work[col].to_numpy()
                tol = 1e-9 * np.abs(v)
                out = ok & ((v > hi + tol) | (v < lo - tol))
                _keep(found, chk.make("ohlc_inconsistent", col, out, f"{col} outside [low, high]"))
    return found


def _sorted_panel(
    work: pd.DataFrame, ok: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Positions sorted by (ticker, date), the dates, closes, and same-ticker-as-previous flags."""
    pos = np.flatnonzero(ok)
    codes = pd.factorize(work["ticker"].to_numpy()[pos])[0]
    d = work["date"].to_numpy(dtype="datetime64[ns]")[pos]
    order = np.lexsort((d, codes))
    pos, codes, d = pos[order], codes[order], d[order]
    c = work["close"].to_numpy()[pos] if "close" in work.columns else np.full(len(pos), np.nan)
    same = np.r_[False, codes[1:] == codes[:-1]]
    return pos, d, c, same


def _reverts(lc: np.ndarray, same: np.ndarray, i: int, jump: float, window: int) -> bool:
    """Does the price after row ``i`` move back by half of ``jump`` (log) within ``window`` rows?"""
    j = i + 1
    stop = min(len(lc), i + 1 + window)
    while j < stop and same[j]:
        if -np.sign(jump) * (lc[j] - lc[i]) > abs(jump) / 2:
            return True
        j += 1
    return False


def check_price_series(
    work: pd.DataFrame,
    ok: np.ndarray,
    chk: Checker,
    sessions: np.ndarray | None,
    *,
    dated: np.ndarray | None = None,
) -> list[Finding]:
    """Split-like jumps, extreme returns, stale runs and missing sessions, per ticker.

    Returns use the rows in ``ok`` with a positive close; missing sessions use every row with a
    valid ticker and date (``dated``, default ``ok``), so that a row set aside for its value
    does not show up as an absent session.
    """
    found: list[Finding] = []
    if sessions is not None:
        gpos, gd, _, gsame = _sorted_panel(work, ok if dated is None else dated)
        _keep(found, _gaps(gpos, gd, gsame, chk, sessions, _tickers(work, gpos)))
    vp = chk.params.validate_
    pos, d, c, same = _sorted_panel(work, ok & (work["close"].to_numpy() > 0))
    if len(pos) < 2:
        return found
    lc = np.log(c)
    lr = np.where(same, lc - np.r_[lc[0], lc[:-1]], 0.0)
    big = same & (np.abs(lr) >= np.log1p(vp.split_jump))
    dist = np.min(np.abs(np.abs(lr)[:, None] - SPLIT_RATIOS[None, :]), axis=1)
    cand = np.flatnonzero(big & (dist <= vp.split_tolerance))
    split = np.zeros(len(pos), dtype=bool)
    for i in cand:
        split[i] = not _reverts(lc, same, int(i), float(lr[i]), vp.split_window)
    ratio = np.exp(lr)
    _keep(
        found,
        chk.make(
            "split_jump",
            "close",
            pos[split],
            "close jumps by a split ratio and stays there (unapplied split?): ",
            details=[
                f"{t} x{r:.3f} vs previous close {p:.4g}"
                for t, r, p in zip(
                    _tickers(work, pos[split]),
                    ratio[split],
                    c[np.flatnonzero(split) - 1],
                    strict=True,
                )
            ],
        ),
    )
    extreme = same & ~split & (np.abs(ratio - 1.0) > vp.max_abs_return)
    _keep(
        found,
        chk.make(
            "extreme_return",
            "close",
            pos[extreme],
            f"close-to-close return beyond ±{vp.max_abs_return:.0%}: ",
            details=[
                f"{t} {r - 1:+.1%}"
                for t, r in zip(_tickers(work, pos[extreme]), ratio[extreme], strict=True)
            ],
        ),
    )
    _keep(found, _stale(pos, d, c, same, chk, _tickers(work, pos)))
    return found


def _tickers(work: pd.DataFrame, pos: np.ndarray) -> np.ndarray:
    return work["ticker"].to_numpy(dtype=object)[pos]


def _stale(
    pos: np.ndarray, d: np.ndarray, c: np.ndarray, same: np.ndarray, chk: Checker, tick: np.ndarray
) -> Finding | None:
    k = chk.params.validate_.stale_run
    eq = same & (c == np.r_[np.nan, c[:-1]])
    grp = np.cumsum(~eq)
    run = np.bincount(grp)[grp]
    flag = eq & (run >= k)
    if not flag.any():
        return None
    first = np.flatnonzero(~eq)[grp[flag] - 1]
    return chk.make(
        "stale_run",
        "close",
        pos[flag],
        f"close unchanged for {k}+ sessions: ",
        details=[
            f"{t} run of {n} since {s}"
            for t, n, s in zip(tick[flag], run[flag], _iso(d[first]), strict=True)
        ],
    )


def _gaps(
    pos: np.ndarray,
    d: np.ndarray,
    same: np.ndarray,
    chk: Checker,
    sessions: np.ndarray,
    tick: np.ndarray,
) -> Finding | None:
    si, hit = session_index(d, sessions)
    prev_ok = np.r_[False, hit[:-1]]
    gap = np.where(same & hit & prev_ok, si - np.r_[0, si[:-1]] - 1, 0)
    rows = np.flatnonzero(gap > 0)
    if len(rows) == 0:
        return None
    first_missing = sessions[si[rows - 1] + 1]
    f = chk.make(
        "missing_session",
        "date",
        pos[rows],
        "exchange sessions absent before this row: ",
        details=[
            f"{t} {g} missing from {s}"
            for t, g, s in zip(tick[rows], gap[rows], _iso(first_missing), strict=True)
        ],
    )
    if f is not None:
        f.count = int(gap.sum())
    return f


# --------------------------------------------------------------------------------------------
# returns (benchmark, factors)
# --------------------------------------------------------------------------------------------
def check_returns(
    work: pd.DataFrame,
    ok: np.ndarray,
    columns: list[str],
    chk: Checker,
    *,
    rf_columns: tuple[str, ...] = ("rf",),
) -> list[Finding]:
    """Returns below -100%, beyond ±max_abs_return, and columns that look like percent."""
    vp = chk.params.validate_
    found: list[Finding] = []
    for col in columns:
        if col not in work.columns:
            continue
        x = work[col].to_numpy(dtype="float64")
        valid = ok & np.isfinite(x)
        below = valid & (x < -1.0)
        _keep(
            found, chk.make("impossible_return", col, below, f"{col} below -100% (-1 in decimals)")
        )
        _keep(
            found,
            chk.make(
                "extreme_return",
                col,
                valid & ~below & (np.abs(x) > vp.max_abs_return),
                f"{col} beyond ±{vp.max_abs_return:g} per period",
            ),
        )
        _keep(found, _percent_units(col, x[valid], chk, rate=col in rf_columns))
    return found


def _percent_units(col: str, x: np.ndarray, chk: Checker, *, rate: bool) -> Finding | None:
    if len(x) < 3:
        return None
    if rate:
        top = float(np.max(np.abs(x)))
        if top > 0.05:
            return chk.table_finding(
                "percent_units",
                col,
                f"max |{col}| = {top:.4g}",
                f"{col} must be a per-period rate in decimals (max above 5% per "
                "period: percent, or annualized?); use percent: true (--percent)",
            )
        return None
    med = float(np.median(np.abs(x)))
    if med > 0.1:
        return chk.table_finding(
            "percent_units",
            col,
            f"median |{col}| = {med:.4g}",
            f"{col} looks like percent, not decimals (median absolute value above "
            "0.1); use percent: true (--percent)",
        )
    return None


# --------------------------------------------------------------------------------------------
# signal
# --------------------------------------------------------------------------------------------
def check_dimensions(work: pd.DataFrame, ok: np.ndarray, chk: Checker) -> list[Finding]:
    """Declared dimensions inside validate.dimension_range; score equal to their weighted sum."""
    sig, vp = chk.params.signal, chk.params.validate_
    dims = list(sig.dimensions)
    found: list[Finding] = []
    if vp.dimension_range is not None:
        lo, hi = vp.dimension_range
        for dim in dims:
            x = work[dim].to_numpy(dtype="float64")
            _keep(
                found,
                chk.make(
                    "dimension_range",
                    dim,
                    ok & ((x < lo) | (x > hi)),
                    f"dimension {dim} outside validate.dimension_range [{lo:g}, {hi:g}]",
                ),
            )
    w = np.array([sig.dimensions[k].weight * sig.dimensions[k].sign for k in dims])
    mat = work[dims].to_numpy(dtype="float64")
    implied = mat @ w
    score = work["score"].to_numpy(dtype="float64")
    resid = score - implied
    full = ok & np.isfinite(implied) & np.isfinite(score)
    bad = full & (np.abs(resid) > sig.score_tolerance)
    terms = " + ".join(f"{sig.dimensions[k].weight * sig.dimensions[k].sign:g}·{k}" for k in dims)
    _keep(
        found,
        chk.make(
            "score_mismatch",
            "score",
            bad,
            f"score ≠ {terms} within signal.score_tolerance {sig.score_tolerance:g}: ",
            details=[f"weighted dimensions give {v:.4g}" for v in implied[bad]],
        ),
    )
    return found


def check_signal_prices(
    work: pd.DataFrame, ok: np.ndarray, chk: Checker, prices: pd.DataFrame
) -> list[Finding]:
    """Signal tickers without prices, and signals dated after the ticker's last price."""
    last = prices.groupby("ticker", sort=False)["date"].max()
    tick = work["ticker"]
    known = tick.isin(last.index).to_numpy()
    found: list[Finding] = []
    _keep(found, chk.make("unknown_ticker", "ticker", ok & ~known, "no prices for this ticker"))
    last_of = tick.map(last).to_numpy(dtype="datetime64[ns]")
    ev = work["event_date"].to_numpy(dtype="datetime64[ns]")
    late = ok & known & (ev > last_of)
    _keep(
        found,
        chk.make(
            "after_last_price",
            "event_date",
            late,
            "after the ticker's last price (",
            details=[f"{s}); cannot be traded" for s in _iso(last_of[late])],
        ),
    )
    return found
