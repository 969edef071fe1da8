"""Shared fixtures: the dbt manifest exists before anything imports the Dagster definitions."""

import os
import shutil
import sys
from pathlib import Path

import pytest

# pyspark (the `spark` group) takes a process whose __main__ has neither a spec nor a file for its
# own doctest runner, and when Spark Connect's optional packages are missing it exits that process
# (`sys.exit(0)`) on the import of pyspark.sql.connect, which great_expectations imports: every
# pytest-xdist worker is such a process (`python -c`), so the gate's first import in a worker
# raised SystemExit (the runs themselves are `python -m` processes: their __main__ has a spec).
# The worker's __main__ is named for what it is.
_main = sys.modules["__main__"]
if getattr(_main, "__spec__", None) is None and not hasattr(_main, "__file__"):
    _main.__file__ = "<pytest worker>"

# every run starts with `aftercare check`, which wants to be told what kind of machine this is; the
# tests are a development machine (a test of the unset case removes it)
os.environ.setdefault("AFTERCARE_ENV", "local")


# The tests' files go to RAM where the machine has a tmpfs with room: Dagster's SQLite event log
# commits every event with an fsync (~6.5 ms each on this machine's disk, 0 on tmpfs) and a monthly
# run writes ~1,250 events (a dbt test is two: planned and evaluated), so on disk every run of
# `aftercare run` in the suite waited ~20 s on fsync alone. AFTERCARE_TESTS_ON_DISK=1 keeps
# pytest's own temporary directory (and its last three runs for a post-mortem).
RAM_DISK = Path("/dev/shm")
RAM_DISK_NEEDED = 8 * 1024**3


def _ram_basetemp() -> Path | None:
    if os.environ.get("AFTERCARE_TESTS_ON_DISK") or not RAM_DISK.is_dir() or not os.access(RAM_DISK, os.W_OK):
        return None
    if shutil.disk_usage(RAM_DISK).free < RAM_DISK_NEEDED:
        return None
    return RAM_DISK / f"aftercare-pytest-{os.getpid()}"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    # only the controller chooses; pytest-xdist gives each worker a folder inside it
    if config.option.basetemp is None and not hasattr(config, "workerinput"):
        basetemp = _ram_basetemp()
        if basetemp is not None:
            config.option.basetemp = str(basetemp)
            config._aftercare_ram_basetemp = basetemp


def pytest_unconfigure(config):
    basetemp = getattr(config, "_aftercare_ram_basetemp", None)
    if basetemp is not None:
        shutil.rmtree(basetemp, ignore_errors=True)  # RAM, not disk: nothing is kept


@pytest.fixture(autouse=True)
def _environment_restored():
    """Each test sees the environment the session started with: ``aftercare demo`` points the
    process at its simulator through ``AFTERCARE_*`` variables, and a later test's subprocess must
    not inherit another test's configuration. (Runs themselves change nothing:
    tests/test_environment_untouched.py.)"""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


# Modules that share a session fixture too costly to build twice (the generated OEM's two monthly
# runs, the reminder story's dbt runs, the hand-made warehouse's dbt build, the sample OEM): under
# pytest-xdist they run on one worker. A session fixture is built once per worker that asks for
# it: the CI of 2026-12-01 10:39 built the fixture warehouse (a whole `dbt build`, 42-43 s each
# under the suite's load) on two workers before its modules were grouped
SHARED_FIXTURE_MODULES = {
    "tests/test_e2e.py": "generated_oem",
    "tests/dbt/test_reminders_generated.py": "generated_oem",
    "tests/dbt/test_reminder_chain.py": "reminder_story",
    "tests/dbt/test_kpis_on_reminder_story.py": "reminder_story",
    "tests/dbt/test_publish_gate.py": "fixture_warehouse",
    "tests/dbt/test_dbt_docs.py": "fixture_warehouse",
    "tests/dbt/test_marts_on_fixture.py": "fixture_warehouse",
    "tests/sample_oem/test_identity_input.py": "sample_oem",
    "tests/sample_oem/test_dirt.py": "sample_oem",
    "tests/sample_oem/test_tables.py": "sample_oem",
    "tests/sample_oem/test_truth.py": "sample_oem",
}


def pytest_xdist_make_scheduler(config, log):
    """`make test` runs the suite on pytest-xdist workers (three). A module's tests stay together on
    one worker, so its module fixture (a dbt build, a generated OEM's runs) is built once, and the
    modules of ``SHARED_FIXTURE_MODULES`` share a worker. (xdist's own ``--dist loadgroup`` would
    say this with marks, but it renames test ids, which pytest 9 no longer lets it do.)"""
    from xdist.scheduler import LoadScopeScheduling

    # xdist orders the modules by their number of tests unless told not to: the Spark sameness
    # test (4 tests, minutes) then started last and ran alone at the end (~7 minutes of one idle
    # worker). Our order (pytest_collection_modifyitems: the longest first) is kept instead.
    config.option.loadscopereorder = False

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return SHARED_FIXTURE_MODULES.get(module, module)

    return ModuleScheduling(config, log)


# the slow modules that take longest, longest first (a module or its SHARED_FIXTURE_MODULES group
# runs on one worker: minutes of one worker, measured in the clean-clone CI runs of 2026-11-30)
LONGEST_FIRST = [
    # the generated OEM's five month runs, on one worker: test_reminders_generated.py reads its two
    # months before test_e2e.py's last test runs a third (NEXT_MONTH) on it
    "tests/dbt/test_reminders_generated.py",
    "tests/test_e2e.py",
    "tests/spark/test_engines_agree.py",  # a month on DuckDB and on a local Spark session
    "tests/reliability/test_monthly_run.py",  # runs killed at every stage
    "tests/dbt/test_reminder_chain.py",  # with test_kpis_on_reminder_story.py
    "tests/spark/test_oneid_components.py",
    "tests/identity/test_end_to_end.py",
    "tests/dbt/test_publish_gate.py",  # with test_dbt_docs.py and test_marts_on_fixture.py
]


def _longest_first(item) -> int:
    """LONGEST_FIRST's modules in its order, then the other slow ones, then the rest."""
    module = item.nodeid.split("::", 1)[0]
    if module in LONGEST_FIRST:
        return LONGEST_FIRST.index(module)
    return len(LONGEST_FIRST) + (item.get_closest_marker("slow") is None)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """The slow modules first, the longest of them first: under xdist the long ones start at once
    and the quick ones fill the other worker."""
    items.sort(key=_longest_first)  # stable: the order within a module is kept


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
