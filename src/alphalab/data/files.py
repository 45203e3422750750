"""Local CSV / Parquet inputs (the ``files`` source), read without losing anything.

Each table comes back under the contract's column names (DESIGN.md §4) with its cells exactly
as the file holds them — strings for CSV (nothing is parsed, so ``NA`` stays a ticker and
``12,5`` stays visible), the stored dtypes for Parquet — plus a ``source_row`` column: the
1-based line of the record in the file (the header is line 1) or, for Parquet, the 1-based row.
Wide price matrices (dates × tickers) are melted to long rows that also keep ``source_column``
(the ticker's header). Typing, normalisation and every rule check happen in
:mod:`alphalab.validation`, which can therefore name the exact file, row, column and value.

What makes a file unreadable is reported here, at read time, as ``PATH:LINE:COLUMN: VALUE:
RULE: message`` lines in a :class:`FileReadError`: an empty or header-only file, bytes that are
not UTF-8, a wrong delimiter, truncated or ragged lines, broken quoting, duplicate or missing
columns. Harmless representation issues (a byte-order mark, UTF-16, blank lines, header
whitespace or case) are fixed and listed in ``df.attrs["alphalab"]["notes"]`` so the validate
stage reports them.

``percent: true`` divides the return / factor columns by 100 at this boundary (Ken French and
many vendor files are in percent); the missing-value codes ``-99.99`` and ``-999`` are left as
they are so that validation flags them instead of turning them into plausible returns.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from alphalab.config import FilesSource, FileTable, Paths

Kind = Literal["prices", "benchmark", "factors", "signal"]
KINDS: tuple[Kind, ...] = ("prices", "benchmark", "factors", "signal")

REQUIRED: dict[str, tuple[str, ...]] = {
    "prices": ("ticker", "date", "close"),
    "benchmark": ("date", "ret"),
    "factors": ("date", "mkt_rf"),
    "signal": ("ticker", "event_date", "score"),
}
OPTIONAL: dict[str, tuple[str, ...]] = {
    "prices": ("open", "high", "low", "volume", "market_cap"),
    "benchmark": ("rf",),
    "factors": ("smb", "hml", "mom", "rf", "rmw", "cma"),
    "signal": ("entity", "accepted_at"),
}
PERCENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "prices": (),
    "benchmark": ("ret", "rf"),
    "factors": ("mkt_rf", "smb", "hml", "mom", "rf", "rmw", "cma"),
    "signal": (),
}
MISSING_CODES = (-99.99, -999.0)
SOURCE_ROW = "source_row"
SOURCE_COLUMN = "source_column"
ATTRS_KEY = "alphalab"
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
WIDE_EMPTY = frozenset({"", "na", "n/a", "nan", "null", "none"})
_SURROGATE = re.compile("[\udc80-\udcff]+")


# --------------------------------------------------------------------------------------------
# problems
# --------------------------------------------------------------------------------------------
def show_value(value: Any, width: int = 40) -> str:
    """Render a cell for a problem line: ``repr`` of its text, shortened; ``-`` when absent."""
    if value is None:
        return "-"
    text = value if isinstance(value, str) else str(value)
    shown = repr(text)
    return shown if len(shown) <= width else shown[: width - 4] + "...'"


@dataclass(frozen=True)
class Problem:
    """One problem with an input, printable as ``PATH:ROW:COLUMN: VALUE: RULE: message``.

    ``row`` is the 1-based line of the record in a CSV file (header = line 1) or the 1-based
    row of a Parquet table; ``None`` (shown as ``-``) for problems of a whole table or column.
    ``action`` is what the run does about it: ``error`` (stop), ``quarantine`` (set the row
    aside), ``warn`` (report, keep) or ``normalise`` (fixed and reported).
    """

    path: str
    row: int | None
    column: str | None
    value: str | None
    rule: str
    message: str
    action: str = "error"

    def line(self) -> str:
        """The problem as one ``PATH:ROW:COLUMN: VALUE: RULE: message`` line."""
        row = "-" if self.row is None else str(self.row)
        tag = "" if self.action == "error" else f"[{self.action}] "
        return f"{self.path}:{row}:{self.column or '-'}: {show_value(self.value)}: {self.rule}: {tag}{self.message}"


class FileReadError(ValueError):
    """One or more input files cannot be read; ``problems`` holds one :class:`Problem` each."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(p.line() for p in problems[:50])
        more = f"\n... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{len(problems)} problem(s) reading input files:\n{lines}{more}")

    def lines(self) -> list[str]:
        """Every problem as a ``PATH:ROW:COLUMN: VALUE: RULE: message`` line."""
        return [p.line() for p in self.problems]


