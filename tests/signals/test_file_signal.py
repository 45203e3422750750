"""File signals (CNOI-style) normalised to the contract table; every dropped row counted.

Hand-made files with answers worked out by hand; availability dates exact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alphalab.config import SignalParams
from alphalab.signals import FileSignalError, file_signal_from_params, normalize_file_signal
from alphalab.signals.file import DROP_REASONS
from tests.signals._synth_market import CNOI_DIMS, filings


def _cnoi(rows: list[tuple]) -> pd.DataFrame:
    cols = ["cik", "ticker", "filing_date", "accepted_at", "CNOI", "D"]
    return pd.DataFrame(rows, columns=cols)


def test_duplicate_availability_keeps_last_by_event_time_and_counts() -> None:
    raw = _cnoi([
        (846617, "bac", "2023-03-10", "2023-03-10 18:30", 30.0, 10.0),  # → Monday
        (846617, "BAC", "2023-03-13", "2023-03-13 09:00", 31.0, 11.0),  # → Monday, later: kept
        (846617, "BAC", "2023-03-11", None, 29.0, 9.0),  # Saturday → Monday, earliest time
        (70858, "C", "2023-03-13", "2023-03-13 10:00", 20.0, np.nan),
    ])  # fmt: skip
    out = normalize_file_signal(raw, score="CNOI", dimensions=["D"])
    assert out.counts["duplicate_availability"] == 2
    assert out.counts["rows_in"] == 4 and out.counts["rows_out"] == 2
    t = out.table.set_index("ticker")
    assert t.loc["BAC", "score"] == 31.0 and t.loc["BAC", "D"] == 11.0
    assert t.loc["BAC", "available_at"] == pd.Timestamp("2023-03-13")
    assert np.isnan(t.loc["C", "D"])  # a missing dimension value is kept as NaN
    assert out.dropped["row"].tolist() == [1, 3]
    assert set(out.dropped["reason"]) == {"duplicate_availability"}
    assert out.table["entity"].tolist() == ["70858", "846617"]


def test_contract_dtypes_and_columns() -> None:
    raw = _cnoi([(1, "x", "2023-03-10", "2023-03-10 12:00", 10.0, 5.0)])
    t = normalize_file_signal(raw, score="CNOI", dimensions=["D"], keep=["cik"]).table
    assert list(t.columns) == [
        "entity",
        "ticker",
        "event_date",
        "accepted_at",
        "available_at",
        "score",
        "D",
        "cik",
    ]
    assert t["event_date"].dtype == np.dtype("datetime64[ns]")
    assert t["available_at"].dtype == np.dtype("datetime64[ns]")
    assert str(t["accepted_at"].dt.tz) == "America/New_York"
    assert t["ticker"].iloc[0] == "X" and t["score"].dtype == np.float64


def test_missing_values_are_dropped_and_counted_never_silently() -> None:
    raw = _cnoi([
        (1, "A", "2023-03-10", None, 10.0, 1.0),
        (2, None, "2023-03-10", None, 10.0, 1.0),  # no ticker, no map
        (3, "C", None, None, 10.0, 1.0),  # no date
        (4, "D", "2023-03-10", None, np.nan, 1.0),  # no score
        (1, "A", "2023-03-10", None, 11.0, 1.0),  # same entity, same event date
    ])  # fmt: skip
    out = normalize_file_signal(raw, score="CNOI")
    c = out.counts
    assert (c["missing_ticker"], c["missing_event_date"], c["missing_score"]) == (1, 1, 1)
    assert c["duplicate_availability"] == 1 and c["rows_out"] == 1
    assert c["rows_in"] == c["rows_out"] + sum(c[r] for r in DROP_REASONS)
    assert out.dropped.set_index("row")["reason"].to_dict() == {
        2: "missing_ticker", 3: "missing_event_date", 4: "missing_score", 1: "duplicate_availability",
    }  # fmt: skip
    assert out.table["score"].tolist() == [11.0]  # file order breaks the tie: last kept
    assert c["no_acceptance_time"] == 1


def test_ticker_map_fills_missing_tickers_by_cik() -> None:
    raw = _cnoi(
        [
            (846617.0, None, "2023-03-10", None, 10.0, 1.0),
            (np.nan, "jpm", "2023-03-10", None, 9.0, 1.0),
        ]
    )
    out = normalize_file_signal(raw, score="CNOI", ticker_map={846617: "BAC"})
    assert sorted(out.table["ticker"]) == ["BAC", "JPM"]
    assert sorted(out.table["entity"]) == ["846617", "JPM"]
    assert out.counts["entity_from_ticker"] == 1


def test_repeat_event_date_on_a_later_session_is_kept_and_counted() -> None:
    raw = _cnoi([
        (1, "A", "2023-03-10", "2023-03-10 09:00", 10.0, 1.0),
        (1, "A", "2023-03-10", "2023-03-10 19:00", 12.0, 1.0),  # next session
    ])  # fmt: skip
    out = normalize_file_signal(raw, score="CNOI")
    assert out.counts["repeat_event_date"] == 1 and out.counts["rows_out"] == 2
    assert out.table["available_at"].dt.strftime("%F").tolist() == ["2023-03-10", "2023-03-13"]
    assert out.table["score"].tolist() == [10.0, 12.0]


def test_without_acceptance_column_uses_event_date() -> None:
    raw = _cnoi([(1, "A", "2023-04-07", None, 10.0, 1.0)]).drop(columns="accepted_at")
    out = normalize_file_signal(raw, score="CNOI", lag=1)
    assert out.table["available_at"].iloc[0] == pd.Timestamp("2023-04-11")
    assert "accepted_at" not in out.table.columns
    assert out.counts["no_acceptance_time"] == 1


def test_declared_columns_must_exist() -> None:
    raw = _cnoi([(1, "A", "2023-03-10", None, 10.0, 1.0)])
    with pytest.raises(FileSignalError, match="no column 'G' for a dimension"):
        normalize_file_signal(raw, score="CNOI", dimensions=["D", "G"])
    with pytest.raises(FileSignalError, match="no column 'score'"):
        normalize_file_signal(raw)
    with pytest.raises(FileSignalError, match="not numeric"):
        normalize_file_signal(raw.assign(CNOI=["high"]), score="CNOI")


def test_synthetic_file_accounting_and_params() -> None:
    raw = filings(5, ["AAA", "BBB", "CCC"], n=200)
    params = SignalParams(
        kind="file", dimensions={d: {"weight": 1} for d in CNOI_DIMS}, availability_lag=1
    )
    out = file_signal_from_params(raw, params, score="CNOI")
    c = out.counts
    assert c["rows_in"] == 200 == c["rows_out"] + sum(c[r] for r in DROP_REASONS)
    assert len(out.dropped) == 200 - c["rows_out"]
    assert not out.table.duplicated(["entity", "available_at"]).any()
    assert out.table.duplicated(["entity", "event_date"]).sum() == c["repeat_event_date"]
    assert (out.table["available_at"] > out.table["event_date"]).all()  # lag 1 ⇒ strictly later
    with pytest.raises(FileSignalError, match="needs 'file'"):
        file_signal_from_params(raw, SignalParams(), score="CNOI")
