"""WeCom pull of consultants and their customers (a snapshot each run).

Behaviour statistics: ``assets/wechat/wecom_behavior.py``; group-message results:
``assets/wechat/wecom_groupmsgs.py``. The snapshot is not split over runs (a half snapshot would drop
relations), so it runs without the call budget: one ``batch/get_by_user`` call per 100 relations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import duckdb
import polars as pl

from assets.wechat.tables import ensure_tables, local_ts
from sources.clock import now_local
from sources.identifiers import is_placeholder_mobile, mask_name, normalize_mobile
from sources.pii import PiiVault
from sources.wechat import WecomClient


def remark_mobile_hmacs(mobiles: Iterable[str], vault: PiiVault, placeholders: Iterable[str]) -> list[str]:
    """HMACs of the valid, non-placeholder remark mobiles (never the numbers themselves)."""
    out = []
    for raw in mobiles:
        mobile = normalize_mobile(raw)
        if mobile and not is_placeholder_mobile(mobile, placeholders):
            hashed = vault.hash(mobile)
            if hashed not in out:
                out.append(hashed)
    return out


def _replace(
    con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, where: str = "", params=None
) -> None:
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DELETE FROM {table} {where}", params or [])
        if frame.height:
            con.register("incoming", frame.to_arrow())
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
            con.unregister("incoming")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def sync_contacts(
    client: WecomClient,
    con: duckdb.DuckDBPyConnection,
    vault: PiiVault,
    placeholders: Iterable[str],
    on_follow_users: Callable[[list[str]], None] = lambda userids: None,
    *,
    follow_users: bool = True,
    external_contacts: bool = True,
) -> dict[str, int]:
    """Snapshot of consultants and every (customer, consultant) relation; ``on_follow_users`` is
    handed the consultant list as soon as it is fetched (the behaviour pull waits for it).

    Writes only the tables asked for (``follow_users``, ``external_contacts``): a table of a
    snapshot nobody selected stays as its last materialization left it. The relations need the
    consultant list either way; the consultant list alone costs no call per customer."""
    ensure_tables(con)
    fetched_at = now_local()
    userids = client.follow_users()
    on_follow_users(list(userids))
    rows: list[dict[str, Any]] = []
    placeholders = list(placeholders)
    for item in client.iter_customers(userids) if external_contacts else ():
        contact, follow = item.get("external_contact") or {}, item.get("follow_info") or {}
        rows.append(
            {
                "external_userid": contact.get("external_userid"),
                "follow_userid": follow.get("userid"),
                "unionid": contact.get("unionid") or None,
                "name_masked": mask_name(contact.get("name")),
                "createtime": local_ts(follow.get("createtime")),
                "add_way": int(follow.get("add_way") or 0),
                "state": follow.get("state") or None,
                "remark_mobile_hmacs": remark_mobile_hmacs(
                    follow.get("remark_mobiles") or [], vault, placeholders
                ),
                "fetched_at": fetched_at,
            }
        )
    contacts = pl.DataFrame(
        rows,
        schema={
            "external_userid": pl.Utf8,
            "follow_userid": pl.Utf8,
            "unionid": pl.Utf8,
            "name_masked": pl.Utf8,
            "createtime": pl.Datetime("us"),
            "add_way": pl.Int32,
            "state": pl.Utf8,
            "remark_mobile_hmacs": pl.List(pl.Utf8),
            "fetched_at": pl.Datetime("us"),
        },
    ).unique(["external_userid", "follow_userid"], keep="last", maintain_order=True)
    users = pl.DataFrame(
        {"userid": userids, "fetched_at": [fetched_at] * len(userids)},
        schema={"userid": pl.Utf8, "fetched_at": pl.Datetime("us")},
    )
    if follow_users:
        _replace(con, "wechat.wecom_follow_users", users)
    if external_contacts:
        _replace(con, "wechat.wecom_external_contacts", contacts)
    return {
        "follow_users": users.height,
        "relations": contacts.height,
        "customers": contacts["external_userid"].n_unique() if contacts.height else 0,
    }
