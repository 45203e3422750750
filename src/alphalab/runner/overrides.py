"""Params overrides applied by the runner before a run (``dvc exp run -S`` semantics).

An override is a dotted key and a value, as in ``dvc exp run -S data.end=2026-01-05``. The
runner writes the overrides into ``params.yaml`` itself — round-trip, so comments and layout
stay — after validating the result against the schema, then runs ``dvc repro``: DVC sees the
params change and reruns exactly the stages that read them. Unlike ``dvc exp run`` this creates
no experiment refs, so it also works where the project is not a git repository (a container).

``runner.roll_window: true`` is one such override, computed at run time: ``data.end`` becomes
the run date in the runner's time zone, so the data window follows the calendar without any
edit of code or of the committed params.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
from pathlib import Path
from typing import Any

import yaml

from alphalab.config import Params, read_params_file, validate_params
from alphalab.io import atomic_write_text


class OverrideError(ValueError):
    """An override is malformed (not ``key.path=value``) or names a non-mapping section."""


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``key.path=value``; the value is read as YAML (``10`` is an int, ``null`` None).

    Dates stay ISO text so that the params file keeps quoting them as strings.
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise OverrideError(f"override {text!r} must look like key.path=value")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise OverrideError(f"override {text!r}: value is not valid YAML ({exc})") from None
    if isinstance(value, dt.date):
        value = value.isoformat()
    return key, value


def rolling_overrides(params: Params, *, today: dt.date) -> dict[str, Any]:
    """The overrides ``runner.roll_window`` asks for on ``today`` (empty when off or current)."""
    if not params.runner.roll_window or params.data.end == today:
        return {}
    return {"data.end": today.isoformat()}


def _set(doc: dict[str, Any], key: str, value: Any) -> None:
    node = doc
    parts = key.split(".")
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            where = ".".join(parts[: i + 1])
            raise OverrideError(f"override {key}: {where} is not a section (it is {child!r})")
        node = child
    node[parts[-1]] = value


def _round_trip_write(path: Path, overrides: dict[str, Any]) -> None:
    from ruamel.yaml import YAML

    ry = YAML()
    ry.preserve_quotes = True
    doc = ry.load(path.read_text(encoding="utf-8")) or {}
    for key, value in overrides.items():
        _set(doc, key, value)
    buf = io.StringIO()
    ry.dump(doc, buf)
    atomic_write_text(buf.getvalue(), path)


def apply_overrides(path: Path, overrides: dict[str, Any]) -> Params:
    """Validate ``overrides`` on top of the params file at ``path``, then write them into it.

    Nothing is written when the result breaks the schema.

    Returns
    -------
    Params
        The validated params after the overrides.

    Raises
    ------
    ParamsError
        The overridden params break the schema (names the key, value and rule).
    OverrideError
        An override's key crosses a value that is not a section.
    """
    raw = read_params_file(path)
    merged = copy.deepcopy(raw)
    for key, value in overrides.items():
        _set(merged, key, value)
    params = validate_params(merged, f"{path} with overrides {overrides}")
    if overrides and merged != raw:
        _round_trip_write(path, overrides)
    return params
