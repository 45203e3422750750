"""yfinance: online, opt-in, bounded in time, snapshotted so reruns never need the network.

Behaviour measured with yfinance 1.7 (DESIGN.md §9): offline it returns an **empty frame**
without raising, and on a black-holed network it can block for 100+ s whatever ``timeout=``
says. So every call here

- runs the download in a daemon thread and abandons it at a hard deadline (:class:`YahooTimeout`);
- treats an empty frame as a failure (:class:`YahooEmpty`), with a message saying how to work
  offline;
- retries with exponential backoff only on transient errors (connection resets, timeouts,
  rate limits), never on permanent ones, within the same overall deadline;
- normalises the result (MultiIndex columns in either order, or flat columns for one ticker)
  to the long prices table at the boundary, with a per-ticker status table.

The transport is injectable (``downloader=``) so tests drive every branch with fakes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from alphalab.data.contract import normalize_prices, to_dates
from alphalab.io import atomic_write_json, atomic_write_parquet

Downloader = Callable[..., pd.DataFrame]

OFFLINE_HINT = (
    "to work offline set data.source: sample (the embedded real-data study) or data.source: files "
    "(your own CSV/Parquet export), or reuse a snapshot under data/snapshots/yfinance/"
)


class YahooError(RuntimeError):
    """Base of every yfinance failure raised here."""


class YahooTimeout(YahooError):
    """The whole call did not finish within its deadline."""


class YahooEmpty(YahooError):
    """yfinance returned no rows (how it reports being offline or an unknown symbol)."""


class YahooPermanentError(YahooError):
    """A non-transient error: retrying would not help."""


TRANSIENT_NAMES = ("ratelimit", "timeout", "connection", "temporar", "remotedisconnected")


def is_transient(exc: BaseException) -> bool:
    """Connection problems, timeouts and rate limits are transient; everything else is not."""
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    name = type(exc).__name__.lower()
    return any(key in name for key in TRANSIENT_NAMES)


def call_with_deadline(fn: Callable[[], Any], timeout_s: float) -> Any:
    """Run ``fn`` in a daemon thread; raise :class:`YahooTimeout` if it is not done in time.

    A thread cannot be killed: a hung call is abandoned (it holds no lock and writes nothing)
    and does not keep the process alive because the thread is a daemon.
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=target, name="yfinance-call", daemon=True)
    worker.start()
    worker.join(max(timeout_s, 0.0))
    if worker.is_alive():
        raise YahooTimeout(f"yfinance did not answer within {timeout_s:.1f} s; {OFFLINE_HINT}")
    if "error" in box:
        raise box["error"]
    return box["value"]


def _default_downloader(**kwargs: Any) -> pd.DataFrame:
    import yfinance as yf

    return yf.download(**kwargs)


def normalize_download(raw: pd.DataFrame, tickers: list[str], *, auto_adjust: bool) -> pd.DataFrame:
    """Turn a ``yf.download`` frame into the long prices table (close = adjusted close).

    Handles ``(Price, Ticker)`` and ``(Ticker, Price)`` MultiIndex columns and the flat
    columns of a single-ticker download.
    """
    field_close = "Close" if auto_adjust else "Adj Close"
    fields = {"Open", "High", "Low", "Close", "Adj Close", "Volume"}
    frame = raw.copy()
    if isinstance(frame.columns, pd.MultiIndex):
        lvl0 = set(map(str, frame.columns.get_level_values(0)))
        if lvl0 & fields:
            frame.columns = frame.columns.swaplevel(0, 1)
        parts = []
        for ticker in dict.fromkeys(frame.columns.get_level_values(0)):
            sub = frame[ticker]
            parts.append(_one_ticker(sub, str(ticker), field_close))
        long = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    else:
        if len(tickers) != 1:
            raise YahooPermanentError(
                f"flat columns {list(frame.columns)} for {len(tickers)} tickers: cannot tell them apart"
            )
        long = _one_ticker(frame, tickers[0], field_close)
    if long.empty:
        return normalize_prices(pd.DataFrame({"ticker": [], "date": [], "close": []}))
    return normalize_prices(long)


def _one_ticker(sub: pd.DataFrame, ticker: str, field_close: str) -> pd.DataFrame:
    if field_close not in sub.columns:
        raise YahooPermanentError(f"{ticker}: column {field_close!r} missing from the download")
    out = pd.DataFrame(
        {
            "ticker": ticker,
            "date": to_dates(pd.Series(sub.index)).to_numpy(),
            "close": pd.to_numeric(sub[field_close], errors="coerce").to_numpy(),
        }
    )
    for src, dst in (("Open", "open"), ("High", "high"), ("Low", "low"), ("Volume", "volume")):
        if src in sub.columns:
            out[dst] = pd.to_numeric(sub[src], errors="coerce").to_numpy()
    return out[out["close"].notna()]


@dataclass
class FetchResult:
    """A finished download: long prices, per-ticker status, and how it went."""

    prices: pd.DataFrame
    status: pd.DataFrame
    fetched_at: str
    attempts: int
    request: dict[str, Any] = field(default_factory=dict)


def ticker_status(prices: pd.DataFrame, tickers: list[str]) -> pd.DataFrame:
    """One row per requested ticker: ``ok`` with rows and dates, or ``missing``."""
    rows = []
    grouped = {t: g for t, g in prices.groupby("ticker")} if len(prices) else {}
    for t in tickers:
        g = grouped.get(t)
        if g is None or g.empty:
            rows.append({"ticker": t, "status": "missing", "rows": 0, "first": None, "last": None})
        else:
            rows.append(
                {
                    "ticker": t,
                    "status": "ok",
                    "rows": len(g),
                    "first": g["date"].min().date().isoformat(),
                    "last": g["date"].max().date().isoformat(),
                }
            )
    return pd.DataFrame(rows)


