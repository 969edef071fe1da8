"""The Dagster code location: every asset under ``assets/`` plus jobs, schedules, sensors, resources."""

from __future__ import annotations

import dagster as dg

import assets
from assets.owners import with_owners
from assets.transform.project import dbt_project
from pipelines.jobs import monthly_run
from pipelines.resources import build_resources
from pipelines.schedules import month_end_reminder_run
from pipelines.sensors import JOBS, SENSORS
from sources.settings import load_settings

settings = load_settings()

defs = dg.Definitions(
    assets=with_owners(dg.load_assets_from_package_module(assets)),
    asset_checks=dg.load_asset_checks_from_package_module(assets),
    jobs=[monthly_run, *JOBS],
    schedules=[month_end_reminder_run],
    sensors=SENSORS,
    resources=build_resources(settings, dbt_project),
    # one process writes the warehouse at a time: DuckDB allows a single writer per file
    executor=dg.in_process_executor,
)
