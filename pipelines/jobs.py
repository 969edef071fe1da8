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
