"""``aftercare callback``: the URL WeChat pushes events to.

* ``GET ?signature&timestamp&nonce&echostr``: URL verification, answers ``echostr``;
* ``POST`` with the same query and an XML body: signature checked, event appended durably
  (append + fsync) under ``paths.state/callbacks``, answer ``success`` (well within WeChat's 5 s).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import threading
import time
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from sources.clock import SHANGHAI
from sources.wechat.callback import (
    BadEvent,
    EventLog,
    MissingCallbackToken,
    callback_token,
    parse_event,
    signature_ok,
    to_event,
)
from sources.wechat.callback_crypto import DecryptError, decrypt, msg_signature_ok

AES_KEY_ENV = "AFTERCARE_WECHAT_CALLBACK_AES_KEY"


def build_app(
    events_dir: Path, token: str | None = None, aes_key: str | None = None, appid: str | None = None
) -> Starlette:
    """``aes_key`` (the EncodingAESKey) and ``appid`` enable safe mode; plaintext pushes stay accepted.

    ``token``: the signature token, else ``AFTERCARE_WECHAT_CALLBACK_TOKEN``; without either the
    receiver does not start (``MissingCallbackToken``).
    """
    log = EventLog(events_dir)
    secret = token or callback_token()
    aes_key = aes_key if aes_key is not None else os.environ.get(AES_KEY_ENV) or None

    async def endpoint(request: Request) -> PlainTextResponse:
        q = request.query_params
        if not signature_ok(secret, q.get("timestamp"), q.get("nonce"), q.get("signature")):
            return PlainTextResponse("invalid signature", status_code=403)
        if request.method == "GET":
            return PlainTextResponse(q.get("echostr", ""))
        body = await request.body()
        try:
            fields = parse_event(body)
            if q.get("encrypt_type") == "aes":
                if not aes_key or not appid:
                    return PlainTextResponse(
                        "safe mode is not configured: set " + AES_KEY_ENV, status_code=501
                    )
                encrypted = fields.get("Encrypt", "")
                if not msg_signature_ok(
                    secret, q["timestamp"], q["nonce"], encrypted, q.get("msg_signature")
                ):
                    return PlainTextResponse("invalid msg_signature", status_code=403)
                fields = parse_event(decrypt(aes_key, encrypted, appid))
        except (BadEvent, DecryptError) as exc:
            return PlainTextResponse(f"bad event: {exc}", status_code=400)
        log.append(to_event(fields, dt.datetime.now(SHANGHAI)))
        return PlainTextResponse("success")

    app = Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET", "POST"])])
    app.state.event_log = log
    return app


class CallbackHandle:
    def __init__(self, server: uvicorn.Server, thread: threading.Thread, host: str):
        self._server, self._thread, self.host = server, thread, host

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._server.servers[0].sockets[0].getsockname()[1]}/wechat/callback"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> CallbackHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_callback_server(
    events_dir: Path,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str | None = None,
    aes_key: str | None = None,
    appid: str | None = None,
):
    """Serve in a background thread (tests, demo)."""
    app = build_app(events_dir, token, aes_key, appid)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name="wechat-callback", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the callback receiver could not start on {host}:{port}")
        time.sleep(0.02)
    return CallbackHandle(server, thread, host)


def callback_command(args: argparse.Namespace) -> int:
    from sources.settings import ConfigError, load_settings

    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"aftercare callback: {exc}", file=sys.stderr)
        return 2
    assert settings.paths.state is not None
    events_dir = settings.paths.state / "callbacks"
    try:
        app = build_app(events_dir, appid=settings.wechat.appid)
    except MissingCallbackToken as exc:
        print(f"aftercare callback: {exc}", file=sys.stderr)
        return 2
    print(
        f"WeChat callback receiver on http://{args.host}:{args.port}/wechat/callback -> {events_dir}\n"
        f"  token from AFTERCARE_WECHAT_CALLBACK_TOKEN; Ctrl-C stops",
        flush=True,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0
