"""The Spark engine's settings reach dbt as the warehouse path does: in ``--vars`` and the target
of ``dbt build``, which ``profiles.yml`` and the ``register_spark_sources`` hook read; never in the
process environment. Without Java or pyspark: these only build the arguments."""

from __future__ import annotations

import json
import re
from pathlib import Path

from assets.identity.oneid import spark_components
from assets.transform.dbt import dbt_build_args
from sources.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
MONTH = "2026-03"


def _args(tmp_path: Path, toml: str) -> tuple[dict, list[str]]:
    (tmp_path / "aftercare.toml").write_text(toml)
    args = dbt_build_args(load_settings(environ={}, cwd=tmp_path))
    return json.loads(args[args.index("--vars") + 1]), args


def test_duckdb_gets_no_spark_var_and_its_default_target(tmp_path):
    cli_vars, args = _args(tmp_path, '[paths]\nwarehouse = "wh/warehouse.duckdb"\n')
    assert "--target" not in args
    assert not [name for name in cli_vars if name.startswith("spark_")]


def test_spark_session_gets_its_folder_and_session_settings_as_vars(tmp_path):
    cli_vars, args = _args(
        tmp_path,
        '[paths]\nwarehouse = "wh/warehouse.duckdb"\n\n[engine]\nkind = "spark"\n'
        'spark_master = "local[1]"\nspark_shuffle_partitions = 3\n',
    )
    assert args[args.index("--target") + 1] == "spark"
    # spark/ beside the warehouse file (EngineConfig.spark_path)
    assert cli_vars["spark_dir"] == str(tmp_path / "wh" / "spark")
    assert cli_vars["spark_master"] == "local[1]"
    assert cli_vars["spark_shuffle_partitions"] == 3
    assert cli_vars["warehouse_path"] == str(tmp_path / "wh" / "warehouse.duckdb")


def test_spark_thrift_gets_the_cluster_target_and_address(tmp_path):
    cli_vars, args = _args(
        tmp_path,
        '[engine]\nkind = "spark"\nspark_method = "thrift"\nspark_host = "sts.example"\nspark_port = 10001\n',
    )
    assert args[args.index("--target") + 1] == "spark_thrift"
    assert (cli_vars["spark_host"], cli_vars["spark_port"]) == ("sts.example", 10001)


def test_profiles_and_the_hook_read_every_spark_var_and_no_spark_variable():
    """Each var ``spark_vars`` sends is read where it matters, and nothing reads AFTERCARE_SPARK_*."""
    profiles = (ROOT / "dbt_project" / "profiles.yml").read_text()
    hook = (ROOT / "dbt_project" / "macros" / "spark_sources.sql").read_text()
    read = set(re.findall(r"var\('(spark_\w+)'", profiles + hook))
    assert read == {
        "spark_dir",
        "spark_master",
        "spark_driver_memory",
        "spark_shuffle_partitions",
        "spark_host",
        "spark_port",
    }
    assert "AFTERCARE_SPARK" not in profiles + hook


def test_spark_data_tests_can_be_left_out_on_spark_only(tmp_path):
    """``engine.spark_data_tests = false`` (the sameness test's setting) builds without dbt's data
    tests on Spark; DuckDB ignores it and always runs them."""
    excluded = {}
    for kind in ("duckdb", "spark"):
        _, args = _args(tmp_path, f'[engine]\nkind = "{kind}"\nspark_data_tests = false\n')
        start = args.index("--exclude-resource-type") + 1
        excluded[kind] = args[start : args.index("--vars")]
    assert excluded == {"duckdb": ["unit_test"], "spark": ["unit_test", "test"]}
    _, args = _args(tmp_path, '[engine]\nkind = "spark"\n')
    assert args[args.index("--exclude-resource-type") + 1 : args.index("--vars")] == ["unit_test"]


def test_oneid_components_run_on_spark_unless_left_out(tmp_path):
    """``engine.spark_oneid = false`` (the sameness test's setting) keeps OneID's components on
    SciPy under the Spark engine; on DuckDB they never go to Spark."""

    def components(toml: str):
        (tmp_path / "aftercare.toml").write_text(toml)
        return spark_components(load_settings(environ={}, cwd=tmp_path))

    on_spark = components('[engine]\nkind = "spark"\nspark_master = "local[1]"\nspark_dir = "sp"\n')
    assert on_spark is not None and on_spark.master == "local[1]"
    assert on_spark.work_dir.parts[-2:] == ("sp", "oneid")
    assert components('[engine]\nkind = "spark"\nspark_oneid = false\n') is None
    assert components('[engine]\nkind = "duckdb"\n') is None
