"""The yfinance adapter, driven through fake transports (no network)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alphalab.data import yahoo

START, END = dt.date(2023, 1, 2), dt.date(2023, 1, 6)
DATES = pd.DatetimeIndex(["2023-01-03", "2023-01-04", "2023-01-05", "2023-01-06"], name="Date")


def frame_multi(tickers: list[str], order: str = "price_first") -> pd.DataFrame:
    fields = ["Close", "High", "Low", "Open", "Volume"]
    cols = pd.MultiIndex.from_product([fields, tickers], names=["Price", "Ticker"])
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.uniform(10, 20, (len(DATES), len(cols))), index=DATES, columns=cols)
    if order == "ticker_first":
        df.columns = df.columns.swaplevel(0, 1)
    return df


class Fake:
    """A scripted transport: each call pops the next action."""

    def __init__(self, *actions: object) -> None:
        self.actions = list(actions)
        self.calls: list[dict] = []

    def __call__(self, **kwargs: object) -> pd.DataFrame:
        self.calls.append(kwargs)
        action = self.actions.pop(0)
        if isinstance(action, BaseException):
            raise action
        if callable(action):
            return action()
        return action  # type: ignore[return-value]


def fetch(fake: Fake, **kw: object) -> yahoo.FetchResult:
    opts = dict(start=START, end=END, timeout_s=5.0, retries=3, backoff_s=0.01, downloader=fake)
    opts.update(kw)
    return yahoo.fetch_prices(["AAA", "BBB"], **opts)  # type: ignore[arg-type]


def test_multiindex_price_first_normalised() -> None:
    res = fetch(Fake(frame_multi(["AAA", "BBB"])))
    assert list(res.prices.columns[:3]) == ["ticker", "date", "close"]
    assert len(res.prices) == 8
    assert set(res.status["status"]) == {"ok"}
    assert res.attempts == 1


def test_multiindex_ticker_first_same_result() -> None:
    a = fetch(Fake(frame_multi(["AAA", "BBB"]))).prices
    b = fetch(Fake(frame_multi(["AAA", "BBB"], "ticker_first"))).prices
    pd.testing.assert_frame_equal(a, b)


def test_explicit_auto_adjust_and_window_passed() -> None:
    fake = Fake(frame_multi(["AAA", "BBB"]))
    fetch(fake, auto_adjust=False) if False else fetch(fake)
    call = fake.calls[0]
    assert call["auto_adjust"] is True
    assert call["start"] == "2023-01-02" and call["end"] == "2023-01-07"  # end is exclusive there
    assert call["progress"] is False


def test_adj_close_used_when_not_auto_adjusted() -> None:
    df = frame_multi(["AAA", "BBB"])
    adj = df["Close"] * 0.5
    adj.columns = pd.MultiIndex.from_product([["Adj Close"], adj.columns])
    df = pd.concat([df, adj], axis=1)
    res = fetch(Fake(df), auto_adjust=False)
    expect = df[("Adj Close", "AAA")].to_numpy()
    got = res.prices[res.prices.ticker == "AAA"]["close"].to_numpy()
    np.testing.assert_allclose(got, expect)


def test_empty_frame_is_a_failure_with_offline_hint() -> None:
    with pytest.raises(yahoo.YahooEmpty, match=r"data\.source: sample"):
        fetch(Fake(pd.DataFrame()))


def test_transient_errors_then_success_retries_with_backoff() -> None:
    sleeps: list[float] = []
    fake = Fake(ConnectionError("reset"), TimeoutError("slow"), frame_multi(["AAA", "BBB"]))
    res = fetch(fake, sleep=sleeps.append, backoff_s=1.0, timeout_s=60)
    assert res.attempts == 3
    assert sleeps == [1.0, 2.0]


def test_rate_limit_by_name_is_transient() -> None:
    class YFRateLimitError(Exception):
        pass

    assert yahoo.is_transient(YFRateLimitError("too many"))
    assert not yahoo.is_transient(KeyError("x"))


def test_transient_errors_exhaust_retries() -> None:
    fake = Fake(*[ConnectionError("down")] * 4)
    with pytest.raises(yahoo.YahooError, match="after 4 attempt"):
        fetch(fake, retries=3, sleep=lambda s: None)
    assert len(fake.calls) == 4


def test_permanent_failure_not_retried() -> None:
    fake = Fake(ValueError("bad symbol"), frame_multi(["AAA", "BBB"]))
    with pytest.raises(yahoo.YahooPermanentError, match="not retried"):
        fetch(fake, sleep=lambda s: None)
    assert len(fake.calls) == 1


def test_hang_cut_off_by_time_bound() -> None:
    fake = Fake(lambda: time.sleep(30) or frame_multi(["AAA", "BBB"]))
    t0 = time.monotonic()
    with pytest.raises(yahoo.YahooTimeout, match="did not answer within"):
        fetch(fake, timeout_s=0.5)
    assert time.monotonic() - t0 < 3.0


def test_missing_ticker_reported_per_ticker() -> None:
    res = fetch(Fake(frame_multi(["AAA"])))
    status = res.status.set_index("ticker")["status"].to_dict()
    assert status == {"AAA": "ok", "BBB": "missing"}


def test_single_ticker_flat_columns() -> None:
    df = frame_multi(["AAA"]).droplevel("Ticker", axis=1)
    res = yahoo.fetch_prices(["AAA"], start=START, end=END, downloader=Fake(df), timeout_s=5)
    assert len(res.prices) == 4 and set(res.prices.ticker) == {"AAA"}


def test_snapshot_reused_without_network(tmp_path: Path) -> None:
    fake = Fake(frame_multi(["AAA", "BBB"]))
    kw = dict(start=START, end=END, timeout_s=5.0, downloader=fake)
    r1, p1, online1 = yahoo.fetch_or_snapshot(["AAA", "BBB"], name="prices", folder=tmp_path, **kw)
    r2, p2, online2 = yahoo.fetch_or_snapshot(["BBB", "AAA"], name="prices", folder=tmp_path, **kw)
    assert online1 and not online2 and p1 == p2
    assert len(fake.calls) == 1
    pd.testing.assert_frame_equal(r1.prices, r2.prices)
    assert r2.fetched_at == r1.fetched_at


def test_ingest_with_fake_transport(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from alphalab import config
    from alphalab.data.ingest import run_ingest

    def fake_download(**kwargs: object) -> pd.DataFrame:
        return frame_multi(list(kwargs["tickers"]))  # type: ignore[arg-type]

    monkeypatch.setattr(yahoo, "_default_downloader", fake_download)
    params = config.validate_params(
        {
            "data": {
                "source": "yfinance",
                "start": "2023-01-02",
                "end": "2023-01-06",
                "yfinance": {"tickers": ["AAA", "BBB"]},
                "factors": {"source": "none"},
            }
        }
    )
    res = run_ingest(params, config.Paths(tmp_path))
    assert res.manifest["source"]["network_used"] is True
    assert (tmp_path / "data/raw/prices.parquet").is_file()
    # second run: served from the snapshot, no transport call
    monkeypatch.setattr(
        yahoo, "_default_downloader", lambda **k: (_ for _ in ()).throw(AssertionError("network"))
    )
    res2 = run_ingest(params, config.Paths(tmp_path))
    assert res2.manifest["source"]["network_used"] is False
