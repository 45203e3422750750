"""Session calendar: sessions, roll-forward, shifting and period ends.

References checked against: the NYSE 2023 holiday list as published by NYSE (hand-typed
below) on top of pandas' weekday calendar; pandas ``to_period(...).groupby().max()`` for
period ends. Exact equality throughout (dates).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphalab.calendar import (
    CalendarError,
    is_session,
    next_session,
    period_ends,
    session_on_or_after,
    session_positions,
    sessions,
    shift_sessions,
)

NYSE_HOLIDAYS_2023 = pd.DatetimeIndex([
    "2023-01-02", "2023-01-16", "2023-02-20", "2023-04-07", "2023-05-29",
    "2023-06-19", "2023-07-04", "2023-09-04", "2023-11-23", "2023-12-25",
])  # fmt: skip


def test_sessions_2023_equal_weekdays_minus_published_holidays() -> None:
    expected = pd.bdate_range("2023-01-01", "2023-12-31").difference(NYSE_HOLIDAYS_2023)
    got = sessions("2023-01-01", "2023-12-31")
    assert len(got) == 250
    assert got.equals(pd.DatetimeIndex(expected, name="date").as_unit("ns"))
    assert got.dtype == np.dtype("datetime64[ns]")


def test_sessions_inclusive_bounds_and_non_session_bounds() -> None:
    assert sessions("2023-07-03", "2023-07-05").strftime("%F").tolist() == [
        "2023-07-03",
        "2023-07-05",
    ]
    assert sessions("2023-07-04", "2023-07-04").empty


def test_roll_forward_holidays_and_weekends() -> None:
    got = session_on_or_after(["2023-07-04", "2023-04-07", "2023-04-08", "2023-04-10", None])
    assert got[:4].strftime("%F").tolist() == [
        "2023-07-05",
        "2023-04-10",
        "2023-04-10",
        "2023-04-10",
    ]
    assert pd.isna(got[4])


def test_next_session_is_strictly_after_and_ignores_time() -> None:
    assert next_session("2023-03-10 09:00") == pd.Timestamp("2023-03-13")  # Friday → Monday
    assert next_session("2023-04-06") == pd.Timestamp("2023-04-10")  # Good Friday skipped
    assert next_session("2023-07-04") == pd.Timestamp("2023-07-05")


def test_shift_sessions_rolls_non_sessions_forward_first() -> None:
    got = shift_sessions(["2023-03-11"] * 3 + ["2023-07-03"], [0, -1, 1, 1])
    assert got.strftime("%F").tolist() == ["2023-03-13", "2023-03-10", "2023-03-14", "2023-07-05"]


@settings(max_examples=60, deadline=None)
@given(i=st.integers(0, 19_400), n=st.integers(-300, 300))  # j + n stays inside 1960-2039
def test_shift_sessions_matches_array_offsets(i: int, n: int) -> None:
    all_sessions = sessions("1960-01-01", "2039-12-31")
    j = i + 400
    got = shift_sessions(all_sessions[j : j + 1], n)[0]
    assert got == all_sessions[j + n]
    assert shift_sessions([got], -n)[0] == all_sessions[j]


def test_is_session_and_positions() -> None:
    assert is_session(["2023-07-04", "2023-07-05", None]).tolist() == [False, True, False]
    pos = session_positions(["2023-07-03", "2023-07-05"])
    assert pos[1] - pos[0] == 1
    with pytest.raises(CalendarError, match="2023-07-04 is not a XNYS session"):
        session_positions(["2023-07-04"])


@pytest.mark.parametrize(
    ("freq", "period"), [("weekly", "W-SUN"), ("monthly", "M"), ("quarterly", "Q")]
)
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_period_ends_match_pandas_periods(freq: str, period: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    base = sessions("2015-01-01", "2018-12-31")
    idx = base[np.sort(rng.choice(base.size, size=300, replace=False))]
    expected = idx.to_series().groupby(idx.to_period(period)).max()
    assert period_ends(idx, freq).equals(pd.DatetimeIndex(expected.to_numpy(), name="date"))  # type: ignore[arg-type]


def test_period_ends_with_calendar_excludes_incomplete_trailing_period() -> None:
    idx = sessions("2022-10-03", "2022-12-28")
    assert period_ends(idx, "monthly").strftime("%F").tolist() == [
        "2022-10-31", "2022-11-30", "2022-12-28",
    ]  # fmt: skip
    assert period_ends(idx, "monthly", calendar="XNYS").strftime("%F").tolist() == [
        "2022-10-31", "2022-11-30",
    ]  # fmt: skip
    assert period_ends(idx, "daily").equals(idx)


def test_calendar_errors_name_the_problem() -> None:
    with pytest.raises(CalendarError, match="not an exchange_calendars name"):
        sessions("2020-01-01", "2020-02-01", calendar="NOPE")
    with pytest.raises(CalendarError, match="no following session"):
        session_on_or_after(["2045-01-01"])
    with pytest.raises(CalendarError, match="tz-naive"):
        session_on_or_after(pd.DatetimeIndex(["2023-01-03"]).tz_localize("UTC"))
    with pytest.raises(CalendarError, match="strictly increasing"):
        period_ends(pd.DatetimeIndex(["2023-01-04", "2023-01-03"]), "monthly")
    with pytest.raises(CalendarError, match="freq"):
        period_ends(sessions("2023-01-03", "2023-01-10"), "hourly")  # type: ignore[arg-type]
