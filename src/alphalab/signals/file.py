"""File signals (CNOI-style: one row per filing) normalised to the contract signal table.

The contract table (DESIGN.md §4, documented in :mod:`alphalab.panel`) has one row per
``(entity, available_at)`` with ``entity`` (str), ``ticker`` (str, upper case), ``event_date``
(session-naive date), ``accepted_at`` (US/Eastern, NaT when unknown; only when the file has
acceptance times), ``available_at`` (see :func:`alphalab.signals.availability.available_at`),
``score`` and the declared dimension columns.

Nothing is dropped silently: every removed row is returned in ``dropped`` with its 1-based
file row and a reason, and ``counts`` satisfies ``rows_in = rows_out + Σ dropped reasons``.

Key: DESIGN.md §4 names ``(entity, event_date)``. Two rows of one entity with the same event
date but different availability sessions (possible only when acceptance times and filing
dates disagree, or only one row has a time) are both kept and counted as
``repeat_event_date``: dropping the earlier one because a later one exists would let later
information change what the panel shows earlier (a look-ahead). ``(entity, available_at)``
is always unique.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from alphalab.config import SignalParams
from alphalab.signals.availability import EASTERN, NoTimeRule, available_at

DROP_REASONS = (
    "missing_ticker",
    "missing_event_date",
    "missing_score",
    "duplicate_availability",
)


class FileSignalError(ValueError):
    """A signal file lacks a declared column or holds values that break the contract."""


@dataclass(frozen=True)
class FileSignal:
    """A normalised file signal.

    Attributes
    ----------
    table : DataFrame
        The contract signal table, sorted by ``available_at`` then ``entity``.
    counts : dict
        ``rows_in``, ``rows_out``, one count per reason in :data:`DROP_REASONS`, plus
        ``no_acceptance_time`` (kept rows whose availability used the event date only) and
        ``entity_from_ticker`` (rows without an entity id, keyed by ticker instead) and
        ``repeat_event_date`` (kept rows repeating an entity's event date on a later session).
    dropped : DataFrame
        The removed rows as read, with ``row`` (1-based file row) and ``reason``.
    """

    table: pd.DataFrame
    counts: dict[str, int]
    dropped: pd.DataFrame


def _require(raw: pd.DataFrame, column: str, role: str) -> None:
    if column not in raw.columns:
        have = ", ".join(map(str, raw.columns))
        raise FileSignalError(f"signal file: no column {column!r} for {role} (columns: {have})")


def _id_strings(values: pd.Series) -> pd.Series:
    """Ids as stripped strings, None when missing; integral floats (CIKs read with NaN) lose ``.0``."""
    if pd.api.types.is_float_dtype(values):
        finite = values.dropna()
        if (finite == np.round(finite)).all():
            values = values.astype("Int64")
    text = values.astype("string").str.strip()
    return text.where(text.notna() & (text != ""), None).astype(object)


def _tickers(
    raw: pd.DataFrame, ticker: str, entities: pd.Series | None, ticker_map: Mapping[Any, str] | None
) -> pd.Series:
    if ticker in raw.columns:
        out = _id_strings(raw[ticker])
    elif ticker_map is None:
        raise FileSignalError(
            f"signal file: no column {ticker!r} for tickers and no ticker_map to derive them"
        )
    else:
        out = pd.Series(None, index=raw.index, dtype=object)
    if ticker_map is not None and entities is not None:
        keyed = {str(k).strip(): v for k, v in ticker_map.items()}
        mapped = entities.map(keyed)
        out = out.where(out.notna(), mapped)
    text = out.astype("string").str.strip().str.upper()
    return text.where(text.notna() & (text != ""), None).astype(object)


def _accepted(raw: pd.DataFrame, column: str | None) -> pd.Series | None:
    if column is None or column not in raw.columns:
        return None
    try:
        parsed = pd.to_datetime(raw[column])
    except (ValueError, TypeError):
        try:  # ISO strings with mixed offsets (EST and EDT)
            parsed = pd.to_datetime(raw[column], utc=True)
        except (ValueError, TypeError) as exc:
            raise FileSignalError(f"signal file: column {column!r}: cannot parse ({exc})") from exc
    if getattr(parsed.dt, "tz", None) is None:
        # naive times are US/Eastern wall clock; the repeated / skipped small-hours of DST
        # changes are resolved without moving the date or crossing the after-hours cutoff
        dst = np.ones(len(parsed), dtype=bool)
        parsed = parsed.dt.tz_localize(EASTERN, ambiguous=dst, nonexistent="shift_forward")
    return parsed.dt.tz_convert(EASTERN)


def _drop(
    frame: pd.DataFrame, mask: pd.Series, reason: str, dropped: list[pd.DataFrame]
) -> pd.DataFrame:
    if mask.any():
        dropped.append(frame.loc[mask, ["row"]].assign(reason=reason))
    return frame.loc[~mask]


def normalize_file_signal(
    raw: pd.DataFrame,
    *,
    score: str = "score",
    dimensions: Sequence[str] = (),
    entity: str | None = "cik",
    ticker: str = "ticker",
    event_date: str = "filing_date",
    accepted_at: str | None = "accepted_at",
    ticker_map: Mapping[Any, str] | None = None,
    keep: Sequence[str] = (),
    after_hours_cutoff: dt.time = dt.time(17, 30),
    lag: int = 0,
    calendar: str = "XNYS",
    if_no_time: NoTimeRule = "event_date",
) -> FileSignal:
    """Normalise a one-row-per-filing signal file to the contract signal table.

    Steps: tickers are stripped and upper-cased (missing ones filled from ``ticker_map`` by
    entity); rows without ticker, event date or score are dropped and counted;
    ``available_at`` follows :func:`~alphalab.signals.availability.available_at`. When several
    rows of one entity become available on the same session, the last by event time
    (acceptance time when known, else the event date; ties by file order) is kept and the
    others counted as ``duplicate_availability`` (all of them fall on one session, so the
    choice uses no later information). Rows repeating an event date on a *later* session are
    kept and counted (module docstring).

    Parameters
    ----------
    raw : DataFrame
        The file as read (e.g. CNOI: ``cik, ticker, filing_date, CNOI, D … X``).
    score : str
        Column holding the score (``"CNOI"`` for the CNOI file).
    dimensions : sequence of str
        Declared dimension columns to carry (each must exist; NaN values are kept).
    entity : str or None
        Stable entity id column (CIK); when absent (or None), the ticker is the entity.
    ticker, event_date, accepted_at : str
        Column names; ``accepted_at`` may be absent from the file.
    ticker_map : mapping, optional
        Entity id → ticker, used where the ticker column is missing or empty. Map to the
        common-stock line, not preferred lines such as ``C-PN``.
    keep : sequence of str
        Extra columns to pass through unchanged (e.g. ``form``, ``accession``).
    after_hours_cutoff, lag, calendar, if_no_time
        The availability convention (see ``available_at``).

    Returns
    -------
    FileSignal

    Raises
    ------
    FileSignalError
        When a declared column is missing or a value cannot be parsed.

    References
    ----------
    Regulation S-T, 17 CFR 232.13(a)(2) (filing-date rule behind the after-hours cutoff).
    """
    for col, role in [
        (score, "the score"),
        (event_date, "event dates"),
        *[(d, "a dimension") for d in dimensions],
        *[(k, "keep") for k in keep],
    ]:
        _require(raw, col, role)
    frame = pd.DataFrame({"row": np.arange(1, len(raw) + 1)}, index=raw.index)
    ent = _id_strings(raw[entity]) if entity is not None and entity in raw.columns else None
    frame["ticker"] = _tickers(raw, ticker, ent, ticker_map)
    frame["entity"] = frame["ticker"] if ent is None else ent.where(ent.notna(), frame["ticker"])
    frame["event_date"] = _dates(raw[event_date], event_date)
    acc = _accepted(raw, accepted_at)
    if acc is not None:
        frame["accepted_at"] = acc
    frame["score"] = _floats(raw[score], score)
    for d in dimensions:
        frame[d] = _floats(raw[d], d)
    for k in keep:
        frame[k] = raw[k]
    counts = {"rows_in": len(raw)}
    counts["entity_from_ticker"] = int(len(raw) if ent is None else ent.isna().sum())
    dropped: list[pd.DataFrame] = []
    frame = _drop(frame, frame["ticker"].isna(), "missing_ticker", dropped)
    frame = _drop(frame, frame["event_date"].isna(), "missing_event_date", dropped)
    frame = _drop(frame, ~np.isfinite(frame["score"]), "missing_score", dropped)
    frame = _with_availability(
        frame, acc is not None, after_hours_cutoff, lag, calendar, if_no_time
    )
    frame = _dedupe(frame, ["entity", "available_at"], "duplicate_availability", dropped)
    counts["repeat_event_date"] = int(frame.duplicated(["entity", "event_date"]).sum())
    counts["no_acceptance_time"] = (
        int(frame["accepted_at"].isna().sum()) if acc is not None else len(frame)
    )
    return _result(raw, frame, dropped, counts, [*dimensions], [*keep])


def _dates(values: pd.Series, column: str) -> pd.Series:
    try:
        parsed = pd.to_datetime(values)
    except (ValueError, TypeError) as exc:
        raise FileSignalError(
            f"signal file: column {column!r}: cannot parse dates ({exc})"
        ) from exc
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed.dt.normalize().astype("datetime64[ns]")


def _floats(values: pd.Series, column: str) -> pd.Series:
    try:
        return pd.to_numeric(values, errors="raise").astype("float64")
    except (ValueError, TypeError) as exc:
        raise FileSignalError(f"signal file: column {column!r}: not numeric ({exc})") from exc


def _with_availability(
    frame: pd.DataFrame,
    has_time: bool,
    cutoff: dt.time,
    lag: int,
    calendar: str,
    if_no_time: NoTimeRule,
) -> pd.DataFrame:
    acc = frame["accepted_at"] if has_time else None
    avail = available_at(
        frame["event_date"],
        acc,
        after_hours_cutoff=cutoff,
        lag=lag,
        calendar=calendar,
        if_no_time=if_no_time,
    )
    out = frame.assign(available_at=np.asarray(avail))
    when = frame["event_date"]
    if has_time:
        local = frame["accepted_at"].dt.tz_localize(None).astype("datetime64[ns]")
        when = local.where(local.notna(), when)
    return out.assign(_event_time=when)


def _dedupe(
    frame: pd.DataFrame, key: list[str], reason: str, dropped: list[pd.DataFrame]
) -> pd.DataFrame:
    order = frame.sort_values([*key, "_event_time", "row"], kind="stable")
    dup = order.duplicated(key, keep="last")
    return _drop(order, dup, reason, dropped)


def _result(
    raw: pd.DataFrame,
    frame: pd.DataFrame,
    dropped: list[pd.DataFrame],
    counts: dict[str, int],
    dims: list[str],
    keep: list[str],
) -> FileSignal:
    cols = ["entity", "ticker", "event_date"]
    cols += ["accepted_at"] if "accepted_at" in frame.columns else []
    cols += ["available_at", "score", *dims, *keep]
    table = frame.sort_values(["available_at", "entity", "row"], kind="stable")[cols]
    table = table.reset_index(drop=True).astype({"entity": "str", "ticker": "str"})
    gone = pd.concat(dropped) if dropped else pd.DataFrame({"row": [], "reason": []})
    reasons = gone["reason"].value_counts()
    for reason in DROP_REASONS:
        counts[reason] = int(reasons.get(reason, 0))
    counts["rows_out"] = len(table)
    if counts["rows_in"] != counts["rows_out"] + sum(counts[r] for r in DROP_REASONS):
        raise AssertionError(f"row accounting broke: {counts}")
    detail = raw.iloc[gone["row"].to_numpy(dtype=int) - 1].reset_index(drop=True)
    detail.insert(0, "reason", gone["reason"].to_numpy())
    detail.insert(0, "row", gone["row"].to_numpy(dtype=int))
    return FileSignal(
        table, counts, detail.sort_values("row", kind="stable").reset_index(drop=True)
    )


def file_signal_from_params(
    raw: pd.DataFrame,
    params: SignalParams,
    *,
    calendar: str = "XNYS",
    **columns: Any,
) -> FileSignal:
    """:func:`normalize_file_signal` with the dimensions, cutoff and lag of ``signal`` params.

    ``columns`` passes the column names (``score=``, ``entity=``, ``ticker=``, ...) and
    ``ticker_map`` / ``keep`` through unchanged.
    """
    if params.kind != "file":
        raise FileSignalError(f"signal.kind: {params.kind!r}; file_signal_from_params needs 'file'")
    return normalize_file_signal(
        raw,
        dimensions=list(params.dimensions),
        after_hours_cutoff=params.after_hours_cutoff,
        lag=params.availability_lag,
        calendar=calendar,
        **columns,
    )
