"""Fixtures shared by the core test modules."""

from __future__ import annotations

import pytest

from tests.core.privacy_journey import build_audit


@pytest.fixture(scope="session")
def audit(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The privacy journey (three runs, every command), built once for both privacy suites."""
    return build_audit(tmp_path_factory)
