"""The code stays ruff-clean, formatted and type-checked (what `make lint` runs)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, run

PATHS = ["src", "tests", "tools", "benchmarks", "docker", "docs/conf.py"]


def test_ruff_lint_and_format() -> None:
    ruff = str(Path(sys.executable).parent / "ruff")
    lint = run([ruff, "check", *PATHS], REPO, check=False)
    assert lint.returncode == 0, lint.stdout[-3000:]
    fmt = run([ruff, "format", "--check", *PATHS], REPO, check=False)
    assert fmt.returncode == 0, fmt.stdout[-3000:]


@pytest.mark.slow
def test_mypy_on_the_library() -> None:
    proc = run([sys.executable, "-m", "mypy", "src/alphalab"], REPO, check=False, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:]
