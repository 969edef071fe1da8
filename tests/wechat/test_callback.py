"""The callback receiver: URL verification, signature check, durable de-duplicated storage."""

from __future__ import annotations

import json

import duckdb
import httpx
import pytest

from assets.wechat.callback_ingest import ingest_callback_events
from sources.wechat.callback import MissingCallbackToken, signature
from sources.wechat.callback_server import build_app, start_callback_server

TOKEN = "test-callback-token-0123456789"

XML = (
    "<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[oSimA]]></FromUserName>"
    "<CreateTime>1793408400</CreateTime><MsgType><![CDATA[event]]></MsgType>"
    "<Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>3487542469355618313</MsgID>"
    "<Status><![CDATA[failed:user block]]></Status></xml>"
)


def signed(token: str = TOKEN, timestamp: str = "1793408400", nonce: str = "12345") -> dict:
    return {"signature": signature(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}


def stored(folder) -> list[dict]:
    return [
        json.loads(line) for path in sorted(folder.glob("*.jsonl")) for line in path.read_text().splitlines()
    ]


def test_url_verification_echoes_only_with_a_valid_signature(tmp_path):
    with start_callback_server(tmp_path / "callbacks", token=TOKEN) as receiver:
        ok = httpx.get(receiver.url, params={**signed(), "echostr": "4711abc"})
        assert ok.status_code == 200 and ok.text == "4711abc"
        bad = httpx.get(receiver.url, params={**signed(token="wrong"), "echostr": "4711abc"})
        assert bad.status_code == 403 and "4711abc" not in bad.text


def test_push_is_verified_stored_once_and_answered_success(tmp_path):
    folder = tmp_path / "callbacks"
    with start_callback_server(folder, token=TOKEN) as receiver:
        first = httpx.post(receiver.url, params={**signed(), "openid": "oSimA"}, content=XML.encode())
        retry = httpx.post(
            receiver.url, params={**signed(nonce="999"), "openid": "oSimA"}, content=XML.encode()
        )
        forged = httpx.post(
            receiver.url,
            params={**signed(token="guess"), "openid": "oSimA"},
            content=XML.replace("3487542469355618313", "1").encode(),
        )
        garbage = httpx.post(receiver.url, params=signed(), content=b"not xml")
    assert (first.status_code, first.text) == (200, "success")
    assert (retry.status_code, retry.text) == (200, "success")  # a retry is acknowledged ...
    assert forged.status_code == 403 and garbage.status_code == 400
    events = stored(folder)
    assert len(events) == 1  # ... but stored once
    assert events[0]["status"] == "failed:user block" and events[0]["msg_id"] == "3487542469355618313"
    # a restarted receiver still knows what it stored
    with start_callback_server(folder, token=TOKEN) as receiver:
        httpx.post(receiver.url, params=signed(), content=XML.encode())
    assert len(stored(folder)) == 1


def test_the_receiver_has_no_default_token(tmp_path, monkeypatch):
    monkeypatch.delenv("AFTERCARE_WECHAT_CALLBACK_TOKEN", raising=False)
    with pytest.raises(MissingCallbackToken, match="AFTERCARE_WECHAT_CALLBACK_TOKEN is not set"):
        build_app(tmp_path / "callbacks")
    monkeypatch.setenv("AFTERCARE_WECHAT_CALLBACK_TOKEN", "short")
    with pytest.raises(MissingCallbackToken, match="5 characters long; use at least 16") as short:
        build_app(tmp_path / "callbacks")
    assert "short" not in str(short.value).replace("5 characters long", "")


def test_simulator_pushes_are_signed_like_wechat_and_ingested_once(
    tmp_path, sim, control, oa_client, monkeypatch
):
    monkeypatch.setenv("AFTERCARE_WECHAT_CALLBACK_TOKEN", TOKEN)  # what the simulator signs with
    folder = tmp_path / "callbacks"
    with start_callback_server(folder, token=TOKEN) as receiver:
        control.post("callback", {"url": receiver.url})
        openid = next(o for o, f in sim.simulator.state.oa.followers.items() if f.subscribe)
        msgid = oa_client.send_template(
            openid, "TPL_SERVICE_REMINDER", {"thing1": {"value": "定期保养"}}, "task-1-2026-11"
        )
        control.post("followers/new", {"count": 2, "push": True})
        summary = control.post("events/flush")
    assert summary["delivered"] == 3 and summary["failed"] == 0
    events = stored(folder)
    assert [e["event"] for e in events] == ["TEMPLATESENDJOBFINISH", "subscribe", "subscribe"]
    assert events[0]["msg_id"] == str(msgid)

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert ingest_callback_events(con, folder)["new"] == 3
    assert ingest_callback_events(con, folder)["new"] == 0  # a rerun is a no-op
    assert (
        con.execute("SELECT count(*) FROM wechat.callback_events WHERE event = 'subscribe'").fetchall()[0][0]
        == 2
    )


def test_unanswered_pushes_are_retried_three_times(sim, control):
    control.post("callback", {"url": "http://127.0.0.1:9/nowhere"})
    control.post("followers/new", {"count": 1, "push": True})
    summary = control.post("events/flush")
    assert summary["failed"] == 1
    assert control.get("events")["pushes"][0]["attempts"] == 3


def test_safe_mode_pushes_are_decrypted_and_tampering_refused(tmp_path, sim, control, oa_client, monkeypatch):
    monkeypatch.setenv("AFTERCARE_WECHAT_CALLBACK_TOKEN", TOKEN)  # what the simulator signs with
    from sources.wechat_sim.synthetic import APPID

    key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # an EncodingAESKey: 43 characters
    folder = tmp_path / "callbacks"
    with start_callback_server(folder, token=TOKEN, aes_key=key, appid=APPID) as receiver:
        control.post("callback", {"url": receiver.url, "aes_key": key})
        control.post("followers/new", {"count": 1, "push": True})
        assert control.post("events/flush")["delivered"] == 1
        pushed = control.get("events")["pushes"][0]
        # the same encrypted body with a forged msg_signature is refused
        forged = httpx.post(
            receiver.url,
            params={**signed(), "encrypt_type": "aes", "msg_signature": "0" * 40},
            content=b"<xml><Encrypt><![CDATA[AAAA]]></Encrypt></xml>",
        )
    assert forged.status_code == 403
    events = stored(folder)
    assert len(events) == 1 and events[0]["event"] == "subscribe" and events[0]["openid"] == pushed["openid"]
    with start_callback_server(
        tmp_path / "other", token=TOKEN, aes_key=key, appid="wx_someone_else"
    ) as receiver:
        control.post("callback", {"url": receiver.url, "aes_key": key})
        control.post("followers/new", {"count": 1, "push": True})
        summary = control.post("events/flush")
    assert summary["failed"] == 1  # a message for another app is not accepted
