"""The WeChat and WeCom API resources: fed from the settings, the secret kept out of the resource's
config, a missing secret an optional feed's warning rather than a run that cannot start."""

from __future__ import annotations

import dagster as dg

from assets.resources import OfficialAccountApi, WecomApi, api_resources
from assets.wechat.wechat_assets import EXTERNAL_CONTACTS, FOLLOW_USERS, OA_FOLLOWERS, wechat_pulls
from sources.settings import load_settings
from tests.wechat.conftest import asset_metadata, materialize

OA_SECRET_VALUE = "oa-secret-value-0123456789"


def test_the_resources_carry_the_settings_and_only_the_name_of_the_secret(tmp_path):
    (tmp_path / "aftercare.toml").write_text(
        '[wechat]\nbase_url = "http://oa.example"\ntimeout_s = 3\n[wecom]\ncall_budget = 40\n'
    )
    env = {"AFTERCARE_WECHAT_SECRET": OA_SECRET_VALUE, "AFTERCARE_WECOM_CORPID": "ww-from-env"}
    resources = api_resources(load_settings(environ=env, cwd=tmp_path))

    oa, wecom = resources["wechat_api"], resources["wecom_api"]
    assert isinstance(oa, OfficialAccountApi) and isinstance(wecom, WecomApi)
    assert (oa.base_url, oa.timeout_s) == ("http://oa.example", 3.0)
    assert (wecom.corpid, wecom.call_budget) == ("ww-from-env", 40)
    # Dagster resolves the variable in the run; the config it shows in the UI holds the name only
    assert isinstance(oa.secret, dg.EnvVar) and oa.secret.env_var_name == "AFTERCARE_WECHAT_SECRET"
    assert OA_SECRET_VALUE not in repr(oa)
    assert wecom.secret is None  # no AFTERCARE_WECOM_SECRET: nothing to resolve, client() says so


def test_every_asset_asks_for_an_api_resource_by_one_key_and_type():
    """An API key is never bound to two types (``wechat_api`` is always the OA, ``wecom_api`` WeCom)."""
    from pipelines.definitions import defs

    types = {"wechat_api": OfficialAccountApi, "wecom_api": WecomApi}
    asked = {}
    for assets_def in defs.resolve_asset_graph().assets_defs:
        for key in assets_def.required_resource_keys & types.keys():
            asked.setdefault(key, set()).update(k.to_user_string() for k in assets_def.keys)
    pulls = {  # one step pulls the OA's and WeCom's feeds OneID reads side by side: it asks for both APIs
        "wechat/oa_followers",
        "wechat/wecom_follow_users",
        "wechat/wecom_external_contacts",
    }
    activity = {"wechat/wecom_behavior_daily", "wechat/wecom_groupmsg_results"}  # WeCom's, on its own
    assert asked["wechat_api"] == pulls | {"wechat/template_send_log"}
    assert asked["wecom_api"] == pulls | activity
    resources = defs.resources or {}
    assert {key: type(resources[key]) for key in types} == types


def test_without_a_secret_the_feeds_are_unavailable_not_failed(sim, platform_env, monkeypatch):
    monkeypatch.delenv("AFTERCARE_WECHAT_SECRET")
    monkeypatch.delenv("AFTERCARE_WECOM_SECRET")

    result = materialize(
        [wechat_pulls], platform_env, selection=[OA_FOLLOWERS, FOLLOW_USERS, EXTERNAL_CONTACTS]
    )

    assert result.success
    followers = asset_metadata(result, "wechat", "oa_followers")
    contacts = asset_metadata(result, "wechat", "wecom_external_contacts")
    assert (followers["feed_status"], contacts["feed_status"]) == ("unavailable", "unavailable")
    assert "AFTERCARE_WECHAT_SECRET" in str(followers) and "AFTERCARE_WECOM_SECRET" in str(contacts)
