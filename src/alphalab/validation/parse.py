"""Turn raw cells (strings from CSV, or typed Parquet columns) into typed contract columns.

Every parser is vectorized over the whole column and returns the typed values plus findings
for the cells that could not be read, so that the row checks can name the exact row. Nothing
is guessed silently: an inferred day/month order, a ``YYYYMM`` month, stripped whitespace or
upper-cased tickers are reported as normalisations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from alphalab.data.files import MISSING_CODES
from alphalab.validation.findings import Checker, Finding, Table

NA_TOKENS = frozenset({"na", "n/a", "nan", "null", "none", "-", "--", "."})
EXCEL_ERRORS = frozenset(
    {
        "#N/A",
        "#DIV/0!",
        "#VALUE!",
        "#REF!",
        "#NAME?",
        "#NUM!",
        "#NULL!",
        "#N/A N/A",
        "#SPILL!",
        "#CALC!",
    }
)
MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
EXCEL_DATE_ID = re.compile(rf"^(\d{{1,2}}-({MONTHS})(-\d{{2,4}})?|({MONTHS})-\d{{2,4}})$")
SCIENTIFIC = re.compile(r"^\d+(\.\d+)?E[+-]?\d+$", re.IGNORECASE)
TICKER = re.compile(r"^[A-Z0-9^][A-Z0-9.\-/=_^]*$")
PREFERRED = re.compile(r"^[A-Z]+(-P[A-Z]{0,2}|\.PR[A-Z]?|-PR[A-Z]?|\^[A-Z])$")
ISO = r"\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?"
TZ_SUFFIX = r"(?:Z|[+-]\d{2}:?\d{2})$"
SLASH = r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{2}|\d{4})"
MONTH_NAME = rf"(?i)\b(?:{MONTHS})[a-z]*\.?\b.*\b\d{{4}}\b|\b\d{{4}}\b.*\b(?:{MONTHS})"
INVISIBLE = "[\u00a0\u200b\u200c\u200d\u2060\ufeff]"
EXCHANGE_TZ = "America/New_York"


@dataclass
class Parsed:
    """Typed values of one column, the findings, and which rows could not be read."""

    values: pd.Series
    findings: list[Finding] = field(default_factory=list)
    bad: np.ndarray | None = None


def _text(s: pd.Series) -> pd.Series:
    """Cells as stripped strings ('' for missing), whatever the stored dtype."""
    out = s.astype("str").fillna("") if not pd.api.types.is_string_dtype(s) else s.fillna("")
    return out.str.strip()


def _na_mask(text: pd.Series) -> np.ndarray:
    return ((text == "") | text.str.lower().isin(NA_TOKENS)).to_numpy()


def _keep(found: list[Finding], f: Finding | None) -> None:
    if f is not None:
        found.append(f)


# --------------------------------------------------------------------------------------------
# numbers
# --------------------------------------------------------------------------------------------
_HINTS = (
    (re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$"), " (thousands separator ','?)"),
    (re.compile(r"^[-+]?\d+,\d+$"), " (decimal comma? this file uses '.' for decimals)"),
    (re.compile(r"^[-+]?[$€£¥]|[$€£¥]$"), " (currency symbol)"),
    (re.compile(r"%$"), " (percent sign: store decimals, or the number with percent: true)"),
    (re.compile(r"^\(.*\)$"), " (accounting negative in parentheses)"),
)


def _hint(value: str) -> str:
    for pattern, text in _HINTS:
        if pattern.search(value):
            return text
    return ""


def parse_numeric(
    s: pd.Series, column: str, chk: Checker, *, required: bool, sentinels: bool = False
) -> Parsed:
    """Parse a numeric column; flag empty, non-numeric, Excel-error, infinite and sentinel cells."""
    found: list[Finding] = []
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        num = s.astype("float64").to_numpy()
        missing = np.isnan(num)
        bad_text = np.zeros(len(s), dtype=bool)
    else:
        text = _text(s)
        missing = _na_mask(text)
        excel = text.str.upper().isin(EXCEL_ERRORS).to_numpy()
        parsed = pd.to_numeric(text.where(~(missing | excel), None), errors="coerce")
        num = parsed.to_numpy(dtype="float64", na_value=np.nan)
        non_num = ~(missing | excel) & np.isnan(num)
        _keep(
            found,
            chk.make(
                "excel_error",
                column,
                excel,
                f"{column}: an Excel error value, not a number (fix the formula or "
                "leave the cell empty)",
            ),
        )
        hints = [_hint(v) for v in text.to_numpy(dtype=object)[non_num]]
        _keep(
            found,
            chk.make("non_numeric", column, non_num, f"{column} must be a number", details=hints),
        )
        bad_text = excel | non_num
    inf = np.isinf(num)
    _keep(found, chk.make("non_finite", column, inf, f"{column} is infinite"))
    bad = bad_text | inf
    if sentinels:
        code = np.isin(num, MISSING_CODES)
        _keep(
            found,
            chk.make(
                "sentinel_value",
                column,
                code,
                f"{column}: {sorted(MISSING_CODES)} are missing-data codes (Ken French "
                "files), not values; leave the cell empty",
            ),
        )
        bad |= code
    if required:
        _keep(found, chk.make("missing_value", column, missing, f"{column} is required"))
        bad |= missing
    num = np.where(bad, np.nan, num)
    return Parsed(pd.Series(num, dtype="float64"), found, bad)


# --------------------------------------------------------------------------------------------
# dates
# --------------------------------------------------------------------------------------------
def _from_parts(y: pd.Series, m: pd.Series, d: pd.Series) -> pd.Series:
    return pd.to_datetime(
        y + "-" + m.str.zfill(2) + "-" + d.str.zfill(2), format="%Y-%m-%d", errors="coerce"
    )


def _parse_iso(
    text: pd.Series, tbl: Table, column: str, chk: Checker
) -> tuple[pd.Series, list[Finding]]:
    notes: list[Finding] = []
    aware = text.str.contains(TZ_SUFFIX, regex=True).to_numpy()
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    if (~aware).any():
        out[~aware] = pd.to_datetime(text[~aware], format="ISO8601", errors="coerce").astype(
            "datetime64[ns]"
        )
    if aware.any():
        stamp = pd.to_datetime(text[aware], format="ISO8601", errors="coerce", utc=True)
        out[aware] = stamp.dt.tz_convert(EXCHANGE_TZ).dt.tz_localize(None).astype("datetime64[ns]")
        notes.append(
            chk.note(
                "timezone",
                column,
                f"{column}: time-zone offsets converted to {EXCHANGE_TZ} local time",
                np.flatnonzero(aware),
            )
        )
    return out, notes


def _slash_order(a: pd.Series, b: pd.Series) -> tuple[str | None, np.ndarray, np.ndarray]:
    """Day/month order from evidence: ('dmy' | 'mdy' | None, rows proving dmy, rows proving mdy)."""
    ai, bi = a.astype("int64").to_numpy(), b.astype("int64").to_numpy()
    dmy, mdy = ai > 12, bi > 12
    if dmy.any() and not mdy.any():
        return "dmy", dmy, mdy
    if mdy.any() and not dmy.any():
        return "mdy", dmy, mdy
    if dmy.any() and mdy.any():
        return ("dmy" if dmy.sum() >= mdy.sum() else "mdy"), dmy, mdy
    return None, dmy, mdy


def _parse_slash(
    text: pd.Series, pos: np.ndarray, column: str, tbl: Table, chk: Checker
) -> tuple[pd.Series, list[Finding], np.ndarray]:
    """Parse d/m/y-like dates at ``pos``; return values, findings and rows that failed."""
    found: list[Finding] = []
    parts = text.iloc[pos].str.extract(f"^{SLASH}$")
    a, b, y = parts[0], parts[2], parts[3]
    bad = np.zeros(len(pos), dtype=bool)
    short = (y.str.len() == 2).to_numpy()
    _keep(
        found,
        chk.make(
            "ambiguous_date",
            column,
            pos[short],
            f"{column}: two-digit year (which century?); write YYYY-MM-DD",
        ),
    )
    bad |= short
    order, dmy, mdy = _slash_order(a, b)
    if order is None:
        unclear = (a != b).to_numpy() & ~short
        _keep(
            found,
            chk.make(
                "ambiguous_date",
                column,
                pos[unclear],
                f"{column}: day/month order cannot be told (every date in the column "
                "has both parts <= 12); write YYYY-MM-DD or set date_format",
            ),
        )
        bad |= unclear
        order = "mdy"
    elif dmy.any() and mdy.any():
        minority = mdy if order == "dmy" else dmy
        _keep(
            found,
            chk.make(
                "mixed_date_format",
                column,
                pos[minority & ~short],
                f"{column}: this date is {'MM/DD' if order == 'dmy' else 'DD/MM'} but most "
                f"are {'DD/MM' if order == 'dmy' else 'MM/DD'}/YYYY",
            ),
        )
        bad |= minority
    else:
        first = pos[dmy if order == "dmy" else mdy][0]
        found.append(
            chk.note(
                "date_order",
                column,
                f"{column}: dates read as "
                f"{'DD/MM/YYYY' if order == 'dmy' else 'MM/DD/YYYY'} ({text.iat[first]!r} "
                f"on row {tbl.rows[first]} settles the order)",
            )
        )
    day, month = (a, b) if order == "dmy" else (b, a)
    values = _from_parts(y, month, day)
    values[bad] = pd.NaT
    return values, found, bad


def _classify(text: pd.Series, missing: np.ndarray) -> dict[str, np.ndarray]:
    classes = {
        "ISO YYYY-MM-DD": text.str.fullmatch(ISO).to_numpy(dtype=bool),
        "YYYYMMDD": text.str.fullmatch(r"\d{8}").to_numpy(dtype=bool),
        "YYYYMM": text.str.fullmatch(r"\d{6}").to_numpy(dtype=bool),
        "Excel serial": text.str.fullmatch(r"\d{5}(\.\d+)?").to_numpy(dtype=bool),
        "DD/MM or MM/DD": text.str.fullmatch(SLASH).to_numpy(dtype=bool),
    }
    known = np.zeros(len(text), dtype=bool)
    for mask in classes.values():
        known |= mask
    classes["text"] = ~known & ~missing
    return classes


def parse_dates(
    s: pd.Series,
    column: str,
    tbl: Table,
    chk: Checker,
    *,
    required: bool,
    fmt: str | None,
    monthly: bool = False,
    keep_time: bool = False,
) -> Parsed:
    """Parse a date column, detecting mixed, ambiguous, Excel-serial and impossible dates."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return _typed_dates(s, column, chk, required=required, keep_time=keep_time)
    found: list[Finding] = []
    text = _text(s)
    missing = _na_mask(text)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    bad = np.zeros(len(text), dtype=bool)
    if fmt is not None:
        out = pd.to_datetime(text.where(~missing, None), format=fmt, errors="coerce").astype(
            "datetime64[ns]"
        )
        failed = ~missing & out.isna().to_numpy()
        _keep(
            found,
            chk.make("bad_date", column, failed, f"{column} does not match date_format {fmt!r}"),
        )
        bad |= failed
    else:
        out, more, failed = _infer_dates(text, missing, column, tbl, chk, monthly=monthly)
        found.extend(more)
        bad |= failed
    if required:
        _keep(found, chk.make("missing_value", column, missing, f"{column} is required"))
        bad |= missing
    out[bad] = pd.NaT
    out, notes = _finish_dates(out, column, chk, keep_time=keep_time)
    found.extend(notes)
    return Parsed(out, found, bad)


