"""Validate inputs: parse, deduplicate, row checks, quarantine, then the GX suite.

:func:`validate_input` runs everything on one input and returns an
:class:`~alphalab.validation.report.InputReport` with the clean typed table, the quarantined
rows (with a ``reason``) and every finding. :func:`validate_tables` does all inputs of a run
(prices first, so the signal can be checked against them); :func:`validate_file` reads a user's
file first (the ``alphalab validate`` command).
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alphalab.config import FileTable, Params, Paths, params_hash
from alphalab.data.files import (
    KINDS,
    OPTIONAL,
    REQUIRED,
    SOURCE_ROW,
    FileReadError,
    Kind,
    read_file_table,
)
from alphalab.validation import checks
from alphalab.validation.findings import EMPTY, Checker, Finding, Table
from alphalab.validation.parse import month_end_labels, parse_dates, parse_ids, parse_numeric
from alphalab.validation.report import InputReport, ValidationReport
from alphalab.validation.rules import RULES
from alphalab.validation.suites import run_suite, suite_findings

FACTOR_BASE = ("mkt_rf", "smb", "hml", "mom", "rf")
DATE_COLUMN = {"prices": "date", "benchmark": "date", "factors": "date", "signal": "event_date"}


def declared_dimensions(params: Params, kind: str) -> list[str]:
    """Signal dimension columns the params declare (file signals only)."""
    return (
        list(params.signal.dimensions) if kind == "signal" and params.signal.kind == "file" else []
    )


def key_columns(kind: str, columns: Any) -> list[str]:
    """The contract key of an input (DESIGN.md §4)."""
    if kind == "prices":
        return ["ticker", "date"]
    if kind == "signal":
        return ["entity" if "entity" in columns else "ticker", "event_date"]
    return ["date"]


# --------------------------------------------------------------------------------------------
# structure and parsing
# --------------------------------------------------------------------------------------------
READ_RULES = (
    "empty_file",
    "header_only",
    "encoding",
    "delimiter",
    "truncated_line",
    "ragged_row",
    "malformed_quote",
    "duplicate_header",
)


def checked_rules(kind: str, fmt: str | None) -> list[str]:
    """Rules run on an input (read-time rules only for CSV files)."""
    skip = {
        "missing_file",
        "unreadable_parquet",
        "unknown_mapping",
        "layout",
        "bom",
        "duplicate_identical",
    }
    if fmt != "csv":
        skip |= set(READ_RULES)
    return [name for name, r in RULES.items() if kind in r.inputs and name not in skip]


def _read_notes(tbl: Table, chk: Checker) -> list[Finding]:
    out = []
    for note in tbl.meta.get("notes", []):
        if note.get("rule") in {"wide_layout", "unused_columns"}:
            continue  # a chosen option or ignored extras: recorded in read_notes, not a fix
        out.append(chk.note(note.get("rule", "read"), None, note.get("message", "")))
    return out


def _structure(tbl: Table, kind: str, chk: Checker, params: Params) -> list[Finding]:
    cols = set(tbl.raw.columns)
    out = []
    for col in REQUIRED[kind]:
        if col not in cols:
            out.append(
                chk.table_finding(
                    "missing_column",
                    col,
                    None,
                    f"required column {col!r} is absent (columns: {sorted(cols)})",
                )
            )
    for dim in declared_dimensions(params, kind):
        if dim not in cols:
            out.append(
                chk.table_finding(
                    "missing_dimension",
                    dim,
                    None,
                    f"dimension {dim!r} declared in signal.dimensions is absent "
                    f"(columns: {sorted(cols)})",
                )
            )
    if len(tbl.raw) == 0:
        out.append(chk.table_finding("empty_table", None, None, "no rows"))
    return out


def _parse(
    tbl: Table, kind: str, chk: Checker, params: Params
) -> tuple[pd.DataFrame, np.ndarray, list[Finding]]:
    raw, fmt = tbl.raw, tbl.meta.get("date_format")
    parts: dict[str, pd.Series] = {}
    found: list[Finding] = []
    bad = np.zeros(len(raw), dtype=bool)

    def take(col: str, parsed: Any) -> None:
        nonlocal bad
        parts[col] = parsed.values.reset_index(drop=True)
        found.extend(parsed.findings)
        bad |= parsed.bad

    required = set(REQUIRED[kind])
    if "ticker" in raw.columns:
        take(
            "ticker",
            parse_ids(
                raw["ticker"], "ticker", chk, required=True, ticker=True, preferred=kind == "signal"
            ),
        )
    if "entity" in raw.columns:
        take("entity", parse_ids(raw["entity"], "entity", chk, required=True, ticker=False))
    dcol = DATE_COLUMN[kind]
    take(
        dcol,
        parse_dates(raw[dcol], dcol, tbl, chk, required=True, fmt=fmt, monthly=kind == "factors"),
    )
    if "accepted_at" in raw.columns:
        take(
            "accepted_at",
            parse_dates(
                raw["accepted_at"],
                "accepted_at",
                tbl,
                chk,
                required=False,
                fmt=None,
                keep_time=True,
            ),
        )
    sentinels = kind != "prices"
    numeric = [
        c
        for c in REQUIRED[kind] + OPTIONAL[kind]
        if c in raw.columns and c not in {"ticker", "entity", dcol, "accepted_at"}
    ]
    for col in numeric + declared_dimensions(params, kind):
        take(
            col,
            parse_numeric(
                raw[col],
                col,
                chk,
                required=col in required or kind == "signal",
                sentinels=sentinels,
            ),
        )
    work = pd.DataFrame(parts)
    if kind == "factors":
        work["date"], notes = month_end_labels(work["date"], "date", chk)
        found.extend(notes)
    return work, bad, found


# --------------------------------------------------------------------------------------------
# domain checks
# --------------------------------------------------------------------------------------------
def _sessions(work: pd.DataFrame, ok: np.ndarray, params: Params) -> np.ndarray | None:
    d = work["date"].to_numpy(dtype="datetime64[ns]")[ok]
    d = d[~np.isnat(d)]
    if len(d) == 0:
        return None
    return checks.sessions_between(
        params.validate_.calendar, pd.Timestamp(d.min()), pd.Timestamp(d.max())
    )


def _domain(
    kind: str,
    work: pd.DataFrame,
    ok: np.ndarray,
    chk: Checker,
    params: Params,
    prices: pd.DataFrame | None,
    dated: np.ndarray,
) -> list[Finding]:
    found: list[Finding] = []
    if kind == "prices":
        sessions = _sessions(work, ok, params)
        found += checks.check_price_values(work, ok, chk)
        found += checks.check_window(work["date"], ok, "date", chk, window=True)
        if sessions is not None:
            found += checks.check_sessions(work["date"], ok, "date", chk, sessions)[1]
        found += checks.check_price_series(work, ok, chk, sessions, dated=dated)
    elif kind == "benchmark":
        sessions = _sessions(work, ok, params)
        found += checks.check_returns(work, ok, ["ret", "rf"], chk)
        found += checks.check_window(work["date"], ok, "date", chk, window=True)
        if sessions is not None:
            found += checks.check_sessions(work["date"], ok, "date", chk, sessions)[1]
    elif kind == "factors":
        cols = [c for c in (*FACTOR_BASE, "rmw", "cma") if c in work.columns]
        found += checks.check_returns(work, ok, cols, chk)
        found += checks.check_window(work["date"], ok, "date", chk, window=False)
    else:
        found += checks.check_window(work["event_date"], ok, "event_date", chk, window=True)
        if "accepted_at" in work.columns:
            acc_ok = ok & work["accepted_at"].notna().to_numpy()
            found += checks.check_window(
                work["accepted_at"], acc_ok, "accepted_at", chk, window=False
            )
        if declared_dimensions(params, kind):
            found += checks.check_dimensions(work, ok, chk)
        if prices is not None and len(prices):
            found += checks.check_signal_prices(work, ok, chk, prices)
    return found


# --------------------------------------------------------------------------------------------
# assembling the outcome
# --------------------------------------------------------------------------------------------
def _mask(
    findings: list[Finding], n: int, action: str, *, exclude: tuple[str, ...] = ()
) -> np.ndarray:
    m = np.zeros(n, dtype=bool)
    for f in findings:
        if f.action == action and f.rule not in exclude and len(f.positions):
            m[f.positions] = True
    return m


def _reasons(findings: list[Finding], tbl: Table, positions: np.ndarray) -> pd.Series:
    if len(positions) == 0:
        return pd.Series([], dtype="str")
    pairs = [
        (p, f"{f.rule}({tbl.label(f.column) or '-'})")
        for f in findings
        if f.action == "quarantine"
        for p in f.positions
    ]
    df = pd.DataFrame(pairs, columns=["pos", "reason"]).drop_duplicates()
    joined = df.groupby("pos", sort=True)["reason"].agg("; ".join)
    return joined.reindex(positions).astype("str").reset_index(drop=True)


def _typed_clean(
    kind: str, work: pd.DataFrame, accepted: np.ndarray, tbl: Table, chk: Checker, params: Params
) -> tuple[pd.DataFrame, np.ndarray, list[Finding]]:
    """The contract table of the accepted rows, sorted by key; its input positions."""
    notes: list[Finding] = []
    pos = np.flatnonzero(accepted)
    clean = work.iloc[pos].reset_index(drop=True)
    if kind == "benchmark" and "rf" not in clean.columns:
        clean["rf"] = np.nan
        notes.append(chk.note("absent_column", "rf", "rf absent from the input: written as NaN"))
    if kind == "factors":
        for col in FACTOR_BASE:
            if col not in clean.columns:
                clean[col] = np.nan
                notes.append(
                    chk.note("absent_column", col, f"{col} absent from the input: written as NaN")
                )
    order = _contract_order(kind, clean, params)
    extra = [
        c
        for c in tbl.raw.columns
        if c not in clean.columns and c != SOURCE_ROW and c != "source_column" and kind == "signal"
    ]
    for c in extra:
        clean[c] = tbl.raw[c].to_numpy()[pos]
    clean = clean[order + extra]
    for c in ("ticker", "entity"):
        if c in clean.columns:
            clean[c] = clean[c].astype("str")
    sort_by = ["ticker", DATE_COLUMN[kind]] if "ticker" in clean.columns else [DATE_COLUMN[kind]]
    perm = (
        np.lexsort(tuple(clean[c].to_numpy() for c in reversed(sort_by)))
        if len(clean)
        else np.arange(0)
    )
    if len(perm) and np.any(perm != np.arange(len(perm))) and tbl.meta.get("layout") != "wide":
        notes.append(
            chk.note("sorted", None, f"rows were not in ({', '.join(sort_by)}) order; sorted")
        )
    clean = clean.iloc[perm].reset_index(drop=True)
    return clean, pos[perm], notes


def _contract_order(kind: str, clean: pd.DataFrame, params: Params) -> list[str]:
    base = {
        "prices": ["ticker", "date", "close", *OPTIONAL["prices"]],
        "benchmark": ["date", "ret", "rf"],
        "factors": ["date", *FACTOR_BASE, "rmw", "cma"],
        "signal": [
            "ticker",
            "entity",
            "event_date",
            "accepted_at",
            "score",
            *declared_dimensions(params, "signal"),
        ],
    }[kind]
    return [c for c in base if c in clean.columns]


def _counts(
    n: int, dedup: np.ndarray, quarantined: np.ndarray, rejected: np.ndarray
) -> dict[str, int]:
    c = {
        "rows_in": n,
        "deduplicated": int(dedup.sum()),
        "quarantined": int(quarantined.sum()),
        "rejected": int(rejected.sum()),
    }
    c["accepted"] = n - c["deduplicated"] - c["quarantined"] - c["rejected"]
    return c


def validate_input(
    kind: Kind,
    raw: pd.DataFrame,
    params: Params,
    *,
    source: str | None = None,
    prices: pd.DataFrame | None = None,
    today: dt.date | None = None,
    expectations: Path | str | None = None,
) -> InputReport:
    """Validate one input (see the module docstring).

    Parameters
    ----------
    kind : {'prices', 'benchmark', 'factors', 'signal'}
        Which contract table the input is (DESIGN.md §4).
    raw : DataFrame
        The input as read: strings from :func:`alphalab.data.files.read_file_table` or the typed
        raw tables of ingest; ``source_row`` names rows when present.
    params : Params
        ``validate`` (policies, thresholds), ``data`` (window), ``signal`` (dimensions).
    source : str, optional
        The path shown in problem lines.
    prices : DataFrame, optional
        Clean prices, to check signal tickers and dates against.
    today : date, optional
        Reference for ``future_date`` (default: today).
    expectations : path-like, optional
        Folder with the GX suites; ``None`` skips Great Expectations.
    """
    t0 = time.perf_counter()
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    chk = Checker(params, today or dt.date.today())
    tbl = Table.from_frame(kind, raw, source=source)
    n = len(tbl.raw)
    checked = checked_rules(kind, tbl.meta.get("format"))
    findings = _read_notes(tbl, chk)
    structural = _structure(tbl, kind, chk, params)
    if structural:
        counts = _counts(n, np.zeros(n, bool), np.zeros(n, bool), np.ones(n, bool))
        return InputReport(
            kind,
            tbl,
            findings + structural,
            counts,
            checked=checked,
            seconds={"total": time.perf_counter() - t0},
        )
    work, dedup, found = _row_checks(kind, tbl, chk, params, prices)
    findings += found
    t1 = time.perf_counter()
    quarantined = _mask(findings, n, "quarantine") & ~dedup
    rejected = _mask(findings, n, "error") & ~dedup & ~quarantined
    thr = _threshold(findings, n, dedup, chk)
    if thr is not None:
        findings.append(thr)
    accepted = ~dedup & ~quarantined & ~rejected
    clean, clean_pos, notes = _typed_clean(kind, work, accepted, tbl, chk, params)
    findings += notes
    quarantine = _quarantine_frame(tbl, findings, quarantined)
    suite = None
    if expectations is not None and params.validate_.run_great_expectations:
        suite = run_suite(
            clean, kind, params, suite_path=Path(expectations) / f"{kind}.json", today=chk.today
        )
        findings += suite_findings(suite, clean_pos, chk)
    t2 = time.perf_counter()
    return InputReport(
        kind,
        tbl,
        findings,
        _counts(n, dedup, quarantined, rejected),
        clean,
        quarantine,
        suite,
        checked,
        {"checks": t1 - t0, "great_expectations": t2 - t1, "total": t2 - t0},
    )


def _row_checks(
    kind: str, tbl: Table, chk: Checker, params: Params, prices: pd.DataFrame | None
) -> tuple[pd.DataFrame, np.ndarray, list[Finding]]:
    """Parse, deduplicate and run the row checks; the typed frame, dedup mask and findings."""
    work, bad, findings = _parse(tbl, kind, chk, params)
    key = key_columns(kind, work.columns)
    dedup, conflict, dups = checks.check_duplicates(
        _with_passthrough(work, tbl), key, ~bad, tbl, chk
    )
    findings += dups
    ok = ~bad & ~dedup & ~conflict
    dated = ~dedup & ~conflict & work[key].notna().all(axis=1).to_numpy()
    findings += _domain(kind, work, ok, chk, params, prices, dated)
    return work, dedup, findings


def _quarantine_frame(tbl: Table, findings: list[Finding], quarantined: np.ndarray) -> pd.DataFrame:
    """The quarantined rows as read, with their source row and the reasons."""
    qpos = np.flatnonzero(quarantined)
    return (
        tbl.raw.iloc[qpos]
        .reset_index(drop=True)
        .assign(**{SOURCE_ROW: tbl.rows[qpos], "reason": _reasons(findings, tbl, qpos)})
    )


def _with_passthrough(work: pd.DataFrame, tbl: Table) -> pd.DataFrame:
    """The typed columns plus the input's other columns, so 'identical' means identical."""
    extra = [
        c
        for c in tbl.raw.columns
        if c not in work.columns and c not in {SOURCE_ROW, "source_column"}
    ]
    if not extra:
        return work
    return work.assign(**{c: tbl.raw[c].to_numpy() for c in extra})


