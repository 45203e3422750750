"""Run one pipeline stage: validate the whole params file, then execute its notebook.

``alphalab stage run NAME`` (what ``dvc.yaml`` calls) does, in order:

1. load and validate the **whole** ``params.yaml`` against the schema; on any problem raise
   :class:`~alphalab.config.ParamsError` before a kernel starts (nothing is executed);
2. make sure the ``alphalab`` Jupyter kernel points at this interpreter (the project's env);
3. execute ``notebooks/NN_name.ipynb`` with papermill, with ``ALPHALAB_ROOT`` set so every path
   in the kernel comes from :mod:`alphalab.config`, injecting the stage's params sections as
   ``params`` (a dict of section name → values) and an execution timeout per cell;
4. on success move the executed notebook to ``reports/notebooks/``; on failure keep it under
   ``reports/failed/`` for debugging and move every output the stage declares in ``dvc.yaml``
   (e.g. the validation reports that explain the failure) to ``reports/failed/<stage>/``, so
   that nothing partial or stale stays where DVC or a later stage would take it as up to date.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from alphalab.config import ROOT_ENV, Params, Paths, load_params

KERNEL_NAME = "alphalab"


@dataclass(frozen=True)
class Stage:
    """A pipeline stage: its notebook and the params sections it reads."""

    name: str
    notebook: str
    sections: tuple[str, ...]


STAGES: dict[str, Stage] = {
    s.name: s
    for s in (
        Stage("ingest", "01_ingest.ipynb", ("study", "data")),
        Stage("validate", "02_validate.ipynb", ("validate", "data", "signal")),
        Stage("panel", "03_panel.ipynb", ("data", "signal", "panel")),
        Stage("backtest", "10_backtest.ipynb", ("backtest",)),
        Stage("events", "20_event_study.ipynb", ("events",)),
        Stage("regressions", "30_regressions.ipynb", ("regressions", "backtest")),
        Stage("robustness", "40_robustness.ipynb", ("robustness", "backtest", "signal")),
        Stage("walkforward", "50_walkforward.ipynb", ("walkforward", "backtest", "signal")),
        Stage("report", "90_report.ipynb", ("report", "study")),
    )
}


class StageError(RuntimeError):
    """A stage failed; its declared outputs were removed."""


def ensure_kernel() -> Path:
    """Install (or refresh) the ``alphalab`` kernelspec for this interpreter under ``sys.prefix``."""
    folder = Path(sys.prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "alphalab (project env)",
        "language": "python",
        "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1", "MPLBACKEND": "Agg"},
        "metadata": {"debugger": False},
    }
    target = folder / "kernel.json"
    if target.is_file():
        try:
            if json.loads(target.read_text()) == spec:
                return folder
        except json.JSONDecodeError:
            pass
    folder.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(spec, indent=1))
    return folder


def declared_outputs(name: str, paths: Paths) -> list[Path]:
    """The ``outs``, ``metrics`` and ``plots`` that ``dvc.yaml`` declares for stage ``name``."""
    dvc_file = paths.root / "dvc.yaml"
    if not dvc_file.is_file():
        return []
    doc = yaml.safe_load(dvc_file.read_text()) or {}
    stage = (doc.get("stages") or {}).get(name) or {}
    out = []
    for key in ("outs", "metrics", "plots"):
        for item in stage.get(key) or []:
            rel = next(iter(item)) if isinstance(item, dict) else item
            out.append(paths.root / rel)
    return out


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def stage_parameters(stage: Stage, params: Params) -> dict[str, Any]:
    """The dict injected as ``params``: section name → JSON-ready values."""
    dumped = params.model_dump(mode="json", by_alias=True)
    return {sec: dumped[sec] for sec in stage.sections if sec in dumped}


def run_stage(
    name: str,
    *,
    root: Path | str | None = None,
    timeout_s: int = 3600,
    log_output: bool = False,
) -> Path:
    """Run stage ``name`` and return the executed notebook's path.

    Raises
    ------
    KeyError
        Unknown stage name.
    ParamsError
        ``params.yaml`` is invalid (no kernel was started).
    StageError
        The notebook failed; the stage's declared outputs were removed.
    """
    if name not in STAGES:
        raise KeyError(f"unknown stage {name!r}; stages: {', '.join(STAGES)}")
    stage = STAGES[name]
    paths = Paths(root)
    params = load_params(paths.params)  # whole file, before any kernel
    notebook = paths.notebooks / stage.notebook
    if not notebook.is_file():
        raise StageError(f"{notebook}: notebook for stage {name!r} not found")
    ensure_kernel()
    import papermill as pm

    os.environ[ROOT_ENV] = str(paths.root)
    paths.executed.mkdir(parents=True, exist_ok=True)
    final = paths.executed / stage.notebook
    tmp = paths.executed / f".running.{stage.notebook}"
    started = time.monotonic()
    try:
        pm.execute_notebook(
            str(notebook),
            str(tmp),
            parameters={"params": stage_parameters(stage, params)},
            kernel_name=KERNEL_NAME,
            cwd=str(paths.notebooks),
            execution_timeout=timeout_s,
            progress_bar=False,
            log_output=log_output,
            request_save_on_cell_execute=False,
        )
    except BaseException as exc:
        keep = paths.failed / name
        _remove(keep)
        for out in declared_outputs(name, paths):
            if out.exists() and out != final:
                target = keep / out.relative_to(paths.root)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(out), str(target))
            _remove(out)
        paths.failed.mkdir(parents=True, exist_ok=True)
        if tmp.exists():
            os.replace(tmp, paths.failed / stage.notebook)
        detail = getattr(exc, "evalue", None) or str(exc).strip().splitlines()[-1:] or [repr(exc)]
        raise StageError(
            f"stage {name!r} failed after {time.monotonic() - started:.1f} s: "
            f"{detail if isinstance(detail, str) else detail[0]}\n"
            f"  executed notebook kept at {paths.failed / stage.notebook}; its declared outputs "
            f"were moved to {keep}"
        ) from exc
    os.replace(tmp, final)
    (paths.failed / stage.notebook).unlink(missing_ok=True)
    _remove(paths.failed / name)
    return final
