"""``available_at``: the after-hours cutoff, weekend/holiday roll-forward and session lags.

Checked against hand-worked 2023 cases (NYSE holidays 2023-04-07 Good Friday, 2023-07-04)
and against an independent day-by-day scalar implementation of the documented rule.
Exact equality (dates).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphalab.calendar import is_session, sessions
from alphalab.config import SignalParams
from alphalab.signals import AvailabilityError, available_at, available_at_from_params

CASES = [
    # event_date, accepted_at (ET wall clock or None), lag, expected
    ("2023-03-08", "2023-03-08 10:15", 0, "2023-03-08"),  # in hours → same session
    ("2023-03-08", "2023-03-08 17:30", 0, "2023-03-08"),  # at the cutoff → same session
    ("2023-03-08", "2023-03-08 17:31", 0, "2023-03-09"),  # after hours → next session
    ("2023-03-10", "2023-03-10 18:05", 0, "2023-03-13"),  # Friday after hours → Monday
    ("2023-03-11", "2023-03-11 11:00", 0, "2023-03-13"),  # Saturday → Monday
    ("2023-07-04", None, 0, "2023-07-05"),  # holiday rolls forward
    ("2023-07-03", "2023-07-03 18:00", 0, "2023-07-05"),  # after hours before a holiday
    ("2023-04-07", None, 0, "2023-04-10"),  # Good Friday rolls forward
    ("2023-04-06", "2023-04-06 20:00", 0, "2023-04-10"),  # after hours before Good Friday
    ("2023-03-10", None, 2, "2023-03-14"),  # lag counts sessions
    ("2023-04-06", None, 1, "2023-04-10"),  # lag skips the holiday
    ("2023-03-10", "2023-03-10 18:05", 1, "2023-03-14"),
]


@pytest.mark.parametrize(("event", "accepted", "lag", "expected"), CASES)
def test_hand_worked_cases(event: str, accepted: str | None, lag: int, expected: str) -> None:
    got = available_at([event], [accepted], lag=lag)
    assert got[0] == pd.Timestamp(expected)


def test_tz_aware_acceptance_is_converted_to_eastern_across_dst() -> None:
    # 2023-03-12 DST starts: 21:45 UTC is 16:45 EST before, 17:45 EDT after.
    accepted = pd.to_datetime(
        ["2023-03-10 21:45", "2023-03-13 21:45", "2023-03-13 21:15"], utc=True
    )
    got = available_at(["2023-03-10", "2023-03-13", "2023-03-13"], accepted)
    assert got.strftime("%F").tolist() == ["2023-03-10", "2023-03-14", "2023-03-13"]


def test_acceptance_never_moves_a_value_before_its_event_date() -> None:
    got = available_at(["2023-03-14"], ["2023-03-10 09:00"])
    assert got[0] == pd.Timestamp("2023-03-14")


def test_missing_time_rule_and_custom_cutoff() -> None:
    assert available_at(["2023-03-10"], if_no_time="next_session")[0] == pd.Timestamp("2023-03-13")
    early = available_at(["2023-03-08"], ["2023-03-08 16:30"], after_hours_cutoff=dt.time(16, 0))
    assert early[0] == pd.Timestamp("2023-03-09")


def test_from_params_uses_cutoff_and_lag() -> None:
    params = SignalParams(kind="file", dimensions={"D": {"weight": 1}}, availability_lag=1)
    got = available_at_from_params(["2023-03-10"], ["2023-03-10 17:45"], signal=params)
    assert got[0] == pd.Timestamp("2023-03-14")


def test_bad_input_raises_clearly() -> None:
    with pytest.raises(AvailabilityError, match="event_date: missing in row 2"):
        available_at(["2023-03-10", None])
    with pytest.raises(AvailabilityError, match="lag"):
        available_at(["2023-03-10"], lag=-1)
    with pytest.raises(AvailabilityError, match="length"):
        available_at(["2023-03-10"], ["2023-03-10 10:00", "2023-03-10 11:00"])
    with pytest.raises(AvailabilityError, match="no following session"):
        available_at(["2041-06-01"])


# -- independent scalar implementation of the documented rule -------------------------------
SESSIONS = set(sessions("1999-12-01", "2031-01-31"))
DAY = pd.Timedelta(days=1)


def _on_or_after(d: pd.Timestamp) -> pd.Timestamp:
    while d not in SESSIONS:
        d += DAY
    return d


def _reference(
    event: pd.Timestamp, accepted: pd.Timestamp | None, lag: int, cutoff: dt.time
) -> pd.Timestamp:
    out = _on_or_after(event.normalize())
    if accepted is not None and not pd.isna(accepted):
        day = accepted.normalize()
        acc = _on_or_after(day + DAY) if accepted.time() > cutoff else _on_or_after(day)
        out = max(out, acc)
    for _ in range(lag):
        out = _on_or_after(out + DAY)
    return out


dates = st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 1))
times = st.one_of(st.none(), st.times())


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(st.tuples(dates, times, st.integers(-3, 3)), min_size=1, max_size=30),
    lag=st.integers(0, 5),
    cutoff=st.times(),
)
def test_matches_reference_and_invariants(rows: list, lag: int, cutoff: dt.time) -> None:
    event = pd.DatetimeIndex([pd.Timestamp(d) for d, _, _ in rows]).as_unit("ns")
    accepted = [
        None if t is None else pd.Timestamp.combine(d + dt.timedelta(days=k), t) for d, t, k in rows
    ]
    got = available_at(event, accepted, lag=lag, after_hours_cutoff=cutoff)
    expected = [_reference(e, a, lag, cutoff) for e, a in zip(event, accepted, strict=True)]
    assert list(got) == expected
    assert (got >= event).all()
    assert is_session(got).all()


@settings(max_examples=100, deadline=None)
@given(days=st.lists(dates, min_size=2, max_size=40), lag=st.integers(0, 5))
def test_monotone_in_event_date(days: list[dt.date], lag: int) -> None:
    event = pd.DatetimeIndex(sorted(days))
    got = available_at(event, lag=lag)
    assert (np.diff(got.asi8) >= 0).all()


@settings(max_examples=100, deadline=None)
@given(day=dates, t=st.lists(st.times(), min_size=2, max_size=20))
def test_monotone_in_acceptance_time(day: dt.date, t: list[dt.time]) -> None:
    accepted = [pd.Timestamp.combine(day, x) for x in sorted(t)]
    got = available_at([day] * len(t), accepted)
    assert (np.diff(got.asi8) >= 0).all()
