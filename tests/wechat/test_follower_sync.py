"""Follower sync through real Dagster materializations against the simulator."""

from __future__ import annotations

import dagster as dg
import duckdb

from assets.wechat.followers import plan_refetch
from assets.wechat.wechat_assets import OA_FOLLOWERS, callback_events, wechat_pulls
from tests.wechat.conftest import asset_metadata, materialize

BATCHGET = "/cgi-bin/user/info/batchget"


def followers_table(data) -> dict[str, tuple]:
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT openid, subscribe, unionid FROM wechat.oa_followers").fetchall()
    return {o: (s, u) for o, s, u in rows}


def simulator_truth(sim) -> dict[str, tuple]:
    followers = sim.simulator.state.oa.followers
    return {o: (True, f.unionid) for o, f in followers.items() if f.subscribe}


def test_plan_refetch_is_new_gone_and_event_named():
    plan = plan_refetch({"a", "b", "c"}, {"b", "c", "d"}, {"c", "x", "a"})
    assert plan == {"new": {"a"}, "gone": {"d"}, "events": {"c", "x"}}


def test_daily_run_with_one_percent_changed_is_cheap(sim, control, platform_env):
    assert materialize([wechat_pulls], platform_env, selection=[OA_FOLLOWERS]).success
    full_calls = control.calls(BATCHGET)
    assert full_calls >= 25  # ~2,850 followers, 100 a call
    assert {o: v for o, v in followers_table(platform_env).items() if v[0]} == simulator_truth(sim)

    changed = control.post("followers/change", {"fraction": 0.01, "seed": 3})
    assert changed["unsubscribed"] and changed["resubscribed"] and changed["created"]
    control.post("counters/reset")
    assert materialize([wechat_pulls], platform_env, selection=[OA_FOLLOWERS]).success
    daily_calls = control.calls(BATCHGET)
    assert 0 < daily_calls <= 0.05 * full_calls, (daily_calls, full_calls)
    table = followers_table(platform_env)
    assert {o: v for o, v in table.items() if v[0]} == simulator_truth(sim)
    assert all(table[o][0] is False for o in changed["unsubscribed"])


def test_subscribe_events_are_refetched_even_when_the_list_looks_the_same(
    sim, control, platform_env, tmp_path
):
    from sources.wechat.callback_server import start_callback_server

    assert materialize([wechat_pulls], platform_env, selection=[OA_FOLLOWERS]).success
    openid = next(o for o, f in sim.simulator.state.oa.followers.items() if f.subscribe)
    with start_callback_server(platform_env / "state" / "callbacks") as receiver:
        control.post("callback", {"url": receiver.url})
        control.post("followers/unsubscribe", {"openids": [openid], "push": True})
        control.post("followers/subscribe", {"openids": [openid], "push": True})
        control.post("events/flush")
    control.post("counters/reset")
    result = materialize(
        [callback_events, wechat_pulls],
        platform_env,
        selection=dg.AssetSelection.assets(callback_events, OA_FOLLOWERS),
    )
    assert result.success
    metadata = asset_metadata(result, "wechat", "oa_followers")
    assert metadata["from_events"] == 1 and metadata["new"] == 0
    assert control.calls(BATCHGET) == 1


