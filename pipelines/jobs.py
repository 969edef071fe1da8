"""Jobs."""

import dagster as dg

# The monthly run: the whole graph, for the month given by the run_month resource config.
monthly_run = dg.define_asset_job(
    name="monthly_run",
    selection=dg.AssetSelection.all(),
    description="Everything for month M as of the last day of M-1: ingest, OneID, dbt, publish, exports.",
)
