"""Unit tests for alphalab.regressions: forward-return panel timing, horse race, errors.

Tolerances: ``RTOL = 1e-12`` for identities exact up to float rounding.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphalab.regressions import (
    RegressionError,
    fama_macbeth,
    forward_returns_panel,
    horse_race,
    newey_west_mean_se,
    panel_regression,
)

RTOL = 1e-12


def _wide() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sessions Jan–Apr 2024; A earns 1 % a day, B 2 % a day; score = row number."""
    dates = pd.bdate_range("2024-01-02", "2024-04-30")
    ret = pd.DataFrame({"A": 0.01, "B": 0.02}, index=dates)
    score = pd.DataFrame({"A": np.arange(dates.size, dtype=float), "B": -np.arange(dates.size)},
                         index=dates)  # fmt: skip
    return ret, score


def test_forward_returns_monthly_point_in_time() -> None:
    ret, score = _wide()
    out = forward_returns_panel(ret, score, periods="monthly")
    assert out.index.names == ["ticker", "date"]
    ends = pd.DatetimeIndex(["2024-01-31", "2024-02-29", "2024-03-29"])  # last sessions
    assert out.loc["A"].index.equals(ends.rename("date"))
    rows = [ret.index.get_loc(d) for d in ends]
    np.testing.assert_allclose(out.loc["A", "score"], rows)
    # the forward return compounds the sessions strictly after the period end, up to the next
    n_next = np.diff([*rows, ret.index.size - 1])
    np.testing.assert_allclose(out.loc["A", "fwd_ret"], 1.01**n_next - 1, rtol=RTOL)
    np.testing.assert_allclose(out.loc["B", "fwd_ret"], 1.02**n_next - 1, rtol=RTOL)


def test_forward_returns_lag_and_dates() -> None:
    ret, score = _wide()
    ret.loc["2024-02-01", "A"] = 0.5  # first session after the January end
    plain = forward_returns_panel(ret, score, periods="monthly")
    lagged = forward_returns_panel(ret, score, periods="monthly", lag=1)
    jan = pd.Timestamp("2024-01-31")
    n_feb = len(ret.loc["2024-02"])  # sessions 2024-02-01 … 2024-02-29 (21 weekdays)
    assert n_feb == 21
    np.testing.assert_allclose(plain.loc[("A", jan), "fwd_ret"], 1.5 * 1.01 ** (n_feb - 1) - 1)
    np.testing.assert_allclose(lagged.loc[("A", jan), "fwd_ret"], 1.01**n_feb - 1, rtol=RTOL)
    # given dates roll back to the last session at or before them (2024-03-02 is a Saturday)
    at = forward_returns_panel(ret, score, periods=["2024-03-02", "2024-01-15", "2024-04-30"])
    assert at.loc["A"].index.tolist() == [pd.Timestamp("2024-01-15"), pd.Timestamp("2024-03-01")]
    q = forward_returns_panel(ret, score, periods="quarterly")
    assert q.loc["A"].index.tolist() == [pd.Timestamp("2024-03-29")]


def test_forward_returns_missing_wipeout_and_score_age() -> None:
    ret, score = _wide()
    ret.loc["2024-02-05", "A"] = np.nan
    ret.loc["2024-03-05", "B"] = -1.0
    strict = forward_returns_panel(ret, score, periods="monthly")
    loose = forward_returns_panel(ret, score, periods="monthly", max_missing=1)
    jan, feb = pd.Timestamp("2024-01-31"), pd.Timestamp("2024-02-29")
    assert np.isnan(strict.loc[("A", jan), "fwd_ret"])
    np.testing.assert_allclose(loose.loc[("A", jan), "fwd_ret"], 1.01**20 - 1, rtol=RTOL)
    assert strict.loc[("B", feb), "fwd_ret"] == -1.0
    known = score.index.isin(pd.DatetimeIndex(["2024-01-29", "2024-02-20"]))
    sparse = score.where(np.repeat(known[:, None], 2, axis=1))
    # Feb 20 is 7 sessions before the February end; March's end is older still: dropped
    aged = forward_returns_panel(ret, {"s": sparse}, periods="monthly", max_age_sessions=7)
    assert aged.loc["A"].index.tolist() == [jan, feb]
    young = forward_returns_panel(ret, {"s": sparse}, periods="monthly", max_age_sessions=6)
    assert young.loc["A"].index.tolist() == [jan]
    np.testing.assert_allclose(aged.loc[("A", jan), "s"], score.loc["2024-01-29", "A"])
    assert list(aged.columns) == ["s", "fwd_ret"]


def test_forward_returns_bad_input() -> None:
    ret, score = _wide()
    with pytest.raises(RegressionError, match="periods='weekly'"):
        forward_returns_panel(ret, score, periods="weekly")  # type: ignore[arg-type]
    with pytest.raises(RegressionError, match="DatetimeIndex"):
        forward_returns_panel(ret.reset_index(drop=True), score)
    with pytest.raises(RegressionError, match="at least 2 period ends"):
        forward_returns_panel(ret, score, periods=["2024-02-10"])


