"""The aligned panel: wide float64 matrices (sessions × tickers) on one exchange calendar.

This module is the reference for the panel contract (DESIGN.md §4); other modules say "see
:mod:`alphalab.panel`" instead of re-describing it.

Inputs
------
prices
    Long table ``ticker`` (str), ``date`` (session date), ``close`` (adjusted, > 0), optional
    ``market_cap``. Key ``(ticker, date)`` unique.
signal
    Either the contract signal table — ``ticker``, ``available_at`` (a session), ``score``,
    optional ``entity``, ``event_date``, ``accepted_at`` and dimension columns — or a wide
    score matrix / :class:`~alphalab.signals.price.CompositeSignal` whose rows are formation
    sessions.

Matrices of a Panel
-------------------
Each is a DataFrame with index ``date`` (every session of the window) and columns ``ticker``.

close
    Adjusted close, forward-filled *for valuation only* for at most ``ffill_limit`` sessions
    after the last real close; ``close_filled`` (bool) marks the filled cells.
ret
    Simple close-to-close return ``close[t] / close[t−1] − 1`` on that bounded-filled close.
    The rule: a filled day returns exactly 0 and the next real close is measured from the last
    *real* close (a filled price equals it), so compounding over a short gap is exact; when a
    gap is longer than ``ffill_limit`` sessions the filled close runs out, every return in
    the rest of the gap and the first return after it are NaN. A return is never computed
    from a price that is not a real observed close.
score, dimensions
    Each value sits on the row of its ``available_at`` (known at that session's close, traded
    per the engine's ``lag``, DESIGN.md §6) and is carried forward until superseded by a newer
    value for the same ticker or until it is older than ``max_age_sessions`` sessions (visible
    while ``age ≤ max_age_sessions``, age 0 on the availability row). A table row replaces
    score *and* dimensions together (NaN dimensions included). A matrix row is a full
    cross-section: a NaN there ends the previous value. Scores and dimensions are NaN where
    the valuation close is missing or below ``min_price``.
new_signal
    True where a new value became available on that row (and survived the masks): the
    rebalancing trigger for ``rebalance: availability``.
market_cap
    When the prices carry it; forward-filled with the same bound as ``close``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from alphalab.calendar import CalendarError, session_positions, sessions, shift_sessions, to_day_ns
from alphalab.config import PanelParams, SignalParams
from alphalab.io import atomic_path
from alphalab.signals.price import CompositeSignal, DimensionFn, SignalFrequency, compute_composite

RESERVED = ("date", "ticker", "close", "close_filled", "ret", "market_cap", "score", "new_signal")
META_KEY = b"alphalab.panel"
FORMAT_VERSION = 1
_NAT = np.iinfo(np.int64).min


class PanelError(ValueError):
    """Prices or signal break the panel contract (names the column, ticker, date and rule)."""


# --------------------------------------------------------------------------------------------
# the Panel object
# --------------------------------------------------------------------------------------------
@dataclass
class Panel:
    """Aligned matrices on one session calendar (see the module docstring for each field).

    Attributes
    ----------
    close, close_filled, ret : DataFrame
        Valuation close (float64), its fill flag (bool) and simple returns (float64).
    score, new_signal : DataFrame or None
        Point-in-time score (float64) and the new-value flag (bool); None without a signal.
    dimensions : dict of name → DataFrame
        Dimension matrices aligned like ``score``.
    market_cap : DataFrame or None
    meta : dict
        Build options (calendar, max_age_sessions, ffill_limit, min_price) and ``counts``.
    """

    close: pd.DataFrame
    close_filled: pd.DataFrame
    ret: pd.DataFrame
    score: pd.DataFrame | None = None
    new_signal: pd.DataFrame | None = None
    dimensions: dict[str, pd.DataFrame] = field(default_factory=dict)
    market_cap: pd.DataFrame | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def dates(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.close.index)

    @property
    def tickers(self) -> pd.Index:
        return self.close.columns

    @property
    def counts(self) -> dict[str, int]:
        """Row and cell counts of the build (nothing is dropped without being counted here)."""
        return dict(self.meta.get("counts", {}))

    def fields(self) -> dict[str, pd.DataFrame]:
        """Every matrix by its long-format column name, in storage order."""
        out = {"close": self.close, "close_filled": self.close_filled, "ret": self.ret}
        if self.market_cap is not None:
            out["market_cap"] = self.market_cap
        if self.score is not None and self.new_signal is not None:
            out["score"] = self.score
            out["new_signal"] = self.new_signal
        out.update(self.dimensions)
        return out

    def to_long(self) -> pd.DataFrame:
        """The full grid as a long frame: ``date``, ``ticker``, then one column per matrix.

        Rows are ordered by date then ticker; every (session, ticker) pair appears once.
        """
        t, n = self.close.shape
        data: dict[str, Any] = {
            "date": np.repeat(self.dates.as_unit("ns").to_numpy(), n),
            "ticker": pd.array(np.tile(self.tickers.to_numpy(dtype=object), t), dtype="str"),
        }
        for name, frame in self.fields().items():
            dtype = bool if name in ("close_filled", "new_signal") else np.float64
            data[name] = frame.to_numpy(dtype=dtype).reshape(-1)
        return pd.DataFrame(data)

    def summary(self) -> pd.DataFrame:
        """Coverage of each matrix: non-missing (or True) cells, share, dates with any, names per date.

        ``self.counts`` holds the build's row accounting.
        """
        rows = {}
        for name, frame in self.fields().items():
            arr = frame.to_numpy()
            have = arr.astype(bool) if arr.dtype == bool else np.isfinite(arr)
            per_date = have.sum(axis=1)
            any_date = np.flatnonzero(per_date > 0)
            rows[name] = {
                "cells": int(have.sum()),
                "share": float(have.mean()) if have.size else float("nan"),
                "dates_with_any": int(any_date.size),
                "names_per_date": float(per_date[any_date].mean()) if any_date.size else 0.0,
                "first": self.dates[any_date[0]] if any_date.size else pd.NaT,
                "last": self.dates[any_date[-1]] if any_date.size else pd.NaT,
            }
        return pd.DataFrame.from_dict(rows, orient="index")

    def save(self, path: str | Path) -> Path:
        """Write the panel to one Parquet file (long format, explicit dtypes), atomically.

        The schema is ``date`` timestamp[ns], ``ticker`` string, ``close_filled`` and
        ``new_signal`` bool, every other column float64 (NaN kept as NaN, not null); the
        build options, counts, dimension names and ticker order are stored in the file's
        schema metadata under ``alphalab.panel``.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        long = self.to_long()
        fields = [pa.field("date", pa.timestamp("ns")), pa.field("ticker", pa.string())]
        arrays = [
            pa.array(long["date"].to_numpy(), pa.timestamp("ns")),
            pa.array(long["ticker"].to_numpy(dtype=object), pa.string()),
        ]
        for name in long.columns[2:]:
            typ = pa.bool_() if long[name].dtype == bool else pa.float64()
            fields.append(pa.field(name, typ))
            arrays.append(pa.array(long[name].to_numpy(), typ))
        meta = {
            **self.meta,
            "format_version": FORMAT_VERSION,
            "dimensions": list(self.dimensions),
            "tickers": list(map(str, self.tickers)),
            "n_dates": int(self.close.shape[0]),
        }
        schema = pa.schema(fields, metadata={META_KEY: json.dumps(meta, default=str).encode()})
        table = pa.Table.from_arrays(arrays, schema=schema)
        with atomic_path(path) as tmp:
            pq.write_table(table, tmp)
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> Panel:
        """Read a panel written by :meth:`save` (exact round trip)."""
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        raw_meta = (table.schema.metadata or {}).get(META_KEY)
        if raw_meta is None:
            raise PanelError(
                f"{path}: not an alphalab panel file (no {META_KEY.decode()} metadata)"
            )
        meta = json.loads(raw_meta)
        tickers = pd.Index(meta.pop("tickers"), dtype="str", name="ticker")
        dims = meta.pop("dimensions")
        t, n = int(meta.pop("n_dates")), len(tickers)
        meta.pop("format_version", None)
        if table.num_rows != t * n:
            raise PanelError(f"{path}: {table.num_rows} rows, expected {t} dates × {n} tickers")
        dates = table.column("date").to_numpy()[::n] if n else np.array([], "datetime64[ns]")
        index = pd.DatetimeIndex(dates.astype("datetime64[ns]"), name="date")

        def frame(name: str) -> pd.DataFrame:
            values = table.column(name).to_numpy(zero_copy_only=False).reshape(t, n)
            return pd.DataFrame(values, index=index, columns=tickers)

        names = table.column_names
        has_score = "score" in names
        return cls(
            close=frame("close"),
            close_filled=frame("close_filled"),
            ret=frame("ret"),
            score=frame("score") if has_score else None,
            new_signal=frame("new_signal") if has_score else None,
            dimensions={d: frame(d) for d in dims},
            market_cap=frame("market_cap") if "market_cap" in names else None,
            meta=meta,
        )


