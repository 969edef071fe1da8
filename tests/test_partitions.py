"""Month partitions: which assets are month-grain, the month of a run, the schedule's partition."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

from assets.resources import MonthNotGiven, RunMonth, month_of_run

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture(scope="module")
def graph():
    from pipelines.definitions import defs

    return defs.resolve_asset_graph()


def partitioned(graph, *path: str) -> bool:
    return graph.get(dg.AssetKey(list(path))).partitions_def is not None


def test_month_grain_assets_are_partitioned_by_month_and_the_state_of_the_world_is_not(graph):
    from assets.partitions import monthly_partitions

    assert partitioned(graph, "wechat", "template_send_log")
    assert graph.get(dg.AssetKey(["wechat", "template_send_log"])).partitions_def == monthly_partitions
    for key in [
        ("landing", "repair_orders"),
        ("wechat", "oa_followers"),
        ("wechat", "callback_events"),
        ("wechat", "template_send_results"),  # a settlement of every send ever made, not one month's
        ("identity", "oneid_map"),
        ("decisions", "task_decisions"),
        ("marts", "dealers"),
        ("serving", "database"),
    ]:
        assert not partitioned(graph, *key), key


def test_the_monthly_dbt_models_are_partitioned_and_wired_to_the_wechat_assets(graph):
    for key in [("marts", "reminders"), ("intermediate", "int_reminder_lists")]:
        assert partitioned(graph, *key), key
    assert not partitioned(graph, "intermediate", "int_vehicle_facts")
    # the settlement runs before dbt reads it; the dispatch after the list it sends
    parents = graph.get(dg.AssetKey(["staging", "stg_wechat__template_send_results"])).parent_keys
    assert dg.AssetKey(["wechat", "template_send_results"]) in parents
    dispatch_parents = graph.get(dg.AssetKey(["wechat", "template_send_log"])).parent_keys
    assert dg.AssetKey(["marts", "reminders"]) in dispatch_parents
    assert (
        dg.AssetKey(["serving", "database"])
        in graph.get(dg.AssetKey(["exports", "dealer_files"])).parent_keys
    )
    # a backfill runs one month per run: the list for M is built on the list for M-1
    for key in [("marts", "reminders"), ("wechat", "template_send_log"), ("exports", "dealer_files")]:
        assert graph.get(dg.AssetKey(list(key))).backfill_policy == dg.BackfillPolicy.multi_run(1), key


def test_the_monthly_job_is_launched_as_a_month_partition():
    from pipelines.definitions import defs

    job = defs.resolve_job_def("monthly_run")
    assert job.partitions_def is not None
    assert job.partitions_def.has_partition_key("2026-11")


@pytest.mark.parametrize(
    ("configured", "tags", "month"),
    [
        (None, {"dagster/partition": "2026-11"}, "2026-11"),
        ("2026-03", {}, "2026-03"),
        ("2026-11", {"dagster/partition": "2026-11"}, "2026-11"),
    ],
)
def test_the_month_of_a_run(configured, tags, month):
    assert month_of_run(configured, tags) == month


@pytest.mark.parametrize(
    ("configured", "tags", "message"),
    [
        (None, {}, "which month does this run prepare"),
        (None, {"dagster/asset_partition_range_start": "2026-01"}, "covers a range of partitions"),
        ("2026-10", {"dagster/partition": "2026-11"}, "partition 2026-11 but run_month.month says 2026-10"),
        ("2026-13", {}, "'2026-13' is not a month"),
        (None, {"dagster/partition": "2026-11-01"}, "partition key '2026-11-01' is not a month"),
    ],
)
def test_a_run_without_a_clear_month_fails(configured, tags, message):
    with pytest.raises(MonthNotGiven, match=message):
        month_of_run(configured, tags)


def test_run_month_never_defaults_to_the_current_month():
    @dg.asset
    def probe(run_month: RunMonth) -> str:
        return run_month.month

    result = dg.materialize([probe], resources={"run_month": RunMonth()}, raise_on_error=False)
    assert not result.success
    failure = [e for e in result.all_events if e.event_type_value == "RESOURCE_INIT_FAILURE"][0]
    assert "which month does this run prepare" in failure.event_specific_data.error.message


def test_a_partitioned_run_gives_every_asset_the_partition_month():
    from assets.partitions import monthly_partitions

    @dg.asset(partitions_def=monthly_partitions)
    def month_grain(run_month: RunMonth) -> str:
        return f"{run_month.month} {run_month.as_of}"

    @dg.asset
    def state_of_the_world(run_month: RunMonth) -> str:
        return f"{run_month.month} {run_month.as_of}"

    job = dg.define_asset_job("probe_job", selection=dg.AssetSelection.all())
    defs = dg.Definitions(
        assets=[month_grain, state_of_the_world], jobs=[job], resources={"run_month": RunMonth()}
    )
    result = defs.resolve_job_def("probe_job").execute_in_process(partition_key="2024-03")
    assert result.output_for_node("month_grain") == "2024-03 2024-02-29"
    assert result.output_for_node("state_of_the_world") == "2024-03 2024-02-29"


def evaluate_schedule(day: dt.date):
    from pipelines.schedules import month_end_reminder_run

    when = dt.datetime.combine(day, dt.time(20, 0), SHANGHAI)
    context = dg.build_schedule_context(scheduled_execution_time=when)
    return month_end_reminder_run(context)


def test_the_schedule_launches_next_months_partition_on_the_last_day():
    request = evaluate_schedule(dt.date(2026, 11, 30))
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key == "2026-12"
    assert request.run_key == "monthly-2026-12"
    assert request.tags["aftercare/month"] == "2026-12"
    assert not request.run_config  # the month comes from the partition, nowhere else

    skipped = evaluate_schedule(dt.date(2026, 11, 29))
    assert isinstance(skipped, dg.SkipReason)


def test_aftercare_run_refuses_a_month_outside_the_partitions(tmp_path, monkeypatch):
    from pipelines.runner import run_month

    monkeypatch.setenv("AFTERCARE_PATHS_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    with pytest.raises(SystemExit, match="2023-12 is not a month partition: the runs cover 2024-01"):
        run_month("2023-12")
