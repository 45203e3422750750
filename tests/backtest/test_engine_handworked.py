"""A 3-date × 12-stock example worked out by hand.

Tolerance: 1e-12 absolute (every expected number below is a short sum of the literals).

Scores (the same on every date), sorted: G −2.2, B −1.2, J −0.8, E −0.3 | I 0.0, D 0.1,
L 0.3, A 0.5 | H 0.9, K 1.1, F 1.5, C 2.0. With n = 12 and 3 groups the breakpoints are
sorted positions floor(11/3) = 3 and floor(22/3) = 7, so four names per group:
g1 = {G, B, J, E}, g2 = {I, D, L, A}, g3 = {H, K, F, C}.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alphalab.backtest import CostModel, sort_portfolios

TOL = 1e-12
NAMES = list("ABCDEFGHIJKL")
DATES = pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"])
SCORE = {"A": 0.5, "B": -1.2, "C": 2.0, "D": 0.1, "E": -0.3, "F": 1.5,
         "G": -2.2, "H": 0.9, "I": 0.0, "J": -0.8, "K": 1.1, "L": 0.3}  # fmt: skip
R1 = {"G": 0.01, "B": 0.02, "J": -0.01, "E": 0.04,
      "I": 0.00, "D": 0.03, "L": -0.02, "A": 0.01,
      "H": 0.05, "K": -0.03, "F": 0.02, "C": 0.06}  # fmt: skip
R2 = {
    "G": -0.02,
    "B": 0.01,
    "J": 0.03,
    "E": 0.00,
    "I": 0.01,
    "D": -0.01,
    "L": 0.02,
    "A": 0.00,
    "H": 0.02,
    "K": 0.01,
    "F": np.nan,
    "C": -0.04,
}  # fmt: skip  F delists on day 2


@pytest.fixture
def data() -> tuple[pd.DataFrame, pd.DataFrame]:
    score = pd.DataFrame([SCORE] * 3, index=DATES)[NAMES]
    rets = pd.DataFrame([dict.fromkeys(NAMES, 0.0), R1, R2], index=DATES)[NAMES]
    return score, rets


def test_groups_at_formation(data: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    score, rets = data
    res = sort_portfolios(
        score, rets, n_groups=3, rebalance="availability", lag=0,
        rebalance_mask=np.array([True, False, False]),
    )  # fmt: skip
    labels = res.groups.iloc[0]
    assert labels[["G", "B", "J", "E"]].eq(1).all()
    assert labels[["I", "D", "L", "A"]].eq(2).all()
    assert labels[["H", "K", "F", "C"]].eq(3).all()
    assert res.groups.iloc[1:].isna().all().all()


def test_buy_and_hold_with_costs_and_delisting(data: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """Formed once at the close of day 0 (lag 0), held with drift, 10 bps, delisting −50%."""
    score, rets = data
    costs = CostModel(half_spread_bps=4, commission_bps=5, impact_bps=1)  # 10 bps in all
    res = sort_portfolios(
        score, rets, n_groups=3, rebalance="availability", lag=0, costs=costs,
        rebalance_mask=pd.Series([True, False, False], index=DATES), delisting_return=-0.5,
    )  # fmt: skip
    # day 0: still in cash (gross 0); buying each group from cash is turnover 1, the
    # long-short 2; costs 10 bps per unit turnover.
    # day 1: equal weights 1/4: g1 = (0.01 + 0.02 - 0.01 + 0.04) / 4 = 0.015,
    #        g2 = (0 + 0.03 - 0.02 + 0.01) / 4 = 0.005, g3 = (0.05 - 0.03 + 0.02 + 0.06) / 4 = 0.025
    # day 2: weights drifted by (1 + day-1 return); F's return is missing -> -0.5 once.
    g1_d2 = (1.01 * -0.02 + 1.02 * 0.01 + 0.99 * 0.03 + 1.04 * 0.0) / (1.01 + 1.02 + 0.99 + 1.04)
    g2_d2 = (1.00 * 0.01 + 1.03 * -0.01 + 0.98 * 0.02 + 1.01 * 0.0) / (1.00 + 1.03 + 0.98 + 1.01)
    g3_d2 = (1.05 * 0.02 + 0.97 * 0.01 + 1.02 * -0.5 + 1.06 * -0.04) / (1.05 + 0.97 + 1.02 + 1.06)
    assert g1_d2 == pytest.approx(0.0197 / 4.06, abs=1e-15)
    assert g3_d2 == pytest.approx(-0.5217 / 4.10, abs=1e-15)
    expected = pd.DataFrame(
        [[0.0, 0.0, 0.0, 0.0],
         [0.015, 0.005, 0.025, 0.025 - 0.015],
         [g1_d2, g2_d2, g3_d2, g3_d2 - g1_d2]],
        index=DATES, columns=["g1", "g2", "g3", "long_short"],
    )  # fmt: skip
    pd.testing.assert_frame_equal(res.returns, expected, rtol=0, atol=TOL)
    turnover = pd.DataFrame(
        [[1.0, 1.0, 1.0, 2.0], [0.0] * 4, [0.0] * 4], index=DATES, columns=expected.columns
    )
    pd.testing.assert_frame_equal(res.turnover, turnover, rtol=0, atol=TOL)
    pd.testing.assert_frame_equal(res.net, expected - 0.001 * turnover, rtol=0, atol=TOL)
    assert res.n_delisted == 1
    assert res.counts.to_numpy().tolist() == [[4, 4, 4], [4, 4, 4], [4, 4, 3]]
    # end-of-session weights of g3: day 0 = 1/4 each; day 1 = (1 + r1) / 4.10;
    # day 2 = w1 (1 + r2) / (1 + g3_d2), F moved to cash.
    w = res.weights(3)
    np.testing.assert_allclose(w.loc[DATES[0], ["H", "K", "F", "C"]], [0.25] * 4, atol=TOL)
    np.testing.assert_allclose(
        w.loc[DATES[1], ["H", "K", "F", "C"]], np.array([1.05, 0.97, 1.02, 1.06]) / 4.10, atol=TOL
    )
    day2 = np.array([1.05 * 1.02, 0.97 * 1.01, 0.0, 1.06 * 0.96]) / 4.10 / (1 + g3_d2)
    np.testing.assert_allclose(w.loc[DATES[2], ["H", "K", "F", "C"]], day2, atol=TOL)
    assert w.loc[:, ["A", "B", "D", "E", "G", "I", "J", "L"]].eq(0).all().all()
    cash = 1.02 / 4.10 * (1 - 0.5) / (1 + g3_d2)
    assert w.loc[DATES[2]].sum() == pytest.approx(1 - cash, abs=TOL)


def test_daily_lag_one_rebalance_turnover(data: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """Daily formation, lag 1: day-0 scores trade at the day-1 close and earn day 2."""
    score, rets = data
    res = sort_portfolios(score, rets, n_groups=3, rebalance="daily", lag=1)
    # day 2, equal weights (delisting_return None -> F earns 0 that day):
    g1 = (-0.02 + 0.01 + 0.03 + 0.0) / 4  # 0.005
    g2 = (0.01 - 0.01 + 0.02 + 0.0) / 4  # 0.005
    g3 = (0.02 + 0.01 + 0.0 - 0.04) / 4  # -0.0025
    expected = pd.DataFrame(
        [[np.nan] * 4, [0.0] * 4, [g1, g2, g3, g3 - g1]],
        index=DATES, columns=["g1", "g2", "g3", "long_short"],
    )  # fmt: skip
    pd.testing.assert_frame_equal(res.returns, expected, rtol=0, atol=TOL)
    # day-1 scores trade at the day-2 close. g1 drifted to (1 + r2) / 4.02 and goes back to
    # 1/4 = 1.005 / 4.02: |Δ| = (0.025 + 0.005 + 0.025 + 0.005) / 4.02.
    # g3: F cannot trade (no day-2 return), so the cohort is H, K, C at 1/3 = 1.33 / 3.99;
    # drifted H 1.02/3.99, K 1.01/3.99, C 0.96/3.99, F in cash: |Δ| = 1.00 / 3.99.
    t_g1 = 0.06 / 4.02
    t_g3 = 1.00 / 3.99
    t_g2 = (0.005 + 0.015 + 0.015 + 0.005) / 4.02  # drifted (1.01, 0.99, 1.02, 1.00)/4.02
    assert res.turnover.iloc[2].tolist() == pytest.approx([t_g1, t_g2, t_g3, t_g1 + t_g3], abs=TOL)
    assert res.turnover.iloc[1].tolist() == pytest.approx([1.0, 1.0, 1.0, 2.0], abs=TOL)
    assert res.counts.iloc[2].tolist() == [4, 4, 3]
    assert res.formation_dates.tolist() == DATES.tolist()
    np.testing.assert_allclose(
        res.weights("g3").loc[DATES[2], ["H", "K", "C"]], [1 / 3] * 3, atol=TOL
    )
