"""Dagster resources the assets use: configuration, the warehouse, the month a run prepares, and
the WeChat Official Account and WeCom APIs.

They live in ``assets/`` so that assets import nothing from ``pipelines/``; ``pipelines.resources``
binds them (with the run guard) into the code location."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from contextlib import contextmanager
from functools import cached_property
from typing import ClassVar, Optional, Self

import dagster as dg
import duckdb
import tenacity
from dagster_duckdb import DuckDBResource

from sources import duckdb_files
from sources.settings import ENV_PREFIX, Settings, load_settings
from sources.wechat import CallBudget, OfficialAccountClient, WecomClient


class AftercareSettings(dg.ConfigurableResource):
    """The loaded ``aftercare.toml`` + ``AFTERCARE_*`` configuration.

    ``config_file`` is empty by default: the usual lookup applies (``AFTERCARE_CONFIG``, then
    ``./aftercare.toml``, then built-in defaults).
    """

    config_file: str = ""

    @cached_property
    def settings(self) -> Settings:
        return load_settings(self.config_file or None)


# the tag Dagster puts on a run of one partition (a schedule's RunRequest, a UI launch, a backfill)
PARTITION_TAG = "dagster/partition"
RANGE_TAGS = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")


class MonthNotGiven(Exception):
    """A run that does not say which month it prepares: nothing may guess it."""


def parse_month(value: str, where: str) -> str:
    """``YYYY-MM`` checked; the message names where the value came from."""
    try:
        dt.date.fromisoformat(f"{value}-01")
    except (TypeError, ValueError) as exc:
        raise MonthNotGiven(f"{where} {value!r} is not a month in the form YYYY-MM") from exc
    return value


class RunMonth(dg.ConfigurableResource):
    """The month M a run prepares. Inputs are taken as of the last day of M-1.

    The month is the run's partition key (``aftercare run --month M``, the month-end schedule, a
    partition launched or backfilled in the UI) or, for a run without partitions, the ``month``
    given in the run config. It never defaults to the month the code happens to be loaded in: a run
    with neither fails at once, before any asset reads or writes anything.
    """

    month: Optional[str] = None  # YYYY-MM; empty: the run's partition key  # noqa: UP045 (Dagster config)
    # the daily WeCom pull (pipelines/schedules.py): the day its pulls reach, inside month M-1, so
    # the month-end run finds the month's rate-limited calls made; empty: the month's cut-off
    pulls_through: Optional[str] = None  # YYYY-MM-DD  # noqa: UP045 (Dagster config)

    def create_resource(self, context: dg.InitResourceContext) -> RunMonth:
        tags = context.dagster_run.tags if context.dagster_run is not None else {}
        run_month = RunMonth(month=month_of_run(self.month, tags), pulls_through=self.pulls_through)
        _ = run_month.pull_cut_off  # a day outside the month fails the run before any asset runs
        return run_month

    @property
    def key(self) -> str:
        if not self.month:
            raise MonthNotGiven("RunMonth used outside a run: give it a month")
        return self.month

    @property
    def first_day(self) -> dt.date:
        return dt.date.fromisoformat(f"{self.key}-01")

    @property
    def as_of(self) -> dt.date:
        """Last day of the month before M: the cut-off of every input the run reads."""
        return self.first_day - dt.timedelta(days=1)

    @property
    def previous_month(self) -> str:
        return self.as_of.strftime("%Y-%m")

    @property
    def pull_cut_off(self) -> dt.date:
        """The day the WeChat/WeCom pulls of this run reach: ``pulls_through`` for the daily pull,
        else ``as_of``. A daily pull never reaches past the month's cut-off nor before its first
        day: its data belongs to the month-end run of M."""
        if not self.pulls_through:
            return self.as_of
        try:
            day = dt.date.fromisoformat(self.pulls_through)
        except ValueError as exc:
            raise MonthNotGiven(
                f"run_month.pulls_through {self.pulls_through!r} is not a YYYY-MM-DD date"
            ) from exc
        if not self.as_of.replace(day=1) <= day <= self.as_of:
            raise MonthNotGiven(
                f"run_month.pulls_through {day} is outside {self.previous_month}, the month whose data "
                f"the run of {self.key} takes"
            )
        return day


def month_of_run(configured: str | None, tags: Mapping[str, str]) -> str:
    """The month a run prepares: its partition key, else the configured month; they must agree."""
    partition = tags.get(PARTITION_TAG)
    if partition:
        partition = parse_month(partition, "the run's partition key")
    if configured:
        configured = parse_month(configured, "run_month.month")
    if partition and configured and partition != configured:
        raise MonthNotGiven(
            f"the run is for partition {partition} but run_month.month says {configured}: give one of them"
        )
    month = partition or configured
    if month:
        return month
    if any(tag in tags for tag in RANGE_TAGS):
        raise MonthNotGiven(
            "a run prepares one month; this run covers a range of partitions: backfill with one run per "
            "partition"
        )
    raise MonthNotGiven(
        "which month does this run prepare? Launch a month partition (YYYY-MM), run "
        "`aftercare run --month YYYY-MM`, or set resources.run_month.config.month"
    )


# upstream's retries when opening (dagster-duckdb: up to 10, doubling from 0.1 s)
_open_retrying = tenacity.retry(
    retry=tenacity.retry_if_exception_type((RuntimeError, duckdb.IOException)),
    wait=tenacity.wait_exponential(multiplier=0.1, max=10),
    stop=tenacity.stop_after_attempt(11),
    reraise=True,
)


class WarehouseResource(DuckDBResource):
    """dagster-duckdb's resource, but the connection is closed when the asset fails too, and opened
    and closed under the process's lock (``sources.duckdb_files``).

    The upstream context manager closes only on success; a failed step would keep the file's
    single-writer lock until the process exits and block the next step (or the next run). And the
    month's pulls open the warehouse in threads beside each other and the main thread's step, where
    an unguarded open can meet another thread's close and fail (``sources.duckdb_files``). The
    retries are upstream's: another process (a dbt build ending) may still hold the file's lock.
    """

    @contextmanager
    def get_connection(self):
        config = {"custom_user_agent": "dagster", **self.connection_config}
        con = _open_retrying(duckdb_files.connect)(self.database, config=config)
        try:
            yield con
        finally:
            duckdb_files.close(con)


class _ApiResource(dg.ConfigurableResource):
    """An API of one settings section (``SECTION``): its fields are the section's keys of the same
    names; the secret is a ``dg.EnvVar`` of ``AFTERCARE_<SECTION>_SECRET``, so Dagster resolves it in
    the run and shows the variable's name, never its value, in the UI (secrets come from the
    environment only: ``sources.settings``).

    Without a secret, ``client()`` raises ``MissingSecret`` inside the asset, where an optional feed
    turns it into the run's warning (docs/wechat.md), rather than failing the run before it starts.
    """

    SECTION: ClassVar[str]
    secret: Optional[str] = None  # noqa: UP045 (Dagster config)
    timeout_s: float = 10.0
    max_concurrency: int = 4

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        section = getattr(settings, cls.SECTION)
        values = section.model_dump(include=set(cls.model_fields) - {"secret"})
        name = f"{ENV_PREFIX}_{cls.SECTION.upper()}_SECRET"
        return cls(**values, secret=dg.EnvVar(name) if section.secret is not None else None)

    def _section(self):
        """The settings section again, as the run resolved it (the secret's value included)."""
        section_type = Settings.model_fields[self.SECTION].annotation
        return section_type(**{name: getattr(self, name) for name in type(self).model_fields})


class OfficialAccountApi(_ApiResource):
    """The WeChat Official Account API of ``[wechat]``: a client per use."""

    SECTION: ClassVar[str] = "wechat"
    base_url: str
    appid: str

    def client(self) -> OfficialAccountClient:
        return OfficialAccountClient.from_config(self._section())


class WecomApi(_ApiResource):
    """The WeCom API of ``[wecom]``: a client per use, within a call budget per pull and run."""

    SECTION: ClassVar[str] = "wecom"
    base_url: str
    corpid: str
    call_budget: int = 25_000  # calls one pull makes in a run at most (wecom.call_budget)
    progress_every: int = 1_000
    calls_per_minute: int = 9_500  # per API in any 60 s (wecom.calls_per_minute)

    def budget(self, label: str, log) -> CallBudget:
        """This run's call budget of one pull, logging its progress every ``progress_every`` calls."""
        return CallBudget(self.call_budget, self.progress_every, log=log, label=label)

    def client(self, budget: CallBudget | None = None) -> WecomClient:
        return WecomClient.from_config(self._section(), budget=budget)


def api_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    """The WeChat and WeCom API resources of ``settings`` under the keys the assets ask for."""
    return {
        "wechat_api": OfficialAccountApi.from_settings(settings),
        "wecom_api": WecomApi.from_settings(settings),
    }
