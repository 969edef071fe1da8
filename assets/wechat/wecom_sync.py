"""WeCom pull of consultants and their customers (a snapshot each run).

Behaviour statistics: ``assets/wechat/wecom_behavior.py``; group-message results:
``assets/wechat/wecom_groupmsgs.py``. The snapshot is not split over runs (a half snapshot would drop
relations), so it runs without the call budget: one ``batch/get_by_user`` call per 100 relations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import duckdb
import polars as pl
import pyarrow as pa

from assets.wechat.tables import ensure_tables, local_ts
from sources.clock import now_local
from sources.identifiers import is_placeholder_mobile, mask_name, normalize_mobile
from sources.pii import PiiVault
from sources.wechat import WecomClient

# wechat.wecom_external_contacts as the snapshot builds it (assets/wechat/tables.py)
CONTACT_SCHEMA = {
    "external_userid": pa.string(),
    "follow_userid": pa.string(),
    "unionid": pa.string(),
    "name_masked": pa.string(),
    "createtime": pa.timestamp("us"),
    "add_way": pa.int32(),
    "state": pa.string(),
    "remark_mobile_hmacs": pa.list_(pa.string()),
    "fetched_at": pa.timestamp("us"),
}


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
    columns: dict[str, list] = {name: [] for name in CONTACT_SCHEMA}
    placeholder_set = frozenset(placeholders)  # not a set per mobile (is_placeholder_mobile)
    for item in client.iter_customers(userids) if external_contacts else ():
        contact, follow = item.get("external_contact") or {}, item.get("follow_info") or {}
        columns["external_userid"].append(contact.get("external_userid"))
        columns["follow_userid"].append(follow.get("userid"))
        columns["unionid"].append(contact.get("unionid") or None)
        columns["name_masked"].append(mask_name(contact.get("name")))
        columns["createtime"].append(local_ts(follow.get("createtime")))
        columns["add_way"].append(int(follow.get("add_way") or 0))
        columns["state"].append(follow.get("state") or None)
        columns["remark_mobile_hmacs"].append(
            remark_mobile_hmacs(follow.get("remark_mobiles") or [], vault, placeholder_set)
        )
    columns["fetched_at"] = [fetched_at] * len(columns["external_userid"])
    # column lists into Arrow, then polars: a frame from a dict per relation spent ~4 s of a
    # month's pull at M (413k relations) converting each row's list of HMACs on its own
    contacts = pl.from_arrow(
        pa.table({name: pa.array(values, type=CONTACT_SCHEMA[name]) for name, values in columns.items()})
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
