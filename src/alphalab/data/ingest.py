"""The ingest stage: fetch or read the study's inputs and write the raw tables + manifest.

Writes ``data/raw/{prices,benchmark,factors,signal}.parquet`` (those the source provides) and
``data/manifest.json``. Raw tables from earlier runs that the current source does not produce
are removed, so nothing stale survives a change of source. Every write is atomic.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from alphalab.config import DataParams, Params, Paths
from alphalab.data import factors as ff
from alphalab.data import sample
from alphalab.data.contract import normalize_benchmark
from alphalab.data.manifest import table_entry, write_manifest
from alphalab.io import atomic_write_parquet

TABLES = ("prices", "benchmark", "factors", "signal")


@dataclass
class IngestResult:
    """What the ingest stage produced."""

    tables: dict[str, pd.DataFrame]
    manifest: dict[str, Any]
    coverage: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _window(df: pd.DataFrame, col: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    if col not in df.columns or not pd.api.types.is_datetime64_any_dtype(df[col]):
        return df
    keep = (df[col] >= pd.Timestamp(start)) & (df[col] <= pd.Timestamp(end))
    return df.loc[keep].reset_index(drop=True)


def load_factors(cfg: DataParams, paths: Paths) -> tuple[pd.DataFrame | None, dict[str, Any]]:
    """Factors per ``data.factors``: embedded, a French file, or none."""
    src = cfg.factors
    if src.source == "none":
        return None, {"factors": "none"}
    if src.source == "embedded":
        return ff.load_embedded_factors(), {"factors": "embedded", **ff.embedded_consistency()}
    assert src.path is not None
    mom = paths.resolve(src.momentum_path) if src.momentum_path else None
    table = ff.load_french_factors(paths.resolve(src.path), mom)
    return table, {"factors": "french", "path": src.path, "momentum_path": src.momentum_path}


def _from_sample(cfg: DataParams, paths: Paths) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    factors, meta = load_factors(cfg, paths)
    prices = sample.load_sample_prices(tickers=cfg.sample.tickers, start=cfg.start, end=cfg.end)
    bench = sample.load_sample_benchmark(start=cfg.start, end=cfg.end, factors=factors)
    tables = {"prices": prices, "benchmark": bench}
    if factors is not None:
        tables["factors"] = factors
    return tables, {"source": "sample", "package": "skfolio", **meta}


def _from_files(cfg: DataParams, paths: Paths) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    from alphalab.data.files import load_files

    assert cfg.files is not None
    tables = dict(load_files(cfg.files, paths))
    meta: dict[str, Any] = {"source": "files"}
    if "factors" not in tables:
        factors, fmeta = load_factors(cfg, paths)
        meta.update(fmeta)
        if factors is not None:
            tables["factors"] = factors
    return tables, meta


def _from_yahoo(cfg: DataParams, paths: Paths) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    from alphalab.data import yahoo

    y = cfg.yfinance
    assert y is not None
    common = dict(
        start=cfg.start,
        end=cfg.end,
        auto_adjust=y.auto_adjust,
        timeout_s=y.timeout_s,
        retries=y.retries,
        backoff_s=y.backoff_s,
    )
    folder = paths.snapshots / "yfinance"
    res, snap, online = yahoo.fetch_or_snapshot(
        y.tickers, name="prices", folder=folder, refresh=y.refresh, **common
    )
    bres, bsnap, bonline = yahoo.fetch_or_snapshot(
        [y.benchmark], name="benchmark", folder=folder, refresh=y.refresh, **common
    )
    factors, fmeta = load_factors(cfg, paths)
    level = bres.prices.set_index("date")["close"].sort_index()
    ret = level.pct_change(fill_method=None).iloc[1:]
    rf = (
        sample.daily_rf_from_monthly(pd.DatetimeIndex(ret.index), factors).to_numpy()
        if factors is not None
        else float("nan")
    )
    bench = normalize_benchmark(pd.DataFrame({"date": ret.index, "ret": ret.to_numpy(), "rf": rf}))
    tables = {"prices": res.prices, "benchmark": bench}
    if factors is not None:
        tables["factors"] = factors
    meta = {
        "source": "yfinance",
        "fetched_at": res.fetched_at,
        "benchmark_fetched_at": bres.fetched_at,
        "snapshot": snap.relative_to(paths.root).as_posix(),
        "benchmark_snapshot": bsnap.relative_to(paths.root).as_posix(),
        "network_used": online or bonline,
        "attempts": res.attempts,
        "ticker_status": res.status.to_dict(orient="records"),
        **fmeta,
    }
    return tables, meta


def _from_simulate(cfg: DataParams, paths: Paths) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    from alphalab.data.simulate import simulate_market

    sim = cfg.simulate
    market = simulate_market(**sim.model_dump(), start=cfg.start)
    tables = {
        "prices": market.prices,
        "benchmark": market.benchmark,
        "factors": market.factors,
        "signal": market.signal,
    }
    return tables, {"source": "simulate", "synthetic": True, "planted_loading": sim.signal_loading}


SOURCES = {
    "sample": _from_sample,
    "files": _from_files,
    "yfinance": _from_yahoo,
    "simulate": _from_simulate,
}


def coverage_table(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Rows, tickers and first/last date of each table, and which factor columns are present."""
    rows = []
    for name, df in tables.items():
        col = "event_date" if name == "signal" else "date"
        dates = (
            df[col] if col in df.columns and pd.api.types.is_datetime64_any_dtype(df[col]) else None
        )
        entry = {
            "table": name,
            "rows": len(df),
            "tickers": int(df["ticker"].nunique()) if "ticker" in df.columns else None,
            "first": dates.min().date().isoformat() if dates is not None and len(dates) else None,
            "last": dates.max().date().isoformat() if dates is not None and len(dates) else None,
        }
        if name == "factors":
            for c in ("mkt_rf", "smb", "hml", "mom", "rf"):
                s = df.loc[df[c].notna(), "date"]
                entry[f"{c}_last"] = s.max().date().isoformat() if len(s) else None
        if name == "benchmark":
            s = df.loc[df["rf"].notna(), "date"]
            entry["rf_last"] = s.max().date().isoformat() if len(s) else None
        rows.append(entry)
    return pd.DataFrame(rows)


