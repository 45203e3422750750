"""The CNOI file as researchers have it (DESIGN.md §1), read without losing a cell, and checked.

One row per 10-K/10-Q filing of a US bank: ``cik`` (int), ``accession``, ``form``,
``filing_date``, ``issuer``, ``CNOI`` (about 5–45) and the seven dimensions ``D``
discoverability, ``G`` granularity, ``R`` required items (ASC 326-20), ``J`` readability, ``T``
table density, ``S`` stability, ``X`` consistency (each 0–100, higher = more opaque), sometimes
``ticker``, ``penalty_reasons`` and ``ixbrl_*`` flags, and an acceptance time when the file
carries EDGAR's ``acceptanceDateTime``. CNOI = 0.2·(D+G+R) + 0.1·(J+T+S+X).

:func:`read_cnoi` keeps every cell as text (so the validate stage sees exactly what the file
holds) and the 1-based line of each record; :func:`cnoi_checks` runs the study's pre-flight
checks (one row per filing, forms, weighted dimensions, ranges, window) so that a user sees
problems when switching to the study, before ``dvc repro``; :func:`signal_frame` adds the
common-stock ticker of every CIK and writes unmapped CIKs under an explicit placeholder ticker
(:func:`unmapped_ticker`) that the validate stage lists and sets aside — never dropped.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alphalab.data.sec import CikMapping

DIMENSIONS: dict[str, str] = {
    "D": "discoverability",
    "G": "granularity",
    "R": "required items (ASC 326-20)",
    "J": "readability",
    "T": "table density",
    "S": "stability",
    "X": "consistency",
}
WEIGHTS: dict[str, float] = {"D": 0.2, "G": 0.2, "R": 0.2, "J": 0.1, "T": 0.1, "S": 0.1, "X": 0.1}
REQUIRED = ("cik", "filing_date", "CNOI", *DIMENSIONS)
OPTIONAL = ("accession", "form", "issuer", "ticker", "penalty_reasons")
ACCEPTANCE = ("accepted_at", "acceptance_datetime", "acceptancedatetime", "accepted")
FORMS = ("10-K", "10-Q")
UNMAPPED_PREFIX = "UNMAPPED-CIK"
FILE_TICKER = "ticker_in_file"
ROW = "cnoi_row"


class CnoiFileError(ValueError):
    """The CNOI file cannot be used: ``problems`` holds ``PATH:LINE:COLUMN: VALUE: message`` lines."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = "\n".join(problems[:30])
        more = f"\n... and {len(problems) - 30} more" if len(problems) > 30 else ""
        super().__init__(f"{len(problems)} problem(s) in the CNOI file:\n{shown}{more}")


@dataclass(frozen=True)
class CnoiFile:
    """A CNOI file as read: text cells under canonical column names.

    Attributes
    ----------
    frame : DataFrame
        Every column of the file as text (``str``), known columns renamed to their canonical
        spelling (``cnoi`` → ``CNOI``, ``acceptanceDateTime`` → ``accepted_at``), ``cik``
        rewritten as its integer (leading zeros dropped), plus ``cnoi_row`` (the record's 1-based
        line in a CSV, header = line 1; the 1-based row of a Parquet table).
    path : str
        The file as given.
    notes : list of str
        Representation fixes made while reading (renamed columns, CIK spelling).
    """

    frame: pd.DataFrame
    path: str
    notes: list[str] = field(default_factory=list)

    @property
    def ciks(self) -> pd.Series:
        """CIKs as integers (one per row)."""
        return self.frame["cik"].astype("int64")

    def numbers(self, column: str) -> pd.Series:
        """A column parsed as floats (NaN where the text is not a number)."""
        return pd.to_numeric(self.frame[column].str.strip(), errors="coerce").astype("float64")

    def dates(self, column: str = "filing_date") -> pd.Series:
        """A column parsed as dates (NaT where the text is not a date)."""
        return pd.to_datetime(self.frame[column].str.strip(), errors="coerce", format="mixed")


