"""Prices and benchmark for a file-signal study: yfinance snapshots or the user's own exports.

A study whose signal comes from a file (CNOI) runs the pipeline on the ``files`` source, so
prices and the benchmark must be files too. :func:`prices_from_yfinance` downloads them through
:mod:`alphalab.data.yahoo` (bounded in time, snapshotted under ``data/snapshots/yfinance/``;
an existing snapshot of the same request is reused offline) and points the study at the
snapshot; :func:`prices_from_files` uses the user's export as it is. Either way the benchmark
becomes a contract table ``date, ret, rf`` (:func:`benchmark_table`): ``rf`` from a Ken French
factors file when one is given, otherwise NaN — never a filled zero.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alphalab.data import yahoo
from alphalab.data.contract import normalize_benchmark, to_dates
from alphalab.data.factors import load_french_factors
from alphalab.data.sample import daily_rf_from_monthly
from alphalab.io import atomic_write_parquet, sha256_file


class StudyInputError(ValueError):
    """Prices or the benchmark for a study cannot be obtained (says how to fix it)."""


@dataclass
class PriceInputs:
    """Where a study's prices, benchmark and factors come from.

    Attributes
    ----------
    prices : str
        Path of the prices file for ``data.files.prices.path`` (relative to the root when
        inside it).
    benchmark : str
        Path of the benchmark file (``date, ret, rf``).
    factors : dict
        The ``data.factors`` section (``{"source": "none"}`` or a French file).
    status : DataFrame
        ``ticker, status, rows, first, last`` per requested ticker.
    meta : dict
        How they were obtained (snapshot paths, fetched_at, network used, notes).
    """

    prices: str
    benchmark: str
    factors: dict[str, Any]
    status: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path.resolve())


def risk_free(dates: pd.DatetimeIndex, factors_path: Path | None) -> tuple[np.ndarray, str]:
    """Daily rf on ``dates`` from a French factors file (daily, or monthly spread over sessions).

    Returns NaN (and says so) without a file: the rf is never invented.
    """
    if factors_path is None:
        return np.full(len(dates), np.nan), "rf unavailable (no factors file): NaN"
    factors = load_french_factors(factors_path)
    if factors.attrs.get("frequency") == "daily":
        rf = factors.set_index("date")["rf"].reindex(dates).to_numpy(dtype=float)
        return rf, f"rf from the daily factors file {factors_path.name}"
    rf = daily_rf_from_monthly(dates, factors).to_numpy(dtype=float)
    return rf, f"rf from the monthly factors file {factors_path.name}, spread over sessions"


def benchmark_table(
    levels: pd.DataFrame | None = None,
    *,
    returns: pd.DataFrame | None = None,
    factors_path: Path | None = None,
) -> tuple[pd.DataFrame, str]:
    """The contract benchmark ``date, ret, rf`` from index levels or returns.

    Parameters
    ----------
    levels : DataFrame, optional
        ``date`` and ``close`` (index level); the first session has no return and is omitted.
    returns : DataFrame, optional
        ``date`` and ``ret`` (simple, decimals) instead of levels; an ``rf`` column is kept.
    factors_path : Path, optional
        Ken French factors file for the risk-free rate.
    """
    if (levels is None) == (returns is None):
        raise StudyInputError("benchmark: give index levels or returns, not both or neither")
    if levels is not None:
        lv = levels.assign(date=to_dates(levels["date"])).set_index("date")["close"].sort_index()
        ret = lv.astype("float64").pct_change(fill_method=None).iloc[1:]
        frame = pd.DataFrame({"date": ret.index, "ret": ret.to_numpy()})
    else:
        assert returns is not None
        frame = returns.assign(date=to_dates(returns["date"])).sort_values("date")
    if "rf" in frame.columns and factors_path is None:
        note = "rf from the benchmark file"
    else:
        rf, note = risk_free(pd.DatetimeIndex(frame["date"]), factors_path)
        frame = frame.assign(rf=rf)
    return normalize_benchmark(frame.reset_index(drop=True)), note


def write_hashed(frame: pd.DataFrame, folder: Path, stem: str) -> Path:
    """Write ``frame`` as ``folder/stem.<sha12>.parquet`` (content-addressed) and return it.

    A new name for new content makes ``dvc repro`` notice the change through the params
    (``data.files.*.path``). Older versions of the same stem are removed.
    """
    tmp = atomic_write_parquet(frame, folder / f".{stem}.pending.parquet")
    digest = sha256_file(tmp)[:12]
    target = folder / f"{stem}.{digest}.parquet"
    tmp.replace(target)
    for old in folder.glob(f"{stem}.*.parquet"):
        if old != target:
            old.unlink()
    return target


def prices_from_yfinance(
    tickers: list[str],
    *,
    root: Path,
    out_dir: Path,
    start: dt.date,
    end: dt.date,
    benchmark: str = "^GSPC",
    factors_path: Path | None = None,
    refresh: bool = False,
    timeout_s: float = 90.0,
    retries: int = 3,
    downloader: Callable[..., pd.DataFrame] | None = None,
) -> PriceInputs:
    """Download (or reuse the snapshot of) daily prices for ``tickers`` and the benchmark.

    The prices file is the snapshot itself (``data/snapshots/yfinance/<key>/<stamp>/
    prices.parquet``, already in contract form); the benchmark is derived from the
    ``benchmark`` index snapshot and written to ``out_dir``.

    Raises
    ------
    StudyInputError
        When yfinance fails (offline, timeout, unknown symbols), with the offline options.
    """
    if not tickers:
        raise StudyInputError("no mapped tickers to download prices for")
    folder = root / "data" / "snapshots" / "yfinance"
    common: dict[str, Any] = dict(
        start=start,
        end=end,
        auto_adjust=True,
        timeout_s=timeout_s,
        retries=retries,
        downloader=downloader,
    )
    try:
        res, snap, online = yahoo.fetch_or_snapshot(
            sorted(tickers), name="prices", folder=folder, refresh=refresh, **common
        )
        bres, bsnap, bonline = yahoo.fetch_or_snapshot(
            [benchmark], name="benchmark", folder=folder, refresh=refresh, **common
        )
    except yahoo.YahooError as exc:
        raise StudyInputError(
            f"prices: {exc}\n  offline: pass --prices PATH (CSV/Parquet: ticker, date, close) "
            "and --benchmark PATH (date and close or ret)"
        ) from exc
    bench, note = benchmark_table(bres.prices[["date", "close"]], factors_path=factors_path)
    bpath = write_hashed(bench, out_dir, "benchmark")
    return PriceInputs(
        prices=_rel(snap, root),
        benchmark=_rel(bpath, root),
        factors=_factors_section(factors_path, root),
        status=res.status,
        meta={
            "source": "yfinance",
            "prices_snapshot": _rel(snap, root),
            "benchmark_snapshot": _rel(bsnap, root),
            "benchmark_symbol": benchmark,
            "fetched_at": res.fetched_at,
            "network_used": bool(online or bonline),
            "rf": note,
        },
    )


def _factors_section(factors_path: Path | None, root: Path) -> dict[str, Any]:
    if factors_path is None:
        return {"source": "none"}
    return {"source": "french", "path": _rel(factors_path, root)}


def _read_any(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise StudyInputError(f"{path}: file not found")
    if path.suffix.lower() in (".parquet", ".pq"):
        frame = pd.read_parquet(path)
        return frame.reset_index() if not isinstance(frame.index, pd.RangeIndex) else frame
    return pd.read_csv(path)


def _column(frame: pd.DataFrame, names: tuple[str, ...], path: Path, role: str) -> str:
    folded = {str(c).strip().lower(): c for c in frame.columns}
    for n in names:
        if n in folded:
            return str(folded[n])
    raise StudyInputError(
        f"{path}: no {role} column (looked for {list(names)}; the file has {list(frame.columns)})"
    )


def read_benchmark_file(path: Path, factors_path: Path | None) -> tuple[pd.DataFrame, str]:
    """A user's benchmark file: ``date`` and ``close`` (level) or ``ret`` (+ optional ``rf``)."""
    raw = _read_any(path)
    date = _column(raw, ("date",), path, "date")
    folded = {str(c).strip().lower(): c for c in raw.columns}
    if "ret" in folded:
        cols = {"date": raw[date], "ret": pd.to_numeric(raw[folded["ret"]], errors="raise")}
        if "rf" in folded:
            cols["rf"] = pd.to_numeric(raw[folded["rf"]], errors="raise")
        return benchmark_table(returns=pd.DataFrame(cols), factors_path=factors_path)
    close = _column(raw, ("close", "adj close", "adj_close", "level"), path, "close or ret")
    levels = pd.DataFrame({"date": raw[date], "close": pd.to_numeric(raw[close], errors="raise")})
    return benchmark_table(levels, factors_path=factors_path)


