"""Exchange session calendars (the lowest layer, next to :mod:`alphalab.config`).

Every date the project stores is an exchange *session* date, tz-naive, at midnight, as
``datetime64[ns]`` (DESIGN.md §4). This module answers the few calendar questions the signal
and panel layers ask — which sessions lie in a window, which session a date rolls forward to,
what lies ``n`` sessions later, which session closes a week/month/quarter — with vectorized
``searchsorted`` on one cached array of sessions per calendar.

Sessions come from ``exchange_calendars`` over a fixed window (:data:`CALENDAR_START` …
:data:`CALENDAR_END`), so answers do not depend on today's date. Over 1990-01-02 … 2022-12-28
the XNYS sessions are exactly the 8313 dates of skfolio's embedded sample (DESIGN.md §9).
"""

from __future__ import annotations

import datetime as dt
import functools
import warnings
from collections.abc import Sequence
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd

CALENDAR_START = pd.Timestamp("1950-01-01")
CALENDAR_END = pd.Timestamp("2040-12-31")

Frequency = Literal["daily", "weekly", "monthly", "quarterly"]
DateLike: TypeAlias = pd.Timestamp | dt.date | str | np.datetime64
DatesLike: TypeAlias = pd.DatetimeIndex | pd.Series | np.ndarray | Sequence[Any]

_NAT = np.iinfo(np.int64).min


class CalendarError(ValueError):
    """A calendar request broke a rule (unknown calendar, date outside its window, bad index)."""


@functools.lru_cache(maxsize=8)
def _session_ns(calendar: str) -> np.ndarray:
    """All sessions of ``calendar`` in the fixed window, as sorted int64 nanoseconds."""
    import exchange_calendars as xc

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cal = xc.get_calendar(calendar, start=CALENDAR_START, end=CALENDAR_END)
            idx = pd.DatetimeIndex(cal.sessions)
    except xc.errors.InvalidCalendarName as exc:
        raise CalendarError(f"calendar {calendar!r}: not an exchange_calendars name") from exc
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    arr = idx.normalize().as_unit("ns").asi8.copy()
    arr.setflags(write=False)
    return arr