# --------------------------------------------------------------------------------------------
# public entry points
# --------------------------------------------------------------------------------------------
def load_files(spec: FilesSource, paths: Paths) -> dict[str, pd.DataFrame]:
    """Read every table of a ``files`` source (see the module docstring).

    Parameters
    ----------
    spec : FilesSource
        ``data.files`` from params: one :class:`~alphalab.config.FileTable` per input.
    paths : Paths
        Relative file paths are resolved against ``paths.root``.

    Returns
    -------
    dict of DataFrame
        Keys among ``prices``, ``benchmark``, ``factors``, ``signal``; cells as in the file,
        contract column names, ``source_row`` (and ``source_column`` for wide layout).

    Raises
    ------
    FileReadError
        With every problem of every file when any file cannot be read.
    """
    tables: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    for kind in KINDS:
        table = getattr(spec, kind)
        if table is None:
            continue
        try:
            tables[kind] = read_file_table(table, kind, root=paths.root)
        except FileReadError as exc:
            problems.extend(exc.problems)
    if problems:
        raise FileReadError(problems)
    return tables


def read_file_table(
    table: FileTable, kind: Kind, *, root: Path | str | None = None
) -> pd.DataFrame:
    """Read one :class:`~alphalab.config.FileTable` as input ``kind`` (see :func:`load_files`)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    path = Path(table.path).expanduser()
    full = path if path.is_absolute() or root is None else Path(root) / path
    shown = table.path
    if not full.is_file():
        raise FileReadError(
            [Problem(shown, None, None, None, "missing_file", f"file not found ({full})")]
        )
    if table.layout == "wide" and kind != "prices":
        raise FileReadError(
            [
                Problem(
                    shown,
                    None,
                    None,
                    None,
                    "layout",
                    f"layout 'wide' is for prices only, not {kind}",
                )
            ]
        )
    if table.resolved_format == "parquet":
        frame, notes = _read_parquet(full, shown)
    else:
        frame, notes = _read_csv(full, shown, table.delimiter)
    out, more, used = _to_contract(frame, kind, table, shown)
    notes.extend(more)
    if table.percent:
        out, pnotes = _scale_percent(out, kind)
        notes.extend(pnotes)
    out.attrs[ATTRS_KEY] = {
        "source_path": shown,
        "kind": kind,
        "format": table.resolved_format,
        "layout": table.layout,
        "date_format": table.date_format,
        "percent": table.percent,
        "columns": used,
        "notes": notes,
    }
    return out


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------
def _decode(raw: bytes, shown: str) -> tuple[str, list[dict[str, Any]]]:
    notes: list[dict[str, Any]] = []
    if raw.startswith(codecs.BOM_UTF8):
        notes.append({"rule": "bom", "message": "UTF-8 byte-order mark at the start removed"})
        raw = raw[len(codecs.BOM_UTF8) :]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise FileReadError(
                [
                    Problem(
                        shown,
                        1,
                        None,
                        None,
                        "encoding",
                        f"UTF-16 byte-order mark but undecodable bytes: {exc.reason}",
                    )
                ]
            ) from None
        notes.append(
            {"rule": "encoding", "message": "UTF-16 file (byte-order mark) decoded; save as UTF-8"}
        )
        return text, notes
    nul = raw.find(b"\x00")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        raise FileReadError(
            [
                Problem(
                    shown,
                    line,
                    None,
                    None,
                    "encoding",
                    "NUL byte in the file: UTF-16 without a byte-order mark, or "
                    "not a text file; re-save as UTF-8 CSV",
                )
            ]
        )
    return raw.decode("utf-8", errors="surrogateescape"), notes


def _split_records(text: str, delimiter: str, shown: str) -> tuple[list[list[str]], list[int], int]:
    """Parse CSV records with the 1-based line where each starts; count blank lines skipped."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[list[str]] = []
    starts: list[int] = []
    blank = 0
    end = 0
    try:
        for rec in reader:
            start, end = end + 1, reader.line_num
            if not rec or (len(rec) == 1 and not rec[0].strip()):
                blank += 1
                continue
            records.append(rec)
            starts.append(start)
    except csv.Error as exc:
        line = end + 1
        msg = str(exc)
        if "NUL" in msg:
            rule, text_msg = (
                "encoding",
                "NUL byte in the file: binary, or UTF-16 without a byte-order mark",
            )
        elif "unexpected end of data" in msg:
            rule, text_msg = (
                "truncated_line",
                "file ends inside a quoted field (cut off while writing?)",
            )
        else:
            rule, text_msg = "malformed_quote", f"broken quoting: {msg}"
        raise FileReadError([Problem(shown, line, None, None, rule, text_msg)]) from None
    return records, starts, blank


