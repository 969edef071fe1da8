"""Every dbt model and test as Dagster assets and asset checks."""

import json
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from assets.partitions import monthly_partitions, one_month_per_run
from assets.resources import AftercareSettings, RunMonth
from assets.transform import spark
from assets.transform.project import dbt_project
from sources.settings import Settings


def dbt_vars(run_month: RunMonth, settings: Settings) -> dict[str, str | int | float]:
    """The dbt vars of a run: the cut-off date, the month being prepared, and the rule parameters
    of ``aftercare.toml`` (every ``[reminders]`` key; the ``[kpi]`` keys as ``kpi_<key>``, the
    lapse cuts under their shared names) so one configuration drives Python and SQL."""
    return {
        "as_of_date": run_month.as_of.isoformat(),
        "report_month": run_month.first_day.isoformat(),
        **settings.reminders.model_dump(),
        **settings.kpi.dbt_vars(),
    }


def dbt_build_args(run_month: RunMonth, settings: Settings) -> list[str]:
    """``dbt build`` of a monthly run. The warehouse path travels as the var ``warehouse_path``, which
    ``profiles.yml`` reads (dbt renders ``--vars`` there): ``DbtCliResource.cli`` takes no environment,
    and setting ``os.environ`` would leak one run's warehouse into the next run of the process.

    dbt unit tests run in CI (the tests' ``dbt build``), not in the monthly runs: they pin their own
    as_of_date, which contradicts the run's report_month for every month but the one they pin.

    With ``engine.kind = "spark"`` the Spark settings travel the same way (``spark.spark_vars``) and
    the target is the connection method's (``spark.SPARK_TARGETS``); on DuckDB neither is added.
    ``engine.spark_data_tests = false`` leaves dbt's data tests out on Spark."""
    cli_vars = {
        **dbt_vars(run_month, settings),
        "warehouse_path": str(settings.paths.warehouse),
        **spark.spark_vars(settings),
    }
    excluded = ["unit_test"]
    if settings.engine.kind == "spark" and not settings.engine.spark_data_tests:
        excluded.append("test")
    args = ["build", "--exclude-resource-type", *excluded, "--vars", json.dumps(cli_vars)]
    target = spark.dbt_target(settings)
    return args if target is None else [*args, "--target", target]


def _build(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, settings: AftercareSettings, run_month: RunMonth
):
    args = dbt_build_args(run_month, settings.settings)
    if settings.settings.engine.kind == "spark":  # docs/spark.md
        yield from spark.build_on_spark(context, dbt, settings.settings, args, dbt_project.manifest_path)
        return
    yield from dbt.cli(args, context=context).stream()


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