def fetch_prices(
    tickers: list[str],
    *,
    start: dt.date,
    end: dt.date,
    auto_adjust: bool = True,
    timeout_s: float = 90.0,
    retries: int = 3,
    backoff_s: float = 2.0,
    downloader: Downloader | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> FetchResult:
    """Download daily prices for ``tickers`` with a hard overall deadline.

    Parameters
    ----------
    tickers : list of str
        Symbols as Yahoo spells them.
    start, end : date
        Inclusive window (``end`` is passed to yfinance as the day after, its end is exclusive).
    auto_adjust : bool
        Passed explicitly; the adjusted close becomes ``close`` either way.
    timeout_s : float
        Deadline for the whole call, retries and backoff included.
    retries : int
        Retries after the first attempt, on transient errors only.
    backoff_s : float
        First backoff; doubles each retry.
    downloader : callable, optional
        Replaces ``yfinance.download`` (tests use fakes).

    Raises
    ------
    YahooTimeout, YahooEmpty, YahooPermanentError
    """
    if not tickers:
        raise YahooPermanentError("no tickers requested")
    fn = downloader or _default_downloader
    kwargs = dict(
        tickers=list(tickers),
        start=start.isoformat(),
        end=(end + dt.timedelta(days=1)).isoformat(),
        auto_adjust=auto_adjust,
        group_by="column",
        progress=False,
        threads=True,
        timeout=min(timeout_s, 30.0),
        multi_level_index=True,
        actions=False,
    )
    deadline = clock() + timeout_s
    attempt = 0
    while True:
        attempt += 1
        remaining = deadline - clock()
        if remaining <= 0:
            raise YahooTimeout(
                f"yfinance: deadline of {timeout_s:.1f} s spent after {attempt - 1} attempt(s); {OFFLINE_HINT}"
            )
        try:
            raw = call_with_deadline(lambda: fn(**kwargs), remaining)
        except YahooTimeout:
            raise
        except Exception as exc:
            if is_transient(exc) and attempt <= retries:
                pause = min(backoff_s * 2 ** (attempt - 1), max(deadline - clock(), 0))
                sleep(pause)
                continue
            if is_transient(exc):
                raise YahooError(
                    f"yfinance: transient error persisted after {attempt} attempt(s): {exc!r}; {OFFLINE_HINT}"
                ) from exc
            raise YahooPermanentError(
                f"yfinance: {exc!r} (not retried: not a transient error)"
            ) from exc
        if raw is None or raw.empty:
            raise YahooEmpty(
                f"yfinance returned an empty frame for {len(tickers)} ticker(s) (offline, or unknown symbols); {OFFLINE_HINT}"
            )
        prices = normalize_download(raw, list(tickers), auto_adjust=auto_adjust)
        if prices.empty:
            raise YahooEmpty(f"yfinance returned no usable closes for {tickers}; {OFFLINE_HINT}")
        fetched = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        request = {
            k: v for k, v in kwargs.items() if k in ("tickers", "start", "end", "auto_adjust")
        }
        return FetchResult(prices, ticker_status(prices, list(tickers)), fetched, attempt, request)


# ------------------------------------------------------------------------------------------
# snapshots
# ------------------------------------------------------------------------------------------
def request_key(request: dict[str, Any]) -> str:
    """Short stable hash of a download request (tickers, window, adjustment)."""
    blob = json.dumps(request, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def write_snapshot(folder: Path, name: str, result: FetchResult, key: str) -> Path:
    """Write an immutable snapshot ``folder/<key>/<fetched_at>/<name>.parquet`` + ``meta.json``."""
    stamp = result.fetched_at.replace(":", "").replace("-", "").replace("+0000", "Z")
    target = folder / key / stamp
    if (target / f"{name}.parquet").exists():
        raise FileExistsError(f"{target}: snapshot already exists; snapshots are never overwritten")
    atomic_write_parquet(result.prices, target / f"{name}.parquet")
    atomic_write_json(
        {
            "fetched_at": result.fetched_at,
            "request": result.request,
            "attempts": result.attempts,
            "status": result.status.to_dict(orient="records"),
        },
        target / f"{name}.meta.json",
    )
    return target / f"{name}.parquet"


def latest_snapshot(folder: Path, name: str, key: str) -> Path | None:
    """Most recent snapshot file for a request key, or None."""
    base = folder / key
    if not base.is_dir():
        return None
    found = sorted(base.glob(f"*/{name}.parquet"))
    return found[-1] if found else None


def load_snapshot(path: Path) -> FetchResult:
    """Read a snapshot back with its metadata."""
    meta_path = path.with_name(path.name.replace(".parquet", ".meta.json"))
    meta = json.loads(meta_path.read_text())
    return FetchResult(
        pd.read_parquet(path),
        pd.DataFrame(meta["status"]),
        meta["fetched_at"],
        meta["attempts"],
        meta["request"],
    )


def fetch_or_snapshot(
    tickers: list[str], *, name: str, folder: Path, refresh: bool = False, **kwargs: Any
) -> tuple[FetchResult, Path, bool]:
    """Reuse the latest snapshot of this request unless ``refresh``; else download and snapshot.

    Returns the result, the snapshot path and whether the network was used.
    """
    req = {
        "tickers": sorted(tickers),
        "start": str(kwargs.get("start")),
        "end": str(kwargs.get("end")),
        "auto_adjust": kwargs.get("auto_adjust", True),
    }
    key = request_key(req)
    snap = None if refresh else latest_snapshot(folder, name, key)
    if snap is not None:
        return load_snapshot(snap), snap, False
    result = fetch_prices(tickers, **kwargs)
    return result, write_snapshot(folder, name, result, key), True
