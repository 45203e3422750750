"""``alphalab study use cnoi``: from the CNOI file to a project ``dvc repro`` can run.

Steps (each recorded in ``data/studies/cnoi/preparation.json`` and ``preparation.md``):

1. read the CNOI file keeping every cell (:func:`alphalab.studies.cnoi.read_cnoi`) and run the
   study's pre-flight checks;
2. map each CIK to its common-stock ticker (:mod:`alphalab.data.sec`: the SEC ticker file —
   a file the user gives, the latest snapshot, or a bounded download that is snapshotted —
   with the reviewed overrides of ``studies/cnoi/ticker_overrides.csv``); unmapped CIKs are
   listed and kept in the signal file under a placeholder ticker, so the validate stage lists
   them too;
3. write the signal file (the CNOI file plus a ``ticker`` column) as
   ``data/studies/cnoi/signal.<sha12>.csv``;
4. obtain prices and the benchmark (:mod:`alphalab.studies.prices`: yfinance snapshots, or
   the user's exports);
5. fill the study params' ``# @slot`` lines with those paths and the number of groups the
   cross-section allows (:func:`groups_for`: quartiles for ~40 banks, up to deciles for 100+),
   and install them as the project's ``params.yaml`` (:mod:`alphalab.studies.switch`).

File names carry a hash of their content, so new inputs change ``params.yaml`` and
``dvc repro`` reruns from ingest; unchanged inputs leave everything up to date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from alphalab.config import ParamsError, Paths, validate_params
from alphalab.data import sec
from alphalab.io import atomic_write_json, atomic_write_text, sha256_file
from alphalab.studies import cnoi as cn
from alphalab.studies.prices import (
    PriceInputs,
    StudyInputError,
    prices_from_files,
    prices_from_yfinance,
)
from alphalab.studies.switch import (
    StudyError,
    SwitchResult,
    install_params,
    render_params,
    study_dir,
)

STUDY = "cnoi"
OUT_DIR = Path("data") / "studies" / STUDY


@dataclass(frozen=True)
class PreparedStudy:
    """What ``study use cnoi`` did."""

    switch: SwitchResult
    mapping: sec.CikMapping
    unmapped: pd.DataFrame
    checks: list[cn.CheckResult]
    prices: PriceInputs
    signal_path: Path
    report_path: Path
    summary: dict[str, Any]


def _template(root: Path) -> tuple[str, dict[str, Any]]:
    path = study_dir(root, STUDY) / "params.yaml"
    if not path.is_file():
        raise StudyError(f"{path}: the CNOI study params are missing")
    text = path.read_text(encoding="utf-8")
    return text, yaml.safe_load(text)


def _ticker_lines(
    root: Path,
    tickers_map: Path | None,
    *,
    offline: bool,
    refresh: bool,
    timeout_s: float,
    agent: str | None,
    fetcher: sec.Fetcher | None,
) -> tuple[pd.DataFrame | None, dict[str, Any]]:
    if tickers_map is not None:
        return sec.load_company_tickers(tickers_map), {"ticker_map": str(tickers_map)}
    folder = Paths(root).snapshots / "sec"
    snap = sec.latest_sec_snapshot(folder)
    if offline and snap is None:
        return None, {"ticker_map": None, "note": "offline and no SEC snapshot: file tickers only"}
    if offline:
        refresh = False
    lines, path, online = sec.fetch_company_tickers(
        folder=folder, refresh=refresh, timeout_s=timeout_s, agent=agent, fetcher=fetcher
    )
    return lines, {"ticker_map": path.relative_to(root).as_posix(), "network_used": online}


def _overrides(root: Path, path: Path | None) -> tuple[pd.DataFrame | None, str | None]:
    chosen = path or study_dir(root, STUDY) / "ticker_overrides.csv"
    if not chosen.is_file():
        if path is not None:
            raise StudyError(f"{path}: overrides file not found")
        return None, None
    return sec.read_overrides(chosen), str(chosen)


def prepare_cnoi(
    *,
    root: Path | str | None = None,
    cnoi: Path | str,
    tickers_map: Path | str | None = None,
    overrides: Path | str | None = None,
    prices: Path | str | None = None,
    benchmark: Path | str | None = None,
    factors: Path | str | None = None,
    benchmark_symbol: str = "^GSPC",
    offline: bool = False,
    refresh: bool = False,
    timeout_s: float = 90.0,
    sec_agent: str | None = None,
    downloader: Callable[..., pd.DataFrame] | None = None,
    fetcher: sec.Fetcher | None = None,
) -> PreparedStudy:
    """Switch the project at ``root`` to the CNOI study (see the module docstring).

    Parameters
    ----------
    root : path-like, optional
        Project root (default: :func:`alphalab.config.repo_root`).
    cnoi : path-like
        The CNOI file (CSV or Parquet).
    tickers_map : path-like, optional
        SEC ``company_tickers.json`` (either layout) or a ``cik,ticker`` CSV; default: the
        latest snapshot under ``data/snapshots/sec/``, else a download (unless ``offline``).
    overrides : path-like, optional
        Reviewed overrides CSV (default ``studies/cnoi/ticker_overrides.csv``).
    prices, benchmark : path-like, optional
        Your own exports (prices long: ``ticker, date, close``; benchmark: ``date`` and
        ``close`` or ``ret``). Without ``prices``, yfinance (snapshotted) is used.
    factors : path-like, optional
        Ken French factors file (CSV or zip) for the risk-free rate and factor alphas.
    benchmark_symbol : str
        Yahoo symbol of the benchmark index when downloading.
    offline : bool
        Never touch the network (snapshots and files only).
    refresh : bool
        Download again even when snapshots exist.
    timeout_s : float
        Deadline of each download.
    sec_agent : str, optional
        ``User-Agent`` for the SEC (default ``$ALPHALAB_SEC_USER_AGENT``).
    downloader, fetcher : callable, optional
        Transports for yfinance and the SEC (tests inject fakes).

    Raises
    ------
    CnoiFileError, SecMapError, StudyInputError, StudyError
        With the file, row and rule; ``params.yaml`` is left untouched on any error.
    """
    root_path = Paths(root).root
    template, tdoc = _template(root_path)
    data = tdoc["data"]
    window = (dt.date.fromisoformat(str(data["start"])), dt.date.fromisoformat(str(data["end"])))
    vparams = tdoc.get("validate", {}) or {}
    sparams = tdoc.get("signal", {}) or {}
    cnoi_path = Path(cnoi)
    table = cn.read_cnoi(cnoi_path)
    checks = cn.cnoi_checks(
        table,
        tolerance=float(sparams.get("score_tolerance", 0.5)),
        dimension_range=tuple(vparams.get("dimension_range", (0.0, 100.0))),  # type: ignore[arg-type]
        window=window,
    )
    lines, map_meta = _ticker_lines(
        root_path,
        Path(tickers_map) if tickers_map else None,
        offline=offline,
        refresh=refresh,
        timeout_s=min(timeout_s, 60.0),
        agent=sec_agent,
        fetcher=fetcher,
    )
    over, over_path = _overrides(root_path, Path(overrides) if overrides else None)
    mapping = sec.map_ciks(table.ciks, lines, overrides=over, file_tickers=cn.file_tickers(table))
    out_dir = root_path / OUT_DIR
    signal = cn.signal_frame(table, mapping)
    signal_path = _write_signal(signal, out_dir)
    tickers = sorted(mapping.mapped["ticker"].unique().tolist())
    inputs = _prices(
        tickers,
        root_path,
        out_dir,
        window,
        prices=prices,
        benchmark=benchmark,
        factors=factors,
        benchmark_symbol=benchmark_symbol,
        offline=offline,
        refresh=refresh,
        timeout_s=timeout_s,
        downloader=downloader,
    )
    checks.append(cn.price_window_check(table, signal["ticker"], inputs.status))
    n_groups = groups_for(int((inputs.status["status"] == "ok").sum()))
    values = {
        "prices": inputs.prices,
        "benchmark": inputs.benchmark,
        "signal": signal_path.relative_to(root_path).as_posix(),
        "factors": inputs.factors,
        "n_groups": n_groups,
        "robustness_groups": sorted({3, 4, 5, n_groups}),
    }
    text = render_params(template, values, source=str(study_dir(root_path, STUDY) / "params.yaml"))
    try:
        validate_params(yaml.safe_load(text), "studies/cnoi/params.yaml (prepared)")
    except ParamsError as exc:
        raise StudyError(str(exc)) from None
    summary = _summary(table, cnoi_path, mapping, checks, inputs, map_meta, over_path, values)
    unmapped = cn.unmapped_detail(table, mapping.unmapped)
    report = _write_report(summary, mapping, unmapped, checks, out_dir)
    switched = install_params(root_path, text, source=f"studies/{STUDY}/params.yaml")
    summary["params"] = {"study": switched.study, "saved_previous": str(switched.saved_previous)}
    return PreparedStudy(switched, mapping, unmapped, checks, inputs, signal_path, report, summary)


def groups_for(n_names: int) -> int:
    """Quartiles to deciles as the cross-section allows: about ten names a group (4 … 10)."""
    return int(min(10, max(4, n_names // 10)))


def _write_signal(signal: pd.DataFrame, out_dir: Path) -> Path:
    pending = cn.write_signal_csv(signal, out_dir / ".signal.pending.csv")
    target = out_dir / f"signal.{sha256_file(pending)[:12]}.csv"
    pending.replace(target)
    for old in out_dir.glob("signal.*.csv"):
        if old != target:
            old.unlink()
    return target


def _prices(
    tickers: list[str],
    root: Path,
    out_dir: Path,
    window: tuple[dt.date, dt.date],
    *,
    prices: Path | str | None,
    benchmark: Path | str | None,
    factors: Path | str | None,
    benchmark_symbol: str,
    offline: bool,
    refresh: bool,
    timeout_s: float,
    downloader: Callable[..., pd.DataFrame] | None,
) -> PriceInputs:
    fpath = Path(factors) if factors else None
    if prices is not None:
        fetch = None
        if benchmark is None and not offline:

            def fetch() -> pd.DataFrame:
                from alphalab.data import yahoo

                snap = root / "data" / "snapshots" / "yfinance"
                res, _, _ = yahoo.fetch_or_snapshot(
                    [benchmark_symbol],
                    name="benchmark",
                    folder=snap,
                    refresh=refresh,
                    start=window[0],
                    end=window[1],
                    timeout_s=timeout_s,
                    downloader=downloader,
                )
                return res.prices[["date", "close"]]

        return prices_from_files(
            tickers,
            root=root,
            out_dir=out_dir,
            prices_path=Path(prices),
            benchmark_path=Path(benchmark) if benchmark else None,
            factors_path=fpath,
            benchmark_fetch=fetch,
        )
    return prices_from_yfinance(
        tickers,
        root=root,
        out_dir=out_dir,
        start=window[0],
        end=window[1],
        benchmark=benchmark_symbol,
        factors_path=fpath,
        refresh=refresh and not offline,
        timeout_s=timeout_s,
        downloader=downloader if not offline else _no_network,
    )


def _no_network(**kwargs: Any) -> pd.DataFrame:
    raise StudyInputError(
        "offline: no yfinance snapshot matches this request (tickers and window); pass "
        "--prices PATH and --benchmark PATH, or run once online"
    )


def _summary(
    table: cn.CnoiFile,
    cnoi_path: Path,
    mapping: sec.CikMapping,
    checks: list[cn.CheckResult],
    inputs: PriceInputs,
    map_meta: dict[str, Any],
    over_path: str | None,
    values: dict[str, Any],
) -> dict[str, Any]:
    f = table.frame
    dates = table.dates()
    unmapped_rows = f["cik"].isin(mapping.unmapped["cik"].astype(str))
    missing = inputs.status[inputs.status["status"] != "ok"]["ticker"].tolist()
    return {
        "study": STUDY,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cnoi_file": {
            "path": str(cnoi_path),
            "sha256": sha256_file(cnoi_path),
            "rows": len(f),
            "ciks": int(f["cik"].nunique()),
            "first_filing": None if dates.isna().all() else str(dates.min().date()),
            "last_filing": None if dates.isna().all() else str(dates.max().date()),
            "notes": table.notes,
        },
        "ticker_map": {**map_meta, "overrides": over_path},
        "mapping": {
            "mapped_ciks": len(mapping.mapped),
            "unmapped_ciks": len(mapping.unmapped),
            "unmapped_rows": int(unmapped_rows.sum()),
            "by_source": {
                str(k): int(v) for k, v in mapping.mapped["source"].value_counts().items()
            },
            "corrected_file_tickers": int(
                (mapping.mapped["note"].str.startswith("signal file gave")).sum()
            ),
        },
        "prices": {**inputs.meta, "tickers": len(inputs.status), "missing": missing},
        "checks": [c.to_dict() for c in checks],
        "params_values": values,
    }


def _write_report(
    summary: dict[str, Any],
    mapping: sec.CikMapping,
    unmapped: pd.DataFrame,
    checks: list[cn.CheckResult],
    out_dir: Path,
) -> Path:
    atomic_write_json(
        {
            **summary,
            "mapped": mapping.mapped.to_dict("records"),
            "unmapped": unmapped.to_dict("records"),
        },
        out_dir / "preparation.json",
    )
    return atomic_write_text(
        preparation_markdown(summary, mapping, unmapped, checks), out_dir / "preparation.md"
    )


def _md_table(df: pd.DataFrame) -> list[str]:
    if df.empty:
        return ["(none)"]
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "---|" * len(df.columns)
    body = [
        "| " + " | ".join("" if pd.isna(v) else str(v) for v in row) + " |"
        for row in df.itertuples(index=False)
    ]
    return [head, rule, *body]


def preparation_markdown(
    summary: dict[str, Any],
    mapping: sec.CikMapping,
    unmapped: pd.DataFrame,
    checks: list[cn.CheckResult],
) -> str:
    """The readable preparation report: mapping, unmapped CIKs, corrections, checks, prices."""
    m = summary["mapping"]
    lines = [
        "# CNOI study: preparation",
        "",
        f"CNOI file `{summary['cnoi_file']['path']}` ({summary['cnoi_file']['rows']} filings, "
        f"{summary['cnoi_file']['ciks']} CIKs, {summary['cnoi_file']['first_filing']} … "
        f"{summary['cnoi_file']['last_filing']}); ticker map `{summary['ticker_map'].get('ticker_map')}`; "
        f"overrides `{summary['ticker_map'].get('overrides')}`.",
        "",
        f"**{m['mapped_ciks']} CIKs mapped** ({m['by_source']}), **{m['unmapped_ciks']} unmapped** "
        f"({m['unmapped_rows']} filings kept under placeholder tickers `{cn.UNMAPPED_PREFIX}…`; the "
        "validate stage lists them under `unknown_ticker` and sets them aside). "
        f"{m['corrected_file_tickers']} ticker(s) given by the file were replaced by the common line.",
        "",
        "## Unmapped CIKs",
        "",
        *_md_table(unmapped),
        "",
        "## Mapped CIKs",
        "",
        *_md_table(
            mapping.mapped[["cik", "ticker", "source", "title", "rejected", "file_tickers", "note"]]
        ),
        "",
        "## Pre-flight checks",
        "",
        *_md_table(
            pd.DataFrame(
                [
                    {
                        "rule": c.rule,
                        "rows": c.n,
                        "example lines": ", ".join(map(str, c.rows[:10])),
                        "validate rule": c.also_in_validation or "",
                        "meaning": c.message,
                    }
                    for c in checks
                ]
            )
        ),
        "",
        "## Prices",
        "",
        f"Source: {summary['prices'].get('source')}; tickers without prices: "
        f"{summary['prices']['missing'] or 'none'}; {summary['prices'].get('rf')}.",
        "",
        "Next: `dvc repro`.",
        "",
    ]
    return "\n".join(lines)


__all__ = ["PreparedStudy", "StudyInputError", "prepare_cnoi"]
