"""Shared fixtures: the dbt manifest exists before anything imports the Dagster definitions."""

import os

import pytest

# every run starts with `aftercare check`, which wants to be told what kind of machine this is; the
# tests are a development machine (a test of the unset case removes it)
os.environ.setdefault("AFTERCARE_ENV", "local")


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest():
    from assets.transform.project import ensure_manifest

    return ensure_manifest()
