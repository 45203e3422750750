"""Run records and runner state under ``reports/runs/``.

Files (all written atomically — temp file + rename — so a reader never sees half a file):

``reports/runs/<run_id>.json``
    One record per run (see :func:`alphalab.runner.run.run_once` for its keys).
``reports/runs/state.json``
    ``last_run`` and ``last_success`` (run id, finish time, status, and for the last success the
    flat metrics snapshot, gate decision and validation outcome that the next run compares with)
    and ``cooldowns`` (rule name → time its alert was last delivered).
``reports/runs/schedule.json``
    The last scheduled fire time the scheduler handled (missed runs are coalesced from it).
``reports/runs/run.lock`` and ``reports/runs/scheduler.lock``
    Lock files (see :mod:`alphalab.runner.lock`).

Times are ISO 8601 strings in UTC with an offset (``2026-01-05T11:30:00+00:00``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from pathlib import Path
from typing import Any

from alphalab.config import Paths
from alphalab.io import atomic_write_json

SCHEMA_VERSION = 1
STATE_FILE = "state.json"
SCHEDULE_FILE = "schedule.json"
RUN_LOCK = "run.lock"
SCHEDULER_LOCK = "scheduler.lock"
_NOT_RECORDS = {STATE_FILE, SCHEDULE_FILE}


class RecordError(ValueError):
    """A run record or state file is unreadable or not the expected shape."""


def runs_dir(paths: Paths) -> Path:
    """The folder holding run records, state and locks (``reports/runs``)."""
    return paths.reports / "runs"


def utcnow() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def as_utc(when: dt.datetime) -> dt.datetime:
    """Convert an aware datetime to UTC; reject naive ones (their zone would be a guess)."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"datetime {when.isoformat()} has no time zone; pass an aware datetime")
    return when.astimezone(dt.UTC)


def iso(when: dt.datetime) -> str:
    """ISO 8601 text of an aware datetime, in UTC, to the second."""
    return as_utc(when).isoformat(timespec="seconds")


def parse_iso(text: str) -> dt.datetime:
    """Parse a time written by :func:`iso` (naive text is taken as UTC)."""
    when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def new_run_id(now: dt.datetime) -> str:
    """``YYYYMMDDTHHMMSSZ-xxxx``: the UTC start time plus 4 random hex digits."""
    return f"{as_utc(now).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(2)}"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RecordError(f"{path}: not valid JSON ({exc})") from None


def write_record(record: dict[str, Any], paths: Paths) -> Path:
    """Write a run record atomically to ``reports/runs/<run_id>.json``."""
    run_id = record.get("run_id")
    if not isinstance(run_id, str) or not run_id or "/" in run_id or run_id.startswith("."):
        raise RecordError(f"run record has no usable run_id: {run_id!r}")
    return atomic_write_json(record, runs_dir(paths) / f"{run_id}.json")


def read_record(run_id: str, paths: Paths) -> dict[str, Any]:
    """Read the record of run ``run_id``."""
    path = runs_dir(paths) / f"{run_id}.json"
    if not path.is_file():
        raise RecordError(f"{path}: no such run record")
    doc = _read_json(path)
    if not isinstance(doc, dict) or doc.get("run_id") != run_id:
        raise RecordError(f"{path}: not a run record of {run_id!r}")
    return doc


def list_records(paths: Paths) -> list[Path]:
    """Run record files, oldest first (run ids sort by start time)."""
    folder = runs_dir(paths)
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.glob("*.json")
        if p.name not in _NOT_RECORDS and not p.name.startswith(".")
    )


def load_state(paths: Paths) -> dict[str, Any]:
    """Read ``state.json``; a missing file is an empty state."""
    path = runs_dir(paths) / STATE_FILE
    if not path.is_file():
        return {"schema": SCHEMA_VERSION, "cooldowns": {}}
    doc = _read_json(path)
    if not isinstance(doc, dict):
        raise RecordError(f"{path}: expected a JSON object, got {type(doc).__name__}")
    doc.setdefault("cooldowns", {})
    return doc


def save_state(state: dict[str, Any], paths: Paths) -> Path:
    """Write ``state.json`` atomically."""
    return atomic_write_json({**state, "schema": SCHEMA_VERSION}, runs_dir(paths) / STATE_FILE)


def load_schedule_state(paths: Paths) -> dt.datetime | None:
    """The last fire time the scheduler handled, or ``None``."""
    path = runs_dir(paths) / SCHEDULE_FILE
    if not path.is_file():
        return None
    doc = _read_json(path)
    last = doc.get("last_fire") if isinstance(doc, dict) else None
    return parse_iso(last) if isinstance(last, str) else None


def save_schedule_state(last_fire: dt.datetime, paths: Paths, **extra: Any) -> Path:
    """Record the last fire time the scheduler handled."""
    doc = {"last_fire": iso(last_fire), "host": os.uname().nodename, **extra}
    return atomic_write_json(doc, runs_dir(paths) / SCHEDULE_FILE)
