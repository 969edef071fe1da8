"""WeChat event pushes: signature check, XML parsing, and a durable de-duplicating event log.

Signature (reference/wechat-api.md 2.10): ``sha1("".join(sorted([token, timestamp, nonce])))``.
WeChat retries a push 3 times when no answer comes within 5 s, so the same event can arrive more
than once: it is stored once, keyed by ``MsgID`` when the event has one, else by
``FromUserName + CreateTime`` (+ the event name), as the documentation recommends.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CALLBACK_TOKEN_ENV = "AFTERCARE_WECHAT_CALLBACK_TOKEN"
# the Token set in the MP console (3 to 32 characters there): anyone who knows it can forge events,
# so there is no default and a short one is refused
MIN_TOKEN_CHARS = 16
MAX_BODY = 64 * 1024


class MissingCallbackToken(ValueError):
    """The receiver has no usable token; the message says what to set (never the value)."""


def callback_token(environ: dict[str, str] | None = None) -> str:
    """``AFTERCARE_WECHAT_CALLBACK_TOKEN``, at least ``MIN_TOKEN_CHARS`` long; there is no fallback."""
    env = os.environ if environ is None else environ
    token = env.get(CALLBACK_TOKEN_ENV) or ""
    if not token:
        raise MissingCallbackToken(
            f"{CALLBACK_TOKEN_ENV} is not set: export the Token configured in the MP console "
            "(设置与开发 > 基本配置 > 服务器配置)"
        )
    if len(token) < MIN_TOKEN_CHARS:
        raise MissingCallbackToken(
            f"{CALLBACK_TOKEN_ENV} is {len(token)} characters long; use at least {MIN_TOKEN_CHARS}"
        )
    return token


def signature(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode("utf-8")).hexdigest()


def signature_ok(token: str, timestamp: str | None, nonce: str | None, given: str | None) -> bool:
    if not (timestamp and nonce and given):
        return False
    return hmac.compare_digest(signature(token, timestamp, nonce), given.lower())


class BadEvent(ValueError):
    """The body is not a WeChat event XML."""


def parse_event(body: bytes) -> dict[str, str]:
    """Flat XML -> dict of tag -> text (WeChat events are one level deep)."""
    if len(body) > MAX_BODY:
        raise BadEvent("body too large")
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise BadEvent("DTDs are not accepted")  # no entity tricks in what we parse
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise BadEvent(f"not XML: {exc}") from exc
    if root.tag != "xml":
        raise BadEvent(f"root element is <{root.tag}>, expected <xml>")
    return {child.tag: (child.text or "") for child in root}


@dataclass(frozen=True)
class CallbackEvent:
    event_id: str
    event: str
    openid: str
    msg_id: str | None
    status: str | None
    event_time: int | None
    received_at: str
    raw: dict[str, str]

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False, separators=(",", ":"))


def to_event(fields: dict[str, str], received_at: dt.datetime) -> CallbackEvent:
    msg_type = fields.get("MsgType", "")
    event = fields.get("Event") or msg_type or "unknown"
    openid = fields.get("FromUserName", "")
    msg_id = fields.get("MsgID") or fields.get("MsgId") or None
    create_time = fields.get("CreateTime", "")
    event_id = f"msg:{msg_id}:{event}" if msg_id else f"{openid}:{create_time}:{event}"
    try:
        event_time = int(create_time) if create_time else None
    except ValueError:
        event_time = None
    return CallbackEvent(
        event_id=event_id,
        event=event,
        openid=openid,
        msg_id=msg_id,
        status=fields.get("Status") or None,
        event_time=event_time,
        received_at=received_at.isoformat(),
        raw=fields,
    )


class EventLog:
    """Append-only JSON lines under ``folder``, one file per day, fsync'd before answering."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        for path in sorted(self.folder.glob("*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    self._seen.add(json.loads(line)["event_id"])
                except (ValueError, KeyError):
                    continue  # a torn last line from a crash: ignored, the event will be re-pushed

    def append(self, event: CallbackEvent) -> bool:
        """Store the event unless already stored; True when it was new."""
        with self._lock:
            if event.event_id in self._seen:
                return False
            path = self.folder / f"events-{event.received_at[:10]}.jsonl"
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(event.to_json() + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            self._seen.add(event.event_id)
            return True


def read_events(folder: Path) -> list[dict[str, Any]]:
    """Every stored event (used by the ingest asset); torn lines are skipped."""
    events = []
    for path in sorted(Path(folder).glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                events.append(json.loads(line))
            except ValueError:
                continue
    return events