def _infer_dates(
    text: pd.Series, missing: np.ndarray, column: str, tbl: Table, chk: Checker, *, monthly: bool
) -> tuple[pd.Series, list[Finding], np.ndarray]:
    found: list[Finding] = []
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    bad = np.zeros(len(text), dtype=bool)
    cls = _classify(text, missing)
    serial = cls.pop("Excel serial")
    if serial.any():
        shown = (
            pd.Timestamp("1899-12-30")
            + pd.to_timedelta(pd.to_numeric(text[serial]).to_numpy(), unit="D")
        ).strftime("%Y-%m-%d")
        _keep(
            found,
            chk.make(
                "excel_serial_date",
                column,
                serial,
                f"{column}: an Excel serial day number, not a date (it would be ",
                details=[f"{d}); format the column as a date before exporting" for d in shown],
            ),
        )
        bad |= serial
    if not monthly and cls["YYYYMM"].any():
        _keep(
            found,
            chk.make(
                "bad_date", column, cls["YYYYMM"], f"{column}: a YYYYMM month, not a session date"
            ),
        )
        bad |= cls["YYYYMM"]
        cls["YYYYMM"] = np.zeros(len(text), dtype=bool)
    # free text: accept a month name with a 4-digit year (e.g. 'Jan 3, 2020'), else bad_date
    free = cls["text"]
    named = text.str.contains(MONTH_NAME, regex=True).to_numpy(dtype=bool)
    unnamed = free & ~named
    _keep(found, chk.make("bad_date", column, unnamed, f"{column} is not a date"))
    bad |= unnamed
    free = free & named
    cls["text"] = free
    if free.any():
        parsed = pd.to_datetime(text[free], format="mixed", errors="coerce").astype(
            "datetime64[ns]"
        )
        ok = parsed.notna().to_numpy()
        out[np.flatnonzero(free)[ok]] = parsed[ok].to_numpy()
        failed = np.flatnonzero(free)[~ok]
        _keep(found, chk.make("bad_date", column, failed, f"{column} is not a date"))
        bad[failed] = True
        cls["text"] = np.zeros(len(text), dtype=bool)
        cls["text"][np.flatnonzero(free)[ok]] = True
    counts = {name: int(mask.sum()) for name, mask in cls.items() if mask.any()}
    if len(counts) > 1:
        major = max(counts, key=lambda k: counts[k])
        for name, mask in cls.items():
            if name != major and mask.any():
                _keep(
                    found,
                    chk.make(
                        "mixed_date_format",
                        column,
                        mask,
                        f"{column}: written as {name} while {counts[major]} rows use "
                        f"{major}; use one format",
                    ),
                )
                bad |= mask
        cls = {major: cls[major]}
    for name, mask in cls.items():
        if not mask.any() or name == "text":
            continue
        if name == "ISO YYYY-MM-DD":
            values, notes = _parse_iso(text[mask], tbl, column, chk)
            found.extend(_shift(notes, np.flatnonzero(mask)))
            out[mask] = values.to_numpy()
        elif name == "YYYYMMDD":
            out[mask] = pd.to_datetime(text[mask], format="%Y%m%d", errors="coerce").to_numpy()
        elif name == "YYYYMM":
            months = pd.to_datetime(text[mask], format="%Y%m", errors="coerce")
            out[mask] = (months + pd.offsets.MonthEnd(0)).to_numpy()
            found.append(
                chk.note("yyyymm", column, f"{column}: YYYYMM months read as month-end dates")
            )
        else:
            pos = np.flatnonzero(mask)
            values, more, failed = _parse_slash(text, pos, column, tbl, chk)
            found.extend(more)
            out[pos] = values.to_numpy()
            bad[pos[failed]] = True
    impossible = ~missing & ~bad & out.isna().to_numpy()
    _keep(found, chk.make("bad_date", column, impossible, f"{column} is not a valid calendar date"))
    bad |= impossible
    return out, found, bad


