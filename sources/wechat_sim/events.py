"""Event pushes from "WeChat" to the platform's callback URL (reference/wechat-api.md 2.10).

Plaintext mode: XML body, ``signature = sha1(sorted([token, timestamp, nonce]))`` in the query.
WeChat waits 5 s for an answer and tries 3 times in total.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import os
import random
import struct
import time
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

import httpx
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

# Same variable and documented default as the receiver (docs/wechat.md); the simulator does not
# import the platform's code, it is configured like a real Official Account would be.
CALLBACK_TOKEN_ENV = "AFTERCARE_WECHAT_CALLBACK_TOKEN"
DEFAULT_CALLBACK_TOKEN = "aftercare-local-callback-token"
PUSH_TIMEOUT_S = 5.0
PUSH_ATTEMPTS = 3

log = logging.getLogger("wechat_sim.events")


AES_KEY_ENV = "AFTERCARE_WECHAT_CALLBACK_AES_KEY"


def encrypt(encoding_aes_key: str, message: bytes, appid: str, rng: random.Random) -> str:
    """Safe mode: base64(AES-256-CBC(random16 || len || msg || appid)), PKCS#7 to 32 bytes."""
    key = base64.b64decode(encoding_aes_key + "=")
    plain = rng.randbytes(16) + struct.pack(">I", len(message)) + message + appid.encode()
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def callback_token() -> str:
    return os.environ.get(CALLBACK_TOKEN_ENV) or DEFAULT_CALLBACK_TOKEN


def sign(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode("utf-8")).hexdigest()


def event_xml(fields: list[tuple[str, Any]]) -> str:
    """WeChat's XML: text in CDATA, numbers bare."""
    parts = ["<xml>"]
    for name, value in fields:
        if isinstance(value, int):
            parts.append(f"<{name}>{value}</{name}>")
        else:
            text = str(value).replace("]]>", "]]]]><![CDATA[>")
            parts.append(f"<{name}><![CDATA[{text}]]></{name}>")
    parts.append("</xml>")
    return "".join(parts)


def template_finish_event(to_user: str, openid: str, create_time: int, msgid: int, status: str) -> list:
    return [
        ("ToUserName", to_user),
        ("FromUserName", openid),
        ("CreateTime", create_time),
        ("MsgType", "event"),
        ("Event", "TEMPLATESENDJOBFINISH"),
        ("MsgID", msgid),
        ("Status", status),
    ]


def subscribe_event(to_user: str, openid: str, create_time: int, subscribed: bool, qr_scene_str: str) -> list:
    fields: list[tuple[str, Any]] = [
        ("ToUserName", to_user),
        ("FromUserName", openid),
        ("CreateTime", create_time),
        ("MsgType", "event"),
        ("Event", "subscribe" if subscribed else "unsubscribe"),
    ]
    if subscribed and qr_scene_str:
        fields.append(("EventKey", f"qrscene_{qr_scene_str}"))
        fields.append(("Ticket", "gQSim" + escape(qr_scene_str)))
    elif not subscribed:
        fields.append(("EventKey", ""))  # real unsubscribe pushes carry an empty EventKey
    return fields


@dataclass
class Push:
    xml: str
    openid: str
    attempts: int = 0
    delivered: bool = False
    last_error: str = ""


@dataclass
class EventPusher:
    """Queue of events; a task in the server's loop delivers them with WeChat's retry rule."""

    url: str | None
    rng: random.Random
    appid: str = ""
    aes_key: str | None = None  # EncodingAESKey: set for safe mode, None for plaintext mode
    pushes: list[Push] = field(default_factory=list)
    _queue: asyncio.Queue | None = None
    _worker: asyncio.Task | None = None

    def enqueue(self, fields: list, openid: str) -> Push:
        push = Push(event_xml(fields), openid)
        self.pushes.append(push)
        if self.url:
            self._ensure_worker()
            assert self._queue is not None
            self._queue.put_nowait(push)
        return push

    def _ensure_worker(self) -> None:
        if self._queue is None:
            self._queue = asyncio.Queue()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        assert self._queue is not None
        async with httpx.AsyncClient(timeout=PUSH_TIMEOUT_S) as client:
            while True:
                push = await self._queue.get()
                try:
                    await self._deliver(client, push)
                finally:
                    self._queue.task_done()

    async def _deliver(self, client: httpx.AsyncClient, push: Push) -> None:
        token = callback_token()
        while push.attempts < PUSH_ATTEMPTS and not push.delivered and self.url:
            push.attempts += 1
            timestamp = str(int(time.time()))
            nonce = str(self.rng.randrange(10**8, 10**9))
            params = {
                "signature": sign(token, timestamp, nonce),
                "timestamp": timestamp,
                "nonce": nonce,
                "openid": push.openid,
            }
            body = push.xml.encode("utf-8")
            if self.aes_key:
                encrypted = encrypt(self.aes_key, body, self.appid, self.rng)
                params["encrypt_type"] = "aes"
                params["msg_signature"] = hashlib.sha1(
                    "".join(sorted([token, timestamp, nonce, encrypted])).encode()
                ).hexdigest()
                body = event_xml([("ToUserName", "gh_" + self.appid[-12:]), ("Encrypt", encrypted)]).encode()
            try:
                response = await client.post(
                    self.url,
                    params=params,
                    content=body,
                    headers={"Content-Type": "text/xml"},
                )
                # any 200 answer ends the retries ("success" or an empty body)
                if response.status_code == 200:
                    push.delivered = True
                    return
                push.last_error = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                push.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("event push to %s failed (attempt %d): %s", self.url, push.attempts, push.last_error)

    async def flush(self, timeout: float = 30.0) -> None:
        if self._queue is not None:
            await asyncio.wait_for(self._queue.join(), timeout)

    def summary(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "total": len(self.pushes),
            "delivered": sum(p.delivered for p in self.pushes),
            "failed": sum((not p.delivered) and p.attempts >= PUSH_ATTEMPTS for p in self.pushes),
            "pending": sum((not p.delivered) and p.attempts < PUSH_ATTEMPTS for p in self.pushes),
        }
