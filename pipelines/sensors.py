"""Sensors, and the jobs only sensors launch."""

import datetime as dt
import hashlib
import json
from pathlib import Path

import dagster as dg

from pipelines.instance import JOB_TAGS
from sources.clock import SHANGHAI
from sources.settings import load_settings

# the ingestion assets only (landing.*), launched when the inbox changes
ingest_inbox_job = dg.define_asset_job(
    "ingest_inbox",
    selection=dg.AssetSelection.groups("ingestion"),
    tags=JOB_TAGS,
    description="Ingest new or changed export files from paths.inbox into landing.*",
)


def month_taking_today(today: dt.date) -> str:
    """The run month whose cut-off (the last day of the month before it) takes every file dated in
    ``today``'s month: the next month. A file dropped mid-month is ingested by the sensor's run."""
    return (today.replace(day=28) + dt.timedelta(days=4)).strftime("%Y-%m")


def inbox_changes(previous: dict[str, list], current: dict[str, list]) -> list[str]:
    """Files that are new or whose (mtime, size) changed since the last tick."""
    return sorted(name for name, state in current.items() if previous.get(name) != state)


@dg.sensor(job=ingest_inbox_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED)
def inbox_sensor(context: dg.SensorEvaluationContext):
    """Requests an ingestion run when a file appears in the inbox or changes (name + mtime + size)."""
    from assets.ingestion.ingest import inbox_signature

    inbox = Path(load_settings().paths.inbox)
    current = {name: list(state) for name, state in inbox_signature(inbox).items()}
    previous = json.loads(context.cursor) if context.cursor else {}
    changed = inbox_changes(previous, current)
    context.update_cursor(json.dumps(current, sort_keys=True))
    if not changed:
        return dg.SkipReason(f"no new or changed file in {inbox}")
    run_key = hashlib.sha256(json.dumps(current, sort_keys=True).encode()).hexdigest()[:16]
    shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
    # the month whose cut-off takes every file dated in the tick's month (Beijing time): a file
    # dropped mid-month is ingested by the sensor's run; given at the tick, a run never guesses its
    # month (pipelines.resources.RunMonth)
    month = month_taking_today(dt.datetime.now(SHANGHAI).date())
    return dg.RunRequest(
        run_key=run_key,
        run_config={"resources": {"run_month": {"config": {"month": month}}}},
        tags={"aftercare/inbox_changes": shown[:200], "aftercare/month": month},
    )


SENSORS: list = [inbox_sensor]

# jobs that only sensors launch (the inbox sensor's ingestion job)
JOBS: list = [ingest_inbox_job]
