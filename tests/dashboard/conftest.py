"""The dashboard tests use the same FIXTURE roots as the reporting tests."""

from tests.reporting.conftest import empty_root, fixture_root

__all__ = ["empty_root", "fixture_root"]
