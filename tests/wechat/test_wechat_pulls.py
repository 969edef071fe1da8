"""The four pulls of one run side by side (issue 16): they overlap, the behaviour pull starts from the
consultant list the contacts pull fetched in the same run, the activity pulls go on while the steps
between run, and a pull that fails stops neither the others nor their results. Real Dagster runs
against the simulator on loopback."""

from __future__ import annotations

import threading

import dagster as dg
import duckdb

import assets.wechat.wechat_assets as wechat_assets
from assets.wechat import prefetch
from assets.wechat.wechat_assets import (
    BEHAVIOR_DAILY,
    EXTERNAL_CONTACTS,
    OA_FOLLOWERS,
    wechat_pulls,
    wecom_activity,
)
from tests.wechat.conftest import asset_metadata, failure_message, materialize


def test_the_pulls_run_side_by_side(sim, platform_env, monkeypatch):
    """Each of three pulls waits at a barrier before it starts: one after the other, the first would
    wait alone until the barrier's timeout broke it, and the run would fail."""
    barrier = threading.Barrier(3, timeout=60)
    handed: list[list[str] | None] = []

    def at_the_barrier(real):
        def pull(*args, **kwargs):
            barrier.wait()
            return real(*args, **kwargs)

        return pull

    def behaviour(*args, userids=None, **kwargs):
        handed.append(userids)
        return real_behaviour(*args, userids=userids, **kwargs)

    real_behaviour = wechat_assets.sync_behavior
    for name in ("sync_followers", "sync_contacts", "sync_groupmsg_results"):
        monkeypatch.setattr(wechat_assets, name, at_the_barrier(getattr(wechat_assets, name)))
    monkeypatch.setattr(wechat_assets, "sync_behavior", behaviour)

    instance = dg.DagsterInstance.ephemeral()
    result = materialize([wechat_pulls, wecom_activity], platform_env, instance=instance)

    assert result.success, failure_message(result)
    consultants = sorted(sim.simulator.state.wecom.follow_users())
    # the contacts pull handed its fresh list over: the warehouse had no consultant before this run
    assert [sorted(h) for h in handed if h is not None] == [consultants]
    assert asset_metadata(result, "wechat", "wecom_behavior_daily")["consultants"] == len(consultants)
    keys = {
        e.event_specific_data.materialization.asset_key for e in result.get_asset_materialization_events()
    }
    assert keys == set(wechat_pulls.keys) | set(wecom_activity.keys)
    # each pull's time is in the log: the longest sets the step's
    logged = [
        entry.user_message
        for entry in instance.all_logs(result.run_id)
        if "finished in" in entry.user_message
    ]
    for what in ("WeChat follower sync", "WeCom customer sync", "WeCom behaviour", "WeCom group-message"):
        # (a line of a pull started ahead of its step may carry the time it was logged at)
        assert any(f"{what}: finished in " in m for m in logged), (what, logged)


def test_a_failing_pull_stops_neither_the_others_nor_their_results(sim, platform_env, monkeypatch):
    """A WeCom secret the API refuses fails the step (a person must fix it), after the Official
    Account's pull has finished and been recorded."""
    monkeypatch.setenv("AFTERCARE_WECOM_SECRET", "not-the-wecom-secret-0123456789")

    result = materialize([wechat_pulls, wecom_activity], platform_env)

    assert not result.success
    assert "wecom.secret was refused" in failure_message(result)
    metadata = asset_metadata(result, *OA_FOLLOWERS.path)
    assert metadata["feed_status"] == "available" and metadata["subscribed"] > 0
    with duckdb.connect(str(platform_env / "warehouse.duckdb"), read_only=True) as con:
        stored = con.execute("SELECT count(*) FROM wechat.oa_followers WHERE subscribe").fetchall()[0][0]
    assert stored == metadata["subscribed"]
    materialized = {
        e.event_specific_data.materialization.asset_key for e in result.get_asset_materialization_events()
    }
    assert materialized == {OA_FOLLOWERS}  # the WeCom assets are not claimed
    assert BEHAVIOR_DAILY not in materialized


