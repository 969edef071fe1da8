"""The month partitions of the month-grain assets (reminders, dispatch, dealer files, KPIs).

A partition key is the month M a run prepares (``YYYY-MM``); its inputs are taken as of the last
day of M-1. The schedule runs on that last day, so the newest partition is the month after the
current one (``end_offset=2``). Landing, WeChat pulls and identity stay unpartitioned: they hold the
current state of the world, which a month does not slice.
"""

import dagster as dg

monthly_partitions = dg.MonthlyPartitionsDefinition(
    start_date="2024-01", fmt="%Y-%m", end_offset=2, timezone="Asia/Shanghai"
)

# A run prepares one month, and month M's list is built from month M-1's: a backfill of a range
# runs the months one by one (every month-grain asset declares this, so the job has one policy).
one_month_per_run = dg.BackfillPolicy.multi_run(1)
