"""A run leaves the process environment as it found it: dbt is told the warehouse by ``--vars``,
the Dagster instance and the configuration are passed, not exported."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.resources import RunMonth
from assets.transform.dbt import dbt_build_args, run_parameters, subprocess_environment
from sources.settings import load_settings

MONTH = "2026-03"


def test_dbt_is_told_the_warehouse_of_the_run_by_a_var(tmp_path):
    (tmp_path / "aftercare.toml").write_text('[paths]\nwarehouse = "elsewhere/wh.duckdb"\n')
    settings = load_settings(environ={}, cwd=tmp_path)
    args = dbt_build_args(settings)
    cli_vars = json.loads(args[args.index("--vars") + 1])
    assert cli_vars["warehouse_path"] == str(tmp_path / "elsewhere" / "wh.duckdb")
    # the month is not a var (a new month would make dbt parse the whole project again)
    assert not {"as_of_date", "report_month"} & set(cli_vars)


def test_the_month_reaches_dbt_in_its_environment_only_while_dbt_starts():
    parameters = run_parameters(RunMonth(month=MONTH))
    assert parameters == {
        "AFTERCARE_DBT_AS_OF_DATE": "2026-02-28",
        "AFTERCARE_DBT_REPORT_MONTH": "2026-03-01",
    }
    os.environ["AFTERCARE_DBT_REPORT_MONTH"] = "left by someone"
    before = dict(os.environ)
    with subprocess_environment(parameters):
        seen = {name: os.environ.get(name) for name in parameters}
    assert seen == parameters
    assert dict(os.environ) == before


def test_profiles_yml_reads_the_warehouse_var_first():
    """The var wins over the variable an ad-hoc ``dbt build`` may set (``AFTERCARE_PATHS_WAREHOUSE``)."""
    profiles = Path(__file__).resolve().parents[1] / "dbt_project" / "profiles.yml"
    assert "path: \"{{ var('warehouse_path', env_var('AFTERCARE_PATHS_WAREHOUSE'" in profiles.read_text()


def seeded_codes(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (schema,) = con.execute(
            "select table_schema from information_schema.tables where table_name = 'enumerations'"
        ).fetchone()
        return con.execute(f"select count(*) from {schema}.enumerations").fetchone()[0]


@pytest.mark.slow
def test_a_run_lands_where_its_configuration_says_and_leaves_the_environment_alone(tmp_path, monkeypatch):
    """Before, the runner exported ``AFTERCARE_CONFIG``, ``DAGSTER_HOME`` and the warehouse path, and
    the dbt asset the warehouse path again: a second run of the process inherited the first's."""
    import pipelines.definitions  # noqa: F401  (polars and pandera set variables of their own on import)
    from pipelines.runner import run_month

    for name in [n for n in os.environ if n.startswith(("AFTERCARE_", "DAGSTER_HOME"))]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "site" / "aftercare.toml"
    config.parent.mkdir()
    config.write_text('env = "local"\n[paths]\ndata = "data"\n')
    before = dict(os.environ)

    result = run_month(MONTH, str(config), select="key:staging/enumerations")

    assert result.success, result.failure
    changed = {k for k in before.keys() | os.environ.keys() if before.get(k) != os.environ.get(k)}
    assert not changed, f"the run changed {sorted(changed)} in os.environ"
    data = tmp_path / "site" / "data"
    with open(Path(__file__).resolve().parents[1] / "dbt_project/seeds/enumerations.csv", newline="") as f:
        assert seeded_codes(data / "warehouse.duckdb") == len(list(csv.DictReader(f)))
    # recorded in the configuration's own Dagster instance, where `make dagster` looks
    instance = dg.DagsterInstance.from_config(str(data / "dagster_home"))
    assert instance.get_run_by_id(result.run_id) is not None
    assert result.report_dir is not None and result.report_dir.parent == data / "runs"
    assert not (tmp_path / "data").exists()  # nothing went to the working directory's defaults
