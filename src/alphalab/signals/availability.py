"""When may a signal value first be used? The one place ``available_at`` is computed.

DESIGN.md §4: ``available_at`` is the first session at which a value may be traded; nothing
downstream may use a value before it. The panel puts each value on the row of its
``available_at`` (see :mod:`alphalab.panel`), where the engine treats it as known at that
session's close and trades ``lag`` sessions later (DESIGN.md §6).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import numpy as np
import pandas as pd

from alphalab.calendar import (
    CalendarError,
    DatesLike,
    search_sessions,
    sessions_at,
    to_day_ns,
)
from alphalab.config import SignalParams

EASTERN = "America/New_York"
_NAT = np.iinfo(np.int64).min
_DAY_NS = 86_400_000_000_000

NoTimeRule = Literal["event_date", "next_session"]


class AvailabilityError(ValueError):
    """Event dates or acceptance times break the availability rules."""


def _eastern_clock(accepted_at: DatesLike, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Split acceptance timestamps into (US/Eastern day in ns, time of day in ns); NaT → NaT."""
    raw = pd.Series(accepted_at).reset_index(drop=True)
    try:
        parsed = pd.to_datetime(raw)
    except (ValueError, TypeError):
        try:  # strings with mixed UTC offsets (EST and EDT in one column)
            parsed = pd.to_datetime(raw, utc=True)
        except (ValueError, TypeError) as exc:
            raise AvailabilityError(f"accepted_at: cannot parse as timestamps ({exc})") from exc
    idx = pd.DatetimeIndex(parsed)
    if len(idx) != n:
        raise AvailabilityError(
            f"accepted_at: length {len(idx)} differs from event_date length {n}"
        )
    if idx.tz is not None:
        idx = idx.tz_convert(EASTERN).tz_localize(None)
    ns = idx.as_unit("ns").asi8
    nat = ns == _NAT
    day = np.where(nat, _NAT, ns - ns % _DAY_NS)
    tod = np.where(nat, 0, ns % _DAY_NS)
    return day, tod


def _cutoff_ns(cutoff: dt.time) -> int:
    return (
        cutoff.hour * 3600 + cutoff.minute * 60 + cutoff.second
    ) * 1_000_000_000 + cutoff.microsecond * 1000


def available_at(
    event_date: DatesLike,
    accepted_at: DatesLike | None = None,
    *,
    after_hours_cutoff: dt.time = dt.time(17, 30),
    lag: int = 0,
    calendar: str = "XNYS",
    if_no_time: NoTimeRule = "event_date",
) -> pd.DatetimeIndex:
    """First session at which each event's value may be used (vectorized).

    The rule, per row (all times US/Eastern, sessions of ``calendar``):

    1. ``base`` = the first session on or after ``event_date`` (weekends and holidays roll
       forward).
    2. If ``accepted_at`` is known: ``acc`` = the first session on or after the acceptance
       date when the acceptance time is at or before ``after_hours_cutoff``, otherwise the
       first session strictly *after* the acceptance date (Friday 18:00 → Monday; a
       holiday morning → the next session). The row uses ``max(base, acc)``: the later, so
       acceptance data never moves a value earlier than its event date.
    3. If ``accepted_at`` is missing (``None`` or NaT in that row): ``if_no_time="event_date"``
       (default) uses ``base``; ``"next_session"`` uses the first session strictly after the
       event date.
    4. Finally move ``lag`` more sessions forward.

    The default for missing acceptance times uses the event date itself. For EDGAR filings
    this is conservative in the sense that matters: the filing date already moves a filing
    accepted after 17:30 to the next business day (Regulation S-T Rule 13(a)(2)), the value
    sits on the row of its filing-date session and is treated as known only at that session's
    *close*, and the studies trade ``lag=1`` sessions after that close (DESIGN.md §6). A filing
    accepted between the 16:00 close and 17:30 is therefore never traded on its own session's
    close when the engine's lag is at least 1. Choose ``if_no_time="next_session"`` (or
    ``lag≥1``) to be stricter when the engine runs with ``lag=0``.

    The cutoff is the same on early-close days (the rule is about dissemination, not the
    closing bell).

    Parameters
    ----------
    event_date : array-like of date-like
        Event (filing) dates, tz-naive; required in every row.
    accepted_at : array-like of datetime-like, optional
        Acceptance timestamps: tz-aware (converted to US/Eastern) or tz-naive (taken as
        US/Eastern wall time). NaT where unknown.
    after_hours_cutoff : datetime.time
        Acceptances strictly after this time count from the next session.
    lag : int
        Extra sessions to wait (≥ 0).
    calendar : str
        An ``exchange_calendars`` name.
    if_no_time : {"event_date", "next_session"}
        Rule for rows without an acceptance time (see step 3).

    Returns
    -------
    pandas.DatetimeIndex
        Session dates (``datetime64[ns]``), one per input row.

    Raises
    ------
    AvailabilityError
        On a missing event date, a negative lag, mismatched lengths or a date outside the
        calendar window.

    References
    ----------
    U.S. SEC, Regulation S-T, 17 CFR 232.13(a)(2): filings submitted after 5:30 p.m. Eastern
    are deemed filed on the next business day. EDGAR Filer Manual, Vol. I, filing-date rules.

    Examples
    --------
    >>> available_at(["2023-03-10"], ["2023-03-10 18:05"]).strftime("%Y-%m-%d").tolist()
    ['2023-03-13']
    """
    if lag < 0:
        raise AvailabilityError(f"lag: {lag} must be ≥ 0 sessions")
    if if_no_time not in ("event_date", "next_session"):
        raise AvailabilityError(
            f"if_no_time: {if_no_time!r} must be 'event_date' or 'next_session'"
        )
    try:
        day = to_day_ns(event_date, what="event_date")
        if (day == _NAT).any():
            row = int(np.flatnonzero(day == _NAT)[0]) + 1
            raise AvailabilityError(f"event_date: missing in row {row} (every event needs a date)")
        base = search_sessions(day, calendar, side="left", what="event_date")
        if if_no_time == "next_session":
            fallback = search_sessions(day, calendar, side="right", what="event_date")
        else:
            fallback = base
        pos = fallback
        if accepted_at is not None:
            acc_day, tod = _eastern_clock(accepted_at, day.size)
            late = tod > _cutoff_ns(after_hours_cutoff)
            on = search_sessions(acc_day, calendar, side="left", what="accepted_at")
            after = search_sessions(acc_day, calendar, side="right", what="accepted_at")
            acc = np.where(late, after, on)
            pos = np.where(acc >= 0, np.maximum(base, acc), fallback)
        return sessions_at(pos + lag, calendar, what="available_at")
    except CalendarError as exc:
        raise AvailabilityError(str(exc)) from exc


def available_at_from_params(
    event_date: DatesLike,
    accepted_at: DatesLike | None = None,
    *,
    signal: SignalParams,
    calendar: str = "XNYS",
) -> pd.DatetimeIndex:
    """:func:`available_at` with the cutoff and lag of a :class:`~alphalab.config.SignalParams`."""
    return available_at(
        event_date,
        accepted_at,
        after_hours_cutoff=signal.after_hours_cutoff,
        lag=signal.availability_lag,
        calendar=calendar,
    )