def test_quota_exhaustion_stops_with_a_clear_message_and_the_next_run_resumes(sim, control, platform_env):
    control.post("quota/limits", {"daily": {BATCHGET: 18}})  # of ~29 calls needed
    first = materialize([wechat_pulls], platform_env, selection=[OA_FOLLOWERS])
    assert first.success  # a feed cut short is a warning for the run, not a failed month
    metadata = asset_metadata(first, "wechat", "oa_followers")
    assert (metadata["feed_status"], metadata["errcode"]) == ("partial", 45009)
    (message,) = metadata["aftercare/warnings"]
    assert "daily quota of /cgi-bin/user/info/batchget is exhausted (45009)" in message
    assert "continues where this one stopped" in message
    partial = followers_table(platform_env)
    assert 0 < len(partial) < len(simulator_truth(sim))
    assert control.calls(BATCHGET) >= 18  # the quota was used up, then 45009

    control.post("quota/reset")  # the next day: counters back to zero, same limit
    control.post("counters/reset")
    second = materialize([wechat_pulls], platform_env, selection=[OA_FOLLOWERS])
    assert second.success
    metadata = asset_metadata(second, "wechat", "oa_followers")
    assert metadata["resumed"] is True
    assert control.calls("/cgi-bin/user/get") == 0  # the list was complete: not pulled again
    total_batches = -(-len(simulator_truth(sim)) // 100)
    assert control.calls(BATCHGET) <= total_batches - 18 + 1  # only what was left
    assert {o: v for o, v in followers_table(platform_env).items() if v[0]} == simulator_truth(sim)


def test_an_unreachable_api_marks_the_feed_unavailable_with_the_fix(platform_env, monkeypatch):
    monkeypatch.setenv("AFTERCARE_WECHAT_BASE_URL", "http://127.0.0.1:9")
    result = materialize([wechat_pulls], platform_env, selection=[OA_FOLLOWERS])
    assert result.success
    metadata = asset_metadata(result, "wechat", "oa_followers")
    assert metadata["feed_status"] == "unavailable"
    assert (
        "cannot reach WeChat API at http://127.0.0.1:9: start `aftercare simulate --data data` or set "
        "wechat.base_url" in metadata["aftercare/warnings"][0]
    )


def test_a_missing_secret_marks_the_feed_unavailable_saying_what_to_set(platform_env, monkeypatch):
    monkeypatch.delenv("AFTERCARE_WECHAT_SECRET")
    result = materialize([wechat_pulls], platform_env, selection=[OA_FOLLOWERS])
    assert result.success
    (warning,) = asset_metadata(result, "wechat", "oa_followers")["aftercare/warnings"]
    assert "not configured: wechat.secret is not set: export AFTERCARE_WECHAT_SECRET" in warning


def test_a_month_with_five_percent_changed_costs_under_five_percent_of_a_full_pull(
    tmp_path_factory, tmp_path, monkeypatch
):
    """Issue 16: every OA call counted (list pages and user info), 30,000 followers, 5 % changed."""
    from sources.wechat_sim.server import start_simulator
    from sources.wechat_sim.synthetic import APPID, OA_SECRET, write_state
    from tests.wechat.conftest import Control

    state = write_state(tmp_path_factory.mktemp("oa30k") / "wechat", followers=30_000, members=2)
    with start_simulator(state, seed=16) as big:
        data = tmp_path / "data"
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("AFTERCARE_CONFIG", raising=False)
        for key, value in {
            "AFTERCARE_PATHS_DATA": str(data),
            "AFTERCARE_WECHAT_BASE_URL": big.url,
            "AFTERCARE_WECHAT_APPID": APPID,
            "AFTERCARE_WECHAT_SECRET": OA_SECRET,
            "AFTERCARE_PII_KEY": "test-pii-key-0123456789abcdefghijklmnop",
        }.items():
            monkeypatch.setenv(key, value)
        control = Control(big.url)
        assert materialize([wechat_pulls], data, selection=[OA_FOLLOWERS]).success
        calls = control.get("counters")["calls"]
        full = calls["/cgi-bin/user/get"] + calls[BATCHGET]
        assert calls["/cgi-bin/user/get"] <= 4 and calls[BATCHGET] >= 250  # 10,000 a page; 100 a call

        changed = control.post("followers/change", {"fraction": 0.05, "seed": 16})
        control.post("counters/reset")
        result = materialize([wechat_pulls], data, selection=[OA_FOLLOWERS])
        calls = control.get("counters")["calls"]
        month = calls["/cgi-bin/user/get"] + calls.get(BATCHGET, 0)
        assert month <= 0.05 * full, (month, full)
        # the gone ones are unsubscribed without a call, the new and returning ones fetched
        metadata = asset_metadata(result, "wechat", "oa_followers")
        assert metadata["gone"] == len(changed["unsubscribed"])
        assert metadata["fetched"] == len(changed["created"]) + len(changed["resubscribed"])
        table = followers_table(data)
        assert {o: v for o, v in table.items() if v[0]} == simulator_truth(big)
        assert all(table[o][0] is False for o in changed["unsubscribed"])


def test_a_list_missing_many_followers_is_verified_by_user_info(sim, control, platform_env):
    assert materialize([wechat_pulls], platform_env, selection=[OA_FOLLOWERS]).success
    subscribed = sorted(o for o, f in sim.simulator.state.oa.followers.items() if f.subscribe)
    leaving = subscribed[: len(subscribed) // 5]  # 20 %: more than a list cut short should unsubscribe
    control.post("followers/unsubscribe", {"openids": leaving, "push": False})
    control.post("counters/reset")
    result = materialize([wechat_pulls], platform_env, selection=[OA_FOLLOWERS])
    assert asset_metadata(result, "wechat", "oa_followers")["gone"] == len(leaving)
    assert control.calls(BATCHGET) >= len(leaving) / 100  # each gone one asked for, not trusted
    table = followers_table(platform_env)
    assert all(table[o][0] is False for o in leaving)
