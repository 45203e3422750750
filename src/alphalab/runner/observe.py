"""What a run produced, read from the pipeline's outputs (never recomputed).

- **metrics**: every ``reports/metrics/<stage>.json`` (DESIGN.md §5) flattened to dotted keys
  ``<stage>.<series>.<statistic>`` → number, the keys ``dvc metrics diff`` shows. The
  ``conventions`` and ``provenance`` objects, strings, booleans and nulls are not metrics.
- **gate**: ``decision`` of ``reports/gate.json`` (``PASS`` / ``FAIL``).
- **validation**: one summary per ``reports/validation/<input>.json`` (``summary.json`` is not
  an input), as the validate stage writes them (:mod:`alphalab.validation.stage`): ``ok`` is
  false when ``outcome`` is ``error`` (true for ``pass``/``warn``/``normalise``/``quarantine``),
  ``n_errors`` sums the ``count`` of findings whose ``action`` is ``error``, ``coverage`` is
  ``counts.accepted / counts.rows_in``. Other reports may state ``passed``/``success``/``ok``,
  ``status``, ``n_errors``/``errors`` and ``coverage`` directly. Fields it cannot find are
  ``None`` (unknown), never guessed.
- **data**: the last date of each table in ``data/manifest.json`` (``tables.<name>.dates.last``).

A file that exists but cannot be read is reported in ``problems``, not skipped silently.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alphalab.config import Paths

NOT_METRICS = frozenset({"conventions", "provenance"})
_PASS = {"pass", "passed", "ok", "success", "succeeded", "valid"}
_FAIL = {"fail", "failed", "error", "errors", "invalid", "failure"}


@dataclass(frozen=True)
class Observations:
    """The pipeline outputs the runner compares and alerts on."""

    metrics: dict[str, float] = field(default_factory=dict)
    gate: str | None = None
    validation: dict[str, dict[str, Any]] = field(default_factory=dict)
    data_last: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _load(path: Path, problems: list[str]) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.append(f"{path}: unreadable ({exc})")
        return None


def _numeric_leaves(obj: Any, prefix: str, out: dict[str, float]) -> None:
    if isinstance(obj, dict):
        for key, value in obj.items():
            _numeric_leaves(value, f"{prefix}.{key}", out)
    elif isinstance(obj, int | float) and not isinstance(obj, bool) and math.isfinite(obj):
        out[prefix] = float(obj)


def flatten_metrics(folder: Path, problems: list[str] | None = None) -> dict[str, float]:
    """Flatten every ``*.json`` in ``folder`` to ``{"<stage>.<series>.<stat>": value}``."""
    problems = [] if problems is None else problems
    out: dict[str, float] = {}
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.json")):
        doc = _load(path, problems)
        if not isinstance(doc, dict):
            if doc is not None:
                problems.append(f"{path}: expected a JSON object of series")
            continue
        for series, stats in doc.items():
            if series not in NOT_METRICS:
                _numeric_leaves(stats, f"{path.stem}.{series}", out)
    return out


def diff_metrics(old: dict[str, float], new: dict[str, float]) -> dict[str, dict[str, Any]]:
    """``dvc metrics diff`` semantics on flat snapshots: the keys whose value changed.

    Returns
    -------
    dict
        ``key → {"old": x, "new": y, "diff": y - x}``; a key present on one side only has
        ``None`` on the other and ``diff`` ``None``. Unchanged keys are left out.
    """
    out: dict[str, dict[str, Any]] = {}
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        out[key] = {
            "old": a,
            "new": b,
            "diff": (b - a) if a is not None and b is not None else None,
        }
    return out


def read_gate(path: Path, problems: list[str]) -> str | None:
    """The gate decision (``PASS``/``FAIL``) or ``None`` when there is no gate file."""
    if not path.is_file():
        return None
    doc = _load(path, problems)
    decision = doc.get("decision") if isinstance(doc, dict) else None
    if decision not in ("PASS", "FAIL"):
        problems.append(f"{path}: 'decision' must be 'PASS' or 'FAIL', got {decision!r}")
        return None
    return str(decision)


_OUTCOMES = {"error": False, "quarantine": True, "normalise": True, "warn": True, "pass": True}


def _ok(doc: dict[str, Any]) -> bool | None:
    if doc.get("outcome") in _OUTCOMES:
        return _OUTCOMES[doc["outcome"]]
    for key in ("passed", "success", "ok"):
        if isinstance(doc.get(key), bool):
            return bool(doc[key])
    status = doc.get("status")
    if isinstance(status, str) and status.lower() in _PASS | _FAIL:
        return status.lower() in _PASS
    n = _errors(doc)
    return None if n is None else n == 0


def _errors(doc: dict[str, Any]) -> int | None:
    findings = doc.get("findings")
    if isinstance(findings, list) and all(isinstance(f, dict) for f in findings):
        return sum(int(f.get("count") or 0) for f in findings if f.get("action") == "error")
    if isinstance(doc.get("n_errors"), int):
        return int(doc["n_errors"])
    errors = doc.get("errors")
    if isinstance(errors, list):
        return len(errors)
    if isinstance(errors, int) and not isinstance(errors, bool):
        return errors
    return None


def _coverage(doc: dict[str, Any]) -> float | None:
    value = doc.get("coverage")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    for counts in (doc, doc.get("counts")):
        if isinstance(counts, dict):
            rows_in, accepted = counts.get("rows_in"), counts.get("accepted")
            if isinstance(rows_in, int) and isinstance(accepted, int) and rows_in > 0:
                return accepted / rows_in
    return None


def read_validation(folder: Path, problems: list[str]) -> dict[str, dict[str, Any]]:
    """One summary per ``<input>.json``: ``ok``, ``n_errors`` and ``coverage`` (or ``None``)."""
    out: dict[str, dict[str, Any]] = {}
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.json")):
        if path.name == "summary.json":
            continue
        doc = _load(path, problems)
        if not isinstance(doc, dict):
            continue
        out[path.stem] = {"ok": _ok(doc), "n_errors": _errors(doc), "coverage": _coverage(doc)}
    return out


def read_data_last(manifest: Path, problems: list[str]) -> dict[str, str]:
    """Last date of each table listed in the data manifest."""
    if not manifest.is_file():
        return {}
    doc = _load(manifest, problems)
    tables = doc.get("tables") if isinstance(doc, dict) else None
    out: dict[str, str] = {}
    for name, entry in (tables or {}).items():
        last = (entry.get("dates") or {}).get("last") if isinstance(entry, dict) else None
        if isinstance(last, str):
            out[name] = last
    return out


def observe(paths: Paths) -> Observations:
    """Read metrics, gate, validation summaries and data freshness under ``paths.root``."""
    problems: list[str] = []
    return Observations(
        metrics=flatten_metrics(paths.metrics, problems),
        gate=read_gate(paths.reports / "gate.json", problems),
        validation=read_validation(paths.reports / "validation", problems),
        data_last=read_data_last(paths.manifest, problems),
        problems=problems,
    )
