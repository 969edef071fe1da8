"""Every dbt model and test as Dagster assets and asset checks."""

import json
import os

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from assets.transform.project import dbt_project
from pipelines.config import Settings
from pipelines.resources import AftercareSettings, RunMonth


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


@dbt_assets(manifest=dbt_project.manifest_path)
def aftercare_dbt_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    settings: AftercareSettings,
    run_month: RunMonth,
):
    # profiles.yml reads the warehouse path from the same variable the configuration uses
    os.environ["AFTERCARE_PATHS_WAREHOUSE"] = str(settings.settings.paths.warehouse)
    args = ["build", "--vars", json.dumps(dbt_vars(run_month, settings.settings))]
    yield from dbt.cli(args, context=context).stream()
