"""Schedules."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from pipelines.jobs import monthly_run


def month_prepared_on(run_date: dt.date) -> str:
    """The month whose reminder list a run on ``run_date`` (the last day of a month) prepares."""
    next_day = run_date + dt.timedelta(days=1)
    return next_day.strftime("%Y-%m") if next_day.day == 1 else run_date.strftime("%Y-%m")


# On the last day of month M-1, at 20:00 Beijing time, prepare month M. Cron has no "last day of
# month", so the schedule ticks daily from the 28th and only the last day launches a run. It is
# stopped until someone turns it on (README "The flow"): a fresh clone must not start monthly runs.
@dg.schedule(
    job=monthly_run,
    cron_schedule="0 20 28-31 * *",
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def month_end_reminder_run(context: dg.ScheduleEvaluationContext):
    today = context.scheduled_execution_time.date()
    if (today + dt.timedelta(days=1)).day != 1:
        return dg.SkipReason(f"{today} is not the last day of its month")
    month = month_prepared_on(today)
    # the month's partition: the month-grain assets record it, RunMonth reads the month from it
    return dg.RunRequest(run_key=f"monthly-{month}", partition_key=month, tags={"aftercare/month": month})