def price_status(prices: pd.DataFrame, tickers: list[str]) -> pd.DataFrame:
    """``ticker, status, rows, first, last`` of ``tickers`` in a long prices table."""
    return yahoo.ticker_status(prices, tickers)


def prices_from_files(
    tickers: list[str],
    *,
    root: Path,
    out_dir: Path,
    prices_path: Path,
    benchmark_path: Path | None,
    factors_path: Path | None = None,
    benchmark_fetch: Callable[[], pd.DataFrame] | None = None,
) -> PriceInputs:
    """Use the user's prices export as it is; the benchmark from a file (or ``benchmark_fetch``).

    The prices file must be long (``ticker, date, close``, any case) for the coverage check
    here; the validate stage checks every row of it.
    """
    raw = _read_any(prices_path)
    tcol = _column(raw, ("ticker", "symbol"), prices_path, "ticker")
    dcol = _column(raw, ("date",), prices_path, "date")
    long = pd.DataFrame(
        {
            "ticker": raw[tcol].astype("str").str.strip().str.upper(),
            "date": pd.to_datetime(raw[dcol], errors="coerce"),
        }
    ).dropna()
    if benchmark_path is not None:
        bench, note = read_benchmark_file(benchmark_path, factors_path)
        bmeta = {"benchmark_file": _rel(benchmark_path, root)}
    elif benchmark_fetch is not None:
        levels = benchmark_fetch()
        bench, note = benchmark_table(levels, factors_path=factors_path)
        bmeta = {"benchmark_file": "yfinance"}
    else:
        raise StudyInputError(
            "benchmark: with --prices, pass --benchmark PATH (date and close or ret), or allow "
            "the ^GSPC download (drop --offline)"
        )
    bpath = write_hashed(bench, out_dir, "benchmark")
    return PriceInputs(
        prices=_rel(prices_path, root),
        benchmark=_rel(bpath, root),
        factors=_factors_section(factors_path, root),
        status=price_status(long, tickers),
        meta={"source": "files", "prices_file": _rel(prices_path, root), "rf": note, **bmeta},
    )