def _threshold(findings: list[Finding], n: int, dedup: np.ndarray, chk: Checker) -> Finding | None:
    """``quarantine_threshold`` when too many rows (window trims excepted) are quarantined."""
    counted = _mask(findings, n, "quarantine", exclude=("out_of_window",)) & ~dedup
    limit = chk.params.validate_.max_quarantine_frac
    frac = counted.sum() / max(n, 1)
    if frac <= limit:
        return None
    return chk.table_finding(
        "quarantine_threshold",
        None,
        f"{frac:.1%}",
        f"{int(counted.sum())} of {n} rows quarantined ({frac:.1%}), above "
        f"validate.max_quarantine_frac {limit:.1%}: fix the input or raise the "
        "threshold",
        count=int(counted.sum()),
    )


def validate_tables(
    tables: dict[str, pd.DataFrame],
    params: Params,
    *,
    sources: dict[str, str] | None = None,
    expectations: Path | str | None = None,
    today: dt.date | None = None,
) -> ValidationReport:
    """Validate every input of a run (prices first; the signal is checked against clean prices)."""
    reports: dict[str, InputReport] = {}
    for kind in KINDS:
        if kind not in tables:
            continue
        ref = reports["prices"].clean if "prices" in reports else None
        reports[kind] = validate_input(
            kind,
            tables[kind],
            params,
            source=(sources or {}).get(kind),
            prices=ref,
            today=today,
            expectations=expectations,
        )
    return ValidationReport(
        reports, params_hash(params), max_examples=params.validate_.max_examples
    )


