"""Every dbt model and test as Dagster assets and asset checks."""

import json
import os
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from assets.partitions import monthly_partitions, one_month_per_run
from assets.resources import AftercareSettings, RunMonth
from assets.transform import spark
from assets.transform.project import RUN_PARAMETER_ENV, dbt_project
from sources.process_memory import release_freed_memory
from sources.settings import Settings


def dbt_vars(settings: Settings) -> dict[str, str | int | float]:
    """The dbt vars of a configuration: the rule parameters of ``aftercare.toml`` (every
    ``[reminders]`` key; the ``[kpi]`` keys as ``kpi_<key>``, the lapse cuts under their shared
    names) so one configuration drives Python and SQL. The same for every run of an installation."""
    return {**settings.reminders.model_dump(), **settings.kpi.dbt_vars()}


def run_parameters(run_month: RunMonth) -> dict[str, str]:
    """The cut-off and the month being prepared, as the environment variables dbt reads them from."""
    values = {"as_of_date": run_month.as_of.isoformat(), "report_month": run_month.first_day.isoformat()}
    return {RUN_PARAMETER_ENV[name]: value for name, value in values.items()}


def dbt_target_path(settings: Settings) -> Path:
    """One dbt target folder per installation, in its data folder, reused run after run: dbt keeps
    its parse there (``partial_parse.msgpack``) and the next invocation re-reads only what changed.
    (dagster-dbt's default is a new folder per invocation, so every invocation parsed the project
    from scratch.) Runs are one at a time (the run lock), so two invocations never share it."""
    return settings.paths.data / "dbt_target"


@contextmanager
def subprocess_environment(extra: Mapping[str, str]):
    """``os.environ`` plus ``extra`` while a subprocess is started, as it was afterwards.
    ``DbtCliResource.cli`` starts dbt with a copy of ``os.environ`` and takes no environment of its
    own; the run parameters must not outlive the invocation (a next run in the process would
    inherit them)."""
    saved = {name: os.environ.get(name) for name in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def dbt_build_args(settings: Settings) -> list[str]:
    """``dbt build`` of a monthly run. The warehouse path travels as the var ``warehouse_path``, which
    ``profiles.yml`` reads (dbt renders ``--vars`` there); the month travels apart
    (``run_parameters``).

    dbt unit tests run in CI (the tests' ``dbt build``), not in the monthly runs: they pin their own
    as_of_date, which contradicts the run's report_month for every month but the one they pin.

    With ``engine.kind = "spark"`` the Spark settings travel the same way (``spark.spark_vars``) and
    the target is the connection method's (``spark.SPARK_TARGETS``); on DuckDB neither is added.
    ``engine.spark_data_tests = false`` leaves dbt's data tests out on Spark."""
    cli_vars = {
        **dbt_vars(settings),
        "warehouse_path": str(settings.paths.warehouse),
        **spark.spark_vars(settings),
    }
    excluded = ["unit_test"]
    if settings.engine.kind == "spark" and not settings.engine.spark_data_tests:
        excluded.append("test")
    args = ["build", "--exclude-resource-type", *excluded, "--vars", json.dumps(cli_vars)]
    target = spark.dbt_target(settings)
    return args if target is None else [*args, "--target", target]


def start_dbt(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, settings: Settings, run_month: RunMonth
):
    """The run's ``dbt build`` started (a ``DbtCliInvocation`` to stream): its vars, its month in its
    environment, the installation's target folder."""
    with subprocess_environment(run_parameters(run_month)):
        return dbt.cli(dbt_build_args(settings), context=context, target_path=dbt_target_path(settings))


def _build(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, settings: AftercareSettings, run_month: RunMonth
):
    # dbt's process tree peaks beside this one: what the month's earlier stages freed goes back
    # to the system first (sources/process_memory.py)
    before, after = release_freed_memory()
    if before is not None and after is not None:
        context.log.info(
            f"the run's process held {before} MiB before dbt, {after} MiB after releasing freed memory"
        )
    if settings.settings.engine.kind == "spark":  # docs/spark.md
        yield from spark.build_on_spark(
            context, settings.settings, lambda: start_dbt(context, dbt, settings.settings, run_month),
            dbt_project.manifest_path,
        )  # fmt: skip
        return
    yield from start_dbt(context, dbt, settings.settings, run_month).stream()


# Two sets of dbt assets over one manifest. The models tagged `monthly` (the reminder list and
# what hangs on it) hold one slice per month M and are partitioned by month, so Dagster shows which
# months are done and backfills a range; everything else is the current state of the world and
# stays unpartitioned. Both get the same vars: the month comes from the run's partition key
# (RunMonth), so a model of either set sees the same cut-off in one run.
MONTHLY = "tag:monthly"


class AftercareDbtTranslator(DagsterDbtTranslator):
    """dbt resources as Dagster assets grouped by layer: a model's group is its top folder under
    ``models/`` (``staging``, ``intermediate``, ``marts``), a seed's group is ``seeds``."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        # fqn: [project, folder, ..., name]
        return dbt_resource_props["fqn"][1]


# the dbt sources landing.<table> and landing_history.<table> (earlier versions of its keys, read
# by the macro landing_as_of) are both written by ingestion's asset ["landing", <table>]
TRANSLATOR = AftercareDbtTranslator(
    settings=DagsterDbtTranslatorSettings(enable_duplicate_source_asset_keys=True)
)


@dbt_assets(manifest=dbt_project.manifest_path, exclude=MONTHLY, dagster_dbt_translator=TRANSLATOR)
def aftercare_dbt_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    settings: AftercareSettings,
    run_month: RunMonth,
):
    yield from _build(context, dbt, settings, run_month)


# one month per run: dagster-dbt's default for time partitions would be one run for a whole range
@dbt_assets(
    manifest=dbt_project.manifest_path,
    select=MONTHLY,
    dagster_dbt_translator=TRANSLATOR,
    partitions_def=monthly_partitions,
    backfill_policy=one_month_per_run,
)
def aftercare_dbt_monthly(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    settings: AftercareSettings,
    run_month: RunMonth,
):
    yield from _build(context, dbt, settings, run_month)
