"""Schedules."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from pipelines.jobs import monthly_run, wecom_daily_pull, wecom_pull_run_config


def month_prepared_on(run_date: dt.date) -> str:
    """The month whose reminder list a run on ``run_date`` (the last day of a month) prepares."""
    next_day = run_date + dt.timedelta(days=1)
    return next_day.strftime("%Y-%m") if next_day.day == 1 else run_date.strftime("%Y-%m")


def month_taking(day: dt.date) -> str:
    """The month M whose run takes ``day``'s data: the month after ``day``'s (its cut-off is the
    last day of ``day``'s month)."""
    return (day.replace(day=28) + dt.timedelta(days=4)).strftime("%Y-%m")


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


# Every night at 03:00 Beijing time, yesterday's WeCom statistics and group-message results, and the
# contacts snapshot the month-end run reuses (pipelines/jobs.py says why). Stopped until someone
# turns it on, like the month-end run. On the 1st it takes the last day of the month just prepared
# again: that day was not over at 20:00.
@dg.schedule(
    job=wecom_daily_pull,
    cron_schedule="0 3 * * *",
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def wecom_daily_pull_schedule(context: dg.ScheduleEvaluationContext):
    yesterday = context.scheduled_execution_time.date() - dt.timedelta(days=1)
    month = month_taking(yesterday)
    return dg.RunRequest(
        run_key=f"wecom-{yesterday.isoformat()}",
        run_config=wecom_pull_run_config(month, yesterday.isoformat()),
        tags={"aftercare/month": month},
    )