def test_the_activity_pulls_go_on_while_the_steps_before_their_own_run(sim, platform_env, monkeypatch):
    """wechat_pulls starts the behaviour and group-message pulls; a step ready at the same time as
    wecom_activity (OneID in the month) runs first, while they pull; wecom_activity then only waits
    for them and reports them, with the lines they logged before it started."""
    behaviour_began = threading.Event()
    seen: dict[str, bool] = {}

    def behaviour(*args, **kwargs):
        behaviour_began.set()
        return real_behaviour(*args, **kwargs)

    real_behaviour = wechat_assets.sync_behavior
    monkeypatch.setattr(wechat_assets, "sync_behavior", behaviour)

    @dg.asset(deps=[OA_FOLLOWERS, EXTERNAL_CONTACTS])
    def oneid_stand_in() -> None:
        seen["behaviour pull began before this step ended"] = behaviour_began.wait(timeout=60)

    instance = dg.DagsterInstance.ephemeral()
    result = materialize([wechat_pulls, wecom_activity, oneid_stand_in], platform_env, instance=instance)

    assert result.success, failure_message(result)
    assert seen == {"behaviour pull began before this step ended": True}
    starts = [e.step_key for e in instance.all_logs(result.run_id, of_type=dg.DagsterEventType.STEP_START)]
    assert starts == ["wechat_pulls", "oneid_stand_in", "wecom_activity"]
    activity_lines = [
        entry.user_message for entry in instance.all_logs(result.run_id) if entry.step_key == "wecom_activity"
    ]
    assert any("WeCom behaviour: finished in " in line for line in activity_lines), activity_lines
    assert prefetch.take(result.run_id) is None  # taken once, by the run's own step


def test_a_run_without_the_contacts_pull_pulls_the_activity_in_its_own_step(sim, platform_env):
    """The nightly pull's run has no wechat_pulls step: nothing is started ahead, the step pulls."""
    instance = dg.DagsterInstance.ephemeral()
    result = materialize(
        [wechat_pulls, wecom_activity], platform_env, selection=[BEHAVIOR_DAILY], instance=instance
    )

    assert result.success, failure_message(result)
    starts = [e.step_key for e in instance.all_logs(result.run_id, of_type=dg.DagsterEventType.STEP_START)]
    assert starts == ["wecom_activity"]
    assert asset_metadata(result, *BEHAVIOR_DAILY.path)["feed_status"] == "available"


def test_a_relayed_log_holds_its_lines_until_a_step_attaches():
    class Log:
        def __init__(self):
            self.lines = []

        def info(self, message):
            self.lines.append(("info", message))

        def warning(self, message):
            self.lines.append(("warning", message))

    relay, step_log = prefetch.RelayLog(), Log()
    relay.info("first")
    relay.warning("second")
    assert step_log.lines == []
    relay.attach(step_log)
    relay.info("third")
    assert [level for level, _ in step_log.lines] == ["info", "warning", "info"]
    assert step_log.lines[0][1].startswith("[logged at ") and step_log.lines[0][1].endswith("] first")
    assert step_log.lines[1][1].endswith("] second") and step_log.lines[2][1] == "third"


def test_pulls_of_a_run_are_started_once_until_taken():
    began = threading.Event()
    log = prefetch.RelayLog()
    assert prefetch.start("run-a", {"one": lambda: [began.set()]}, log)
    assert not prefetch.start("run-a", {"two": lambda: []}, log)  # still started, not taken
    futures, relayed = prefetch.take("run-a")
    assert list(futures) == ["one"] and relayed is log and futures["one"].result() == [None]
    assert prefetch.take("run-a") is None
    assert prefetch.start("run-a", {"three": lambda: []}, log)  # taken: may start again
    assert list(prefetch.take("run-a")[0]) == ["three"]
