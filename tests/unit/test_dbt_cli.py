"""aftercare's dbt resource leaves out two costs dagster-dbt pays per invocation (``DbtCli``)."""

from __future__ import annotations

from importlib.metadata import version

from dagster_dbt import DbtCliResource

from assets.transform.project import DbtCli, dbt_executable, dbt_project


def test_the_private_methods_it_replaces_are_still_dagster_dbts():
    """An upgrade of dagster-dbt that renamed them would silently bring both costs back."""
    for name in ("_cli_version", "_initialize_dbt_core_adapter"):
        assert name in vars(DbtCliResource), f"dagster-dbt no longer has {name}: see DbtCli"
        assert name in vars(DbtCli)


def test_no_dbt_subprocess_and_no_adapter_before_an_invocation():
    cli = DbtCli(project_dir=dbt_project, dbt_executable=dbt_executable())
    assert str(cli._cli_version) == version("dbt-core")
    assert cli._initialize_dbt_core_adapter(["build"]) is None