def read_failure_report(kind: str, exc: FileReadError, params: Params) -> InputReport:
    """An input report for a file that could not be read at all."""
    del params  # read failures are structural: no policy applies
    src = exc.problems[0].path if exc.problems else kind
    tbl = Table(kind, src, pd.DataFrame(), EMPTY)
    findings = [
        Finding(p.rule, "error", p.column, EMPTY, p.message, value=p.value) for p in exc.problems
    ]
    for f, p in zip(findings, exc.problems, strict=True):
        f.count = 1
        if p.row is not None:  # keep the line number: rows of this synthetic table are the lines
            f.positions = np.asarray([len(tbl.rows)], dtype="int64")
            tbl.rows = np.append(tbl.rows, p.row)
            f.values = np.asarray([p.value], dtype=object)
    tbl.raw = pd.DataFrame(index=range(len(tbl.rows)))
    return InputReport(
        kind,
        tbl,
        findings,
        {"rows_in": 0, "accepted": 0, "quarantined": 0, "deduplicated": 0, "rejected": 0},
    )


def validate_file(
    kind: Kind,
    table: FileTable,
    params: Params,
    *,
    root: Path | str | None = None,
    prices: pd.DataFrame | None = None,
    today: dt.date | None = None,
    expectations: Path | str | None = None,
) -> InputReport:
    """Read a user's CSV/Parquet file with its column mapping and validate it.

    Unreadable files give a report whose findings are the read-time problems.
    """
    try:
        raw = read_file_table(table, kind, root=root)
    except FileReadError as exc:
        return read_failure_report(kind, exc, params)
    if expectations is None:
        candidate = Paths().expectations
        expectations = candidate if (candidate / f"{kind}.json").is_file() else None
    return validate_input(kind, raw, params, prices=prices, today=today, expectations=expectations)
