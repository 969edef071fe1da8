"""The Dagster code location: every asset under ``assets/`` plus jobs, schedules, sensors, resources."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

import assets
from assets.owners import with_owners
from assets.transform.project import dbt_project
from pipelines.jobs import monthly_run, wecom_daily_pull
from pipelines.resources import build_resources
from pipelines.schedules import month_end_reminder_run, wecom_daily_pull_schedule
from pipelines.sensors import JOBS, SENSORS
from sources.settings import Settings, find_config_file, load_settings


def build_definitions(settings: Settings, config_file: Path | None) -> dg.Definitions:
    """The code location for ``settings``, loaded from ``config_file`` (``None``: no file). The
    settings resource is handed that file, so every resource of a run reads one configuration.
    ``aftercare run`` builds its own for its ``--config``."""
    return dg.Definitions(
        assets=with_owners(dg.load_assets_from_package_module(assets)),
        asset_checks=dg.load_asset_checks_from_package_module(assets),
        jobs=[monthly_run, wecom_daily_pull, *JOBS],
        schedules=[month_end_reminder_run, wecom_daily_pull_schedule],
        sensors=SENSORS,
        resources=build_resources(settings, config_file, dbt_project),
        # one process writes the warehouse at a time: DuckDB allows a single writer per file
        executor=dg.in_process_executor,
    )


def _default_definitions() -> dg.Definitions:
    """The usual lookup: ``AFTERCARE_CONFIG``, then ``./aftercare.toml``, then the defaults."""
    config_file = find_config_file(None, dict(os.environ), Path.cwd())
    return build_definitions(load_settings(config_file), config_file)


# what `dagster dev -w workspace.yaml` loads
defs = _default_definitions()
