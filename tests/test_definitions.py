"""The Dagster code location loads, with the job, the schedule and the graph it promises."""

import datetime as dt


def test_definitions_load_with_the_monthly_job():
    from pipelines.definitions import defs

    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert "serving/database" in keys
    assert "marts/dealers" in keys
    assert defs.resolve_job_def("monthly_run") is not None


def test_the_schedule_prepares_the_next_month_on_the_last_day():
    from pipelines.schedules import month_prepared_on

    assert month_prepared_on(dt.date(2026, 10, 31)) == "2026-11"
    assert month_prepared_on(dt.date(2026, 12, 31)) == "2027-01"
    assert month_prepared_on(dt.date(2028, 2, 29)) == "2028-03"