def _bounds(calendar: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    arr = _session_ns(calendar)
    return pd.Timestamp(arr[0]), pd.Timestamp(arr[-1])


def to_day_ns(dates: DatesLike | DateLike, *, what: str = "dates") -> np.ndarray:
    """Dates as int64 nanoseconds at midnight (NaT stays NaT as ``int64.min``).

    Raises
    ------
    CalendarError
        If the dates are tz-aware (session dates are tz-naive by contract) or unparseable.
    """
    try:
        obj = pd.to_datetime(dates)
    except (ValueError, TypeError) as exc:
        raise CalendarError(f"{what}: cannot parse as dates ({exc})") from exc
    if isinstance(obj, pd.Timestamp) or obj is pd.NaT:
        obj = [obj]
    idx = pd.DatetimeIndex(obj)
    if idx.tz is not None:
        raise CalendarError(f"{what}: must be tz-naive session dates, got tz {idx.tz}")
    return idx.normalize().as_unit("ns").asi8


def search_sessions(
    day_ns: np.ndarray, calendar: str, *, side: Literal["left", "right"], what: str = "dates"
) -> np.ndarray:
    """Positions in the calendar's session array (−1 for NaT), for session arithmetic.

    ``side="left"``: the first session on or after each day; ``"right"``: strictly after.
    ``day_ns`` comes from :func:`to_day_ns`; ``what`` names the input in errors.
    """
    arr = _session_ns(calendar)
    nat = day_ns == _NAT
    pos = np.searchsorted(arr, day_ns, side=side)
    bad = ~nat & ((pos >= arr.size) | (day_ns < arr[0]))
    if bad.any():
        first = pd.Timestamp(day_ns[bad][0])
        lo, hi = _bounds(calendar)
        raise CalendarError(
            f"{what}: {first.date()} has no following session in the {calendar} window "
            f"{lo.date()} … {hi.date()}"
        )
    return np.where(nat, -1, pos)


def sessions_at(pos: np.ndarray, calendar: str, *, what: str = "dates") -> pd.DatetimeIndex:
    """The sessions at positions from :func:`search_sessions` (−1 → NaT)."""
    arr = _session_ns(calendar)
    nat = pos < 0
    over = ~nat & (pos >= arr.size)
    if over.any():
        lo, hi = _bounds(calendar)
        raise CalendarError(f"{what}: shifted past the {calendar} window {lo.date()} … {hi.date()}")
    vals = np.where(nat, _NAT, arr[np.where(nat | over, 0, pos)])
    return pd.DatetimeIndex(vals.view("datetime64[ns]"))


def session_positions(dates: DatesLike, *, calendar: str = "XNYS") -> np.ndarray:
    """Position of each date in the calendar's session array (−1 for NaT).

    Dates that are not sessions raise: use :func:`session_on_or_after` first.
    """
    day = to_day_ns(dates)
    pos = search_sessions(day, calendar, side="left", what="dates")
    arr = _session_ns(calendar)
    ok = pos >= 0
    miss = ok & (arr[np.where(ok, pos, 0)] != day)
    if miss.any():
        bad = pd.Timestamp(day[miss][0])
        raise CalendarError(f"dates: {bad.date()} is not a {calendar} session")
    return pos


def sessions(
    start: DateLike | None = None, end: DateLike | None = None, *, calendar: str = "XNYS"
) -> pd.DatetimeIndex:
    """Sessions from ``start`` to ``end`` inclusive (either may be a non-session date).

    Parameters
    ----------
    start, end : date-like, optional
        Window bounds; default the calendar window's first / last session.
    calendar : str
        An ``exchange_calendars`` name, e.g. ``"XNYS"``.

    Returns
    -------
    pandas.DatetimeIndex
        ``datetime64[ns]``, tz-naive, named ``"date"``.

    Examples
    --------
    >>> sessions("2023-07-01", "2023-07-06").strftime("%m-%d").tolist()
    ['07-03', '07-05', '07-06']
    """
    arr = _session_ns(calendar)
    i = 0 if start is None else int(np.searchsorted(arr, to_day_ns(start, what="start")[0], "left"))
    j = (
        arr.size
        if end is None
        else int(np.searchsorted(arr, to_day_ns(end, what="end")[0], "right"))
    )
    return pd.DatetimeIndex(arr[i:j].view("datetime64[ns]"), name="date")


def is_session(dates: DatesLike, *, calendar: str = "XNYS") -> np.ndarray:
    """Boolean array: is each date (time of day ignored) a session? NaT → False."""
    arr = _session_ns(calendar)
    day = to_day_ns(dates)
    pos = np.clip(np.searchsorted(arr, day, "left"), 0, arr.size - 1)
    return (arr[pos] == day) & (day != _NAT)


def session_on_or_after(dates: DatesLike, *, calendar: str = "XNYS") -> pd.DatetimeIndex:
    """Roll each date forward to the first session on or after it (vectorized; NaT stays NaT).

    The time of day is ignored: ``2023-07-04 10:00`` (a holiday) → ``2023-07-05``.
    """
    pos = search_sessions(to_day_ns(dates), calendar, side="left", what="dates")
    return sessions_at(pos, calendar, what="dates")


def next_session(ts: DateLike, *, calendar: str = "XNYS") -> pd.Timestamp:
    """The first session strictly after the date of ``ts`` (time of day ignored)."""
    pos = search_sessions(to_day_ns(ts, what="ts"), calendar, side="right", what="ts")
    return sessions_at(pos, calendar, what="ts")[0]


def shift_sessions(
    dates: DatesLike, n: int | np.ndarray, *, calendar: str = "XNYS"
) -> pd.DatetimeIndex:
    """Move each date ``n`` sessions along the calendar (vectorized; NaT stays NaT).

    A date that is not a session is first rolled forward to the next session, then shifted:
    Saturday + 0 → Monday, Saturday − 1 → Friday, Saturday + 1 → Tuesday.

    Parameters
    ----------
    dates : array-like of date-like
    n : int or array of int
        Sessions to move (negative moves back); broadcast against ``dates``.
    calendar : str
    """
    pos = search_sessions(to_day_ns(dates), calendar, side="left", what="dates")
    steps = np.asarray(n, dtype=np.int64)
    moved = np.where(pos >= 0, pos + steps, -1)
    if ((pos >= 0) & (moved < 0)).any():
        lo, _ = _bounds(calendar)
        raise CalendarError(f"dates: shifted before the {calendar} window start {lo.date()}")
    return sessions_at(moved, calendar, what="dates")


def _period_keys(day_ns: np.ndarray, freq: Frequency) -> np.ndarray:
    days = day_ns // 86_400_000_000_000
    if freq == "daily":
        return days
    if freq == "weekly":  # 1970-01-01 was a Thursday: (days + 3) // 7 counts Monday-based weeks
        return (days + 3) // 7
    months = day_ns.view("datetime64[ns]").astype("datetime64[M]").astype(np.int64)
    if freq == "monthly":
        return months
    if freq == "quarterly":
        return months // 3
    raise CalendarError(f"freq {freq!r}: expected one of daily, weekly, monthly, quarterly")


def period_ends(
    index: pd.DatetimeIndex | DatesLike, freq: Frequency, *, calendar: str | None = None
) -> pd.DatetimeIndex:
    """The dates of ``index`` that close a week / month / quarter (every date for daily).

    With ``calendar=None`` a date closes its period when it is the last date of ``index`` in
    that period, so the index's final date always closes its (possibly incomplete) period.
    With a calendar name a date closes its period only when it is that calendar's last
    *session* of the period — known in advance, so the answer for a date never depends on
    later data (use this for signals). Weeks run Monday–Sunday.

    Parameters
    ----------
    index : DatetimeIndex
        Strictly increasing, tz-naive dates (sessions when ``calendar`` is given).
    freq : {"daily", "weekly", "monthly", "quarterly"}
    calendar : str, optional
        Exchange calendar whose sessions define the period ends.

    Raises
    ------
    CalendarError
        If ``index`` is not strictly increasing, holds NaT, or (with a calendar) holds a
        date that is not a session.

    Examples
    --------
    >>> idx = sessions("2023-03-27", "2023-04-11")
    >>> period_ends(idx, "monthly").strftime("%m-%d").tolist()
    ['03-31', '04-11']
    >>> period_ends(idx, "monthly", calendar="XNYS").strftime("%m-%d").tolist()
    ['03-31']
    """
    day = to_day_ns(index, what="index")
    if day.size == 0:
        return pd.DatetimeIndex([], dtype="datetime64[ns]", name="date")
    if (day == _NAT).any() or (np.diff(day) <= 0).any():
        raise CalendarError("index: must be strictly increasing dates without NaT")
    keys = _period_keys(day, freq)
    if calendar is None:
        following = np.append(keys[1:], keys[-1] + 1)
    else:
        pos = session_positions(day, calendar=calendar)
        arr = _session_ns(calendar)
        if pos[-1] + 1 >= arr.size:
            raise CalendarError(
                f"index: {pd.Timestamp(day[-1]).date()} is the {calendar} window's last session"
            )
        following = _period_keys(arr[pos + 1], freq)
    return pd.DatetimeIndex(day[keys != following].view("datetime64[ns]"), name="date")
