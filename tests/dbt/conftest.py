"""A real ``dbt build`` of the project against a warehouse file, and a real Dagster publish."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from assets.transform.project import RUN_PARAMETER_ENV, ensure_manifest
from tests.dbt.fixture_warehouse import AS_OF, build_fixture_warehouse

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


@pytest.fixture(scope="session")
def fixture_warehouse(tmp_path_factory) -> Path:
    """The hand-made story of fixture_warehouse.py, built by dbt once for the session."""
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
            warehouse, as_of.isoformat(), work, **DBT_VARS, kpi_reminders_relation="fixture.reminders"
        )
        assert_built(result)
        warehouses[as_of] = warehouse
    return warehouses
