"""The client against the simulator: faults, token invalidation, retry table, config errors."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from sources.wechat import (
    FAST_RETRIES,
    ApiError,
    ApiUnreachable,
    ConfigurationError,
    OfficialAccountClient,
    PaginationLoop,
    QuotaExhausted,
    RateLimited,
    TokenRejected,
    WecomClient,
)
from sources.wechat_sim.server import start_simulator
from sources.wechat_sim.synthetic import APPID, CORPID, OA_SECRET, WECOM_SECRET, write_state

ROOT = Path(__file__).resolve().parents[2]


def full_pull(client: OfficialAccountClient) -> dict[str, tuple]:
    openids = [o for page in client.iter_follower_pages() for o in page.openids]
    result = client.user_infos(openids)
    assert result.error is None
    return {o: (i["subscribe"], i.get("unionid")) for o, i in result.infos.items()}


@pytest.fixture(scope="module")
def bigger_state(tmp_path_factory) -> Path:
    return write_state(tmp_path_factory.mktemp("wechat_20k") / "wechat", followers=20_000, members=4)


def test_faulty_pull_with_token_invalidated_mid_run_equals_clean_pull(bigger_state):
    state_dir = bigger_state
    with (
        start_simulator(state_dir, seed=1) as clean_sim,
        OfficialAccountClient(clean_sim.url, APPID, OA_SECRET, retry=FAST_RETRIES) as client,
    ):
        clean = full_pull(client)

    with (
        start_simulator(state_dir, faults=0.05, seed=2) as sim,
        OfficialAccountClient(sim.url, APPID, OA_SECRET, retry=FAST_RETRIES, max_concurrency=4) as client,
    ):
        control = httpx.Client(base_url=sim.url)
        control.post("/__sim/config", json={"page_size": 500})  # more list pages, more chances to fail
        pages = client.iter_follower_pages()
        openids = list(next(pages).openids)
        control.post("/__sim/tokens/invalidate", json={"product": "oa"})  # mid-run, behind the client's back
        for page in pages:
            openids += page.openids
        result = client.user_infos(openids[: len(openids) // 2])
        control.post("/__sim/tokens/invalidate", json={"product": "oa"})
        rest = client.user_infos(openids[len(openids) // 2 :])
        assert result.error is None and rest.error is None
        faulty = {o: (i["subscribe"], i.get("unionid")) for o, i in {**result.infos, **rest.infos}.items()}
        fired = control.get("/__sim/state").json()["faults"]["fired"]
        errcodes = control.get("/__sim/counters").json()["errcodes"]

    assert faulty == clean
    assert len(clean) > 19_000
    assert sum(fired.values()) >= 5, fired  # the run really met faults
    assert any("40001" in codes for codes in errcodes.values()), errcodes  # ... and dead tokens
    assert client.tokens.fetches >= 3


def test_transient_answers_are_retried(oa_client, control):
    for fault in ({"errcode": -1}, {"http_status": 502}, {"drop": True}, {"errcode": 45011}):
        control.post("inject", {"path": "/cgi-bin/tags/get", "count": 2, **fault})
        assert isinstance(oa_client.tags(), list)
    assert control.get("counters")["errcodes"]["/cgi-bin/tags/get"]["-1"] == 2


def test_retries_are_bounded(oa_client, control):
    control.post("inject", {"path": "/cgi-bin/tags/get", "count": 3, "errcode": 45011})
    with pytest.raises(RateLimited):
        oa_client.tags()
    assert control.calls("/cgi-bin/tags/get") == 3  # at most 3 tries on the minute limit
    control.post("inject", {"path": "/cgi-bin/tags/get", "count": 5, "errcode": -1})
    with pytest.raises(ApiError) as busy:
        oa_client.tags()
    assert busy.value.errcode == -1 and control.calls("/cgi-bin/tags/get") == 8  # 5 tries


def test_token_refresh_is_once_and_bounded(oa_client, control):
    oa_client.tags()
    control.post("inject", {"path": "/cgi-bin/tags/get", "count": 1, "errcode": 40001})
    oa_client.tags()  # one refresh, one retry
    control.post("inject", {"path": "/cgi-bin/tags/get", "count": 2, "errcode": 42001})
    before = control.calls("/cgi-bin/stable_token")
    with pytest.raises(TokenRejected):
        oa_client.tags()
    assert control.calls("/cgi-bin/stable_token") - before == 1  # never a loop of token calls


def test_daily_quota_stops_cleanly(oa_client, control):
    control.post("quota/limits", {"daily": {"/cgi-bin/user/get": 0}})
    with pytest.raises(QuotaExhausted) as stop:
        list(oa_client.iter_follower_pages())
    assert "daily quota" in str(stop.value) and stop.value.errcode == 45009
    assert control.calls("/cgi-bin/user/get") == 1  # not retried


def test_configuration_errors_say_what_to_fix(sim):
    with (
        OfficialAccountClient(sim.url, "wx_wrong", OA_SECRET, retry=FAST_RETRIES) as client,
        pytest.raises(ConfigurationError, match="AFTERCARE_WECHAT_APPID"),
    ):
        client.tags()
    with (
        OfficialAccountClient(sim.url, APPID, "wrong", retry=FAST_RETRIES) as client,
        pytest.raises(ConfigurationError, match="AFTERCARE_WECHAT_SECRET"),
    ):
        client.tags()
    with (
        WecomClient(sim.url, CORPID, "wrong", retry=FAST_RETRIES) as client,
        pytest.raises(ConfigurationError, match="AFTERCARE_WECOM_SECRET"),
    ):
        client.follow_users()
    httpx.post(sim.url + "/__sim/config", json={"allowed_ips": ["10.1.1.1"]})
    with (
        OfficialAccountClient(sim.url, APPID, OA_SECRET, retry=FAST_RETRIES) as client,
        pytest.raises(ConfigurationError, match="allowlist"),
    ):
        client.tags()


def test_unreachable_api_names_the_fix():
    with (
        OfficialAccountClient("http://127.0.0.1:9", APPID, OA_SECRET, retry=FAST_RETRIES) as client,
        pytest.raises(
            ApiUnreachable, match=r"cannot reach WeChat API at http://127.0.0.1:9: start `aftercare simulate"
        ),
    ):
        client.tags()


def test_repeated_next_openid_is_a_loop_not_an_endless_pull():
    # a misbehaving server that cannot be produced by the simulator: always the same next_openid
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/cgi-bin/stable_token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 7200})
        return httpx.Response(
            200, json={"total": 2, "count": 1, "data": {"openid": ["oA"]}, "next_openid": "oA"}
        )

    with (
        OfficialAccountClient(
            "http://wechat.test", APPID, OA_SECRET, retry=FAST_RETRIES, transport=httpx.MockTransport(handler)
        ) as client,
        pytest.raises(PaginationLoop),
    ):
        list(client.iter_follower_pages())


def test_wecom_paths(wecom_client, control):
    users = wecom_client.follow_users()
    relations = list(wecom_client.iter_customers(users))
    per_user = {u: wecom_client.customer_ids(u) for u in users}
    assert sorted(
        (r["follow_info"]["userid"], r["external_contact"]["external_userid"]) for r in relations
    ) == sorted((u, e) for u, ids in per_user.items() for e in ids)
    assert [] in per_user.values()  # 84061 became an empty list
    some = relations[0]["external_contact"]["external_userid"]
    detail = wecom_client.customer(some)
    assert {f["userid"] for f in detail["follow_user"]} == {u for u, ids in per_user.items() if some in ids}
    assert wecom_client.customer("wmNobody") is None
    for code in (45033, 45009, -1):  # concurrency, frequency, busy: all retried
        control.post(
            "inject", {"path": "/cgi-bin/externalcontact/get_follow_user_list", "count": 1, "errcode": code}
        )
        assert wecom_client.follow_users() == users
    control.post(
        "inject", {"path": "/cgi-bin/externalcontact/get_follow_user_list", "count": 2, "errcode": 45009}
    )
    with pytest.raises(RateLimited):
        wecom_client.follow_users()


def test_customer_chunks_fetched_side_by_side_come_in_the_consultants_order(sim, control, monkeypatch):
    """Chunks of two consultants (instead of WeCom's 100) so the simulator's few consultants make
    several: four chunks in flight give exactly the relations, in exactly the order, one at a
    time gives; a chunk whose call fails fails the snapshot."""
    import sources.wechat.wecom as wecom

    monkeypatch.setattr(wecom, "MAX_USERIDS", 2)

    def snapshot(max_concurrency: int) -> list[tuple[str, str]]:
        with WecomClient(
            sim.url, CORPID, WECOM_SECRET, retry=FAST_RETRIES, max_concurrency=max_concurrency
        ) as c:
            users = c.follow_users()
            assert len(users) > 4  # several chunks
            return [
                (r["follow_info"]["userid"], r["external_contact"]["external_userid"])
                for r in c.iter_customers(users)
            ]

    one_at_a_time = snapshot(1)
    assert one_at_a_time and snapshot(4) == one_at_a_time
    control.post(
        "inject", {"path": "/cgi-bin/externalcontact/batch/get_by_user", "count": 1, "errcode": 60011}
    )
    with pytest.raises(ApiError, match="60011"):
        snapshot(4)


def test_client_never_imports_the_simulator():
    for path in (ROOT / "sources" / "wechat").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.startswith("sources.wechat_sim") for n in names), f"{path} imports the simulator"
    code = (
        "import sys, sources.wechat, sources.wechat.callback_server;"
        "bad=[m for m in sys.modules if m.startswith('sources.wechat_sim')]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_customer_with_more_than_500_consultants_is_paged(sim, wecom_client, control):
    from sources.wechat_sim.state import Relation

    corp = sim.simulator.state.wecom
    external_userid = next(iter(corp.contacts))
    corp.relations_by_contact[external_userid] = [
        Relation(f"sc_{i:04d}", external_userid, "", "", 1_700_000_000 + i, 1, "", [], [])
        for i in range(1234)
    ]
    detail = wecom_client.customer(external_userid)
    assert len(detail["follow_user"]) == 1234
    assert len({f["userid"] for f in detail["follow_user"]}) == 1234
    assert control.calls("/cgi-bin/externalcontact/get") == 3  # 500 + 500 + 234
