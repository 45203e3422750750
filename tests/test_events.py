"""Unit tests for alphalab.events: alignment, exclusions, missing data, groups, errors.

Tolerances: ``RTOL = 1e-12`` for identities that hold exactly up to float rounding.
"""

from __future__ import annotations

import json

import hypothesis.extra.numpy as hnp
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphalab.events import (
    EventStudyError,
    average_cross_correlation,
    calendar_time_alpha,
    event_study,
    event_study_arrays,
    residual_correlation,
    standardized_ranks,
    window_label,
)
from alphalab.io import to_json

RTOL = 1e-12
EST = (-60, -6)
WINDOWS = [(-1, 1), (0, 0), (0, 5)]


def _market(n_firms: int = 8, n_days: int = 120, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2023-01-02", periods=n_days)
    mkt = pd.Series(rng.normal(0.0005, 0.01, n_days), index=dates)
    beta = rng.uniform(0.6, 1.4, n_firms)
    ret = mkt.to_numpy()[:, None] * beta + rng.normal(0, 0.015, (n_days, n_firms))
    return pd.DataFrame(ret, index=dates, columns=[f"T{i}" for i in range(n_firms)]), mkt


def _run(ret: pd.DataFrame, mkt: pd.Series, events: pd.DataFrame, **kw: object):
    opts = {"estimation_window": EST, "event_windows": WINDOWS, "min_estimation_obs": 40}
    opts.update(kw)
    return event_study(ret, events, market=mkt, **opts)  # type: ignore[arg-type]


def test_window_label() -> None:
    assert [window_label(w) for w in [(-1, 1), (0, 0), (0, 5), (-5, -2)]] == [
        "m1_p1", "0_0", "0_p5", "m5_m2",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("est", "windows", "match"),
    [
        ((-60, -6), [(-6, 0)], "overlaps the estimation window"),
        ((-60, -6), [(2, 1)], "start <= end"),
        ((-6, -60), [(0, 0)], "start must not exceed end"),
        ((-60, -6), [], "at least one window"),
    ],
)
def test_bad_windows_raise(est: tuple[int, int], windows: list, match: str) -> None:
    ret, mkt = _market()
    events = pd.DataFrame({"ticker": ["T0"], "event_date": [ret.index[80]]})
    with pytest.raises(EventStudyError, match=match):
        event_study(ret, events, market=mkt, estimation_window=est, event_windows=windows)


def test_event_day_alignment_in_sessions() -> None:
    """Day 0 is the event session; AR columns are sessions relative to it (not calendar days)."""
    ret, mkt = _market()
    day0 = ret.index[80]
    res = _run(ret, mkt, pd.DataFrame({"ticker": ["T3"], "event_date": [day0]}))
    ab = res.abnormal.iloc[0]
    a, b = res.firms.loc[0, ["alpha", "beta"]].to_numpy(float)
    for d in (-1, 0, 1, 5):
        exp = ret["T3"].iloc[80 + d] - a - b * mkt.iloc[80 + d]
        np.testing.assert_allclose(ab.loc[d], exp, rtol=RTOL)
    np.testing.assert_allclose(res.firms.loc[0, "CAR_m1_p1"], ab.loc[-1:1].sum(), rtol=RTOL)
    assert res.firms.loc[0, "n_est"] == EST[1] - EST[0] + 1


def test_weekend_event_rolls_to_next_session() -> None:
    ret, mkt = _market()
    saturday = pd.Timestamp("2023-05-06")
    assert saturday.day_of_week == 5 and saturday not in ret.index
    sat = _run(ret, mkt, pd.DataFrame({"ticker": ["T1"], "event_date": [saturday]}))
    mon = _run(ret, mkt, pd.DataFrame({"ticker": ["T1"], "event_date": ["2023-05-08"]}))
    assert sat.firms.loc[0, "event_session"] == pd.Timestamp("2023-05-08")
    assert sat.firms.loc[0, "event_date"] == saturday
    cols = [c for c in sat.firms.columns if c.startswith(("CAR", "SCAR", "BHAR"))]
    np.testing.assert_allclose(sat.firms[cols].to_numpy(float), mon.firms[cols].to_numpy(float))


def test_exclusions_are_counted_with_reasons() -> None:
    ret, mkt = _market()
    ret.iloc[:70, ret.columns.get_loc("T2")] = np.nan  # rows 70..74 of the window 20..74 left
    events = pd.DataFrame(
        {"ticker": ["T0", "ZZZ", "T1", "T1", "T2"],
         "event_date": [ret.index[80], ret.index[80], "2020-01-01", "2030-01-01", ret.index[80]]}
    )  # fmt: skip
    res = _run(ret, mkt, events)
    reasons = dict(zip(res.excluded["event"], res.excluded["reason"], strict=True))
    assert reasons[1] == "ticker not in returns"
    assert reasons[2].startswith("event_date before the first session")
    assert reasons[3].startswith("event_date after the last session")
    assert reasons[4] == "n_est=5 < min_estimation_obs=40"
    assert res.firms["event"].tolist() == [0]
    assert res.settings["n_events"] == 5
    assert res.settings["n_used"] + res.settings["n_excluded"] == 5
    assert (res.summary["n"] <= 1).all()


def test_singular_design_excluded() -> None:
    ret, mkt = _market()
    mkt.iloc[:76] = 0.001  # constant market over the whole estimation window of an event at 80
    res = _run(ret, mkt, pd.DataFrame({"ticker": ["T0"], "event_date": [ret.index[80]]}))
    assert res.excluded["reason"].iloc[0].startswith("singular estimation design")


def test_missing_return_in_window_is_counted() -> None:
    ret, mkt = _market()
    ret.iloc[81, ret.columns.get_loc("T4")] = np.nan  # day +1 of T4
    events = pd.DataFrame({"ticker": ret.columns, "event_date": ret.index[80]})
    res = _run(ret, mkt, events)
    row = res.firms.set_index("ticker").loc["T4"]
    assert np.isnan(row["CAR_m1_p1"]) and np.isnan(row["BHAR_0_p5"])
    assert np.isfinite(row["CAR_0_0"])
    summ = res.summary.set_index(["group", "window"])
    assert summ.loc[("all", "m1_p1"), "n"] == 7 and summ.loc[("all", "m1_p1"), "n_missing"] == 1
    assert summ.loc[("all", "0_0"), "n"] == 8 and summ.loc[("all", "0_0"), "n_missing"] == 0


def test_window_past_end_of_data_is_missing() -> None:
    ret, mkt = _market()
    events = pd.DataFrame({"ticker": ["T0"], "event_date": [ret.index[-3]]})
    res = _run(ret, mkt, events)
    assert np.isfinite(res.firms.loc[0, "CAR_m1_p1"])
    assert np.isnan(res.firms.loc[0, "CAR_0_p5"])
    summ = res.summary.set_index("window")
    assert summ.loc["0_p5", "n_missing"] == 1


@pytest.mark.parametrize(
    ("kwargs", "events", "match"),
    [
        ({}, pd.DataFrame({"ticker": ["T0", "T0"], "event_date": ["2023-04-03"] * 2}), "rows"),
        ({}, pd.DataFrame({"symbol": ["T0"], "event_date": ["2023-04-03"]}), "ticker"),
        ({"model": "ff3"}, None, "factors"),
        ({"model": "capm"}, None, "model 'capm'"),
        ({"min_estimation_obs": 3}, None, "min_estimation_obs=3"),
        ({"group_col": "q"}, None, r"\['q'\]"),
    ],
)
def test_bad_input_raises(kwargs: dict, events: pd.DataFrame | None, match: str) -> None:
    ret, mkt = _market()
    ev = (
        events
        if events is not None
        else pd.DataFrame({"ticker": ["T0"], "event_date": ["2023-04-03"]})
    )
    with pytest.raises(EventStudyError, match=match):
        _run(ret, mkt, ev, **kwargs)


def test_market_requires_series() -> None:
    ret, _ = _market()
    ev = pd.DataFrame({"ticker": ["T0"], "event_date": [ret.index[80]]})
    with pytest.raises(EventStudyError, match="market: required"):
        event_study(ret, ev, estimation_window=EST, event_windows=WINDOWS, min_estimation_obs=40)


def test_market_adjusted_and_constant_mean() -> None:
    ret, mkt = _market()
    ev = pd.DataFrame({"ticker": ["T5"], "event_date": [ret.index[80]]})
    adj = _run(ret, mkt, ev, model="market_adjusted")
    exp = (ret["T5"] - mkt).iloc[79:82].sum()
    np.testing.assert_allclose(adj.firms.loc[0, "CAR_m1_p1"], exp, rtol=RTOL)
    sd = (ret["T5"] - mkt).iloc[80 + EST[0] : 80 + EST[1] + 1].std(ddof=1)
    np.testing.assert_allclose(adj.firms.loc[0, "sigma"], sd, rtol=RTOL)
    cm = _run(ret, mkt, ev, model="constant_mean")
    mu = ret["T5"].iloc[80 + EST[0] : 80 + EST[1] + 1].mean()
    np.testing.assert_allclose(cm.firms.loc[0, "mu"], mu, rtol=RTOL)
    np.testing.assert_allclose(cm.firms.loc[0, "CAR_0_0"], ret["T5"].iloc[80] - mu, rtol=RTOL)


def test_groups_summary_and_difference() -> None:
    ret, mkt = _market(n_firms=12)
    ev = pd.DataFrame({"ticker": ret.columns, "event_date": ret.index[80], "q": [1, 2, 3] * 4})
    ev.loc[0, "q"] = np.nan  # no label: in "all" only
    res = _run(ret, mkt, ev, group_col="q")
    summ = res.summary.set_index(["group", "window"])
    assert summ.loc[("all", "0_0"), "n"] == 12
    assert sum(summ.loc[(g, "0_0"), "n"] for g in (1.0, 2.0, 3.0)) == 11
    firms = res.firms
    top = firms.loc[firms["group"] == 3, "CAR_0_p5"]
    bot = firms.loc[firms["group"] == 1, "CAR_0_p5"]
    diff = res.difference.set_index("window").loc["0_p5"]
    assert (diff["top"], diff["bottom"]) == (3.0, 1.0)
    np.testing.assert_allclose(diff["diff_car"], top.mean() - bot.mean(), rtol=RTOL)
    np.testing.assert_allclose(summ.loc[(3.0, "0_p5"), "caar"], top.mean(), rtol=RTOL)


def test_path_ends_at_window_caar() -> None:
    ret, mkt = _market()
    ret.iloc[82, 2] = np.nan  # day +2 of T2: T2 leaves the path from day +2 on
    res = _run(ret, mkt, pd.DataFrame({"ticker": ret.columns, "event_date": ret.index[80]}))
    path = res.path[res.path["group"] == "all"].set_index("day")
    assert path.index.tolist() == list(range(-1, 6))
    summ = res.summary.set_index("window")
    cum = res.abnormal.loc[:, -1:5].sum(axis=1, skipna=False)
    assert path.loc[1, "n"] == 8 and path.loc[2, "n"] == 7
    np.testing.assert_allclose(path.loc[5, "caar"], cum.mean(), rtol=RTOL)
    np.testing.assert_allclose(path.loc[1, "caar"], summ.loc["m1_p1", "caar"], rtol=RTOL)
    assert (path["lower"] < path["caar"]).all() and (path["caar"] < path["upper"]).all()


def test_partial_overlap_scales_correlation() -> None:
    """Two firms with event days one session apart and a 3-day window share 2 of 3 days."""
    rng = np.random.default_rng(2)
    common = rng.normal(size=80)
    z = np.stack([common[1:61] + rng.normal(size=60), common[0:60] + rng.normal(size=60)])
    z -= z.mean(1, keepdims=True)
    # firm 0's event is one session after firm 1's, so its day t is firm 1's day t + 1
    corr = residual_correlation(z, np.array([1, 0]), min_overlap=10)
    a, b = z[0, :-1], z[1, 1:]
    pair = (a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum())
    np.testing.assert_allclose(corr[0, 1], pair, rtol=RTOL)
    r_bar = average_cross_correlation(corr, np.array([1, 0]), np.array([True, True]), 3)
    np.testing.assert_allclose(r_bar, pair * 2 / 3, rtol=RTOL)
    far = average_cross_correlation(corr, np.array([10, 0]), np.array([True, True]), 3)
    assert far == 0.0


def test_metrics_are_json_ready() -> None:
    ret, mkt = _market()
    ev = pd.DataFrame({"ticker": ret.columns, "event_date": ret.index[80], "q": [1, 2] * 4})
    res = _run(ret, mkt, ev, group_col="q")
    m = res.metrics()
    assert {"car_all_m1_p1", "car_1_0_p5", "car_diff_0_0"} <= set(m)
    assert m["car_all_0_0"]["n_obs"] == 8
    json.loads(to_json(m))


def test_calendar_time_reports_empty_months_and_errors() -> None:
    dates = pd.bdate_range("2020-01-01", "2021-12-31")
    ret = pd.DataFrame({"A": 0.001, "B": 0.002}, index=dates)
    months = pd.period_range("2020-01", "2021-12", freq="M")
    rng = np.random.default_rng(0)
    fac = pd.DataFrame({"mkt_rf": rng.normal(0, 0.04, 24), "rf": 0.0}, index=months)
    ev = pd.DataFrame({"ticker": ["A", "B"], "event_date": ["2020-01-10", "2020-09-10"]})
    res = calendar_time_alpha(ret, ev, fac, horizon_months=3, model="capm", nw_lags=1)
    assert [str(m) for m in res.empty_months] == ["2020-05", "2020-06", "2020-07", "2020-08",
                                                 "2020-09"]  # fmt: skip
    assert res.n_months == 6
    with pytest.raises(EventStudyError, match="missing column"):
        calendar_time_alpha(ret, ev, fac, model="ff3")
    with pytest.raises(EventStudyError, match="horizon_months"):
        calendar_time_alpha(ret, ev, fac, horizon_months=0, model="capm")


@settings(max_examples=25, deadline=None)
@given(
    hnp.arrays(np.int64, (3, 12), elements=st.integers(-500, 500), unique=True),
    st.floats(0.1, 10.0),
)
def test_ranks_invariant_to_increasing_transform(ticks: np.ndarray, scale: float) -> None:
    ar = ticks / 1000.0  # abnormal returns on a 0.1 % grid, so exp() keeps them distinct
    u = standardized_ranks(ar)
    np.testing.assert_allclose(standardized_ranks(np.exp(scale * ar) - 3.0), u, rtol=RTOL)
    np.testing.assert_allclose(u.sum(-1), 0.0, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(st.floats(0.2, 5.0), st.integers(0, 2**32 - 1))
def test_standardized_returns_scale_free(c: float, seed: int) -> None:
    """Scaling firm and market returns by c > 0 scales CARs by c and leaves SCARs and tests."""
    rng = np.random.default_rng(seed)
    rel = np.arange(-40, 4)
    m = rng.normal(0, 0.01, (5, rel.size))
    y = 0.8 * m + rng.normal(0, 0.02, (5, rel.size))

    def run(scale: float):
        x = np.stack([np.ones_like(m), scale * m], -1)
        return event_study_arrays(
            scale * y, x, np.zeros_like(y), rel, estimation_window=(-40, -3),
            event_windows=[(0, 2)], min_estimation_obs=20,
        )  # fmt: skip

    a, b = run(1.0), run(c)
    np.testing.assert_allclose(b.car["0_p2"], c * a.car["0_p2"], rtol=1e-9)
    np.testing.assert_allclose(b.scar["0_p2"], a.scar["0_p2"], rtol=1e-9)
    for name in ("bmp_stat", "kp_stat", "corrado_stat", "patell_stat"):
        np.testing.assert_allclose(b.tests[("0_p2", None)][name],
                                   a.tests[("0_p2", None)][name], rtol=1e-9)  # fmt: skip


def test_calendar_estimation_end_equals_relative_window() -> None:
    """Common date at row 100, estimation_end at row 60: the same as the window (−94, −40)."""
    ret, mkt = _market(n_days=130)
    ev = pd.DataFrame({"ticker": ret.columns, "event_date": ret.index[100]})
    cal = _run(ret, mkt, ev, estimation_end=ret.index[60])
    rel = _run(ret, mkt, ev, estimation_window=(-94, -40))
    assert (cal.firms["est_end"] == ret.index[60]).all()
    assert (cal.firms["est_start"] == ret.index[6]).all()
    assert (cal.firms["n_est"] == 55).all()
    num = cal.summary.select_dtypes("number").columns
    np.testing.assert_allclose(cal.summary[num], rel.summary[num], rtol=RTOL)
    np.testing.assert_allclose(cal.abnormal, rel.abnormal, rtol=RTOL)


def test_calendar_estimation_end_per_firm_dates() -> None:
    ret, mkt = _market(n_days=130)
    ev = pd.DataFrame({"ticker": ["T0", "T1", "T2"], "event_date": ret.index[[90, 110, 55]]})
    res = _run(ret, mkt, ev, estimation_end=ret.index[60])
    assert (res.firms["est_end"] == ret.index[60]).all()
    assert res.firms["ticker"].tolist() == ["T0", "T1"]
    assert res.excluded["reason"].tolist() == [
        f"estimation_end {ret.index[60].date()} is not before the event window (day -1)"
    ]
    with pytest.raises(EventStudyError, match="no event can be studied"):
        _run(ret, mkt, ev.iloc[[2]], estimation_end=ret.index[60])
