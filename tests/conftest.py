"""Shared fixtures: the dbt manifest exists before anything imports the Dagster definitions."""

import os

import pytest

# every run starts with `aftercare check`, which wants to be told what kind of machine this is; the
# tests are a development machine (a test of the unset case removes it)
os.environ.setdefault("AFTERCARE_ENV", "local")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """`make test` runs the suite on two workers (pytest-xdist, ``--dist loadgroup``): a module's
    tests stay together on one worker, so its module fixture (a dbt build, a generated OEM's runs)
    is built once, and the modules that share the session's generated OEM (mark
    ``xdist_group("generated_oem")``) share a worker. The slow modules go first, so the long ones
    start at once and the quick ones fill the other worker."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable: order kept within


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
