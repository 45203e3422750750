"""The aligned panel: bounded fills, returns, carried scores, counts, storage.

References: pandas ``ffill(limit=...)`` + ``pct_change(fill_method=None)`` for the valuation
close and returns (exact equality); hand-worked tables for carry-forward, expiry,
supersession and duplicate counting; the embedded skfolio sample for the smoke test
(its dates must equal the XNYS sessions exactly; z-scores mean 0 / sd 1 within 1e-12).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alphalab.calendar import sessions
from alphalab.config import PanelParams, SignalParams
from alphalab.panel import Panel, PanelError, build_panel, panel_from_params, panel_from_prices

ATOL = 1e-12
DATES = sessions("2023-03-01", "2023-04-28")  # 41 sessions, Good Friday 2023-04-07 excluded


def _long(wide: pd.DataFrame) -> pd.DataFrame:
    long = wide.rename_axis(index="date", columns="ticker").stack(future_stack=True)
    long = long.rename("close").reset_index()
    return long[long["close"].notna()].reset_index(drop=True)


@pytest.fixture
def wide() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    w = pd.DataFrame(
        100 * np.exp(np.cumsum(rng.normal(0, 0.02, (len(DATES), 3)), axis=0)),
        index=DATES,
        columns=["A", "B", "C"],
    )
    w.iloc[5:7, 0] = np.nan  # 2-session gap: filled
    w.iloc[15:22, 0] = np.nan  # 7-session gap: 5 filled, 2 missing
    w.iloc[:10, 2] = np.nan  # late listing
    w.iloc[-3:, 2] = np.nan  # last prices missing: 3 filled
    return w


def _table(rows: list[tuple]) -> pd.DataFrame:
    cols = ["ticker", "event_date", "available_at", "score", "D"]
    out = pd.DataFrame(rows, columns=cols)
    out["event_date"] = pd.to_datetime(out["event_date"])
    out["available_at"] = pd.to_datetime(out["available_at"])
    return out


def test_close_fill_and_returns_match_pandas(wide: pd.DataFrame) -> None:
    panel = build_panel(_long(wide), ffill_limit=5)
    filled = wide.ffill(limit=5)
    np.testing.assert_array_equal(panel.close.to_numpy(), filled.to_numpy())
    np.testing.assert_array_equal(
        panel.close_filled.to_numpy(), (wide.isna() & filled.notna()).to_numpy()
    )
    ref = filled.pct_change(fill_method=None)
    np.testing.assert_array_equal(panel.ret.to_numpy(), ref.to_numpy())
    a = panel.ret["A"]
    assert (a.iloc[5:7] == 0).all()  # a filled day returns 0 ...
    assert a.iloc[7] == pytest.approx(
        wide["A"].iloc[7] / wide["A"].iloc[4] - 1, abs=ATOL
    )  # ... then from the last real close
    assert a.iloc[20:23].isna().all()  # gap longer than the limit: no return into or out of it
    assert panel.counts["close_filled_cells"] == 2 + 5 + 3
    assert panel.close.index.equals(DATES) and list(panel.close.columns) == ["A", "B", "C"]
    assert panel.score is None and panel.close.dtypes.eq(np.float64).all()


def test_ffill_limit_zero_never_fills(wide: pd.DataFrame) -> None:
    panel = build_panel(_long(wide), ffill_limit=0)
    assert not panel.close_filled.to_numpy().any()
    assert panel.ret["A"].iloc[5:8].isna().all()


def test_carry_forward_supersession_and_expiry(wide: pd.DataFrame) -> None:
    d = DATES
    sig = _table([
        ("B", d[2], d[2], 1.0, 10.0),
        ("B", d[6], d[6], 2.0, np.nan),  # supersedes score and dimension together
        ("A", d[30], d[30], 5.0, 50.0),
    ])  # fmt: skip
    panel = build_panel(_long(wide), sig, dimensions=["D"], max_age_sessions=3)
    b = panel.score["B"]
    assert b.iloc[:2].isna().all()
    assert (b.iloc[2:6] == 1.0).all()  # age 0..3 visible
    assert (b.iloc[6:10] == 2.0).all() and b.iloc[10:].isna().all()  # expired after age 3
    assert (panel.dimensions["D"]["B"].iloc[2:6] == 10.0).all()
    assert panel.dimensions["D"]["B"].iloc[6:].isna().all()
    assert panel.new_signal["B"].to_numpy().nonzero()[0].tolist() == [2, 6]
    assert panel.new_signal.dtypes.eq(bool).all()
    assert (panel.score["A"].iloc[30:34] == 5.0).all()
    assert panel.counts["signal_rows_used"] == 3


def test_same_cell_duplicates_keep_latest_event_and_are_counted(wide: pd.DataFrame) -> None:
    d = DATES
    sig = _table(
        [("B", d[3], d[4], 7.0, 1.0), ("B", d[4], d[4], 8.0, 2.0), ("B", d[2], d[4], 6.0, 3.0)]
    )
    panel = build_panel(_long(wide), sig, dimensions=["D"])
    assert panel.score["B"].iloc[4] == 8.0 and panel.dimensions["D"]["B"].iloc[4] == 2.0
    assert panel.counts["signal_duplicate_cell"] == 2


def test_unusable_signal_rows_are_counted(wide: pd.DataFrame) -> None:
    d = DATES
    sig = _table([
        ("ZZZ", d[3], d[3], 1.0, 1.0),  # no prices
        ("B", d[-1], pd.Timestamp("2023-05-15"), 1.0, 1.0),  # after the window
        ("B", d[0], d[0], 1.0, 1.0),
    ])  # fmt: skip
    c = build_panel(_long(wide), sig, dimensions=["D"]).counts
    assert (c["signal_ticker_without_prices"], c["signal_after_end"], c["signal_rows_used"]) == (
        1,
        1,
        1,
    )
    assert c["signal_rows"] == 3


def test_values_from_before_start_are_carried_or_expire(wide: pd.DataFrame) -> None:
    d = DATES
    old = pd.Timestamp("2023-01-03")
    sig = _table(
        [("A", d[1], d[1], 1.0, 1.0), ("B", d[8], d[8], 2.0, 2.0), ("C", old, old, 3.0, 3.0)]
    )
    panel = build_panel(_long(wide), sig, dimensions=["D"], max_age_sessions=5, start=d[10])
    assert panel.close.index[0] == d[10]
    assert np.isnan(panel.score.at[d[10], "A"])  # aged 9 > 5: gone
    assert panel.score.at[d[10], "B"] == 2.0 and panel.score.at[d[13], "B"] == 2.0
    assert np.isnan(panel.score.at[d[14], "B"])
    assert panel.counts["signal_expired_before_start"] == 1
    # prices before start still feed the first return
    assert panel.ret.at[d[10], "B"] == pytest.approx(
        wide["B"].iloc[10] / wide["B"].iloc[9] - 1, abs=ATOL
    )


def test_min_price_and_missing_price_mask_scores(wide: pd.DataFrame) -> None:
    d = DATES
    sig = _table([("A", d[12], d[12], 1.0, 1.0), ("B", d[12], d[12], 1.0, 1.0)])
    cheap = float(wide["B"].iloc[12:].min()) - 1e-9
    panel = build_panel(
        _long(wide), sig, dimensions=["D"], min_price=cheap + 2e-9, max_age_sessions=30
    )
    b_low = panel.close["B"] < cheap + 2e-9
    assert panel.score["B"][b_low].isna().all() and b_low.any()
    assert panel.score["A"].iloc[20:22].isna().all()  # no valuation close after a long gap
    assert panel.counts["score_masked_no_price"] == 2
    assert panel.counts["score_masked_min_price"] == int(b_low.iloc[12:].sum())


def test_score_matrix_rows_are_full_cross_sections(wide: pd.DataFrame) -> None:
    d = DATES
    score = pd.DataFrame({"A": [1.0, np.nan], "B": [2.0, 3.0]}, index=[d[11], d[16]])
    dims = {"D": score * 10}
    panel = build_panel(_long(wide), score, dimensions=dims)
    assert (panel.score["A"].iloc[11:16] == 1.0).all() and panel.score["A"].iloc[16:].isna().all()
    assert (panel.score["B"].iloc[16:] == 3.0).all()
    assert (panel.dimensions["D"]["B"].iloc[16:] == 30.0).all()
    assert panel.new_signal.sum().to_dict() == {"A": 1, "B": 2, "C": 0}


def test_market_cap_is_carried_like_close(wide: pd.DataFrame) -> None:
    prices = _long(wide).assign(market_cap=lambda f: f["close"] * 1e6)
    panel = build_panel(prices)
    np.testing.assert_allclose(panel.market_cap.to_numpy(), panel.close.to_numpy() * 1e6, rtol=ATOL)


def test_bad_inputs_raise_naming_the_problem(wide: pd.DataFrame) -> None:
    prices = _long(wide)
    holiday = prices.copy()
    holiday.loc[0, "date"] = pd.Timestamp("2023-04-07")
    with pytest.raises(PanelError, match="2023-04-07 is not a XNYS session"):
        build_panel(holiday)
    with pytest.raises(PanelError, match=r"row 1: close -1\.0.*must be finite and > 0"):
        build_panel(prices.assign(close=np.where(prices.index == 0, -1.0, prices["close"])))
    with pytest.raises(PanelError, match=r"\(ticker, date\).*must be unique"):
        build_panel(pd.concat([prices, prices.iloc[:1]]))
    with pytest.raises(PanelError, match="missing column"):
        build_panel(prices.drop(columns="close"))
    sig = _table([("A", DATES[1], DATES[1], 1.0, 1.0)])
    with pytest.raises(PanelError, match="available_at"):
        build_panel(prices, sig.drop(columns="available_at"))
    with pytest.raises(PanelError, match="reserved"):
        build_panel(prices, sig.rename(columns={"D": "ret"}), dimensions=["ret"])
    with pytest.raises(PanelError, match="score nan must be finite"):
        build_panel(prices, sig.assign(score=np.nan))
    with pytest.raises(PanelError, match="not a XNYS session"):
        build_panel(prices, sig.assign(available_at=pd.Timestamp("2023-04-08")))


def test_save_load_round_trip_is_exact(wide: pd.DataFrame, tmp_path) -> None:
    import pyarrow.parquet as pq

    d = DATES
    prices = _long(wide).assign(market_cap=lambda f: f["close"] * 3.0)
    sig = _table([("B", d[2], d[2], 1.0, np.nan), ("A", d[6], d[6], -2.5, 0.1)])
    panel = build_panel(prices, sig, dimensions=["D"])
    path = panel.save(tmp_path / "panel.parquet")
    back = Panel.load(path)
    for name, frame in panel.fields().items():
        pd.testing.assert_frame_equal(
            back.fields()[name], frame, check_exact=True, check_freq=False
        )
    assert back.meta == panel.meta and list(back.dimensions) == ["D"]
    schema = pq.read_schema(path)
    types = {f.name: str(f.type) for f in schema}
    assert types["date"] == "timestamp[ns]" and types["ticker"] == "string"
    assert (
        types["close_filled"] == "bool" and types["new_signal"] == "bool" and types["D"] == "double"
    )
    long = panel.to_long()
    assert len(long) == len(d) * 3 and list(long.columns[:3]) == ["date", "ticker", "close"]
    assert long["date"].is_monotonic_increasing


def test_summary_counts_coverage(wide: pd.DataFrame) -> None:
    sig = _table([("B", DATES[2], DATES[2], 1.0, 1.0)])
    s = build_panel(_long(wide), sig, dimensions=["D"], max_age_sessions=3).summary()
    assert s.at["score", "cells"] == 4 and s.at["new_signal", "cells"] == 1
    assert s.at["close", "cells"] == int(wide.ffill(limit=5).notna().sum().sum())
    assert s.at["score", "first"] == DATES[2] and s.at["score", "last"] == DATES[5]


def test_panel_from_params_dispatches_on_kind(wide: pd.DataFrame) -> None:
    prices = _long(wide)
    file_params = SignalParams(kind="file", dimensions={"D": {"weight": 1}})
    sig = _table([("B", DATES[2], DATES[2], 1.0, 4.0)])
    panel = panel_from_params(
        prices, sig, signal_params=file_params, panel_params=PanelParams(max_age_sessions=2)
    )
    assert panel.score["B"].notna().sum() == 3 and list(panel.dimensions) == ["D"]
    daily = SignalParams(frequency="daily", dimensions={"rev_1m": {"weight": 1, "sign": -1}})
    comp = panel_from_params(prices, signal_params=daily, panel_params=PanelParams())
    assert comp.meta["signal"] == "composite:daily" and comp.score.notna().any().any()
    with pytest.raises(PanelError, match="must be None"):
        panel_from_params(prices, sig, signal_params=daily, panel_params=PanelParams())


@pytest.mark.smoke
def test_default_composite_panel_on_the_embedded_sample() -> None:
    from skfolio.datasets import load_sp500_dataset

    wide = load_sp500_dataset()
    panel = panel_from_prices(_long(wide))
    assert panel.close.shape == (8313, 20)
    assert panel.dates.equals(sessions("1990-01-02", "2022-12-28"))
    assert panel.dates.equals(pd.DatetimeIndex(wide.index.as_unit("ns"), name="date"))
    np.testing.assert_array_equal(panel.close.to_numpy(), wide.to_numpy(dtype=np.float64))
    rows = panel.new_signal.any(axis=1)
    assert rows.sum() == 395  # month ends Jan 1990 … Nov 2022 (December 2022 is incomplete)
    for name, z in panel.dimensions.items():
        zz = z[rows].dropna(how="all")
        assert len(zz) > 350, name
        np.testing.assert_allclose(zz.mean(axis=1), 0.0, atol=ATOL)
        np.testing.assert_allclose(zz.std(axis=1, ddof=1), 1.0, atol=ATOL)
    assert panel.counts["signal_ticker_without_prices"] == 0
