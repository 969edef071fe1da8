"""Load the receiver's JSON lines into ``wechat.callback_events`` (new event ids only)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import polars as pl

from assets.wechat.tables import ensure_tables, local_ts
from sources.wechat.callback import read_events


def ingest_callback_events(con: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, int]:
    ensure_tables(con)
    events = read_events(folder) if folder.exists() else []
    frame = pl.DataFrame(
        [
            {
                "event_id": e["event_id"],
                "event": e.get("event"),
                "openid": e.get("openid") or None,
                "msg_id": e.get("msg_id"),
                "status": e.get("status"),
                "event_time": local_ts(e.get("event_time")),
                "received_at": dt.datetime.fromisoformat(e["received_at"]).replace(tzinfo=None),
                "raw": json.dumps(e.get("raw") or {}, ensure_ascii=False),
            }
            for e in events
        ],
        schema={
            "event_id": pl.Utf8,
            "event": pl.Utf8,
            "openid": pl.Utf8,
            "msg_id": pl.Utf8,
            "status": pl.Utf8,
            "event_time": pl.Datetime("us"),
            "received_at": pl.Datetime("us"),
            "raw": pl.Utf8,
        },
    ).unique("event_id", keep="first", maintain_order=True)
    before = con.execute("SELECT count(*) FROM wechat.callback_events").fetchall()[0][0]
    if frame.height:
        con.register("incoming", frame.to_arrow())
        con.execute(
            "INSERT INTO wechat.callback_events SELECT i.event_id, i.event, i.openid, i.msg_id, i.status, "
            "i.event_time, i.received_at, i.raw::JSON FROM incoming i "
            "WHERE i.event_id NOT IN (SELECT event_id FROM wechat.callback_events)"
        )
        con.unregister("incoming")
    after = con.execute("SELECT count(*) FROM wechat.callback_events").fetchall()[0][0]
    return {"stored_files_events": frame.height, "new": after - before, "total": after}
