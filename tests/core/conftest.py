"""Fixtures shared by the core test modules."""

from __future__ import annotations

import pytest

from tests.core import deploy_fixtures
from tests.core.privacy_journey import build_audit


@pytest.fixture(scope="session")
def audit(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The privacy journey (three runs, every command), built once for both privacy suites."""
    return build_audit(tmp_path_factory)


@pytest.fixture(scope="session")
def deploy_runs(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """(store, kind -> run id): each kind trained on first use (``deploy_fixtures``)."""
    return deploy_fixtures.deploy_runs(tmp_path_factory)


@pytest.fixture(scope="session")
def deploy_bundles(deploy_runs, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN001, ANN201
    """kind -> (folder, DeployBuild): one deploy bundle per kind, built on first use."""
    return deploy_fixtures.deploy_bundles(deploy_runs, tmp_path_factory)
