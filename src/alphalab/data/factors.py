"""Fama–French factors: the embedded copies and a strict Ken French file parser.

Embedded (offline, real data):

- ``arch.data.frenchdata``: monthly Mkt-RF, SMB, HML, RF **in percent**, 1926-07 … 2018-12,
  indexed by a ``YYYYMM`` integer that loads as nanosecond timestamps near 1970 (parsed here).
- ``linearmodels.datasets.french``: monthly MktRF, SMB, HML, Mom, RF in decimals, 1949-01 …
  2017-03, dated at the first of the month.

The embedded table takes FF3 and RF from ``arch`` (one vintage over the longest span) and the
momentum factor from ``linearmodels``; momentum is NaN after 2017-03. The agreement of the two
copies of FF3 + RF over their overlap is reported by :func:`embedded_consistency`.

References
----------
Fama, E. F., and French, K. R. (1993). Common risk factors in the returns on stocks and bonds.
Journal of Financial Economics 33, 3–56. Carhart, M. M. (1997). On persistence in mutual fund
performance. Journal of Finance 52, 57–82. Data: Kenneth R. French Data Library.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from alphalab.data.contract import month_end, normalize_factors

FRENCH_NAMES = {
    "mkt-rf": "mkt_rf",
    "mktrf": "mkt_rf",
    "smb": "smb",
    "hml": "hml",
    "rf": "rf",
    "mom": "mom",
    "umd": "mom",
    "wml": "mom",
    "rmw": "rmw",
    "cma": "cma",
}
MISSING_CODES = (-99.99, -999.0)


class FrenchFormatError(ValueError):
    """A Ken French file does not have the expected layout or units."""


# ------------------------------------------------------------------------------------------
# embedded
# ------------------------------------------------------------------------------------------
def _arch_ff3() -> pd.DataFrame:
    from arch.data import frenchdata

    raw = frenchdata.load()
    # The YYYYMM integer index was read as nanoseconds since the epoch: recover the integer.
    yyyymm = np.asarray(raw.index.asi8 if isinstance(raw.index, pd.DatetimeIndex) else raw.index)
    yyyymm = yyyymm.astype("int64")
    dates = pd.to_datetime(pd.Series(yyyymm.astype(str)), format="%Y%m")
    out = pd.DataFrame(
        {
            "date": month_end(dates).to_numpy(),
            "mkt_rf": raw["Mkt-RF"].to_numpy() / 100.0,
            "smb": raw["SMB"].to_numpy() / 100.0,
            "hml": raw["HML"].to_numpy() / 100.0,
            "rf": raw["RF"].to_numpy() / 100.0,
        }
    )
    return out


def _linearmodels_ff() -> pd.DataFrame:
    from linearmodels.datasets import french

    raw = french.load()
    return pd.DataFrame(
        {
            "date": month_end(raw["dates"]).to_numpy(),
            "mkt_rf": raw["MktRF"].to_numpy(dtype=float),
            "smb": raw["SMB"].to_numpy(dtype=float),
            "hml": raw["HML"].to_numpy(dtype=float),
            "mom": raw["Mom"].to_numpy(dtype=float),
            "rf": raw["RF"].to_numpy(dtype=float),
        }
    )


def load_embedded_factors() -> pd.DataFrame:
    """Monthly FF3 + momentum + RF from the wheels, month-end dates, decimals."""
    ff3 = _arch_ff3()
    mom = _linearmodels_ff()[["date", "mom"]]
    out = ff3.merge(mom, on="date", how="left", validate="one_to_one")
    return normalize_factors(out)


def embedded_consistency() -> dict[str, float | str | int]:
    """Compare the two embedded FF3 + RF copies over their overlapping months.

    Returns the overlap window, its length and the largest absolute difference per factor
    (decimals). Small differences are expected: the two packages ship different vintages of
    the French library.
    """
    a = _arch_ff3().set_index("date")
    b = _linearmodels_ff().set_index("date")
    common = a.index.intersection(b.index)
    out: dict[str, float | str | int] = {
        "first": common.min().date().isoformat(),
        "last": common.max().date().isoformat(),
        "months": len(common),
    }
    for col in ("mkt_rf", "smb", "hml", "rf"):
        out[f"max_abs_diff_{col}"] = float((a.loc[common, col] - b.loc[common, col]).abs().max())
    return out


# ------------------------------------------------------------------------------------------
# Ken French CSV files
# ------------------------------------------------------------------------------------------
def _read_text(path: str | Path) -> tuple[str, str]:
    p = Path(path)
    if not p.is_file():
        raise FrenchFormatError(f"{p}: file not found")
    if p.suffix.lower() == ".zip":
        with zipfile.ZipFile(p) as zf:
            names = [n for n in zf.namelist() if n.lower().endswith((".csv", ".txt"))]
            if len(names) != 1:
                raise FrenchFormatError(
                    f"{p}: expected exactly one CSV inside the zip, found {names}"
                )
            raw = zf.read(names[0])
            label = f"{p}!{names[0]}"
    else:
        raw = p.read_bytes()
        label = str(p)
    return raw.decode("utf-8-sig", errors="strict") if raw else "", label


def _canonical(name: str) -> str:
    key = re.sub(r"\s+", "", name).lower()
    if key not in FRENCH_NAMES:
        raise FrenchFormatError(f"unknown factor column {name!r}")
    return FRENCH_NAMES[key]


def parse_french(path: str | Path, *, check_units: bool = True) -> pd.DataFrame:
    """Parse the first (monthly or daily) block of a Ken French factor CSV or zip.

    The file's header lines are skipped up to the first line whose first cell is empty and
    whose other cells are factor names. The block ends at the first blank line; what follows
    (e.g. the ``Annual Factors: January-December`` block and the copyright line) is ignored.
    Values are in percent in every French file and are divided by 100.

    Parameters
    ----------
    path : path-like
        ``*.CSV`` or ``*.zip`` as downloaded from the data library.
    check_units : bool
        Reject a file whose values look like decimals already (monthly market sd below
        0.5 percentage points or daily below 0.1) or exceed 100 percent.

    Returns
    -------
    DataFrame
        ``date`` (month end for monthly files, the day for daily files) and the factor
        columns in decimals, with ``attrs['frequency']`` set to ``monthly`` or ``daily``.

    Raises
    ------
    FrenchFormatError
        Naming the file, the 1-based line, the value and the rule broken.
    """
    text, label = _read_text(path)
    lines = text.splitlines()
    header_at = None
    for i, line in enumerate(lines):
        cells = [c.strip() for c in line.split(",")]
        if len(cells) > 1 and cells[0] == "" and all(cells[1:]):
            header_at = i
            break
    if header_at is None:
        raise FrenchFormatError(f"{label}: no header line (',Mkt-RF,SMB,...') found")
    names = [c.strip() for c in lines[header_at].split(",")[1:]]
    try:
        columns = [_canonical(n) for n in names]
    except FrenchFormatError as exc:
        raise FrenchFormatError(f"{label}:{header_at + 1}: {exc}") from None
    stamps: list[str] = []
    values: list[list[float]] = []
    width = None
    for j in range(header_at + 1, len(lines)):
        line = lines[j].strip()
        if not line:
            break
        cells = [c.strip() for c in line.split(",")]
        key = cells[0]
        if not key.isdigit():
            raise FrenchFormatError(f"{label}:{j + 1}:date: {key!r}: not a YYYYMM / YYYYMMDD date")
        if width is None:
            width = len(key)
            if width not in (6, 8):
                raise FrenchFormatError(
                    f"{label}:{j + 1}:date: {key!r}: the first block must be monthly (YYYYMM) or "
                    "daily (YYYYMMDD); annual rows (YYYY) are not accepted"
                )
        elif len(key) != width:
            raise FrenchFormatError(
                f"{label}:{j + 1}:date: {key!r}: mixed frequencies in one block (expected "
                f"{width} digits; annual rows mixed into a monthly block?)"
            )
        if len(cells) != len(columns) + 1:
            raise FrenchFormatError(
                f"{label}:{j + 1}: {len(cells) - 1} values for {len(columns)} columns (truncated line?)"
            )
        try:
            values.append([float(c) for c in cells[1:]])
        except ValueError:
            bad = next(c for c in cells[1:] if not _is_float(c))
            col = columns[cells[1:].index(bad)]
            raise FrenchFormatError(f"{label}:{j + 1}:{col}: {bad!r}: not a number") from None
        stamps.append(key)
    if not stamps:
        raise FrenchFormatError(f"{label}: header found but no data rows follow it")
    fmt = "%Y%m" if width == 6 else "%Y%m%d"
    try:
        dates = pd.to_datetime(pd.Series(stamps), format=fmt)
    except ValueError as exc:
        raise FrenchFormatError(f"{label}: invalid date in first block: {exc}") from None
    if not dates.is_monotonic_increasing or dates.duplicated().any():
        raise FrenchFormatError(f"{label}: dates in the first block are not strictly increasing")
    data = pd.DataFrame(values, columns=columns)
    data = data.mask(data.isin(MISSING_CODES))
    if check_units:
        _check_percent(data, label, daily=width == 8)
    data = data / 100.0
    frequency = "daily" if width == 8 else "monthly"
    data.insert(
        0, "date", month_end(dates) if frequency == "monthly" else dates.astype("datetime64[ns]")
    )
    data.attrs["frequency"] = frequency
    return data


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_percent(data: pd.DataFrame, label: str, *, daily: bool) -> None:
    big = data.abs() > 100
    if big.any().any():
        col = big.any().idxmax()
        raise FrenchFormatError(f"{label}:{col}: {data[col][big[col]].iloc[0]}: above 100 percent")
    probe = "mkt_rf" if "mkt_rf" in data.columns else data.columns[0]
    sd = float(data[probe].std())
    floor = 0.1 if daily else 0.5
    if sd < floor:
        raise FrenchFormatError(
            f"{label}:{probe}: sd {sd:.4f}: values look like decimals, but French files are in "
            f"percent (expected sd above {floor} percentage points); was the file converted already?"
        )


def load_french_factors(path: str | Path, momentum_path: str | Path | None = None) -> pd.DataFrame:
    """Read a French FF3/FF5 file (and optionally the momentum file) into the factors table."""
    ff = parse_french(path)
    if momentum_path is not None:
        mom = parse_french(momentum_path)
        if mom.attrs["frequency"] != ff.attrs["frequency"]:
            raise FrenchFormatError(f"{momentum_path}: frequency differs from {path}")
        ff = ff.merge(mom[["date", "mom"]], on="date", how="left", validate="one_to_one")
    out = normalize_factors(ff)
    out.attrs["frequency"] = ff.attrs["frequency"]
    return out


def french_csv_text(df: pd.DataFrame, *, title: str, annual: pd.DataFrame | None = None) -> str:
    """Render a factor table (decimals) in Ken French's CSV layout (for fixtures and exports)."""
    names = {"mkt_rf": "Mkt-RF", "smb": "SMB", "hml": "HML", "rf": "RF", "mom": "Mom   "}
    cols = [c for c in df.columns if c != "date"]
    out = io.StringIO()
    out.write(f"{title}\n\n\n")
    out.write("," + ",".join(names.get(c, c.upper()) for c in cols) + "\n")
    for _, row in df.iterrows():
        stamp = row["date"].strftime("%Y%m")
        out.write(stamp + "," + ",".join(f"{100 * row[c]:8.2f}" for c in cols) + "\n")
    if annual is not None:
        out.write("\n Annual Factors: January-December \n")
        out.write("," + ",".join(names.get(c, c.upper()) for c in cols) + "\n")
        for _, row in annual.iterrows():
            out.write(
                f"{row['date'].year},".ljust(6)
                + ",".join(f"{100 * row[c]:8.2f}" for c in cols)
                + "\n"
            )
    out.write("\nCopyright 2018 Kenneth R. French\n")
    return out.getvalue()
