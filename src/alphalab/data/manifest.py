"""The data manifest: what every written table is, where it came from, and its hash.

``data/manifest.json`` (ingest) and ``data/interim/manifest.json`` (validate) share one shape::

    {"created_at": ..., "packages": {...}, "tables": {NAME: ENTRY, ...}, ...}

with ``ENTRY`` from :func:`table_entry`. ``alphalab manifest verify`` recomputes every hash.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata as md
import json
import platform
from pathlib import Path
from typing import Any

import pandas as pd

from alphalab.io import atomic_write_json, sha256_file

PACKAGES = (
    "alphalab",
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "linearmodels",
    "arch",
    "pyarrow",
    "skfolio",
    "yfinance",
    "great-expectations",
    "dvc",
    "papermill",
    "exchange_calendars",
)


class ManifestError(RuntimeError):
    """A manifest is missing, malformed, or does not match the files on disk."""


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed versions of the packages that shape the data (missing → ``"not installed"``)."""
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _date_range(df: pd.DataFrame) -> dict[str, str | None]:
    for col in ("date", "event_date"):
        if col in df.columns and pd.api.types.is_datetime64_any_dtype(df[col]):
            s = df[col].dropna()
            if len(s):
                return {
                    "column": col,
                    "first": s.min().date().isoformat(),
                    "last": s.max().date().isoformat(),
                }
    return {"column": None, "first": None, "last": None}


def table_entry(
    path: str | Path,
    df: pd.DataFrame,
    *,
    source: str,
    params: dict[str, Any] | None = None,
    root: str | Path | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Describe one written table: path, sha256, rows, columns and dtypes, dates, tickers.

    Parameters
    ----------
    path : path-like
        The file as written (its bytes are hashed).
    df : DataFrame
        The frame that was written (for rows, dtypes and coverage).
    source : str
        Source name (``sample``, ``files``, ``yfinance``, ``simulate``, ``validate`` ...).
    params : dict, optional
        The source's parameters as used.
    root : path-like, optional
        Store ``path`` relative to this folder (the project root).
    **extra
        Anything else worth recording (``fetched_at``, counts ...).
    """
    p = Path(path)
    shown = p.relative_to(root).as_posix() if root is not None else p.as_posix()
    entry: dict[str, Any] = {
        "path": shown,
        "sha256": sha256_file(p),
        "bytes": p.stat().st_size,
        "rows": len(df),
        "columns": {c: str(t) for c, t in df.dtypes.items()},
        "dates": _date_range(df),
        "n_tickers": int(df["ticker"].nunique()) if "ticker" in df.columns else None,
        "source": source,
        "params": params or {},
    }
    entry.update(extra)
    return entry


def write_manifest(path: str | Path, entries: dict[str, dict[str, Any]], **extra: Any) -> Path:
    """Write a manifest atomically with package versions and a creation time."""
    doc: dict[str, Any] = {
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "packages": package_versions(),
        "tables": entries,
    }
    doc.update(extra)
    return atomic_write_json(doc, path)


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Read a manifest, with a clear error when it is missing or not JSON."""
    p = Path(path)
    if not p.is_file():
        raise ManifestError(f"{p}: manifest not found (run `dvc repro ingest` first)")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{p}:{exc.lineno}: manifest is not valid JSON: {exc.msg}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("tables"), dict):
        raise ManifestError(f"{p}: manifest has no 'tables' mapping")
    return doc


def verify_manifest(path: str | Path, root: str | Path) -> list[str]:
    """Recompute every table's sha256; return one line per problem (empty when all match)."""
    doc = read_manifest(path)
    problems = []
    for name, entry in sorted(doc["tables"].items()):
        f = Path(root) / entry["path"]
        if not f.is_file():
            problems.append(f"{entry['path']}: table '{name}' is missing")
            continue
        got = sha256_file(f)
        if got != entry["sha256"]:
            problems.append(
                f"{entry['path']}: table '{name}' sha256 {got[:12]}… does not match the manifest's "
                f"{entry['sha256'][:12]}… (file changed after ingest)"
            )
    return problems
