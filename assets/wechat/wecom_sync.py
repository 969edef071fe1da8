"""WeCom pull of consultants and their customers (a snapshot).

Behaviour statistics: ``assets/wechat/wecom_behavior.py``; group-message results:
``assets/wechat/wecom_groupmsgs.py``. The snapshot is not split over runs (a half snapshot would drop
relations), so it runs without the call budget: one ``batch/get_by_user`` call per 100 relations.
The nightly WeCom pull takes it, and the month-end run reuses the last night's snapshot when it is
recent enough (``reusable_snapshot``; docs/wechat.md "Daily WeCom pull").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import duckdb
import polars as pl
import pyarrow as pa

from assets.wechat.tables import ensure_tables, local_ts, read_cursor, save_cursor
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


# wechat.sync_cursors row of the last complete snapshot: the day it was taken through and by which run
SNAPSHOT_CURSOR = "wecom_contacts"
DAILY_PULL = "daily pull"
MONTH_END_RUN = "month-end run"


@dataclass(frozen=True)
class StoredSnapshot:
    """The last complete snapshot of consultants and relations in the warehouse."""

    through: dt.date  # the pull cut-off of the run that took it
    taken_by: str  # DAILY_PULL or MONTH_END_RUN
    fetched_at: dt.datetime
    follow_users: int
    relations: int
    customers: int


def reusable_snapshot(
    stored: StoredSnapshot | None, cut_off: dt.date, max_age_days: int, *, daily_pull: bool
) -> bool:
    """Whether a month-end run takes the stored snapshot instead of taking its own.

    Only a snapshot the nightly pull took, through a day at most ``max_age_days`` before the run's
    cut-off (the last night's, ~17 hours before a 20:00 month-end run), and only in the month-end
    run: the nightly pull always takes a fresh one, and a snapshot a month-end run took is not
    reused (a rerun of the month asks WeCom again, as it always did). ``max_age_days`` 0: never."""
    if daily_pull or stored is None or max_age_days <= 0 or stored.taken_by != DAILY_PULL:
        return False
    return 0 <= (cut_off - stored.through).days <= max_age_days


def stored_snapshot(con: duckdb.DuckDBPyConnection) -> StoredSnapshot | None:
    try:
        state = read_cursor(con, SNAPSHOT_CURSOR)
        if state is None:
            return None
        return StoredSnapshot(
            through=dt.date.fromisoformat(state["through"]),
            taken_by=state["taken_by"],
            fetched_at=dt.datetime.fromisoformat(state["fetched_at"]),
            follow_users=int(state["follow_users"]),
            relations=int(state["relations"]),
            customers=int(state["customers"]),
        )
    except (KeyError, TypeError, ValueError):  # unreadable: take a fresh snapshot rather than fail
        return None


def _record_snapshot(con: duckdb.DuckDBPyConnection, snapshot: StoredSnapshot) -> None:
    state = {
        "through": snapshot.through.isoformat(),
        "taken_by": snapshot.taken_by,
        "fetched_at": snapshot.fetched_at.isoformat(),
        "follow_users": snapshot.follow_users,
        "relations": snapshot.relations,
        "customers": snapshot.customers,
    }
    save_cursor(con, SNAPSHOT_CURSOR, state["through"], state, snapshot.fetched_at)


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
    through: dt.date | None = None,
    taken_by: str = MONTH_END_RUN,
) -> dict[str, int]:
    """Snapshot of consultants and every (customer, consultant) relation; ``on_follow_users`` is
    handed the consultant list as soon as it is fetched (the behaviour pull waits for it).

    Writes only the tables asked for (``follow_users``, ``external_contacts``): a table of a
    snapshot nobody selected stays as its last materialization left it. The relations need the
    consultant list either way; the consultant list alone costs no call per customer. A snapshot
    of both tables is recorded, ``through`` the run's cut-off, for ``reusable_snapshot``."""
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
    customers = contacts["external_userid"].n_unique() if contacts.height else 0
    if follow_users and external_contacts and through is not None:
        _record_snapshot(
            con, StoredSnapshot(through, taken_by, fetched_at, users.height, contacts.height, customers)
        )
    return {"follow_users": users.height, "relations": contacts.height, "customers": customers}
