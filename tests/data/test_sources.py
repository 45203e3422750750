"""The embedded sample, the simulator and the manifest."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alphalab import config
from alphalab.data import sample
from alphalab.data.ingest import run_ingest
from alphalab.data.manifest import verify_manifest
from alphalab.data.simulate import simulate_market

pytestmark = pytest.mark.smoke


def test_sample_exact_coverage() -> None:
    wide = sample.sample_prices_wide()
    assert wide.shape == (8313, 20)
    assert wide.index[0] == pd.Timestamp("1990-01-02") and wide.index[-1] == pd.Timestamp(
        "2022-12-28"
    )
    import exchange_calendars as xcals

    cal = xcals.get_calendar("XNYS", start="1990-01-01")
    sessions = cal.sessions_in_range("1990-01-02", "2022-12-28").tz_localize(None)
    assert wide.index.equals(pd.DatetimeIndex(sessions.astype("datetime64[ns]"), name="date"))
    assert sample.sample_index().index.equals(wide.index)


def test_sample_unknown_ticker_names_it() -> None:
    with pytest.raises(sample.SampleError, match="ZZZZ"):
        sample.load_sample_prices(
            tickers=["AAPL", "ZZZZ"], start=dt.date(2000, 1, 1), end=dt.date(2001, 1, 1)
        )


def test_daily_rf_compounds_back_to_monthly() -> None:
    fac = pd.DataFrame({"date": pd.to_datetime(["2020-01-31"]), "rf": [0.0013]})
    dates = pd.bdate_range("2020-01-01", "2020-01-31")
    rf = sample.daily_rf_from_monthly(dates, fac)
    assert np.prod(1 + rf.to_numpy()) - 1 == pytest.approx(0.0013, abs=1e-13)
    later = sample.daily_rf_from_monthly(pd.bdate_range("2020-02-03", periods=3), fac)
    assert later.isna().all()  # never filled


def test_simulate_is_seeded_and_planted() -> None:
    a = simulate_market(n_stocks=50, n_sessions=300, seed=3, signal_freq="daily")
    b = simulate_market(n_stocks=50, n_sessions=300, seed=3, signal_freq="daily")
    pd.testing.assert_frame_equal(a.prices, b.prices)
    c = simulate_market(n_stocks=50, n_sessions=300, seed=4)
    assert not a.prices["close"].equals(c.prices["close"])
    # planted loading recovered by a pooled regression of next-day return on today's latent signal
    m = simulate_market(
        n_stocks=300, n_sessions=600, seed=5, signal_loading=0.002, missing_rate=0, delisting_rate=0
    )
    close = m.prices.pivot(index="date", columns="ticker", values="close")
    ret = close.pct_change().iloc[1:].to_numpy()
    lat = m.truth["latent"].iloc[:-1].to_numpy()
    slope = np.polyfit(lat.ravel(), (ret - ret.mean(axis=1, keepdims=True)).ravel(), 1)[0]
    assert slope == pytest.approx(0.002, rel=0.15)


def test_simulate_delistings_and_missing() -> None:
    m = simulate_market(n_stocks=100, n_sessions=400, seed=0, delisting_rate=0.2, missing_rate=0.01)
    last = m.prices.groupby("ticker")["date"].max()
    assert (last < m.prices["date"].max()).sum() >= 15
    assert len(m.truth["delisted"]) == 20
    assert len(m.prices) < 100 * 400 * 0.995


def test_ingest_sample_and_manifest_verify(tmp_path: Path) -> None:
    paths = config.Paths(tmp_path)
    params = config.validate_params({"data": {"start": "2015-01-01", "end": "2016-12-31"}})
    res = run_ingest(params, paths)
    doc = json.loads(paths.manifest.read_text())
    assert set(doc["tables"]) == {"prices", "benchmark", "factors"}
    prices = doc["tables"]["prices"]
    assert prices["rows"] == 20 * 504 and prices["n_tickers"] == 20
    assert prices["dates"] == {"column": "date", "first": "2015-01-02", "last": "2016-12-30"}
    assert doc["packages"]["pandas"] == pd.__version__
    assert verify_manifest(paths.manifest, tmp_path) == []
    assert res.coverage.set_index("table").loc["benchmark", "rf_last"] == "2016-12-30"
    # tamper with a table: verify names it
    df = pd.read_parquet(paths.raw / "prices.parquet")
    df.loc[0, "close"] *= 1.01
    df.to_parquet(paths.raw / "prices.parquet", index=False)
    problems = verify_manifest(paths.manifest, tmp_path)
    assert len(problems) == 1 and "prices.parquet" in problems[0]


def test_switching_source_removes_stale_raw_tables(tmp_path: Path) -> None:
    paths = config.Paths(tmp_path)
    sim = config.validate_params(
        {
            "data": {
                "source": "simulate",
                "start": "2010-01-01",
                "end": "2012-12-31",
                "simulate": {"n_stocks": 20, "n_sessions": 300},
            }
        }
    )
    run_ingest(sim, paths)
    assert (paths.raw / "signal.parquet").is_file()
    run_ingest(
        config.validate_params({"data": {"start": "2015-01-01", "end": "2015-12-31"}}), paths
    )
    assert not (paths.raw / "signal.parquet").exists()