def _records(text: str, path: str) -> tuple[list[str], list[list[str]], list[int]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[list[str]] = []
    lines: list[int] = []
    end = 0
    try:
        for rec in reader:
            start, end = end + 1, reader.line_num
            if rec and any(cell.strip() for cell in rec):
                rows.append(rec)
                lines.append(start)
    except csv.Error as exc:
        raise CnoiFileError([f"{path}:{end + 1}:-: -: broken CSV quoting ({exc})"]) from None
    if not rows:
        raise CnoiFileError([f"{path}:1:-: -: the file is empty"])
    header = [h.strip() for h in rows[0]]
    body, body_lines = rows[1:], lines[1:]
    bad = [
        f"{path}:{ln}:-: {len(r)} fields: the header has {len(header)}"
        for r, ln in zip(body, body_lines, strict=True)
        if len(r) != len(header)
    ]
    if bad:
        raise CnoiFileError(bad)
    return header, body, body_lines


def _read_table(p: Path) -> tuple[pd.DataFrame, list[int]]:
    if p.suffix.lower() in (".parquet", ".pq"):
        table = pd.read_parquet(p)
        if not isinstance(table.index, pd.RangeIndex):
            table = table.reset_index()
        out = pd.DataFrame({str(c): _as_text(table[c]) for c in table.columns})
        return out, list(range(1, len(out) + 1))
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CnoiFileError([f"{p}:-:-: -: not UTF-8 ({exc.reason}); re-save as UTF-8"]) from None
    header, body, lines = _records(text, str(p))
    return pd.DataFrame(body, columns=header, dtype="str"), lines


def _as_text(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.strftime("%Y-%m-%d %H:%M:%S").str.replace(" 00:00:00", "").fillna("")
    if pd.api.types.is_float_dtype(values):
        whole = values.dropna()
        if len(whole) and (whole == np.round(whole)).all() and values.name == "cik":
            return values.astype("Int64").astype("str").fillna("")
        return values.map(lambda v: "" if pd.isna(v) else repr(float(v))).astype("str")
    return values.astype("str").fillna("")


def _canonical_names(columns: list[str]) -> tuple[dict[str, str], list[str]]:
    folded = {c.strip().lower().replace(" ", "_"): c for c in columns}
    rename: dict[str, str] = {}
    for name in (*REQUIRED, *OPTIONAL):
        hit = folded.get(name.lower())
        if hit is not None and hit != name:
            rename[hit] = name
    for name in ACCEPTANCE:
        hit = folded.get(name)
        if hit is not None:
            rename[hit] = "accepted_at"
            break
    notes = [f"column {old!r} read as {new!r}" for old, new in rename.items()]
    return rename, notes


def read_cnoi(path: str | Path) -> CnoiFile:
    """Read a CNOI file (CSV or Parquet) keeping every cell as text; see :class:`CnoiFile`.

    Raises
    ------
    CnoiFileError
        When the file is missing, unreadable, lacks a required column (``cik``,
        ``filing_date``, ``CNOI``, ``D`` … ``X``) or holds a CIK that is not an integer.
    """
    p = Path(path)
    if not p.is_file():
        raise CnoiFileError([f"{p}:-:-: -: file not found"])
    frame, lines = _read_table(p)
    rename, notes = _canonical_names(list(frame.columns))
    frame = frame.rename(columns=rename)
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise CnoiFileError(
            [
                f"{p}:1:{c}: -: required column absent (the file has {list(frame.columns)})"
                for c in missing
            ]
        )
    text = frame["cik"].str.strip().str.replace(r"\.0+$", "", regex=True)
    bad = ~text.str.fullmatch(r"\d{1,10}")
    if bad.any():
        raise CnoiFileError(
            [
                f"{p}:{lines[i]}:cik: {frame['cik'].iloc[i]!r}: not an integer CIK"
                for i in np.flatnonzero(bad.to_numpy())
            ]
        )
    canonical = text.astype("int64").astype("str")
    if (canonical != frame["cik"]).any():
        notes.append(
            f"cik written as integers in {int((canonical != frame['cik']).sum())} row(s) "
            "(leading zeros or '.0' removed)"
        )
    frame["cik"] = canonical
    frame[ROW] = np.asarray(lines, dtype="int64")
    return CnoiFile(frame.reset_index(drop=True), str(path), notes)


# --------------------------------------------------------------------------------------------
# pre-flight checks
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckResult:
    """One pre-flight rule: how many rows it concerns and example lines (``cnoi_row``)."""

    rule: str
    n: int
    message: str
    rows: list[int]
    also_in_validation: str | None = None

    def to_dict(self, limit: int = 20) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "n": self.n,
            "message": self.message,
            "rows": self.rows[:limit],
            "validation_rule": self.also_in_validation,
        }


def _check(
    rule: str, mask: np.ndarray, rows: np.ndarray, message: str, vrule: str | None = None
) -> CheckResult:
    return CheckResult(rule, int(mask.sum()), message, [int(r) for r in rows[mask]], vrule)


def weighted_dimensions(cnoi: CnoiFile, weights: Mapping[str, float] = WEIGHTS) -> pd.Series:
    """Σ weight·dimension per row (NaN where a dimension is not a number)."""
    total = pd.Series(0.0, index=cnoi.frame.index)
    for dim, w in weights.items():
        total = total + w * cnoi.numbers(dim)
    return total


def cnoi_checks(
    cnoi: CnoiFile,
    *,
    tolerance: float = 0.5,
    dimension_range: tuple[float, float] = (0.0, 100.0),
    window: tuple[dt.date, dt.date] | None = None,
    weights: Mapping[str, float] = WEIGHTS,
) -> list[CheckResult]:
    """The study's pre-flight checks; rows are reported, never removed.

    Rules: ``duplicate_filing`` (a ``(cik, accession)`` repeated — or ``(cik, filing_date,
    form)`` without accessions), ``form`` (not 10-K / 10-Q), ``score_mismatch`` (CNOI and
    Σ w·dimension differ by more than ``tolerance``), ``dimension_range`` (a dimension outside the range),
    ``not_a_number`` (CNOI or a dimension that does not parse), ``bad_filing_date`` and
    ``outside_window`` (a filing date outside the study window). The validate stage applies
    the same rules with its own policies (named in ``also_in_validation``).
    """
    f = cnoi.frame
    rows = f[ROW].to_numpy()
    key = ["cik", "accession"] if "accession" in f.columns else ["cik", "filing_date", "form"]
    key = [k for k in key if k in f.columns]
    out = [
        _check(
            "duplicate_filing",
            f.duplicated(key, keep="first").to_numpy(),
            rows,
            f"a ({', '.join(key)}) already seen in an earlier row: one row per filing",
            "duplicate_conflict",
        )
    ]
    if "form" in f.columns:
        form = f["form"].str.strip().str.upper()
        out.append(
            _check(
                "form",
                (~form.isin(FORMS)).to_numpy(),
                rows,
                f"form is not one of {list(FORMS)} (amendments and other forms are kept)",
            )
        )
    numbers = {c: cnoi.numbers(c) for c in ("CNOI", *weights)}
    nan = np.zeros(len(f), dtype=bool)
    for values in numbers.values():
        nan |= values.isna().to_numpy()
    out.append(
        _check(
            "not_a_number",
            nan,
            rows,
            "CNOI or a dimension is empty or not a number",
            "missing_value",
        )
    )
    implied = weighted_dimensions(cnoi, weights)
    gap = (numbers["CNOI"] - implied).abs().to_numpy()
    out.append(
        _check(
            "score_mismatch",
            np.nan_to_num(gap, nan=0.0) > tolerance,
            rows,
            f"CNOI differs from {' + '.join(f'{w:g}·{d}' for d, w in weights.items())} by more "
            f"than {tolerance:g}",
            "score_mismatch",
        )
    )
    lo, hi = dimension_range
    outside = np.zeros(len(f), dtype=bool)
    for d in weights:
        x = numbers[d].to_numpy()
        outside |= np.isfinite(x) & ((x < lo) | (x > hi))
    out.append(
        _check(
            "dimension_range",
            outside,
            rows,
            f"a dimension outside [{lo:g}, {hi:g}]",
            "dimension_range",
        )
    )
    dates = cnoi.dates()
    out.append(
        _check(
            "bad_filing_date",
            dates.isna().to_numpy(),
            rows,
            "filing_date is not a date",
            "bad_date",
        )
    )
    if window is not None:
        first, last = pd.Timestamp(window[0]), pd.Timestamp(window[1])
        late = dates.notna() & ((dates < first) | (dates > last))
        out.append(
            _check(
                "outside_window",
                late.to_numpy(),
                rows,
                f"filing date outside the study window {first.date()} … {last.date()} "
                "(set aside by the validate stage; widen data.start/data.end to keep them)",
                "out_of_window",
            )
        )
    return out


def price_window_check(cnoi: CnoiFile, tickers: pd.Series, status: pd.DataFrame) -> CheckResult:
    """``outside_prices``: a filing dated before a ticker's first or after its last price.

    ``status`` has ``ticker``, ``first`` and ``last`` (ISO dates or None); ``tickers`` gives
    each row's ticker.
    """
    first = pd.to_datetime(tickers.map(status.set_index("ticker")["first"]), errors="coerce")
    last = pd.to_datetime(tickers.map(status.set_index("ticker")["last"]), errors="coerce")
    d = cnoi.dates()
    bad = (d.notna() & first.notna() & ((d < first) | (d > last))).to_numpy()
    return _check(
        "outside_prices",
        bad,
        cnoi.frame[ROW].to_numpy(),
        "filing dated outside its ticker's price history (cannot be traded; the validate stage "
        "sets rows after the last price aside)",
        "after_last_price",
    )


# --------------------------------------------------------------------------------------------
# the signal file the pipeline reads
# --------------------------------------------------------------------------------------------
def unmapped_ticker(cik: int | str) -> str:
    """Placeholder ticker for a CIK without a common-stock ticker: ``UNMAPPED-CIK0000846617``.

    It is a valid ticker string that no price series carries, so the validate stage lists
    every such row under ``unknown_ticker`` (with this value, naming the CIK) and sets it aside;
    it cannot be confused with a real symbol.
    """
    return f"{UNMAPPED_PREFIX}{int(cik):010d}"


def signal_frame(cnoi: CnoiFile, mapping: CikMapping) -> pd.DataFrame:
    """The CNOI file with the common-stock ``ticker`` of each CIK as its first column.

    Every row and cell is kept: a ticker column of the file is renamed ``ticker_in_file``;
    CIKs without a ticker get :func:`unmapped_ticker`. Row order is the file's.
    """
    f = cnoi.frame.rename(columns={"ticker": FILE_TICKER})
    tmap = {str(k): v for k, v in mapping.ticker_map.items()}
    ticker = f["cik"].map(tmap)
    missing = ticker.isna()
    ticker = ticker.where(~missing, f["cik"].map(unmapped_ticker))
    return pd.concat([ticker.rename("ticker").astype("str"), f], axis=1)


def file_tickers(cnoi: CnoiFile) -> dict[int, list[str]]:
    """Tickers the CNOI file itself gives, per CIK (empty when it has no ticker column)."""
    if "ticker" not in cnoi.frame.columns:
        return {}
    t = cnoi.frame["ticker"].str.strip().str.upper()
    keep = t != ""
    pairs = pd.DataFrame({"cik": cnoi.ciks[keep], "ticker": t[keep]})
    return {int(k): sorted(set(v)) for k, v in pairs.groupby("cik")["ticker"]}


def unmapped_detail(cnoi: CnoiFile, unmapped: pd.DataFrame) -> pd.DataFrame:
    """Unmapped CIKs with the file's issuer name, their number of filings and placeholder ticker."""
    f = cnoi.frame
    issuer = f["issuer"] if "issuer" in f.columns else pd.Series("", index=f.index)
    per = pd.DataFrame({"cik": cnoi.ciks, "issuer": issuer}).groupby("cik")
    info = pd.DataFrame({"issuer": per["issuer"].first(), "filings": per.size()})
    out = unmapped.merge(info, left_on="cik", right_index=True, how="left")
    out["placeholder"] = out["cik"].map(unmapped_ticker)
    return out[["cik", "issuer", "filings", "placeholder", "reason", "rejected", "file_tickers"]]


def write_signal_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write the signal frame as UTF-8 CSV, one record per line (atomic)."""
    from alphalab.io import atomic_write_text

    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n")
    return atomic_write_text(buf.getvalue(), path)
