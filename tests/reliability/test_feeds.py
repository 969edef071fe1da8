"""WeChat and WeCom feeds under faults, through real Dagster materializations against the simulator
(issue 14, deliverables 3 and 8): 5 % faults give the tables no faults give; a privilege or
allowlist errcode or an API that stays down makes the feed unavailable (a warning, earlier rows
kept); refused credentials still fail."""

from __future__ import annotations

from pathlib import Path

import duckdb
import httpx
import pytest

from assets.wechat.wechat_assets import (
    EXTERNAL_CONTACTS,
    FOLLOW_USERS,
    GROUPMSG_RESULTS,
    OA_FOLLOWERS,
    wechat_pulls,
    wecom_activity,
)
from sources.wechat_sim.server import start_simulator
from sources.wechat_sim.synthetic import APPID, CORPID, OA_SECRET, WECOM_SECRET, write_state
from tests.wechat.conftest import asset_metadata, failure_message, materialize

# every pulled table, with the columns that hold when the data was fetched left out
TABLES = {
    "oa_followers": "openid",
    "wecom_follow_users": "userid",
    "wecom_external_contacts": "external_userid, follow_userid",
    "wecom_behavior_daily": "userid, stat_date",
    "wecom_groupmsg_results": "msgid, userid, external_userid",
}


@pytest.fixture(scope="module")
def state(tmp_path_factory) -> Path:
    return write_state(tmp_path_factory.mktemp("feeds") / "wechat", followers=8000, members=12)


def point_at(monkeypatch, url: str, data: Path) -> Path:
    for key, value in {
        "AFTERCARE_PATHS_DATA": str(data),
        "AFTERCARE_WECHAT_BASE_URL": url,
        "AFTERCARE_WECHAT_APPID": APPID,
        "AFTERCARE_WECHAT_SECRET": OA_SECRET,
        "AFTERCARE_WECOM_BASE_URL": url,
        "AFTERCARE_WECOM_CORPID": CORPID,
        "AFTERCARE_WECOM_SECRET": WECOM_SECRET,
        "AFTERCARE_PII_KEY": "reliability-feeds-pii-key-0123456789",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AFTERCARE_CONFIG", raising=False)
    return data


def tables(data: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        return {
            table: con.execute(f"select * exclude (fetched_at) from wechat.{table} order by {key}").fetchall()
            for table, key in TABLES.items()
        }
    finally:
        con.close()


def inject(url: str, path: str, **fault) -> None:
    httpx.post(f"{url}/__sim/inject", json={"path": path, "count": 10_000, **fault}).raise_for_status()


def test_five_percent_faults_give_the_same_tables_as_none(state, tmp_path, monkeypatch):
    results = {}
    fired = 0
    for rate in (0.0, 0.05):
        with start_simulator(state, faults=rate, seed=14) as sim:
            data = point_at(monkeypatch, sim.url, tmp_path / f"faults_{rate}")
            outcome = materialize([wechat_pulls, wecom_activity], data)  # every feed
            assert outcome.success, failure_message(outcome)
            fired += sum(httpx.get(f"{sim.url}/__sim/state").json()["faults"]["fired"].values())
            calls = sum(httpx.get(f"{sim.url}/__sim/counters").json()["calls"].values())
        results[rate] = tables(data)
    assert calls > 100 and fired >= 4, (calls, fired)  # the faulty run met faults (busy, drops, 502, tokens)
    assert all(results[0.0][t] for t in ("oa_followers", "wecom_external_contacts", "wecom_behavior_daily"))
    assert results[0.05] == results[0.0]


@pytest.mark.parametrize(
    ("selection", "key", "path", "errcode"),
    [
        ([OA_FOLLOWERS], ("wechat", "oa_followers"), "/cgi-bin/user/get", 48001),
        ([OA_FOLLOWERS], ("wechat", "oa_followers"), "/cgi-bin/user/get", 40164),
        ([GROUPMSG_RESULTS], ("wechat", "wecom_groupmsg_results"),
         "/cgi-bin/externalcontact/get_groupmsg_list_v2", 60011),
        ([FOLLOW_USERS, EXTERNAL_CONTACTS], ("wechat", "wecom_external_contacts"),
         "/cgi-bin/externalcontact/batch/get_by_user", 48002),
    ],
)  # fmt: skip
def test_a_feed_the_account_may_not_read_is_unavailable_and_keeps_its_rows(
    state, tmp_path, monkeypatch, selection, key, path, errcode
):
    with start_simulator(state, seed=14) as sim:
        data = point_at(monkeypatch, sim.url, tmp_path / "data")
        assert materialize([wechat_pulls, wecom_activity], data, selection=selection).success
        before = tables(data)[key[1]]
        inject(sim.url, path, errcode=errcode)
        # the next month: the group-message list is asked only for time not listed before
        result = materialize([wechat_pulls, wecom_activity], data, month="2026-12", selection=selection)
    assert result.success
    metadata = asset_metadata(result, *key)
    assert (metadata["feed_status"], metadata["errcode"]) == ("unavailable", errcode)
    (warning,) = metadata["aftercare/warnings"]
    assert f"unavailable (errcode {errcode})" in warning and "the run went on without it" in warning
    assert tables(data)[key[1]] == before  # what earlier runs stored stays


def test_an_api_that_stays_down_is_unavailable_after_the_retries(state, tmp_path, monkeypatch):
    with start_simulator(state, seed=14) as sim:
        data = point_at(monkeypatch, sim.url, tmp_path / "data")
        inject(sim.url, "/cgi-bin/user/get", http_status=502)
        result = materialize([wechat_pulls, wecom_activity], data, selection=[OA_FOLLOWERS])
        calls = httpx.get(f"{sim.url}/__sim/counters").json()["calls"]["/cgi-bin/user/get"]
    assert result.success
    metadata = asset_metadata(result, "wechat", "oa_followers")
    assert (metadata["feed_status"], metadata["errcode"]) == ("unavailable", -502)
    assert "stayed down through the retries" in metadata["aftercare/warnings"][0]
    assert calls == 5  # the client's retries, then the warning


def test_a_secret_the_api_refuses_still_fails_the_run(state, tmp_path, monkeypatch):
    """A wrong secret is a configuration a person must fix: failing closed, not a quiet warning."""
    with start_simulator(state, seed=14) as sim:
        data = point_at(monkeypatch, sim.url, tmp_path / "data")
        monkeypatch.setenv("AFTERCARE_WECHAT_SECRET", "not-the-secret-0123456789")
        result = materialize([wechat_pulls, wecom_activity], data, selection=[OA_FOLLOWERS])
    assert not result.success
    message = failure_message(result)
    assert "wechat.secret was refused (40125)" in message and "not-the-secret" not in message