# --------------------------------------------------------------------------------------------
# prices → matrices
# --------------------------------------------------------------------------------------------
@dataclass
class _PriceBlock:
    grid: np.ndarray  # int64 ns sessions
    tickers: pd.Index
    close: np.ndarray
    filled: np.ndarray
    ret: np.ndarray
    market_cap: np.ndarray | None
    counts: dict[str, int]


def _clean_prices(
    prices: pd.DataFrame, calendar: str
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Validate the price table; return (day ns, upper tickers, the frame)."""
    missing = [c for c in ("ticker", "date", "close") if c not in prices.columns]
    if missing:
        raise PanelError(f"prices: missing column(s) {missing} (have {list(prices.columns)})")
    if prices.empty:
        raise PanelError("prices: the table is empty")
    tick = prices["ticker"].astype("str").str.strip().str.upper().to_numpy(dtype=object)
    try:
        day = to_day_ns(prices["date"], what="prices.date")
    except CalendarError as exc:
        raise PanelError(str(exc)) from exc
    close = prices["close"].to_numpy(dtype=np.float64, na_value=np.nan)
    _raise_first(day == _NAT, prices, "date", "must be a date")
    _raise_first(~(np.isfinite(close) & (close > 0)), prices, "close", "must be finite and > 0")
    _raise_first(
        pd.Index(tick).isna() | (tick == ""), prices, "ticker", "must be a non-empty string"
    )
    key = pd.DataFrame({"t": tick, "d": day})
    _raise_first(key.duplicated().to_numpy(), prices, "(ticker, date)", "must be unique")
    try:
        session_positions(day, calendar=calendar)
    except CalendarError as exc:
        raise PanelError(f"prices.date: {exc} (price dates must be {calendar} sessions)") from exc
    return day, tick, prices


def _raise_first(bad: np.ndarray, frame: pd.DataFrame, column: str, rule: str) -> None:
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        row = frame.iloc[i]
        value = _show(row[column]) if column in frame.columns else ""
        raise PanelError(
            f"prices row {i + 1}: {column} {value} (ticker {_show(row['ticker'])}, "
            f"date {_show(row['date'])}) {rule}; {int(bad.sum())} row(s) break this rule"
        )


def _show(value: Any) -> str:
    """A cell value for an error message: dates as ISO, numpy scalars as Python values."""
    if isinstance(value, pd.Timestamp):
        return value.isoformat().removesuffix("T00:00:00")
    return repr(value.item() if isinstance(value, np.generic) else value)


def _scatter(
    rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int]
) -> np.ndarray:
    out = np.full(shape, np.nan)
    out[rows, cols] = values
    return out


def ffill_limited(x: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Forward-fill NaN down columns for at most ``limit`` rows after the last real value.

    Returns the filled array and a boolean mask of the filled cells.
    """
    t = x.shape[0]
    rows = np.arange(t)[:, None]
    valid = ~np.isnan(x)
    last = np.maximum.accumulate(np.where(valid, rows, -1), axis=0)
    ok = (last >= 0) & (rows - last <= limit)
    cols = np.arange(x.shape[1])[None, :]
    out = np.where(ok, x[np.where(last >= 0, last, 0), cols], np.nan)
    return out, ok & ~valid


def simple_returns(close: np.ndarray) -> np.ndarray:
    """``close[t] / close[t−1] − 1`` down columns; NaN on the first row or where either is NaN."""
    out = np.full_like(close, np.nan)
    if close.shape[0] > 1:
        out[1:] = close[1:] / close[:-1] - 1.0
    return out


def _price_block(
    prices: pd.DataFrame,
    *,
    first: np.int64 | None,
    end: np.int64 | None,
    ffill_limit: int,
    calendar: str,
) -> _PriceBlock:
    day, tick, frame = _clean_prices(prices, calendar)
    lo = day.min() if first is None else min(int(first), int(day.min()))
    hi = day.max() if end is None else int(end)
    grid = sessions(pd.Timestamp(lo), pd.Timestamp(hi), calendar=calendar).asi8
    if grid.size == 0:
        raise PanelError(
            f"window: no {calendar} session between {pd.Timestamp(lo).date()} and {pd.Timestamp(hi).date()}"
        )
    keep = day <= hi
    tickers = pd.Index(
        np.sort(pd.unique(tick[keep])) if keep.any() else [], dtype="str", name="ticker"
    )
    rows = np.searchsorted(grid, day[keep])
    cols = tickers.get_indexer(tick[keep])
    shape = (grid.size, tickers.size)
    raw = _scatter(rows, cols, frame["close"].to_numpy(np.float64)[keep], shape)
    close, filled = ffill_limited(raw, ffill_limit)
    cap = None
    if "market_cap" in frame.columns:
        cap_raw = _scatter(
            rows, cols, frame["market_cap"].to_numpy(np.float64, na_value=np.nan)[keep], shape
        )
        cap, _ = ffill_limited(cap_raw, ffill_limit)
    counts = {
        "price_rows": int(day.size),
        "price_rows_after_end": int((~keep).sum()),
        "close_filled_cells": int(filled.sum()),
    }
    return _PriceBlock(grid, tickers, close, filled, simple_returns(close), cap, counts)


# --------------------------------------------------------------------------------------------
# signal → event matrices
# --------------------------------------------------------------------------------------------
@dataclass
class _Events:
    has: np.ndarray  # bool (T, N): a new value on this row
    values: dict[str, np.ndarray]  # "score" and each dimension, (T, N), set where has
    counts: dict[str, int]


def _event_time(table: pd.DataFrame) -> np.ndarray:
    """Tie-break key for same-cell rows: acceptance time where known, else the event date."""
    key = np.full(len(table), _NAT, dtype=np.int64)
    for col in ("event_date", "accepted_at"):  # later columns take precedence where known
        if col in table.columns:
            ts = pd.to_datetime(table[col])
            if getattr(ts.dt, "tz", None) is not None:
                ts = ts.dt.tz_convert("America/New_York").dt.tz_localize(None)
            ns = pd.DatetimeIndex(ts).as_unit("ns").asi8
            key = np.where(ns != _NAT, ns, key)
    return key


def _check_table(
    table: pd.DataFrame, dims: Sequence[str], calendar: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate a signal table; return (upper tickers, available_at day ns, scores)."""
    missing = [c for c in ["ticker", "available_at", "score", *dims] if c not in table.columns]
    if missing:
        hint = (
            " (compute it with alphalab.signals.available_at)" if "available_at" in missing else ""
        )
        raise PanelError(f"signal: missing column(s) {missing}{hint}")
    tick = table["ticker"].astype("str").str.strip().str.upper().to_numpy(dtype=object)
    try:
        avail = to_day_ns(table["available_at"], what="signal.available_at")
        if (avail == _NAT).any():
            row = int(np.flatnonzero(avail == _NAT)[0]) + 1
            raise PanelError(f"signal row {row}: available_at is missing")
        session_positions(avail, calendar=calendar)
    except CalendarError as exc:
        raise PanelError(f"signal.available_at: {exc}") from exc
    score = table["score"].to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.isfinite(score).all():
        i = int(np.flatnonzero(~np.isfinite(score))[0])
        raise PanelError(
            f"signal row {i + 1}: score {_show(score[i])} must be finite (ticker {_show(tick[i])})"
        )
    return tick, avail, score


def _last_per_cell(
    rows: np.ndarray, cols: np.ndarray, use: np.ndarray, event_time: np.ndarray
) -> np.ndarray:
    """Indices of the rows kept per (row, col) cell: the last by event time, then input order."""
    order = np.lexsort((np.arange(rows.size), event_time, cols, rows))
    order = order[use[order]]
    r, c = rows[order], cols[order]
    last = (
        np.append((r[1:] != r[:-1]) | (c[1:] != c[:-1]), True)
        if order.size
        else np.zeros(0, dtype=bool)
    )
    return order[last]


def _table_events(
    table: pd.DataFrame, dims: Sequence[str], grid: np.ndarray, tickers: pd.Index, calendar: str
) -> _Events:
    tick, avail, score = _check_table(table, dims, calendar)
    rows = np.searchsorted(grid, avail)
    cols = tickers.get_indexer(tick)
    before, after, unknown = avail < grid[0], avail > grid[-1], cols < 0
    use = ~(before | after | unknown)
    pick = _last_per_cell(rows, cols, use, _event_time(table))
    counts = {
        "signal_rows": len(table),
        "signal_ticker_without_prices": int(unknown.sum()),
        "signal_after_end": int((after & ~unknown).sum()),
        "signal_expired_before_start": int((before & ~unknown).sum()),
        "signal_duplicate_cell": int(use.sum() - pick.size),
        "signal_rows_used": int(pick.size),
    }
    shape = (grid.size, tickers.size)
    r, c = rows[pick], cols[pick]
    has = np.zeros(shape, dtype=bool)
    has[r, c] = True
    values = {"score": _scatter(r, c, score[pick], shape)}
    for d in dims:
        values[d] = _scatter(r, c, table[d].to_numpy(np.float64, na_value=np.nan)[pick], shape)
    return _Events(has, values, counts)


def _matrix_events(
    score: pd.DataFrame,
    dims: Mapping[str, pd.DataFrame],
    grid: np.ndarray,
    tickers: pd.Index,
    calendar: str,
) -> _Events:
    for name, frame in dims.items():
        if not (frame.index.equals(score.index) and frame.columns.equals(score.columns)):
            raise PanelError(f"dimensions[{name!r}]: labels differ from the score matrix")
    if not isinstance(score.index, pd.DatetimeIndex):
        raise PanelError("signal: a score matrix needs a DatetimeIndex of formation sessions")
    try:
        day = to_day_ns(score.index, what="signal index")
        session_positions(day, calendar=calendar)
    except CalendarError as exc:
        raise PanelError(f"signal index: {exc}") from exc
    if (np.diff(day) <= 0).any():
        raise PanelError("signal index: formation dates must be strictly increasing")
    cols_in = pd.Index(score.columns.astype("str").str.strip().str.upper())
    cols = tickers.get_indexer(cols_in)
    in_rows = (day >= grid[0]) & (day <= grid[-1])
    in_cols = cols >= 0
    counts = {
        "signal_rows": int(day.size),
        "signal_outside_window": int((~in_rows).sum()),
        "signal_ticker_without_prices": int((~in_cols).sum()),
    }
    rows = np.searchsorted(grid, day[in_rows])
    shape = (grid.size, tickers.size)
    has = np.zeros(shape, dtype=bool)
    has[np.ix_(rows, cols[in_cols])] = True

    def place(frame: pd.DataFrame) -> np.ndarray:
        out = np.full(shape, np.nan)
        vals = frame.to_numpy(dtype=np.float64, na_value=np.nan)
        out[np.ix_(rows, cols[in_cols])] = vals[np.ix_(in_rows, in_cols)]
        return out

    values = {"score": place(score), **{d: place(f) for d, f in dims.items()}}
    return _Events(has, values, counts)


def carry_forward(
    has: np.ndarray, values: Mapping[str, np.ndarray], *, max_age: int
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Carry each event's values down its column until the next event or ``age > max_age``.

    Returns the carried matrices and the age in rows (−1 where nothing is visible).
    """
    t, n = has.shape
    rows = np.arange(t)[:, None]
    src = np.maximum.accumulate(np.where(has, rows, -1), axis=0)
    age = rows - src
    ok = (src >= 0) & (age <= max_age)
    safe = np.where(ok, src, 0)
    cols = np.arange(n)[None, :]
    out = {k: np.where(ok, v[safe, cols], np.nan) for k, v in values.items()}
    return out, np.where(ok, age, -1)


# --------------------------------------------------------------------------------------------
# build
# --------------------------------------------------------------------------------------------
SignalInput: TypeAlias = pd.DataFrame | CompositeSignal | None


def _is_table(signal: pd.DataFrame) -> bool:
    return "ticker" in signal.columns and not isinstance(signal.index, pd.DatetimeIndex)


def _signal_dates(signal: pd.DataFrame | CompositeSignal) -> Any:
    """The dates that place a signal's values (availability or formation), type-checked."""
    if isinstance(signal, CompositeSignal):
        return signal.score.index
    if not isinstance(signal, pd.DataFrame):
        raise PanelError(
            f"signal: expected a DataFrame or CompositeSignal, got {type(signal).__name__}"
        )
    if _is_table(signal):
        if "available_at" not in signal.columns:
            raise PanelError(
                "signal: missing column 'available_at' (compute it with alphalab.signals.available_at)"
            )
        return signal["available_at"]
    if not isinstance(signal.index, pd.DatetimeIndex):
        raise PanelError(
            "signal: expected a signal table (ticker, available_at, score, ...) "
            "or a score matrix with a DatetimeIndex of formation sessions"
        )
    return signal.index


def _first_needed(
    signal: SignalInput, start: np.int64 | None, max_age: int, calendar: str
) -> np.int64 | None:
    """Earliest session the grid must start at so that values visible at ``start`` are carried."""
    if signal is None:
        return start
    try:
        day = to_day_ns(_signal_dates(signal), what="signal dates")
    except CalendarError as exc:
        raise PanelError(str(exc)) from exc
    day = day[day != _NAT]
    if day.size == 0:
        return start
    earliest = int(day.min())
    if start is None:
        return np.int64(earliest)
    reach = int(shift_sessions([pd.Timestamp(int(start))], -max_age, calendar=calendar).asi8[0])
    return np.int64(min(int(start), max(earliest, reach)))


def _check_dims(dims: Sequence[str]) -> None:
    clash = [d for d in dims if d in RESERVED]
    if clash:
        raise PanelError(f"dimensions: {clash} clash with reserved panel columns {list(RESERVED)}")


def _signal_events(
    signal: SignalInput,
    dimensions: Sequence[str] | Mapping[str, pd.DataFrame] | None,
    block: _PriceBlock,
    calendar: str,
) -> _Events:
    if isinstance(signal, CompositeSignal):
        if dimensions is not None:
            raise PanelError("dimensions: leave None for a CompositeSignal (it carries its own)")
        _check_dims(list(signal.dimensions))
        return _matrix_events(signal.score, signal.dimensions, block.grid, block.tickers, calendar)
    if not isinstance(signal, pd.DataFrame):
        raise PanelError(
            f"signal: expected a DataFrame or CompositeSignal, got {type(signal).__name__}"
        )
    if _is_table(signal):
        if isinstance(dimensions, Mapping):
            raise PanelError("dimensions: for a signal table give column names, not matrices")
        dims = list(dimensions or [])
        _check_dims(dims)
        return _table_events(signal, dims, block.grid, block.tickers, calendar)
    if dimensions is not None and not isinstance(dimensions, Mapping):
        raise PanelError("dimensions: for a score matrix give a mapping name → matrix")
    mats = dict(dimensions or {})
    _check_dims(list(mats))
    return _matrix_events(signal, mats, block.grid, block.tickers, calendar)


def _assemble(
    block: _PriceBlock,
    events: _Events | None,
    *,
    start: np.int64 | None,
    max_age: int,
    min_price: float,
    meta: dict[str, Any],
) -> Panel:
    lo = 0 if start is None else int(np.searchsorted(block.grid, start))
    if lo >= block.grid.size:
        first = pd.Timestamp(int(block.grid[-1]))
        raise PanelError(f"start is after the last session with prices ({first.date()})")
    index = pd.DatetimeIndex(block.grid[lo:].view("datetime64[ns]"), name="date")

    def wrap(x: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(x[lo:], index=index, columns=block.tickers)

    counts = dict(block.counts)
    panel = Panel(
        close=wrap(block.close),
        close_filled=wrap(block.filled),
        ret=wrap(block.ret),
        market_cap=None if block.market_cap is None else wrap(block.market_cap),
    )
    if events is not None:
        counts.update(events.counts)
        carried, age = carry_forward(events.has, events.values, max_age=max_age)
        no_price = np.isnan(block.close)
        cheap = ~no_price & (block.close < min_price)
        visible = np.isfinite(carried["score"])
        counts["score_masked_no_price"] = int((visible & no_price)[lo:].sum())
        counts["score_masked_min_price"] = int((visible & cheap)[lo:].sum())
        counts["score_expired_cells"] = int(((age < 0) & _ever_seen(events.has))[lo:].sum())
        mask = no_price | cheap
        for k in carried:
            carried[k][mask] = np.nan
        new = events.has & np.isfinite(carried["score"])
        panel.score = wrap(carried.pop("score"))
        panel.new_signal = wrap(new)
        panel.dimensions = {k: wrap(v) for k, v in carried.items()}
    panel.meta = {**meta, "counts": counts}
    return panel


def _ever_seen(has: np.ndarray) -> np.ndarray:
    return np.logical_or.accumulate(has, axis=0)


def _window(start: Any, end: Any) -> tuple[np.int64 | None, np.int64 | None]:
    try:
        s = None if start is None else np.int64(to_day_ns(start, what="start")[0])
        e = None if end is None else np.int64(to_day_ns(end, what="end")[0])
    except CalendarError as exc:
        raise PanelError(str(exc)) from exc
    if s is not None and e is not None and s > e:
        raise PanelError(
            f"start {pd.Timestamp(int(s)).date()} is after end {pd.Timestamp(int(e)).date()}"
        )
    return s, e


def _check_options(max_age_sessions: int, ffill_limit: int, min_price: float) -> None:
    if max_age_sessions < 0:
        raise PanelError(f"max_age_sessions: {max_age_sessions} must be ≥ 0")
    if ffill_limit < 0:
        raise PanelError(f"ffill_limit: {ffill_limit} must be ≥ 0")
    if not (np.isfinite(min_price) and min_price >= 0):
        raise PanelError(f"min_price: {min_price} must be finite and ≥ 0")


def build_panel(
    prices: pd.DataFrame,
    signal: SignalInput = None,
    *,
    dimensions: Sequence[str] | Mapping[str, pd.DataFrame] | None = None,
    max_age_sessions: int = 130,
    ffill_limit: int = 5,
    min_price: float = 0.0,
    calendar: str = "XNYS",
    start: Any = None,
    end: Any = None,
) -> Panel:
    """Align prices and a point-in-time signal on one session calendar.

    Parameters
    ----------
    prices : DataFrame
        Long price table (module docstring). Dates must be ``calendar`` sessions.
    signal : DataFrame or CompositeSignal, optional
        A contract signal table (has ``ticker`` and ``available_at`` columns), a wide score
        matrix (formation sessions × tickers) or a :class:`CompositeSignal`.
    dimensions : sequence of str or mapping of name → DataFrame, optional
        Dimension columns of a signal table, or dimension matrices aligned with a score
        matrix. A CompositeSignal brings its own.
    max_age_sessions : int
        A value is visible while its age in sessions is ≤ this.
    ffill_limit : int
        Sessions a close may be carried for valuation after the last real close.
    min_price : float
        Scores are NaN where the valuation close is below this.
    calendar : str
        Exchange calendar name.
    start, end : date-like, optional
        Output window (default: the first and last price date). Data before ``start`` still
        feed returns, fills and carried values at ``start``.

    Returns
    -------
    Panel

    Raises
    ------
    PanelError
        On any contract break, naming the column, row, value and rule.
    """
    _check_options(max_age_sessions, ffill_limit, min_price)
    s, e = _window(start, end)
    first = _first_needed(signal, s, max_age_sessions, calendar)
    block = _price_block(prices, first=first, end=e, ffill_limit=ffill_limit, calendar=calendar)
    events = None if signal is None else _signal_events(signal, dimensions, block, calendar)
    if s is None:
        s = np.int64(to_day_ns(prices["date"]).min())
    meta = {
        "calendar": calendar,
        "max_age_sessions": max_age_sessions,
        "ffill_limit": ffill_limit,
        "min_price": min_price,
        "signal": _signal_kind(signal),
    }
    return _assemble(
        block, events, start=s, max_age=max_age_sessions, min_price=min_price, meta=meta
    )


def _signal_kind(signal: SignalInput) -> str | None:
    if signal is None:
        return None
    if isinstance(signal, CompositeSignal):
        return f"composite:{signal.frequency}"
    return "table" if _is_table(signal) else "matrix"


def valuation_close(
    prices: pd.DataFrame, *, ffill_limit: int = 5, calendar: str = "XNYS"
) -> pd.DataFrame:
    """The panel's valuation close over the prices' own span (sessions × tickers)."""
    block = _price_block(prices, first=None, end=None, ffill_limit=ffill_limit, calendar=calendar)
    index = pd.DatetimeIndex(block.grid.view("datetime64[ns]"), name="date")
    return pd.DataFrame(block.close, index=index, columns=block.tickers)


def panel_from_prices(
    prices: pd.DataFrame,
    *,
    dimensions: Mapping[str, Any] | None = None,
    frequency: SignalFrequency = "monthly",
    registry: Mapping[str, DimensionFn] | None = None,
    min_names: int = 3,
    max_age_sessions: int = 130,
    ffill_limit: int = 5,
    min_price: float = 0.0,
    calendar: str = "XNYS",
    start: Any = None,
    end: Any = None,
) -> Panel:
    """Compute the composite price signal on the valuation close and build the panel.

    The composite (:func:`alphalab.signals.price.compute_composite`) is computed over the
    whole price history (so windows are warm at ``start``) at ``frequency`` formation dates;
    each formation row is available at its own session (known at that close).

    Parameters
    ----------
    dimensions : mapping of name → DimensionSpec or (weight, sign), optional
        Default: the ``signal.dimensions`` default of :class:`~alphalab.config.SignalParams`.
    frequency, registry, min_names
        See :func:`~alphalab.signals.price.compute_composite`.
    max_age_sessions, ffill_limit, min_price, calendar, start, end
        See :func:`build_panel`.
    """
    _check_options(max_age_sessions, ffill_limit, min_price)
    dims = SignalParams.model_validate({}).dimensions if dimensions is None else dimensions
    s, e = _window(start, end)
    block = _price_block(prices, first=None, end=e, ffill_limit=ffill_limit, calendar=calendar)
    index = pd.DatetimeIndex(block.grid.view("datetime64[ns]"), name="date")
    close = pd.DataFrame(block.close, index=index, columns=block.tickers)
    composite = compute_composite(
        close,
        dimensions=dims,
        frequency=frequency,
        registry=registry,
        min_names=min_names,
        calendar=calendar,
    )
    _check_dims(list(composite.dimensions))
    events = _matrix_events(
        composite.score, composite.dimensions, block.grid, block.tickers, calendar
    )
    meta = {
        "calendar": calendar,
        "max_age_sessions": max_age_sessions,
        "ffill_limit": ffill_limit,
        "min_price": min_price,
        "signal": _signal_kind(composite),
        "weights": composite.weights,
        "signs": composite.signs,
    }
    return _assemble(
        block, events, start=s, max_age=max_age_sessions, min_price=min_price, meta=meta
    )


def panel_from_params(
    prices: pd.DataFrame,
    signal: pd.DataFrame | None = None,
    *,
    signal_params: SignalParams,
    panel_params: PanelParams,
    start: Any = None,
    end: Any = None,
    registry: Mapping[str, DimensionFn] | None = None,
) -> Panel:
    """Build the panel the ``signal`` and ``panel`` params sections describe.

    ``kind: composite`` computes the composite from ``prices`` (``signal`` must be None);
    ``kind: file`` expects the normalised contract table
    (:func:`alphalab.signals.file.normalize_file_signal`) with the declared dimensions.
    """
    common = {
        "max_age_sessions": panel_params.max_age_sessions,
        "ffill_limit": panel_params.ffill_limit,
        "min_price": panel_params.min_price,
        "calendar": panel_params.calendar,
        "start": start,
        "end": end,
    }
    if signal_params.kind == "composite":
        if signal is not None:
            raise PanelError(
                "signal: must be None for signal.kind 'composite' (it is computed from prices)"
            )
        return panel_from_prices(
            prices,
            dimensions=signal_params.dimensions,
            frequency=signal_params.frequency,
            registry=registry,
            **common,
        )
    if signal is None:
        raise PanelError("signal: signal.kind 'file' needs the normalised signal table")
    return build_panel(prices, signal, dimensions=list(signal_params.dimensions), **common)