def _planted(seed: int = 0, n_ent: int = 40, n_per: int = 36) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    idx = pd.MultiIndex.from_product(
        [[f"E{i}" for i in range(n_ent)], pd.date_range("2018-01-31", periods=n_per, freq="ME")],
        names=["ticker", "date"],
    )
    df = pd.DataFrame(rng.normal(size=(len(idx), 3)), index=idx, columns=["d1", "d2", "size"])
    df["ret"] = 0.01 + 0.02 * df["d1"] + 0.005 * df["size"] + rng.normal(0, 0.05, len(idx))
    return df


def test_fama_macbeth_recovers_planted_slope() -> None:
    fm = fama_macbeth(_planted(), y="ret", x="d1", controls=["size"], nw_lags=2)
    est = fm.table.loc["d1"]
    assert abs(est["coef"] - 0.02) < 3 * est["se"] and est["t"] > 5
    assert fm.periods == 36 and fm.skipped == [] and fm.avg_n == 40
    assert fm.nobs == 40 * 36


@settings(max_examples=15, deadline=None)
@given(st.floats(-1.0, 1.0), st.integers(0, 1000))
def test_fama_macbeth_shift_moves_only_intercept(shift: float, seed: int) -> None:
    df = _planted(seed, n_ent=12, n_per=8)
    a = fama_macbeth(df, y="ret", x=["d1", "d2"], nw_lags=1)
    b = fama_macbeth(df.assign(ret=df["ret"] + shift), y="ret", x=["d1", "d2"], nw_lags=1)
    np.testing.assert_allclose(b.table.loc["const", "coef"], a.table.loc["const", "coef"] + shift,
                               rtol=1e-9, atol=1e-12)  # fmt: skip
    np.testing.assert_allclose(b.table.loc[["d1", "d2"]], a.table.loc[["d1", "d2"]], rtol=1e-8)


def test_horse_race_tidy_and_consistent() -> None:
    df = _planted()
    df.iloc[::9, 1] = np.nan  # d2 missing on some rows: every spec uses the same rows
    hr = horse_race(df, y="ret", dimensions=["d1", "d2"], controls=["size"], nw_lags=2)
    assert hr["spec"].unique().tolist() == ["d1", "d2", "all"]
    assert hr["nobs"].nunique() == 1
    same_rows = df.dropna()
    alone = fama_macbeth(same_rows, y="ret", x="d1", controls=["size"], nw_lags=2)
    got = hr.query("spec == 'd1'").set_index("variable")
    np.testing.assert_allclose(got[["coef", "se"]], alone.table[["coef", "se"]], rtol=RTOL)
    assert set(hr.query("spec == 'all'")["variable"]) == {"const", "d1", "d2", "size"}
    pr = horse_race(df, y="ret", dimensions=["d1", "d2"], method="panel", cov="kernel")
    assert pr["spec"].unique().tolist() == ["d1", "d2", "all"]


def test_panel_regression_result_fields() -> None:
    df = _planted()
    df.iloc[:5, 0] = np.nan
    res = panel_regression(df, y="ret", x="d1", time_effects=True, cov="kernel")
    assert res.dropped == 5 and res.nobs == len(df) - 5
    assert res.entities == 40 and res.periods == 36
    assert res.cov == "Driscoll-Kraay (Bartlett kernel, bandwidth 3, 36 periods)"
    assert list(res.table.columns) == ["coef", "se", "t", "p"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"x": "nope"}, r"missing column\(s\) \['nope'\]"),
        ({"cov": "hc3"}, "cov='hc3'"),
        ({"cluster_entity": False}, "cluster_entity and/or cluster_time"),
        ({"cov": "kernel", "kernel_lags": 36}, "kernel_lags=36"),
        ({"x": "d1", "controls": ["d1"]}, "used twice"),
    ],
)
def test_panel_regression_bad_input(kwargs: dict, match: str) -> None:
    opts = {"y": "ret", "x": "d1", **kwargs}
    with pytest.raises(RegressionError, match=match):
        panel_regression(_planted(), **opts)


def test_bad_panels_raise() -> None:
    flat = _planted().reset_index()
    with pytest.raises(RegressionError, match="MultiIndex"):
        fama_macbeth(flat, y="ret", x="d1")
    with pytest.raises(RegressionError, match="min_obs=1"):
        fama_macbeth(_planted(), y="ret", x="d1", min_obs=1)
    with pytest.raises(RegressionError, match="estimable period"):
        fama_macbeth(_planted(n_per=1), y="ret", x="d1")
    with pytest.raises(RegressionError, match="dimensions"):
        horse_race(_planted(), y="ret", dimensions=[])


def test_newey_west_lag_zero_is_iid_se() -> None:
    x = np.random.default_rng(1).normal(size=50)
    np.testing.assert_allclose(newey_west_mean_se(x, 0), x.std(ddof=0) / np.sqrt(50), rtol=RTOL)
    with pytest.raises(RegressionError, match="nw_lags=50"):
        newey_west_mean_se(x, 50)
