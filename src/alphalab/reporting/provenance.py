"""Where a result came from: commit, params, data hashes, run time, package versions.

Every metrics file and every dashboard page carries this block, so a reviewer can tell which
code, which parameters and which data produced a number.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

from alphalab import config
from alphalab.data.manifest import package_versions


def git_state(root: Path) -> dict[str, Any]:
    """Commit hash and whether the work tree had uncommitted changes (``None`` outside git)."""

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def manifest_hashes(paths: config.Paths) -> dict[str, str]:
    """``{table: sha256}`` from the raw and interim manifests that exist."""
    out: dict[str, str] = {}
    for label, path in (("raw", paths.manifest), ("interim", paths.interim / "manifest.json")):
        if path.is_file():
            doc = json.loads(path.read_text())
            for name, entry in doc.get("tables", {}).items():
                out[f"{label}/{name}"] = entry.get("sha256", "")
    return out


def provenance(
    paths: config.Paths | None = None,
    *,
    params: config.Params | None = None,
    stage: str | None = None,
) -> dict[str, Any]:
    """The provenance block: git state, params hash and non-default params, data hashes, time."""
    paths = paths or config.Paths()
    params = params or config.load_params(paths.params)
    return {
        "stage": stage,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git": git_state(paths.root),
        "study": params.study.name,
        "params_hash": config.params_hash(params),
        "params_changed": config.params_diff(params),
        "data": manifest_hashes(paths),
        "packages": package_versions(),
    }
