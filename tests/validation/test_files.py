"""The ``files`` source reader keeps every cell and its line, and reports unreadable files.

Exact comparisons (strings and line numbers); the percent scaling is compared to 1e-12 relative.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alphalab.config import FilesSource, FileTable, Paths
from alphalab.data.files import (
    ATTRS_KEY,
    SOURCE_COLUMN,
    SOURCE_ROW,
    FileReadError,
    load_files,
    read_file_table,
)
from alphalab.validation.findings import Table

REL_TOL = 1e-12


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_mapping_keeps_strings_and_lines(tmp_path: Path) -> None:
    write(
        tmp_path / "p.csv",
        'Symbol,Date,Adj Close,Volume\nNA,2020-01-02,"1,5",10\n\n'
        'aapl,2020-01-03,"multi\nline",11\n',
    )
    df = read_file_table(
        FileTable(path="p.csv", columns={"ticker": "Symbol", "date": "Date", "close": "Adj Close"}),
        "prices",
        root=tmp_path,
    )
    assert list(df.columns) == ["ticker", "date", "close", "volume", SOURCE_ROW]
    assert df["ticker"].tolist() == ["NA", "aapl"]  # 'NA' is a ticker, not a missing value
    assert df["close"].tolist() == ["1,5", "multi\nline"]
    assert df[SOURCE_ROW].tolist() == [2, 4]  # line where each record starts; blank line 3 skipped
    meta = df.attrs[ATTRS_KEY]
    assert meta["columns"]["close"] == "Adj Close" and meta["source_path"] == "p.csv"
    assert any(n["rule"] == "blank_lines" for n in meta["notes"])


def test_wide_layout_melts_with_source_column(tmp_path: Path) -> None:
    write(tmp_path / "w.csv", "Date,AAA,BBB\n2020-01-02,1.0,\n2020-01-03,1.1,2.0\n")
    df = read_file_table(FileTable(path="w.csv", layout="wide"), "prices", root=tmp_path)
    assert df[["ticker", "date", "close", SOURCE_ROW, SOURCE_COLUMN]].values.tolist() == [
        ["AAA", "2020-01-02", "1.0", 2, "AAA"],
        ["AAA", "2020-01-03", "1.1", 3, "AAA"],
        ["BBB", "2020-01-03", "2.0", 3, "BBB"],
    ]  # the empty cell is not an observation


def test_wide_parquet_with_date_index(tmp_path: Path) -> None:
    idx = pd.DatetimeIndex(["2020-01-02", "2020-01-03"], name="Date")
    pd.DataFrame({"AAA": [1.0, np.nan], "BBB": [2.0, 2.5]}, index=idx).to_parquet(
        tmp_path / "w.parquet"
    )
    df = read_file_table(FileTable(path="w.parquet", layout="wide"), "prices", root=tmp_path)
    assert len(df) == 3 and pd.api.types.is_datetime64_any_dtype(df["date"])
    assert df["close"].dtype == "float64"
    assert sorted(df[SOURCE_ROW].tolist()) == [1, 1, 2]  # AAA is missing on row 2


def test_percent_scales_returns_but_not_missing_codes(tmp_path: Path) -> None:
    write(tmp_path / "f.csv", "date,mkt_rf,smb,rf\n201901,8.40,-99.99,0.21\n201902,3.4,1.1,0.18\n")
    df = read_file_table(FileTable(path="f.csv", percent=True), "factors", root=tmp_path)
    assert float(df["mkt_rf"].iloc[0]) == pytest.approx(0.084, rel=REL_TOL)
    assert float(df["rf"].iloc[1]) == pytest.approx(0.0018, rel=REL_TOL)
    assert df["smb"].iloc[0] == "-99.99"  # left for validation to flag as a missing-data code
    frame = pd.DataFrame({"date": ["2020-01-02"], "ret": [1.25], "rf": [-999.0]})
    frame.to_parquet(tmp_path / "b.parquet")
    b = read_file_table(FileTable(path="b.parquet", percent=True), "benchmark", root=tmp_path)
    assert b["ret"].iloc[0] == pytest.approx(0.0125, rel=REL_TOL) and b["rf"].iloc[0] == -999.0


def test_load_files_reports_every_file(tmp_path: Path) -> None:
    write(tmp_path / "p.csv", "ticker;date;close\nA;2020-01-02;1\n")
    write(tmp_path / "b.csv", "date,ret\n")
    spec = FilesSource(
        prices=FileTable(path="p.csv"),
        benchmark=FileTable(path="b.csv"),
        factors=FileTable(path="missing.csv"),
    )
    with pytest.raises(FileReadError) as info:
        load_files(spec, Paths(tmp_path))
    assert isinstance(info.value, ValueError)
    rules = [(p.path, p.rule) for p in info.value.problems]
    assert rules == [
        ("p.csv", "delimiter"),
        ("b.csv", "header_only"),
        ("missing.csv", "missing_file"),
    ]
    assert info.value.lines()[0].startswith("p.csv:1:-: 'ticker;date;close': delimiter: ")


def test_load_files_returns_requested_tables(tmp_path: Path) -> None:
    write(tmp_path / "p.csv", "ticker,date,close\nA,2020-01-02,1\n")
    write(tmp_path / "s.csv", "cik,ticker,filing_date,CNOI,D\n1,A,2020-01-02,5,25\n")
    spec = FilesSource(
        prices=FileTable(path="p.csv"),
        signal=FileTable(
            path="s.csv", columns={"entity": "cik", "event_date": "filing_date", "score": "CNOI"}
        ),
    )
    tables = load_files(spec, Paths(tmp_path))
    assert set(tables) == {"prices", "signal"}
    assert list(tables["signal"].columns) == [
        "entity",
        "ticker",
        "event_date",
        "score",
        "D",
        SOURCE_ROW,
    ]


def test_attrs_survive_the_raw_parquet(tmp_path: Path) -> None:
    """Ingest writes the frame to data/raw; validation still names the user's file and lines."""
    write(tmp_path / "p.csv", "ticker,date,close\nA,2020-01-02,1\nA,2020-01-03,x\n")
    df = read_file_table(FileTable(path="p.csv"), "prices", root=tmp_path)
    df.to_parquet(tmp_path / "raw.parquet")
    table = Table.from_frame("prices", pd.read_parquet(tmp_path / "raw.parquet"))
    assert table.source == "p.csv" and table.rows.tolist() == [2, 3]


