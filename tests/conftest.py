"""Shared fixtures. Markers (slow, smoke, network) are registered in pyproject.toml."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# Never let a test write into the repository's own data/ or reports/.
os.environ.setdefault("ALPHALAB_ROOT", str(REPO / ".test-root-unused"))


def copy_project(dest: Path, params_text: str | None = None) -> Path:
    """Copy what a pipeline run needs (params, dvc.yaml, notebooks, src, expectations) to ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("params.yaml", "dvc.yaml", "pyproject.toml"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, dest / name)
    for folder in ("notebooks", "src", "expectations", "tools", "studies"):
        if (REPO / folder).is_dir():
            shutil.copytree(
                REPO / folder,
                dest / folder,
                ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", ".ipynb_checkpoints"),
            )
    if params_text is not None:
        (dest / "params.yaml").write_text(params_text)
    return dest


def run(
    cmd: list[str],
    cwd: Path,
    env: dict[str, str] | None = None,
    check: bool = True,
    timeout: float = 900,
) -> subprocess.CompletedProcess[str]:
    """Run a command with the project's venv first on PATH and ALPHALAB_ROOT unset."""
    full = {k: v for k, v in os.environ.items() if k != "ALPHALAB_ROOT"}
    full["PATH"] = f"{BIN}{os.pathsep}{full.get('PATH', '')}"
    full.update(env or {})
    proc = subprocess.run(cmd, cwd=cwd, env=full, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def init_repo(dest: Path) -> None:
    """Make ``dest`` a real git + DVC repository with one commit."""
    run(["git", "init", "-q"], dest)
    run(["git", "config", "user.email", "test@alphalab.local"], dest)
    run(["git", "config", "user.name", "alphalab test"], dest)
    run(["dvc", "init", "-q"], dest)
    run(["dvc", "config", "core.analytics", "false"], dest)
    run(["git", "add", "-A"], dest)
    run(["git", "commit", "-q", "-m", "init"], dest)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A scratch copy of the project (not a git repo)."""
    return copy_project(tmp_path / "project")
