"""Jobs."""

import dagster as dg

# The monthly run: the whole graph, launched as the month partition M (the month-grain assets are
# partitioned by month; the others hold the current state and run unpartitioned in the same run).
monthly_run = dg.define_asset_job(
    name="monthly_run",
    selection=dg.AssetSelection.all(),
    description="Everything for month M as of the last day of M-1: ingest, OneID, dbt, publish, exports.",
)