def overlap(tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Window where prices and complete factor months (FF3 + momentum) overlap."""
    if "factors" not in tables or "prices" not in tables:
        return {}
    f = tables["factors"]
    p = tables["prices"]["date"]
    out = {}
    for label, cols in (
        ("ff3", ["mkt_rf", "smb", "hml", "rf"]),
        ("carhart", ["mkt_rf", "smb", "hml", "mom", "rf"]),
    ):
        months = f.loc[f[cols].notna().all(axis=1), "date"]
        lo = max(months.min(), p.min() + pd.offsets.MonthEnd(0)) if len(months) else None
        hi = min(months.max(), p.max() + pd.offsets.MonthEnd(0)) if len(months) else None
        if lo is None or hi is None or lo > hi:
            out[label] = {"first_month": None, "last_month": None}
            continue
        out[label] = {"first_month": lo.date().isoformat(), "last_month": hi.date().isoformat()}
    return out


def run_ingest(params: Params, paths: Paths | None = None) -> IngestResult:
    """Run the ingest stage for ``params.data`` and write raw tables plus the manifest."""
    paths = paths or Paths()
    cfg = params.data
    tables, meta = SOURCES[cfg.source](cfg, paths)
    for name in list(tables):
        col = "event_date" if name == "signal" else "date"
        if name != "factors":
            tables[name] = _window(tables[name], col, cfg.start, cfg.end)
    entries = {}
    paths.raw.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        target = paths.raw / f"{name}.parquet"
        if name not in tables:
            target.unlink(missing_ok=True)
            continue
        atomic_write_parquet(tables[name], target)
        extra = {"fetched_at": meta["fetched_at"]} if "fetched_at" in meta else {}
        entries[name] = table_entry(
            target,
            tables[name],
            source=cfg.source,
            params=cfg.model_dump(mode="json"),
            root=paths.root,
            **extra,
        )
    cov = coverage_table(tables)
    manifest_extra = {
        "study": params.study.name,
        "source": meta,
        "window": {"start": cfg.start.isoformat(), "end": cfg.end.isoformat()},
        "overlap": overlap(tables),
        "coverage": cov.to_dict(orient="records"),
    }
    write_manifest(paths.manifest, entries, **manifest_extra)
    manifest = {"tables": entries, **manifest_extra}
    notes = []
    if meta.get("synthetic"):
        notes.append(
            "SYNTHETIC DATA (simulate source): for tests and power checks, never a result."
        )
    return IngestResult(tables, manifest, cov, notes)