def _encoding_problems(
    records: list[list[str]], starts: list[int], header: list[str], shown: str
) -> list[Problem]:
    out = []
    for rec, line in zip(records, starts, strict=True):
        for j, cell in enumerate(rec):
            if _SURROGATE.search(cell):
                raw = cell.encode("utf-8", errors="surrogateescape")
                bad = b"".join(
                    m.group().encode("utf-8", errors="surrogateescape")
                    for m in _SURROGATE.finditer(cell)
                )
                guess = raw.decode("cp1252", errors="replace")
                col = header[j] if j < len(header) else f"field {j + 1}"
                out.append(
                    Problem(
                        shown,
                        line,
                        col,
                        guess,
                        "encoding",
                        f"bytes {bad!r} are not UTF-8 (Windows-1252/Latin-1 would read "
                        f"{guess!r}); re-save the file as UTF-8",
                    )
                )
                if len(out) >= 50:
                    return out
    return out


def _check_delimiter(header: list[str], delimiter: str, shown: str) -> None:
    if len(header) != 1:
        return
    for cand, name in DELIMITERS.items():
        if cand != delimiter and cand in header[0]:
            n = len(header[0].split(cand))
            raise FileReadError(
                [
                    Problem(
                        shown,
                        1,
                        None,
                        header[0],
                        "delimiter",
                        f"header is one column with delimiter {delimiter!r} but {n} columns with {cand!r}: "
                        f"the file looks {name}-delimited; set delimiter: {cand!r} (--delimiter)",
                    )
                ]
            )


def _check_header(header: list[str], shown: str) -> None:
    problems = []
    seen: dict[str, int] = {}
    for j, name in enumerate(header):
        if not name:
            problems.append(
                Problem(
                    shown,
                    1,
                    f"field {j + 1}",
                    name,
                    "duplicate_header",
                    f"column {j + 1} of the header has no name",
                )
            )
        elif name in seen:
            problems.append(
                Problem(
                    shown,
                    1,
                    name,
                    name,
                    "duplicate_header",
                    f"column name repeated (columns {seen[name] + 1} and {j + 1})",
                )
            )
        else:
            seen[name] = j
    if problems:
        raise FileReadError(problems)


def _check_lengths(
    records: list[list[str]],
    starts: list[int],
    header: list[str],
    ends_with_newline: bool,
    delimiter: str,
    shown: str,
) -> None:
    n = len(header)
    problems = []
    last = len(records) - 1
    for i, rec in enumerate(records):
        if len(rec) == n:
            continue
        line = starts[i]
        shown_rec = delimiter.join(rec)
        if i == last and len(rec) < n and not ends_with_newline:
            problems.append(
                Problem(
                    shown,
                    line,
                    header[len(rec)],
                    shown_rec,
                    "truncated_line",
                    f"last line has {len(rec)} of {n} fields and no line end: the file was cut off",
                )
            )
        elif len(rec) < n:
            problems.append(
                Problem(
                    shown,
                    line,
                    header[len(rec)],
                    shown_rec,
                    "ragged_row",
                    f"{len(rec)} fields where the header has {n} (missing from "
                    f"column {header[len(rec)]!r})",
                )
            )
        else:
            problems.append(
                Problem(
                    shown,
                    line,
                    None,
                    shown_rec,
                    "ragged_row",
                    f"{len(rec)} fields where the header has {n} (unquoted "
                    "delimiter in a value, or a stray column?)",
                )
            )
        if len(problems) >= 50:
            break
    if problems:
        raise FileReadError(problems)


