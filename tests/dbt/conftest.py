"""A real ``dbt build`` of the project against a warehouse file, and a real Dagster publish."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from assets.transform.project import RUN_PARAMETER_ENV, ensure_manifest
from tests.dbt.fixture_warehouse import AS_OF, build_fixture_warehouse
from tests.dbt.reminder_story import MONTHS as STORY_MONTHS
from tests.dbt.reminder_story import RULE_VARS as STORY_RULE_VARS
from tests.dbt.reminder_story import build_reminder_story

# the publish asset reads the dbt manifest when its module is imported, i.e. at collection time
ensure_manifest()

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
DBT = Path(sys.executable).parent / "dbt"


def dbt_build(
    warehouse: Path, as_of: str, work_dir: Path, *args: str, command: str = "build", **dbt_vars
) -> subprocess.CompletedProcess:
    """``dbt build`` as a run invokes it, with its own target dir (the shared manifest stays put):
    the cut-off in the environment (``run_parameters``), the rule parameters ``dbt_vars`` as vars,
    so a module's later builds reuse its first one's parse; ``args`` are appended (e.g. a selection)."""
    env = {
        **os.environ,
        "AFTERCARE_PATHS_WAREHOUSE": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        RUN_PARAMETER_ENV["as_of_date"]: str(as_of),
    }
    return subprocess.run(
        [
            str(DBT), command,
            "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
            "--target-path", str(work_dir / "target"), "--log-path", str(work_dir / "logs"),
            "--vars", json.dumps(dbt_vars), *args,
        ],
        env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip


def assert_built(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


# dbt's unit tests read fixtures of their own, never the warehouse's rows: the fixture warehouse's
# build runs all of them once a session; the other full builds leave them out (~5 s of CPU each)
WITHOUT_UNIT_TESTS = ("--exclude-resource-type", "unit_test")

# what a month's run of the reminder story builds: the models tagged monthly and their parents
STORY_MONTHLY = ["--select", "+tag:monthly", "--indirect-selection", "cautious"]
STORY_RERUNS = ("2026-11", "2026-12")


@dataclass(frozen=True)
class StoryRuns:
    """The reminder story's warehouse run month after month: a copy after each month's run, a copy
    after each rerun (``STORY_RERUNS``, after the last month), and the warehouse itself."""

    warehouse: Path
    after: dict[str, Path]
    rerun: dict[str, Path]


def _month_before(month: str) -> str:
    return (dt.date.fromisoformat(f"{month}-01") - dt.timedelta(days=1)).isoformat()


@pytest.fixture(scope="session")
def reminder_story_runs(tmp_path_factory) -> StoryRuns:
    """The runs test_reminder_chain.py and test_kpis_on_reminder_story.py read (one worker builds
    them: ``SHARED_FIXTURE_MODULES`` in tests/conftest.py). The first month builds the whole project
    (seeds, every model and data test); 2026-11 and the last month build the monthly
    models with their data tests; the others only run them; the reruns run them again."""
    work = tmp_path_factory.mktemp("reminder_story")
    warehouse = build_reminder_story(work / "warehouse.duckdb")
    after, rerun = {}, {}
    for month in STORY_MONTHS:
        if month == STORY_MONTHS[0]:
            done = dbt_build(warehouse, _month_before(month), work, *WITHOUT_UNIT_TESTS, **STORY_RULE_VARS)
        elif month in ("2026-11", STORY_MONTHS[-1]):
            done = dbt_build(warehouse, _month_before(month), work, *STORY_MONTHLY, **STORY_RULE_VARS)
        else:
            done = dbt_build(
                warehouse, _month_before(month), work, *STORY_MONTHLY, command="run", **STORY_RULE_VARS
            )
        assert_built(done)
        after[month] = Path(shutil.copy(warehouse, work / f"after_{month}.duckdb"))
    for month in STORY_RERUNS:
        done = dbt_build(
            warehouse, _month_before(month), work, *STORY_MONTHLY, command="run", **STORY_RULE_VARS
        )
        assert_built(done)
        rerun[month] = Path(shutil.copy(warehouse, work / f"rerun_{month}.duckdb"))
    return StoryRuns(warehouse, after, rerun)


@pytest.fixture(scope="session")
def fixture_warehouse(tmp_path_factory) -> Path:
    """The hand-made story of fixture_warehouse.py, built by dbt once for the session: seeds, every
    model, data test and unit test (the suite's one run of the unit tests)."""
    work = tmp_path_factory.mktemp("dbt_fixture")
    warehouse = build_fixture_warehouse(work / "warehouse.duckdb")
    result = dbt_build(warehouse, AS_OF.isoformat(), work)
    assert_built(result)
    return warehouse


def query(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="session")
def kpi_warehouses(tmp_path_factory) -> dict:
    """The KPI story of kpi_fixture_warehouse.py built by dbt at its two cut-offs: {as_of: warehouse}."""
    from tests.dbt.kpi_fixture_warehouse import AS_OF, AS_OF_NEXT, DBT_VARS, build_kpi_fixture_warehouse

    warehouses = {}
    for as_of in (AS_OF, AS_OF_NEXT):
        work = tmp_path_factory.mktemp(f"dbt_kpis_{as_of:%Y%m%d}")
        warehouse = build_kpi_fixture_warehouse(work / "warehouse.duckdb", as_of)
        result = dbt_build(
            warehouse, as_of.isoformat(), work, *WITHOUT_UNIT_TESTS,
            **DBT_VARS, kpi_reminders_relation="fixture.reminders",
        )  # fmt: skip
        assert_built(result)
        warehouses[as_of] = warehouse
    return warehouses
