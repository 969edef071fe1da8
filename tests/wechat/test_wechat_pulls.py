"""The four pulls of one run side by side (issue 16): they overlap, the behaviour pull starts from the
consultant list the contacts pull fetched in the same run, and a pull that fails stops neither the
others nor their results. Real Dagster runs against the simulator on loopback."""

from __future__ import annotations

import threading

import dagster as dg
import duckdb

import assets.wechat.wechat_assets as wechat_assets
from assets.wechat.wechat_assets import BEHAVIOR_DAILY, OA_FOLLOWERS, wechat_pulls
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
    result = materialize([wechat_pulls], platform_env, instance=instance)

    assert result.success, failure_message(result)
    consultants = sorted(sim.simulator.state.wecom.follow_users())
    # the contacts pull handed its fresh list over: the warehouse had no consultant before this run
    assert [sorted(h) for h in handed if h is not None] == [consultants]
    assert asset_metadata(result, "wechat", "wecom_behavior_daily")["consultants"] == len(consultants)
    keys = {
        e.event_specific_data.materialization.asset_key for e in result.get_asset_materialization_events()
    }
    assert keys == set(wechat_pulls.keys)
    # each pull's time is in the log: the longest sets the step's
    logged = [
        entry.user_message
        for entry in instance.all_logs(result.run_id)
        if "finished in" in entry.user_message
    ]
    for what in ("WeChat follower sync", "WeCom customer sync", "WeCom behaviour", "WeCom group-message"):
        assert any(m.startswith(f"{what}: finished in ") for m in logged), (what, logged)


def test_a_failing_pull_stops_neither_the_others_nor_their_results(sim, platform_env, monkeypatch):
    """A WeCom secret the API refuses fails the step (a person must fix it), after the Official
    Account's pull has finished and been recorded."""
    monkeypatch.setenv("AFTERCARE_WECOM_SECRET", "not-the-wecom-secret-0123456789")

    result = materialize([wechat_pulls], platform_env)

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
