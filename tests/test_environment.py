"""The pinned environment: one lock file that set-up, conda, CI and the Dockerfile all install."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def lock() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"requirements.lock: {line!r} is not pinned with =="
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_lock_pins_every_declared_dependency() -> None:
    pins = lock()
    declared = metadata.requires("alphalab") or []
    for req in declared:
        name = re.split(r"[\s<>=!\[;]", req, maxsplit=1)[0]
        assert re.sub(r"[-_.]+", "-", name).lower() in pins, (
            f"{name} is not pinned in requirements.lock"
        )


def test_installed_versions_match_the_lock() -> None:
    for name in (
        "pandas",
        "numpy",
        "statsmodels",
        "linearmodels",
        "arch",
        "dvc",
        "papermill",
        "great-expectations",
    ):
        assert metadata.version(name) == lock()[name], name


def test_conda_and_docker_install_the_same_lock() -> None:
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-r requirements.lock" in pip
    assert "requirements.lock" in (REPO / "Dockerfile").read_text()
    assert "requirements.lock" in (REPO / "Makefile").read_text()
