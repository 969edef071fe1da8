"""The dashboard's only door to data: short, read-only, scoped queries on ``serving.duckdb``.

Every query runs through ``read``: it opens an empty in-memory DuckDB, attaches the serving file
read-only, creates the views the reader's scope allows (``scope.py``), locks the connection
(no file access, no configuration change) and runs one ``SELECT``. Pages call ``query``, which takes
the scope from the signed-in account of the session, never from an argument, so no page, widget,
URL or query parameter can widen it.

The connection is closed at once: the pipeline swaps the file atomically on publish, and an open
connection would pin the old file. Results are cached per query, scope and published version (the
file's modification time), so a new publish is picked up on the next rerun without a restart.
Aggregates are computed in DuckDB; pages get small frames.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

import duckdb
import polars as pl
import streamlit as st
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from dashboards import settings
from dashboards.scope import PUBLISHED, Scope, scoped_views
from sources.sql_text import quote_literal

_CATALOG_NAME = re.compile(rf"\b{PUBLISHED}\b", re.IGNORECASE)


class NotSignedIn(PermissionError):
    """A query without a signed-in account: nothing is read."""


class UnsafeQuery(ValueError):
    """A query that is not one plain SELECT over the scoped views."""


def serving_path():
    return settings.serving_path()


def published_version() -> float | None:
    """The serving file's modification time, or None before the first publish."""
    path = serving_path()
    return path.stat().st_mtime if path.exists() else None


def check_select(sql: str) -> None:
    """One SELECT statement that names only the scoped views (never the attached file)."""
    statements = duckdb.extract_statements(sql)
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise UnsafeQuery("the dashboard runs exactly one SELECT per query")
    if _CATALOG_NAME.search(sql):
        raise UnsafeQuery(f"pages read the scoped views, not the {PUBLISHED!r} catalog")


def _catalog(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    rows = con.execute(
        "select table_name, column_name from duckdb_columns() "
        "where database_name = ? and schema_name = 'main' order by table_name, column_index",
        [PUBLISHED],
    ).fetchall()
    catalog: dict[str, list[str]] = {}
    for table, column in rows:
        catalog.setdefault(table, []).append(column)
    return catalog


def _members(
    con: duckdb.DuckDBPyConnection, scope: Scope, catalog
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The dealer codes and regions a manager's scope covers, from the published dealer list."""
    if scope.is_network:
        return (), ()
    if "dealers" not in catalog:
        return ((scope.dealer_code,) if scope.dealer_code else ()), ((scope.region,) if scope.region else ())
    if scope.role == "dealer_manager":
        regions = con.execute(
            f"select distinct region from {PUBLISHED}.main.dealers where dealer_code = ? and region is not "
            "null",
            [scope.dealer_code],
        ).fetchall()
        return (scope.dealer_code,), tuple(r[0] for r in regions)
    dealers = con.execute(
        f"select dealer_code from {PUBLISHED}.main.dealers where region = ? order by 1", [scope.region]
    ).fetchall()
    return tuple(d[0] for d in dealers), (scope.region,)


def _scoped_connection(scope: Scope, reveal_mobiles: bool) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"attach {quote_literal(str(serving_path()))} as {PUBLISHED} (read_only)")
        catalog = _catalog(con)
        dealers, regions = _members(con, scope, catalog)
        for statement in scoped_views(catalog, scope, dealers, regions, reveal_mobiles).values():
            con.execute(statement)
        # from here on the connection reads the views only: no files, no settings changes
        con.execute("set enable_external_access = false")
        con.execute("set lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


# A publish replaces the file in one rename; a reader that races it retries briefly.
@retry(
    retry=retry_if_exception_type(duckdb.IOException),
    stop=stop_after_attempt(5),
    wait=wait_exponential(multiplier=0.1, max=2),
    reraise=True,
)
def read(sql: str, params: tuple = (), *, scope: Scope, reveal_mobiles: bool = False) -> pl.DataFrame:
    """Run one SELECT on the published database as ``scope`` sees it."""
    check_select(sql)
    version = published_version()
    if version is None:
        raise FileNotFoundError(f"nothing published yet at {serving_path()}")
    # a download gets its own connection, closed at once, never kept
    con = _scoped_connection(scope, reveal_mobiles=True) if reveal_mobiles else _scoped_cursor(scope, version)
    try:
        return con.sql(sql, params=list(params) if params else None).pl()
    finally:
        con.close()


# Setting a scope's views up costs tens of milliseconds; a page runs a dozen queries. The scoped
# databases of the last few scopes are kept for the published version they were made on; every
# query takes its own cursor (DuckDB connections are not shared between threads). A new publish
# makes new ones and closes the old, so an old file is not held longer than its last query.
_KEPT_SCOPES = 16
_scoped: OrderedDict[tuple, duckdb.DuckDBPyConnection] = OrderedDict()
_scoped_lock = threading.Lock()


def _scoped_cursor(scope: Scope, version: float) -> duckdb.DuckDBPyConnection:
    key = (scope, str(serving_path()), version)
    with _scoped_lock:
        con = _scoped.get(key)
        if con is None:
            for stale in [k for k in _scoped if k[1] == key[1] and k[2] != version]:
                _scoped.pop(stale).close()
            con = _scoped_connection(scope, reveal_mobiles=False)
            _scoped[key] = con
            while len(_scoped) > _KEPT_SCOPES:
                _scoped.popitem(last=False)[1].close()
        _scoped.move_to_end(key)
        return con.cursor()


def forget_connections() -> None:
    """Close every kept scoped database (tests; a process that is about to stop)."""
    with _scoped_lock:
        while _scoped:
            _scoped.popitem()[1].close()


def current_scope() -> Scope:
    """The scope of the account signed in to this session (``signin.current_account``)."""
    from dashboards.signin import ACCOUNT_KEY

    account = st.session_state.get(ACCOUNT_KEY)
    if account is None:
        raise NotSignedIn("sign in first")
    return Scope.of(account)


@st.cache_data(ttl=3600, max_entries=5000, show_spinner=False)
def _cached(sql: str, params: tuple, scope_key: tuple, version: float | None) -> pl.DataFrame:
    return read(sql, params, scope=Scope(*scope_key))


def query(sql: str, params: tuple = ()) -> pl.DataFrame:
    """Run a read-only query as the signed-in account sees the published database."""
    scope = current_scope()
    return _cached(sql, tuple(params), (scope.role, scope.dealer_code, scope.region), published_version())


def query_for_download(sql: str, params: tuple = ()) -> pl.DataFrame:
    """Like ``query``, with the mobile ciphertext of a dealer manager's own rows; never cached."""
    return read(sql, tuple(params), scope=current_scope(), reveal_mobiles=True)


@st.cache_data(ttl=3600, show_spinner=False)
def _tables(scope_key: tuple, version: float | None) -> frozenset[str]:
    if version is None:
        return frozenset()
    frame = read(
        "select table_name from information_schema.tables where table_catalog = 'memory'",
        scope=Scope(*scope_key),
    )
    return frozenset(frame.to_series())


def has_table(name: str) -> bool:
    """Whether the table is published and visible to the signed-in account."""
    scope = current_scope()
    return name in _tables((scope.role, scope.dealer_code, scope.region), published_version())


def publish_info() -> dict | None:
    """When and for which month the serving database was last published."""
    if not has_table("publish_log"):
        return None
    rows = query("select * from publish_log").to_dicts()
    return rows[0] if rows else None
