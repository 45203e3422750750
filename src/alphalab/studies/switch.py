"""Switching study: copy a study's params file into place (validated), and switch back.

A study lives in ``studies/<name>/`` with its ``params.yaml``. Switching copies that file to
the project's ``params.yaml`` — after validating it against the schema, atomically — so that
``dvc repro`` reruns exactly the stages whose params changed. Lines of the study file marked
``# @<slot>`` hold values a study-preparation step fills in (:func:`render_params`), e.g. the
paths of the files it wrote; every other line, comments included, is copied as it is.

Before ``params.yaml`` is replaced, its current content is saved under
``data/studies/saved_params/<study>.params.yaml`` (``<study>`` = its ``study.name``) so that
``use_default`` can restore it. The default study's params come from, in order:
``studies/default/params.yaml``; the saved copy; the schema defaults (comments lost).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from alphalab.config import Params, ParamsError, Paths, load_params, validate_params
from alphalab.io import atomic_write_text

STUDIES_DIR = "studies"
SAVED_DIR = Path("data") / "studies" / "saved_params"
DEFAULT = "default"
_SLOT = re.compile(
    r"^(?P<head>\s*(?:-\s+)?[A-Za-z_][\w]*:\s*)(?P<value>.*?)(?P<tail>\s+#\s*@(?P<slot>[A-Za-z_]\w*)\b.*)$"
)


class StudyError(ValueError):
    """A study cannot be switched to (unknown name, invalid params, missing inputs)."""


@dataclass(frozen=True)
class SwitchResult:
    """What switching did: the study now active, where its params came from, what was saved."""

    study: str
    params_source: str
    saved_previous: Path | None
    params: Params


def study_dir(root: Path, name: str) -> Path:
    """``studies/<name>`` under the project root."""
    return root / STUDIES_DIR / name


def available_studies(root: Path) -> list[str]:
    """``default`` plus every ``studies/<name>/params.yaml``."""
    base = root / STUDIES_DIR
    found = sorted(p.parent.name for p in base.glob("*/params.yaml")) if base.is_dir() else []
    return [DEFAULT, *[n for n in found if n != DEFAULT]]


def current_study(root: Path) -> str | None:
    """``study.name`` of the project's ``params.yaml`` (None when it is missing or invalid)."""
    try:
        return load_params(Paths(root).params).study.name
    except ParamsError:
        return None


def render_params(template: str, values: dict[str, Any], *, source: str = "params") -> str:
    """Fill the ``# @slot`` lines of a params template with ``values`` (YAML flow scalars).

    Every slot in ``values`` must occur exactly once in the template; slots not in ``values``
    keep the template's value.

    Raises
    ------
    StudyError
        A slot of ``values`` is missing from the template or occurs more than once.
    """
    seen: dict[str, int] = {}
    out = []
    for line in template.splitlines(keepends=True):
        body = line.rstrip("\n")
        m = _SLOT.match(body)
        if m is None or m.group("slot") not in values:
            out.append(line)
            continue
        slot = m.group("slot")
        seen[slot] = seen.get(slot, 0) + 1
        text = _flow(values[slot])
        out.append(f"{m.group('head')}{text}{m.group('tail')}" + line[len(body) :])
    problems = [f"slot @{s} not found" for s in values if s not in seen]
    problems += [f"slot @{s} occurs {n} times" for s, n in seen.items() if n > 1]
    if problems:
        raise StudyError(f"{source}: " + "; ".join(problems))
    return "".join(out)


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        return json.dumps(value)
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def install_params(root: Path, text: str, *, source: str) -> SwitchResult:
    """Validate ``text`` and write it as the project's ``params.yaml`` (previous one saved).

    Raises
    ------
    StudyError
        The text is not valid YAML or breaks the params schema (nothing is written).
    """
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise StudyError(f"{source}: not valid YAML: {exc}") from None
    try:
        params = validate_params(raw, source)
    except ParamsError as exc:
        raise StudyError(str(exc)) from None
    saved = save_current(root, unless=params.study.name)
    atomic_write_text(text, Paths(root).params)
    return SwitchResult(params.study.name, source, saved, params)


def save_current(root: Path, *, unless: str | None = None) -> Path | None:
    """Save the current ``params.yaml`` under ``data/studies/saved_params/`` (see module doc).

    Nothing is saved when it is missing, invalid, or already the study ``unless``.
    """
    paths = Paths(root)
    name = current_study(root)
    if name is None or name == unless:
        return None
    target = root / SAVED_DIR / f"{_safe(name)}.params.yaml"
    return atomic_write_text(paths.params.read_text(encoding="utf-8"), target)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def use_study_file(root: Path, name: str) -> SwitchResult:
    """Switch to a study whose params need no preparation (copy ``studies/<name>/params.yaml``)."""
    if name == DEFAULT:
        return use_default(root)
    path = study_dir(root, name) / "params.yaml"
    if not path.is_file():
        raise StudyError(
            f"unknown study {name!r}: no {path.relative_to(root)}; studies: "
            f"{', '.join(available_studies(root))}"
        )
    return install_params(root, path.read_text(encoding="utf-8"), source=str(path))


def use_default(root: Path) -> SwitchResult:
    """Switch back to the default study (see the module docstring for where its params come from)."""
    shipped = study_dir(root, DEFAULT) / "params.yaml"
    saved = root / SAVED_DIR / f"{DEFAULT}.params.yaml"
    for path in (shipped, saved):
        if path.is_file():
            return install_params(root, path.read_text(encoding="utf-8"), source=str(path))
    text = (
        "# Default study params regenerated from the schema defaults by `alphalab study use "
        "default`\n# (no studies/default/params.yaml and no saved copy were found).\n"
        + yaml.safe_dump(Params().model_dump(mode="json", by_alias=True), sort_keys=False)
    )
    return install_params(root, text, source="schema defaults")