@pytest.mark.parametrize(
    ("content", "rule", "row"),
    [
        (b"", "empty_file", 1),
        (b"   \n\n", "empty_file", 1),
        (b"ticker,date,close\n", "header_only", 1),
        (b"ticker,date,close\nA,2020-01-02,1\nA,2020-01-03", "truncated_line", 3),
        (b"ticker,date,close\nA,2020-01-02\nA,2020-01-03,1\n", "ragged_row", 2),
        (b"ticker,date,close\nA,2020-01-02,caf\xe9\n", "encoding", 2),
        (b"ticker,,close\nA,2020-01-02,1\n", "duplicate_header", 1),
        (b"ticker|date|close\nA|2020-01-02|1\n", "delimiter", 1),
    ],
)
def test_read_time_problems(tmp_path: Path, content: bytes, rule: str, row: int) -> None:
    (tmp_path / "x.csv").write_bytes(content)
    with pytest.raises(FileReadError) as info:
        read_file_table(FileTable(path="x.csv"), "prices", root=tmp_path)
    first = info.value.problems[0]
    assert (first.rule, first.row, first.path) == (rule, row, "x.csv")


def test_wide_layout_only_for_prices(tmp_path: Path) -> None:
    write(tmp_path / "b.csv", "date,ret\n2020-01-02,0.1\n")
    with pytest.raises(FileReadError, match="wide"):
        read_file_table(FileTable(path="b.csv", layout="wide"), "benchmark", root=tmp_path)
