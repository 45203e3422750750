"""Shared FIXTURE project roots for the reporting and dashboard tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reporting.artifacts import write_fixture_artifacts


@pytest.fixture(scope="session")
def fixture_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch root with FIXTURE artifacts of every stage (read-only for tests)."""
    return write_fixture_artifacts(tmp_path_factory.mktemp("fixture") / "root")


@pytest.fixture
def empty_root(tmp_path: Path) -> Path:
    """A scratch root where nothing has run (only params.yaml)."""
    return write_fixture_artifacts(tmp_path / "empty", stages=())