def _shift(findings: list[Finding], positions: np.ndarray) -> list[Finding]:
    """Re-index findings computed on a subset back to positions in the whole column."""
    for f in findings:
        if len(f.positions):
            f.positions = positions[f.positions]
    return findings


def _typed_dates(
    s: pd.Series, column: str, chk: Checker, *, required: bool, keep_time: bool
) -> Parsed:
    found: list[Finding] = []
    out = s
    if getattr(s.dt, "tz", None) is not None:
        out = s.dt.tz_convert(EXCHANGE_TZ).dt.tz_localize(None)
        found.append(
            chk.note(
                "timezone",
                column,
                f"{column}: time-zone aware values converted to {EXCHANGE_TZ} local time",
            )
        )
    out = out.astype("datetime64[ns]").reset_index(drop=True)
    missing = out.isna().to_numpy()
    bad = np.zeros(len(out), dtype=bool)
    if required:
        _keep(found, chk.make("missing_value", column, missing, f"{column} is required"))
        bad |= missing
    out, notes = _finish_dates(out, column, chk, keep_time=keep_time)
    found.extend(notes)
    return Parsed(out, found, bad)


def _finish_dates(
    out: pd.Series, column: str, chk: Checker, *, keep_time: bool
) -> tuple[pd.Series, list[Finding]]:
    if keep_time:
        return out, []
    timed = (out.notna() & (out != out.dt.normalize())).to_numpy()
    if not timed.any():
        return out, []
    return out.dt.normalize(), [
        chk.note("time_of_day", column, f"{column}: time of day dropped (session dates)", timed)
    ]