def _drop_trailing_empty(
    header: list[str], records: list[list[str]]
) -> tuple[list[str], list[list[str]], int]:
    """Drop unnamed trailing columns that are empty on every row (Excel's trailing delimiters)."""
    k = 0
    while len(header) - k > 1 and not header[len(header) - 1 - k]:
        j = len(header) - 1 - k
        if any(len(r) > j and r[j].strip() for r in records):
            break
        k += 1
    if k == 0:
        return header, records, 0
    n = len(header) - k
    return header[:n], [r[:n] if len(r) > n else r for r in records], k


def _read_csv(path: Path, shown: str, delimiter: str) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    raw = path.read_bytes()
    if not raw.strip():
        raise FileReadError(
            [
                Problem(
                    shown, 1, None, None, "empty_file", "file is empty (0 bytes or only whitespace)"
                )
            ]
        )
    text, notes = _decode(raw, shown)
    if not text.strip():
        raise FileReadError([Problem(shown, 1, None, None, "empty_file", "file holds no text")])
    records, starts, blank = _split_records(text, delimiter, shown)
    header_raw = records[0]
    _check_delimiter(header_raw, delimiter, shown)
    header = [h.strip() for h in header_raw]
    if header != header_raw:
        notes.append({"rule": "header_whitespace", "message": "spaces around header names removed"})
    body, lines = records[1:], starts[1:]
    header, body, dropped = _drop_trailing_empty(header, body)
    if dropped:
        notes.append(
            {
                "rule": "trailing_delimiter",
                "message": f"{dropped} unnamed empty trailing column(s) dropped",
            }
        )
    _check_header(header, shown)
    enc = _encoding_problems(records, starts, header, shown)
    if enc:
        raise FileReadError(enc)
    if not body:
        raise FileReadError(
            [
                Problem(
                    shown,
                    1,
                    None,
                    ",".join(header),
                    "header_only",
                    "file has a header but no data rows",
                )
            ]
        )
    _check_lengths(body, lines, header, text.endswith(("\n", "\r")), delimiter, shown)
    if blank:
        notes.append({"rule": "blank_lines", "message": f"{blank} blank line(s) skipped"})
    frame = pd.DataFrame(body, columns=header, dtype="str")
    frame[SOURCE_ROW] = np.asarray(lines, dtype="int64")
    return frame, notes


# --------------------------------------------------------------------------------------------
# Parquet
# --------------------------------------------------------------------------------------------
def _read_parquet(path: Path, shown: str) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise FileReadError(
            [
                Problem(
                    shown,
                    None,
                    None,
                    None,
                    "unreadable_parquet",
                    f"not a readable Parquet file: {exc}",
                )
            ]
        ) from None
    if not isinstance(frame.index, pd.RangeIndex):
        frame = frame.reset_index()
    if frame.empty:
        raise FileReadError(
            [Problem(shown, None, None, None, "header_only", "Parquet table has no rows")]
        )
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    frame[SOURCE_ROW] = np.arange(1, len(frame) + 1, dtype="int64")
    return frame, []


# --------------------------------------------------------------------------------------------
# column mapping, wide layout, percent
# --------------------------------------------------------------------------------------------
def _find_column(name: str, mapped: str | None, columns: list[str]) -> tuple[str | None, bool]:
    """File column for a contract name: the mapped one, the same name, or a case-insensitive match."""
    if mapped is not None:
        return (mapped, False) if mapped in columns else (None, False)
    if name in columns:
        return name, False
    folded = {c.strip().lower(): c for c in columns}
    hit = folded.get(name.lower())
    return hit, hit is not None


