"""The simulator and every WeChat asset on a real generated sample OEM (small S)."""

from __future__ import annotations

import json

import duckdb
import polars as pl
import pytest

from assets.wechat import wechat_assets as wa
from sources.wechat_sim.server import start_simulator
from tests.wechat.conftest import materialize


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    from sources.sample_oem import generate

    out = tmp_path_factory.mktemp("oem")
    generate(out, vehicles=1500, seed=3)
    return out


@pytest.mark.slow
def test_all_wechat_assets_on_a_generated_state(generated, tmp_path, monkeypatch):
    oa = json.loads((generated / "wechat" / "oa_account.json").read_text())
    corp = json.loads((generated / "wechat" / "wecom_corp.json").read_text())
    with start_simulator(generated, seed=4) as sim:  # the output folder, not only wechat/, is accepted
        monkeypatch.chdir(tmp_path)
        for key, value in {
            "AFTERCARE_PATHS_DATA": str(tmp_path / "data"),
            "AFTERCARE_WECHAT_BASE_URL": sim.url,
            "AFTERCARE_WECHAT_APPID": oa["appid"],
            "AFTERCARE_WECHAT_SECRET": oa["secret"],
            "AFTERCARE_WECOM_BASE_URL": sim.url,
            "AFTERCARE_WECOM_CORPID": corp["corpid"],
            "AFTERCARE_WECOM_SECRET": corp["secret"],
            "AFTERCARE_PII_KEY": "generated-state-key-0123456789abcdefgh",
        }.items():
            monkeypatch.setenv(key, value)
        assets = [wa.callback_events, wa.wechat_pulls, wa.wecom_activity, wa.template_send_log]
        result = materialize(assets, tmp_path / "data", month="2026-11")
        assert result.success

    followers = pl.read_parquet(generated / "wechat" / "oa_followers.parquet")
    relations = pl.read_parquet(generated / "wechat" / "wecom_follow_relations.parquet")
    members = pl.read_parquet(generated / "wechat" / "wecom_members.parquet")
    enabled = set(members.filter(pl.col("enabled"))["userid"])
    with duckdb.connect(str(tmp_path / "data" / "warehouse.duckdb"), read_only=True) as con:
        subscribed = con.execute(
            "SELECT count(*), count(unionid) FROM wechat.oa_followers WHERE subscribe"
        ).fetchall()[0]
        truth = followers.filter(pl.col("subscribe") == 1)
        assert subscribed == (truth.height, truth["unionid"].drop_nulls().len())
        contacts = con.execute("SELECT count(*) FROM wechat.wecom_external_contacts").fetchall()[0][0]
        assert contacts == relations.filter(pl.col("userid").is_in(list(enabled))).height
        days = con.execute(
            "SELECT count(DISTINCT stat_date), max(stat_date) FROM wechat.wecom_behavior_daily"
        ).fetchall()[0]
        assert days[0] == 180 and str(days[1]) == "2026-10-31"
        assert con.execute("SELECT count(*) FROM wechat.wecom_groupmsg_results").fetchall()[0][0] > 0
