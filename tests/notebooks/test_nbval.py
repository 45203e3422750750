"""Every stage notebook runs under nbval, its outputs pointed at a scratch root."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from alphalab.pipeline import STAGES, ensure_kernel
from tests.conftest import REPO, copy_project, run

pytestmark = pytest.mark.slow

NOTEBOOKS = [s.notebook for s in STAGES.values() if (REPO / "notebooks" / s.notebook).is_file()]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_project(tmp_path_factory.mktemp("nbval") / "root")
    text = (root / "params.yaml").read_text().replace('start: "1990-01-01"', 'start: "2006-01-01"')
    (root / "params.yaml").write_text(text)
    ensure_kernel()
    return root


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_runs_under_nbval(notebook: str, scratch: Path) -> None:
    proc = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--nbval-lax",
            "--nbval-kernel-name",
            "alphalab",
            str(REPO / "notebooks" / notebook),
        ],
        REPO,
        env={"ALPHALAB_ROOT": str(scratch)},
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert not (REPO / "notebooks" / "data").exists()


def test_notebooks_in_sync_and_without_outputs() -> None:
    import json

    proc = run([sys.executable, "tools/build_notebooks.py", "--check"], REPO, check=False)
    assert proc.returncode == 0, proc.stderr
    for nb in (REPO / "notebooks").rglob("*.ipynb"):
        doc = json.loads(nb.read_text())
        for cell in doc["cells"]:
            assert cell.get("outputs", []) == [] and cell.get("execution_count") is None, nb
