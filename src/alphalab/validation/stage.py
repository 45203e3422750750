"""The ``validate`` stage: check every raw input, write reports, then the validated tables.

Reads ``data/raw/{prices,benchmark,factors,signal}.parquet`` (those present) and writes

- ``reports/validation/<input>.json`` and ``reports/validation/summary.md`` (+ ``summary.json``)
  — always, also when the run fails;
- ``data/interim/<input>.parquet`` (typed, clean), ``data/interim/quarantine/<input>.parquet``
  (the set-aside rows as read, with ``source_row`` and ``reason``) and
  ``data/interim/manifest.json`` (``rows_in = accepted + quarantined + deduplicated`` per input)
  — only when no ``error`` rule fired. A failed run removes the interim tables of earlier runs,
  so that no later stage (or ``dvc repro``) can take stale output as current.

Every file is written atomically (:mod:`alphalab.io`). The raw manifest of ingest is not touched.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from alphalab.config import Params, Paths
from alphalab.data.files import ATTRS_KEY, KINDS
from alphalab.data.manifest import table_entry, write_manifest
from alphalab.io import atomic_write_json, atomic_write_parquet, atomic_write_text
from alphalab.validation.engine import validate_tables
from alphalab.validation.report import ValidationReport


class ValidationFailed(ValueError):
    """An ``error`` rule fired; ``report`` holds everything, ``lines`` the problems."""

    def __init__(
        self, report: ValidationReport, summary: Path | None = None, limit: int = 40
    ) -> None:
        self.report = report
        self.lines = [p.line() for p in report.problems(actions=("error",), limit=5)]
        shown = "\n".join(self.lines[:limit])
        more = f"\n... {len(self.lines) - limit} more" if len(self.lines) > limit else ""
        where = f"\nFull report: {summary}" if summary is not None else ""
        failed = [k for k, r in report.inputs.items() if r.failed]
        super().__init__(f"validation failed for {', '.join(failed)}:\n{shown}{more}{where}")


def validation_dir(paths: Paths) -> Path:
    """``reports/validation``."""
    return paths.reports / "validation"


def read_raw_tables(paths: Paths) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """The raw tables present under ``data/raw`` and the source path to show for each."""
    tables: dict[str, pd.DataFrame] = {}
    sources: dict[str, str] = {}
    for kind in KINDS:
        f = paths.raw / f"{kind}.parquet"
        if not f.is_file():
            continue
        df = pd.read_parquet(f)
        tables[kind] = df
        meta = df.attrs.get(ATTRS_KEY) or {}
        sources[kind] = meta.get("source_path") or f.relative_to(paths.root).as_posix()
    return tables, sources


def run_validation(
    params: Params, paths: Paths | None = None, *, today: dt.date | None = None
) -> ValidationReport:
    """Run the validate stage (see the module docstring).

    Raises
    ------
    ValidationFailed
        After writing the reports, when any input hit an ``error`` rule.
    FileNotFoundError
        When ``data/raw`` holds no input (run ingest first).
    """
    paths = paths or Paths()
    tables, sources = read_raw_tables(paths)
    if not tables:
        raise FileNotFoundError(
            f"{paths.raw}: no raw tables (prices.parquet …); run the ingest stage first"
        )
    report = validate_tables(
        tables, params, sources=sources, expectations=paths.expectations, today=today
    )
    summary = write_reports(report, paths)
    if report.failed:
        clear_interim(paths)
        raise ValidationFailed(report, summary)
    write_interim(report, paths, params)
    return report


def write_reports(report: ValidationReport, paths: Paths) -> Path:
    """``reports/validation/<input>.json``, ``summary.json`` and ``summary.md``; returns the .md path."""
    folder = validation_dir(paths)
    for kind in KINDS:
        target = folder / f"{kind}.json"
        if kind in report.inputs:
            atomic_write_json(report.inputs[kind].to_dict(report.max_examples), target)
        else:
            target.unlink(missing_ok=True)
    summary = {
        "created_at": report.created_at,
        "params_sha256": report.params_hash,
        "failed": report.failed,
        "inputs": {
            k: {
                "outcome": r.outcome,
                "source": r.source,
                **r.counts,
                "great_expectations": None if r.suite is None else r.suite.success,
            }
            for k, r in report.inputs.items()
        },
    }
    atomic_write_json(summary, folder / "summary.json")
    return atomic_write_text(report.to_markdown(), folder / "summary.md")


def clear_interim(paths: Paths) -> None:
    """Remove validated tables, quarantine files and the interim manifest of earlier runs."""
    for kind in KINDS:
        (paths.interim / f"{kind}.parquet").unlink(missing_ok=True)
        (paths.interim / "quarantine" / f"{kind}.parquet").unlink(missing_ok=True)
    (paths.interim / "manifest.json").unlink(missing_ok=True)


def write_interim(report: ValidationReport, paths: Paths, params: Params) -> Path:
    """Write the clean and quarantined tables and ``data/interim/manifest.json``."""
    entries: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        if kind not in report.inputs:
            (paths.interim / f"{kind}.parquet").unlink(missing_ok=True)
            (paths.interim / "quarantine" / f"{kind}.parquet").unlink(missing_ok=True)
            continue
        r = report.inputs[kind]
        c = r.counts
        if c["rows_in"] != c["accepted"] + c["quarantined"] + c["deduplicated"] or c["rejected"]:
            raise AssertionError(f"{kind}: row counts do not add up: {c}")
        assert r.clean is not None and r.quarantine is not None
        clean_path = atomic_write_parquet(r.clean, paths.interim / f"{kind}.parquet")
        q = r.quarantine.copy()
        q.attrs = {}
        q_path = atomic_write_parquet(q, paths.interim / "quarantine" / f"{kind}.parquet")
        reasons = {f.rule: f.n for f in r.findings if f.action == "quarantine"}
        entries[kind] = table_entry(
            clean_path,
            r.clean,
            source="validate",
            root=paths.root,
            input_source=r.source,
            outcome=r.outcome,
            rows_in=c["rows_in"],
            accepted=c["accepted"],
            quarantined=c["quarantined"],
            deduplicated=c["deduplicated"],
            quarantine_reasons=reasons,
        )
        entries[f"quarantine/{kind}"] = table_entry(q_path, q, source="validate", root=paths.root)
    return write_manifest(
        paths.interim / "manifest.json",
        entries,
        stage="validate",
        params_sha256=report.params_hash,
        validate=params.validate_.model_dump(mode="json"),
    )
