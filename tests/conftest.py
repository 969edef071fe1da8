"""Shared fixtures: the dbt manifest exists before anything imports the Dagster definitions."""

import pytest


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest():
    from assets.transform.project import ensure_manifest

    return ensure_manifest()