def month_end_labels(
    dates: pd.Series, column: str, chk: Checker
) -> tuple[pd.Series, list[Finding]]:
    """Monthly factor dates (one per month) relabelled at calendar month end, with a note."""
    d = dates.dropna()
    if d.empty:
        return dates, []
    period = d.dt.to_period("M")
    if period.duplicated().any():
        return dates, []  # daily (or weekly) factors keep their dates
    end = (dates + pd.offsets.MonthEnd(0)).where(dates.notna())
    moved = (dates.notna() & (end != dates)).to_numpy()
    if not moved.any():
        return dates, []
    return end.astype("datetime64[ns]"), [
        chk.note(
            "month_end", column, f"{column}: monthly dates relabelled at calendar month end", moved
        )
    ]


# --------------------------------------------------------------------------------------------
# identifiers
# --------------------------------------------------------------------------------------------
def parse_ids(
    s: pd.Series,
    column: str,
    chk: Checker,
    *,
    required: bool,
    ticker: bool,
    preferred: bool = False,
) -> Parsed:
    """Clean identifier cells (tickers upper-cased) and flag Excel-mangled or malformed ones."""
    found: list[Finding] = []
    if pd.api.types.is_float_dtype(s):
        integral = s.notna() & (s == np.floor(s))
        base = s.astype("object").where(~integral, s.where(integral).astype("Int64").astype("str"))
        text = base.astype("str").fillna("")
        if integral.any():
            found.append(
                chk.note(
                    "float_identifier",
                    column,
                    f"{column}: stored as floats; written as integers",
                    integral.to_numpy(),
                )
            )
    else:
        text = s.astype("str").fillna("") if not pd.api.types.is_string_dtype(s) else s.fillna("")
    clean = text.str.replace(INVISIBLE, " ", regex=True).str.strip()
    float_text = clean.str.fullmatch(r"\d+\.0+").to_numpy(dtype=bool)
    if float_text.any():
        clean = clean.where(~float_text, clean.str.replace(r"\.0+$", "", regex=True))
        found.append(
            chk.note(
                "float_identifier",
                column,
                f"{column}: trailing '.0' removed (an integer id written as a float)",
                float_text,
            )
        )
    changed = (clean != text).to_numpy() & ~float_text
    if changed.any():
        found.append(
            chk.note("whitespace", column, f"{column}: surrounding spaces removed", changed)
        )
    if ticker:
        upper = clean.str.upper()
        lower = (upper != clean).to_numpy()
        if lower.any():
            found.append(chk.note("ticker_case", column, f"{column}: upper-cased", lower))
        clean = upper
    missing = (clean == "").to_numpy()
    bad = missing.copy() if required else np.zeros(len(clean), dtype=bool)
    if required:
        _keep(found, chk.make("missing_value", column, missing, f"{column} is required"))
    up = clean.str.upper()
    mangled = (
        up.str.fullmatch(EXCEL_DATE_ID.pattern) | up.str.fullmatch(SCIENTIFIC.pattern, case=False)
    ).to_numpy(dtype=bool) & ~missing
    _keep(
        found,
        chk.make(
            "excel_identifier",
            column,
            mangled,
            f"{column}: looks mangled by Excel (a date or scientific notation); "
            "format the column as text before saving",
        ),
    )
    bad |= mangled
    if ticker:
        odd = ~missing & ~mangled & ~clean.str.fullmatch(TICKER.pattern).to_numpy(dtype=bool)
        _keep(
            found,
            chk.make(
                "bad_ticker",
                column,
                odd,
                f"{column}: not a ticker (letters, digits and . - / ^ = _ only)",
            ),
        )
        bad |= odd
    if preferred:
        pref = ~bad & clean.str.fullmatch(PREFERRED.pattern).to_numpy(dtype=bool)
        _keep(
            found,
            chk.make(
                "share_class",
                column,
                pref,
                f"{column}: a preferred-share line, not the common stock; map the "
                "issuer to its common ticker",
            ),
        )
        bad |= pref
    values = clean.where(~pd.Series(bad, index=clean.index), None).astype("str")
    return Parsed(values.reset_index(drop=True), found, bad)
