"""The code location's resources: the assets' resources (``assets/resources.py``) bound to their
keys, with the run guard (run lock, ``aftercare check``, stale candidates) on the settings resource."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from assets.resources import AftercareSettings, RunMonth, WarehouseResource, api_resources
from assets.transform.project import DbtCli, dbt_executable
from sources.settings import Settings


class GuardedSettings(AftercareSettings):
    """The settings resource of real runs: Dagster sets it up once per run, before the first step,
    which is where the run lock is taken and ``aftercare check`` runs (``pipelines.run_guard``)."""

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Before a run's first step: the run lock and ``aftercare check`` (``pipelines.run_guard``)."""
        from pipelines.run_guard import start_of_run

        run = context.dagster_run
        holder = {
            "run_id": run.run_id if run else "",
            "month": run.tags.get("aftercare/month", "") if run else "",
        }
        start_of_run(self.settings, holder, api=False, log=context.log.warning if context.log else None)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        from pipelines.run_guard import end_of_run

        end_of_run(self.settings)


def build_resources(settings: Settings, config_file: Path | None, dbt_project) -> dict[str, object]:
    """The resources of one configuration: ``settings`` was loaded from ``config_file`` (``None``: no
    file, defaults and environment only), which the settings resource reads again in each run."""
    return {
        "settings": GuardedSettings(config_file=str(config_file) if config_file else ""),
        "warehouse": WarehouseResource(database=str(settings.paths.warehouse)),
        "dbt": DbtCli(project_dir=dbt_project, dbt_executable=dbt_executable()),
        "run_month": RunMonth(),
        **api_resources(settings),
    }
