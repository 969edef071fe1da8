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


@pytest.fixture(scope="session")
def two_month_oem(tmp_path_factory):
    """A small generated OEM after `aftercare run` 2026-10 and 2026-11 (tests/generated_oem.py),
    shared by the end-to-end tests of the session."""
    from tests.generated_oem import two_month_oem

    yield from two_month_oem(tmp_path_factory.mktemp("generated_oem"))
