"""Dagster resources: configuration, the warehouse, dbt, and the month a run prepares."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from functools import cached_property

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource

from assets.transform.project import dbt_executable
from pipelines.config import Settings, load_settings


def _this_month() -> str:
    return dt.date.today().strftime("%Y-%m")


class AftercareSettings(dg.ConfigurableResource):
    """The loaded ``aftercare.toml`` + ``AFTERCARE_*`` configuration.

    ``config_file`` is empty by default: the usual lookup applies (``AFTERCARE_CONFIG``, then
    ``./aftercare.toml``, then built-in defaults).
    """

    config_file: str = ""

    @cached_property
    def settings(self) -> Settings:
        return load_settings(self.config_file or None)


class RunMonth(dg.ConfigurableResource):
    """The month M a run prepares. Inputs are taken as of the last day of M-1."""

    # defaults to the current month when a run is launched without config (e.g. from the UI)
    month: str = _this_month()

    @property
    def first_day(self) -> dt.date:
        return dt.date.fromisoformat(f"{self.month}-01")

    @property
    def as_of(self) -> dt.date:
        """Last day of the month before M: the cut-off of every input the run reads."""
        return self.first_day - dt.timedelta(days=1)

    @property
    def previous_month(self) -> str:
        return self.as_of.strftime("%Y-%m")


class WarehouseResource(DuckDBResource):
    """dagster-duckdb's resource, but the connection is closed when the asset fails too.

    The upstream context manager closes only on success; a failed step would keep the file's
    single-writer lock until the process exits and block the next step (or the next run).
    """

    @contextmanager
    def get_connection(self):
        with super().get_connection() as con:
            try:
                yield con
            finally:
                con.close()


def build_resources(settings: Settings, dbt_project) -> dict[str, object]:
    return {
        "settings": AftercareSettings(),
        "warehouse": WarehouseResource(database=str(settings.paths.warehouse)),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
        "run_month": RunMonth(),
    }
