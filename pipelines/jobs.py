"""Jobs."""

import dagster as dg

from pipelines.instance import JOB_TAGS

# The monthly run: the whole graph, launched as the month partition M (the month-grain assets are
# partitioned by month; the others hold the current state and run unpartitioned in the same run).
monthly_run = dg.define_asset_job(
    name="monthly_run",
    selection=dg.AssetSelection.all(),
    tags=JOB_TAGS,  # Dagster's run queue lets one warehouse run go at a time (pipelines/instance.py)
    description="Everything for month M as of the last day of M-1: ingest, OneID, dbt, publish, exports.",
)


# The WeCom pulls on their own, for one day: WeCom allows 10,000 calls a minute per API, so a month
# of every consultant's daily statistics at month end is minutes of waiting (two calls per
# consultant; ~24,000 at 1M vehicles). Pulled each night by `wecom_daily_pull_schedule`, the
# month-end run finds the month's calls made and asks one day; it also takes the consultants-and-
# customers snapshot, which the month-end run reuses when it is the last night's (OneID waits for
# it: ~3,800 calls at 1M vehicles off the month's critical path; docs/wechat.md "Daily WeCom pull").
WECOM_DAILY_PULLS = dg.AssetSelection.assets(
    dg.AssetKey(["wechat", "wecom_behavior_daily"]),
    dg.AssetKey(["wechat", "wecom_groupmsg_results"]),
    dg.AssetKey(["wechat", "wecom_follow_users"]),
    dg.AssetKey(["wechat", "wecom_external_contacts"]),
)
wecom_daily_pull = dg.define_asset_job(
    name="wecom_daily_pull",
    selection=WECOM_DAILY_PULLS,
    tags=JOB_TAGS,  # it writes the warehouse: queued like every run (pipelines/instance.py)
    description=(
        "WeCom consultants' daily statistics, group-message results and the consultants-and-customers "
        "snapshot, up to a day of M-1."
    ),
)


def wecom_pull_run_config(month: str, pulls_through: str) -> dict:
    """The run config of a daily pull: the month M whose data it gathers and the day it reaches."""
    return {"resources": {"run_month": {"config": {"month": month, "pulls_through": pulls_through}}}}
