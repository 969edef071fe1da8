"""The dashboard's web server: Streamlit's ``st.App`` plus the few HTTP routes Streamlit lacks.

``streamlit run dashboards/server.py`` finds ``app`` and serves ``app.py`` through it. The routes:

* ``POST /auth/session``: trade a one-time sign-in ticket for the session cookie (``HttpOnly``,
  ``SameSite=Strict``), which a script in the page could not set itself (``dashboards/sessions.py``);
* ``POST /auth/logout``: end the cookie's session and delete the cookie;
* ``GET /admin/runs/{run_id}/data_docs/{path}``: a run's Great Expectations Data Docs, for admins
  signed in with the cookie (GX writes a folder of static HTML that links its own pages).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

import streamlit as st
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from dashboards import sessions, settings
from dashboards.store import connect

APP_SCRIPT = Path(__file__).resolve().parent / "app.py"


def _cookie(response: Response, request: Request, token: str, max_age: int) -> None:
    response.set_cookie(
        sessions.COOKIE_NAME,
        token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


async def create_session(request: Request) -> Response:
    ticket = (await request.body()).decode("utf-8", "replace").strip()
    con = connect(settings.state_dir())
    try:
        redeemed = sessions.redeem_ticket(con, ticket)
    finally:
        con.close()
    if redeemed is None:
        return Response(status_code=403)
    response = Response(status_code=204)
    _cookie(response, request, *redeemed)
    return response


async def end_session(request: Request) -> Response:
    con = connect(settings.state_dir())
    try:
        sessions.revoke_token(con, request.cookies.get(sessions.COOKIE_NAME))
    finally:
        con.close()
    response = Response(status_code=204)
    response.delete_cookie(sessions.COOKIE_NAME, path="/", httponly=True, samesite="strict")
    return response


def _admin_signed_in(request: Request) -> bool:
    con = connect(settings.state_dir())
    try:
        found = sessions.session_for_token(con, request.cookies.get(sessions.COOKIE_NAME))
    finally:
        con.close()
    return found is not None and found[1].role == "admin"


def data_docs_file(runs_dir: Path, run_id: str, path: str) -> Path | None:
    """The file a Data Docs URL names, or None when it is outside that run's ``data_docs`` folder."""
    root = (runs_dir / run_id / "data_docs").resolve()
    if root.parent.parent != runs_dir.resolve():
        return None
    target = (root / (path or "index.html")).resolve()
    if root not in target.parents and target != root:
        return None
    if target.is_dir():
        target = target / "index.html"
    return target if target.is_file() else None


async def data_docs(request: Request) -> Response:
    if not _admin_signed_in(request):
        return Response("sign in as an admin first", status_code=403, media_type="text/plain")
    target = data_docs_file(settings.runs_dir(), request.path_params["run_id"], request.path_params["path"])
    if target is None:
        return Response(status_code=404)
    media_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return FileResponse(target, media_type=media_type)


routes = [
    Route("/auth/session", create_session, methods=["POST"]),
    Route("/auth/logout", end_session, methods=["POST"]),
    Route("/admin/runs/{run_id}/data_docs/{path:path}", data_docs, methods=["GET"]),
]

app = st.App(str(APP_SCRIPT), routes=routes)
