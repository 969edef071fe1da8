"""dbt models on DuckDB, run by dagster-dbt."""
