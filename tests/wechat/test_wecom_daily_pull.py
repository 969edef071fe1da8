"""The daily WeCom pull (pipelines/jobs.py `wecom_daily_pull`, docs/wechat.md "Daily WeCom pull"):
the nightly schedule's run reaches yesterday, and the month-end run then asks only the days left.
The real job and its run config, against the real simulator."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb
import pytest

from assets.resources import AftercareSettings, MonthNotGiven, RunMonth, WarehouseResource, api_resources
from assets.wechat.wechat_assets import (
    BEHAVIOR_DAILY,
    EXTERNAL_CONTACTS,
    FOLLOW_USERS,
    wechat_pulls,
    wecom_activity,
)
from pipelines.jobs import wecom_daily_pull, wecom_pull_run_config
from pipelines.schedules import month_taking, wecom_daily_pull_schedule
from sources.settings import load_settings
from tests.wechat.conftest import materialize
from tests.wechat.test_wecom_budget import BEHAVIOR

GET_BY_USER = "/cgi-bin/externalcontact/batch/get_by_user"

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def test_a_daily_pull_reaches_a_day_of_the_month_before_and_no_other():
    assert RunMonth(month="2026-11").pull_cut_off == dt.date(2026, 10, 31)  # the month-end run
    assert RunMonth(month="2026-11", pulls_through="2026-10-14").pull_cut_off == dt.date(2026, 10, 14)
    assert RunMonth(month="2026-11", pulls_through="2026-10-01").pull_cut_off == dt.date(2026, 10, 1)
    for outside in ("2026-11-01", "2026-09-30"):
        with pytest.raises(MonthNotGiven, match=f"pulls_through {outside} is outside 2026-10"):
            _ = RunMonth(month="2026-11", pulls_through=outside).pull_cut_off
    with pytest.raises(MonthNotGiven, match="not a YYYY-MM-DD date"):
        _ = RunMonth(month="2026-11", pulls_through="14 Oct").pull_cut_off


@pytest.mark.parametrize(
    ("night", "month", "through"),
    [
        (dt.date(2026, 11, 15), "2026-12", "2026-11-14"),
        (dt.date(2026, 12, 1), "2026-12", "2026-11-30"),  # the last day again, once it is over
        (dt.date(2027, 1, 1), "2027-01", "2026-12-31"),
        (dt.date(2028, 3, 1), "2028-03", "2028-02-29"),
    ],
)
def test_the_nightly_schedule_pulls_yesterday_for_the_month_that_takes_it(night, month, through):
    when = dt.datetime.combine(night, dt.time(3, 0), SHANGHAI)
    request = wecom_daily_pull_schedule(dg.build_schedule_context(scheduled_execution_time=when))
    assert request.run_key == f"wecom-{through}"
    assert request.run_config == wecom_pull_run_config(month, through)
    assert month_taking(dt.date.fromisoformat(through)) == month


def test_after_the_daily_pulls_the_month_end_run_asks_one_day_per_consultant(sim, control, platform_env):
    consultants = sim.simulator.state.wecom.follow_users()
    assert materialize([wechat_pulls], platform_env, selection=[FOLLOW_USERS, EXTERNAL_CONTACTS]).success
    job = _daily_pull_job(platform_env)
    # the nights of October up to the 30th: the run of 2026-11 takes October
    for day in ("2026-10-29", "2026-10-30"):
        result = job.execute_in_process(run_config=wecom_pull_run_config("2026-11", day))
        assert result.success
        materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
        assert materialized == {
            "wechat/wecom_behavior_daily",
            "wechat/wecom_groupmsg_results",
            "wechat/wecom_follow_users",
            "wechat/wecom_external_contacts",
        }
    with duckdb.connect(str(platform_env / "warehouse.duckdb"), read_only=True) as con:
        newest = con.execute("select max(stat_date) from wechat.wecom_behavior_daily").fetchall()[0][0]
    assert newest == dt.date(2026, 10, 30)  # never past the night's day

    control.post("counters/reset")
    assert materialize(
        [wechat_pulls, wecom_activity], platform_env, month="2026-11", selection=[BEHAVIOR_DAILY]
    ).success
    assert control.calls(BEHAVIOR) == len(consultants)  # October 31st, one call each


def _daily_pull_job(platform_env):
    platform_env.mkdir(parents=True, exist_ok=True)
    defs = dg.Definitions(
        assets=[wechat_pulls, wecom_activity],
        jobs=[wecom_daily_pull],
        resources={
            "settings": AftercareSettings(),
            "warehouse": WarehouseResource(database=str(platform_env / "warehouse.duckdb")),
            "run_month": RunMonth(),
            **api_resources(load_settings()),
        },
    )
    return defs.resolve_job_def("wecom_daily_pull")


def _contacts(platform_env) -> list[tuple]:
    with duckdb.connect(str(platform_env / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(
            "select external_userid, follow_userid, unionid, remark_mobile_hmacs "
            "from wechat.wecom_external_contacts order by all"
        ).fetchall()


def _reused(result) -> dict[str, bool]:
    return {
        event.asset_key.to_user_string(): event.materialization.metadata["snapshot_reused"].value
        for event in result.get_asset_materialization_events()
        if event.asset_key in (FOLLOW_USERS, EXTERNAL_CONTACTS)
    }


def test_the_month_end_run_reuses_the_last_nights_contacts_snapshot(sim, control, platform_env):
    job = _daily_pull_job(platform_env)
    assert job.execute_in_process(run_config=wecom_pull_run_config("2026-11", "2026-10-30")).success
    night = _contacts(platform_env)
    assert night  # the night took the snapshot
    control.post("counters/reset")
    month_end = materialize([wechat_pulls], platform_env, selection=[FOLLOW_USERS, EXTERNAL_CONTACTS])
    assert month_end.success
    assert control.calls(GET_BY_USER) == 0  # the cut-off is 2026-10-31: one day after the night
    assert _reused(month_end) == {"wechat/wecom_follow_users": True, "wechat/wecom_external_contacts": True}
    assert _contacts(platform_env) == night
    # a rerun of the month reuses it too: the snapshot on record is still the night's
    assert materialize([wechat_pulls], platform_env, selection=[EXTERNAL_CONTACTS]).success
    assert control.calls(GET_BY_USER) == 0


def test_an_older_night_or_a_zero_age_makes_the_month_end_run_take_its_own(
    sim, control, platform_env, monkeypatch
):
    job = _daily_pull_job(platform_env)
    assert job.execute_in_process(run_config=wecom_pull_run_config("2026-11", "2026-10-29")).success
    control.post("counters/reset")
    # two days before the cut-off of 2026-10-31, older than the default one day
    month_end = materialize([wechat_pulls], platform_env, selection=[FOLLOW_USERS, EXTERNAL_CONTACTS])
    assert month_end.success
    assert control.calls(GET_BY_USER) > 0
    assert _reused(month_end) == {"wechat/wecom_follow_users": False, "wechat/wecom_external_contacts": False}
    # the month-end run's own snapshot is not reused by a rerun: it asks WeCom again
    control.post("counters/reset")
    assert materialize([wechat_pulls], platform_env, selection=[EXTERNAL_CONTACTS]).success
    assert control.calls(GET_BY_USER) > 0

    monkeypatch.setenv("AFTERCARE_WECOM_CONTACTS_MAX_AGE_DAYS", "0")
    assert job.execute_in_process(run_config=wecom_pull_run_config("2026-11", "2026-10-30")).success
    control.post("counters/reset")
    assert materialize([wechat_pulls], platform_env, selection=[EXTERNAL_CONTACTS]).success
    assert control.calls(GET_BY_USER) > 0