def _to_contract(
    frame: pd.DataFrame, kind: Kind, table: FileTable, shown: str
) -> tuple[pd.DataFrame, list[dict[str, Any]], dict[str, str]]:
    """Rename to contract names; return the frame, notes and the contract → file column map."""
    if table.layout == "wide":
        melted, wide_notes = _melt_wide(frame, table, shown)
        return melted, wide_notes, {"date": melted.attrs.pop("date_column", "date")}
    contract = REQUIRED[kind] + OPTIONAL[kind]
    unknown = [k for k in table.columns if k not in contract and kind != "signal"]
    cols = [c for c in frame.columns if c != SOURCE_ROW]
    problems = [
        Problem(
            shown,
            None,
            k,
            table.columns[k],
            "unknown_mapping",
            f"{k!r} is not a {kind} column; known: {', '.join(contract)}",
        )
        for k in unknown
    ]
    rename: dict[str, str] = {}
    notes: list[dict[str, Any]] = []
    for name in contract:
        col, folded = _find_column(name, table.columns.get(name), cols)
        if col is None:
            if name in REQUIRED[kind] or name in table.columns:
                src = table.columns.get(name, name)
                problems.append(
                    Problem(
                        shown,
                        1,
                        src,
                        None,
                        "missing_column",
                        f"required column {name!r} not found (looked for {src!r}); "
                        f"the file has {cols}; map it with --map {name}=COLUMN",
                    )
                )
            continue
        if folded:
            notes.append({"rule": "column_case", "message": f"column {col!r} read as {name!r}"})
        rename[col] = name
    if problems:
        raise FileReadError(problems)
    if kind == "signal":
        for key, col in table.columns.items():  # extra mapped columns (e.g. dimensions)
            if key not in contract and col in cols:
                rename[col] = key
        keep = cols
    else:
        keep = list(rename)
        unused = [c for c in cols if c not in rename]
        if unused:
            notes.append(
                {
                    "rule": "unused_columns",
                    "message": f"columns not in the contract ignored: {unused}",
                }
            )
    out = frame[[*keep, SOURCE_ROW]].rename(columns=rename)
    return out, notes, {new: old for old, new in rename.items()}


def _melt_wide(
    frame: pd.DataFrame, table: FileTable, shown: str
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    cols = [c for c in frame.columns if c != SOURCE_ROW]
    date_col, _ = _find_column("date", table.columns.get("date"), cols)
    if date_col is None:
        date_col = cols[0]
    tickers = [c for c in cols if c != date_col]
    if not tickers:
        raise FileReadError(
            [
                Problem(
                    shown,
                    1,
                    None,
                    None,
                    "missing_column",
                    "wide layout needs a date column and one column per ticker",
                )
            ]
        )
    values = frame[tickers]
    n, k = values.shape
    if all(pd.api.types.is_numeric_dtype(values[c]) for c in tickers):
        cells = values.to_numpy(dtype="float64").reshape(-1)
        empty = np.isnan(cells)
        close = pd.Series(cells[~empty], dtype="float64")
    else:
        cells = values.astype("str").to_numpy(dtype=object).reshape(-1)
        text = pd.Series(cells, dtype="str").fillna("").str.strip().str.lower()
        empty = text.isin(WIDE_EMPTY).to_numpy()
        close = pd.Series(cells[~empty], dtype="str")
    dates = np.repeat(frame[date_col].to_numpy(), k)[~empty]
    names = np.tile(np.asarray(tickers, dtype=object), n)[~empty]
    out = pd.DataFrame(
        {
            "ticker": pd.Series(names, dtype="str"),
            "date": pd.Series(dates, dtype=frame[date_col].dtype),
            "close": close,
            SOURCE_ROW: np.repeat(frame[SOURCE_ROW].to_numpy(), k)[~empty],
            SOURCE_COLUMN: pd.Series(names, dtype="str"),
        }
    )
    notes = [
        {
            "rule": "wide_layout",
            "message": f"wide matrix of {n} dates × {k} tickers melted to "
            f"{len(out)} rows; {int(empty.sum())} empty cells are not observations",
        }
    ]
    out.attrs["date_column"] = date_col
    return out, notes


def _scale_percent(df: pd.DataFrame, kind: Kind) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    cols = [c for c in PERCENT_COLUMNS[kind] if c in df.columns]
    out = df.copy()
    for col in cols:
        s = out[col]
        if pd.api.types.is_numeric_dtype(s):
            num = s.astype("float64")
            code = num.isin(MISSING_CODES)
            out[col] = num.where(code, num / 100.0)
            continue
        num = pd.to_numeric(s.astype("str").str.strip(), errors="coerce")
        ok = (num.notna() & np.isfinite(num) & ~num.isin(MISSING_CODES)).to_numpy()
        scaled = np.array(s.astype("object"), dtype=object)
        scaled[ok] = [repr(float(x) / 100.0) for x in num.to_numpy()[ok]]
        out[col] = pd.Series(scaled, index=s.index, dtype="str")
    note = {"rule": "percent_scaled", "message": f"percent: columns {cols} divided by 100"}
    return out, [note] if cols else []
