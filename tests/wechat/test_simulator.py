"""The simulator behaves like the documented API (reference/wechat-api.md §4.3), over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from sources.wechat_sim.server import start_simulator
from sources.wechat_sim.synthetic import APPID, CORPID, OA_SECRET, WECOM_SECRET


def stable(http, force=False):
    return http.post(
        "/cgi-bin/stable_token",
        json={"grant_type": "client_credential", "appid": APPID, "secret": OA_SECRET, "force_refresh": force},
    ).json()


def classic(http):
    return http.get(
        "/cgi-bin/token", params={"grant_type": "client_credential", "appid": APPID, "secret": OA_SECRET}
    ).json()


@pytest.fixture
def http(sim):
    with httpx.Client(base_url=sim.url, timeout=10) as client:
        yield client


def test_classic_token_supersedes_previous_after_five_minutes(http, control):
    first = classic(http)["access_token"]
    second = classic(http)["access_token"]
    assert first != second
    assert "errcode" not in http.get("/cgi-bin/tags/get", params={"access_token": first}).json()
    control.post("clock/advance", seconds=301)
    assert http.get("/cgi-bin/tags/get", params={"access_token": first}).json()["errcode"] == 40001
    assert "tags" in http.get("/cgi-bin/tags/get", params={"access_token": second}).json()


def test_stable_token_is_stable_rotates_and_expires(http, control):
    a, b = stable(http), stable(http)
    assert a["access_token"] == b["access_token"] and a["expires_in"] >= 300
    control.post("clock/advance", seconds=7200 - 200)  # inside the last 5 minutes: rotation
    c = stable(http)
    assert c["access_token"] != a["access_token"]
    assert "tags" in http.get("/cgi-bin/tags/get", params={"access_token": a["access_token"]}).json()
    control.post("clock/advance", seconds=400)
    assert http.get("/cgi-bin/tags/get", params={"access_token": a["access_token"]}).json()["errcode"] in (
        40001,
        42001,
    )
    assert http.get("/cgi-bin/tags/get", params={}).json()["errcode"] == 41001
    control.post("clock/advance", seconds=7200)
    assert (
        http.get("/cgi-bin/tags/get", params={"access_token": c["access_token"]}).json()["errcode"] == 42001
    )


def test_bad_credentials_and_allowlist(http, control):
    bad_appid = http.post(
        "/cgi-bin/stable_token",
        json={"grant_type": "client_credential", "appid": "wxnope", "secret": OA_SECRET},
    )
    assert bad_appid.json()["errcode"] == 40013 and " rid: " in bad_appid.json()["errmsg"]
    bad_secret = http.post(
        "/cgi-bin/stable_token", json={"grant_type": "client_credential", "appid": APPID, "secret": "x"}
    )
    assert bad_secret.json()["errcode"] == 40125
    control.post("config", {"allowed_ips": ["10.0.0.1"]})
    assert stable(http)["errcode"] == 40164
    wecom = http.get("/cgi-bin/gettoken", params={"corpid": CORPID, "corpsecret": "nope"}).json()
    assert wecom["errcode"] == 40001 and "hint: [" in wecom["errmsg"]


def test_user_get_end_of_list_quirks(http, control, state_dir):
    control.post("config", {"page_size": 1000})
    token = stable(http)["access_token"]
    seen, next_openid, pages = [], "", 0
    while True:
        page = http.get(
            "/cgi-bin/user/get", params={"access_token": token, "next_openid": next_openid}
        ).json()
        if page["count"] == 0:
            assert "data" not in page and page["next_openid"] == ""  # the observed end
            break
        assert page["next_openid"] == page["data"]["openid"][-1]
        seen += page["data"]["openid"]
        next_openid = page["next_openid"]
        pages += 1
    assert len(seen) == len(set(seen)) == page["total"] and pages == 3
    control.post("config", {"end_mode": "empty_last"})
    last = http.get("/cgi-bin/user/get", params={"access_token": token, "next_openid": seen[-1001]}).json()
    assert last["count"] == 1000 and last["next_openid"] == ""


def test_user_info_shapes_and_errors(http):
    token = stable(http)["access_token"]
    openids = http.get("/cgi-bin/user/get", params={"access_token": token}).json()["data"]["openid"]
    info = http.get("/cgi-bin/user/info", params={"access_token": token, "openid": openids[0]}).json()
    assert info["subscribe"] == 1 and "nickname" not in info and "language" not in info
    assert (
        http.get("/cgi-bin/user/info", params={"access_token": token, "openid": "oNobody"}).json()["errcode"]
        == 40003
    )
    body = {"user_list": [{"openid": o} for o in openids[:101]]}
    assert (
        http.post("/cgi-bin/user/info/batchget", params={"access_token": token}, json=body).json()["errcode"]
        == 40032
    )
    body = {"user_list": [{"openid": openids[1]}, {"openid": "oNobody"}]}
    answer = http.post("/cgi-bin/user/info/batchget", params={"access_token": token}, json=body).json()
    assert answer["user_info_list"][1] == {"subscribe": 0, "openid": "oNobody"}


def test_daily_and_minute_quotas(http, control):
    token = stable(http)["access_token"]
    control.post("quota/limits", {"daily": {"/cgi-bin/user/get": 2}, "minute": {"/cgi-bin/tags/get": 2}})
    codes = [
        http.get("/cgi-bin/user/get", params={"access_token": token}).json().get("errcode", 0)
        for _ in range(3)
    ]
    assert codes == [0, 0, 45009]
    quota = http.post(
        "/cgi-bin/openapi/quota/get", params={"access_token": token}, json={"cgi_path": "/cgi-bin/user/get"}
    ).json()
    assert quota["quota"] == {"daily_limit": 2, "used": 2, "remain": 0}
    unknown = http.post(
        "/cgi-bin/openapi/quota/get", params={"access_token": token}, json={"cgi_path": "/nope"}
    ).json()
    assert unknown["errcode"] == 76021
    codes = [
        http.get("/cgi-bin/tags/get", params={"access_token": token}).json().get("errcode", 0)
        for _ in range(3)
    ]
    assert codes == [0, 0, 45011]
    control.post("clock/advance", seconds=61)
    assert http.get("/cgi-bin/tags/get", params={"access_token": token}).json().get("errcode", 0) == 0
    clears = [
        http.post("/cgi-bin/clear_quota", params={"access_token": token}, json={"appid": APPID}).json()[
            "errcode"
        ]
        for _ in range(11)
    ]
    assert clears == [0] * 10 + [48006]
    assert http.get("/cgi-bin/user/get", params={"access_token": token}).json().get("errcode", 0) == 0


def test_template_send_dedup_and_errors(http, control):
    token = stable(http)["access_token"]
    openids = http.get("/cgi-bin/user/get", params={"access_token": token}).json()["data"]["openid"]
    body = {"touser": openids[0], "template_id": "TPL_SERVICE_REMINDER", "client_msg_id": "t-1", "data": {}}
    first = http.post("/cgi-bin/message/template/send", params={"access_token": token}, json=body).json()
    again = http.post("/cgi-bin/message/template/send", params={"access_token": token}, json=body).json()
    assert first["errcode"] == 0 and again["msgid"] == first["msgid"]
    assert len(control.get("templates")["sent"]) == 1
    bad_template = http.post(
        "/cgi-bin/message/template/send", params={"access_token": token}, json={**body, "template_id": "nope"}
    ).json()
    assert bad_template["errcode"] == 40037
    gone = control.post("followers/unsubscribe", {"openids": [openids[1]], "push": False})["changed"]
    not_follower = http.post(
        "/cgi-bin/message/template/send", params={"access_token": token}, json={**body, "touser": gone[0]}
    ).json()
    assert not_follower["errcode"] == 43004


def test_wecom_customers_pagination_and_errors(http, control):
    token = http.get("/cgi-bin/gettoken", params={"corpid": CORPID, "corpsecret": WECOM_SECRET}).json()[
        "access_token"
    ]
    again = http.get("/cgi-bin/gettoken", params={"corpid": CORPID, "corpsecret": WECOM_SECRET}).json()
    assert again["access_token"] == token and again["errcode"] == 0
    users = http.get("/cgi-bin/externalcontact/get_follow_user_list", params={"access_token": token}).json()[
        "follow_user"
    ]
    url = "/cgi-bin/externalcontact/batch/get_by_user"
    assert (
        http.post(url, params={"access_token": token}, json={"userid_list": ["u"] * 101}).json()["errcode"]
        == 40058
    )
    assert (
        http.post(url, params={"access_token": token}, json={"userid_list": ["ghost"]}).json()["errcode"]
        == 60011
    )
    relations, cursor, pages = [], "", 0
    while True:
        page = http.post(
            url, params={"access_token": token}, json={"userid_list": users, "cursor": cursor, "limit": 500}
        ).json()
        assert len(page["external_contact_list"]) <= 100  # limit above the max is clamped
        relations += page["external_contact_list"]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    pairs = {(r["follow_info"]["userid"], r["external_contact"]["external_userid"]) for r in relations}
    assert len(pairs) == len(relations) and pages >= 2
    empty = [
        u
        for u in users
        if http.get("/cgi-bin/externalcontact/list", params={"access_token": token, "userid": u}).json()[
            "errcode"
        ]
        == 84061
    ]
    assert empty, "the state has a consultant without customers"
    ranged = http.post(
        "/cgi-bin/externalcontact/get_groupmsg_list_v2",
        params={"access_token": token},
        json={"start_time": 0, "end_time": 40 * 86400},
    ).json()
    assert ranged["errcode"] == 40058
    control.post("tokens/invalidate", {"product": "wecom"})
    assert (
        http.get("/cgi-bin/externalcontact/get_follow_user_list", params={"access_token": token}).json()[
            "errcode"
        ]
        == 40014
    )


def test_faults_are_deterministic_for_a_seed(state_dir):
    def run() -> list[int]:
        with (
            start_simulator(state_dir, faults=0.3, seed=5) as handle,
            httpx.Client(base_url=handle.url) as http,
        ):
            token = stable(http).get("access_token")
            codes = []
            for _ in range(40):
                try:
                    response = http.get("/cgi-bin/tags/get", params={"access_token": token})
                    codes.append(
                        response.json().get("errcode", 0)
                        if response.status_code == 200
                        else -response.status_code
                    )
                except httpx.TransportError:
                    codes.append(-999)
            return codes

    first, second = run(), run()
    assert first == second
    assert {-1, -502, -999} & set(first), first


def test_wecom_concurrency_limit(sim, control):
    import concurrent.futures

    with httpx.Client(base_url=sim.url, timeout=10) as http:
        token = http.get("/cgi-bin/gettoken", params={"corpid": CORPID, "corpsecret": WECOM_SECRET}).json()[
            "access_token"
        ]
    path = "/cgi-bin/externalcontact/get_follow_user_list"
    control.post("inject", {"path": path, "count": 8, "delay": 0.5})  # slow answers pile up

    def call(_):
        with httpx.Client(base_url=sim.url, timeout=10) as http:
            return http.get(path, params={"access_token": token}).json()["errcode"]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(call, range(8)))
    assert codes.count(0) >= 5 and 45033 in codes, codes
