"""The dashboard's only door to data: short read-only queries on ``serving.duckdb``.

Every query opens its own read-only connection and closes it at once: the pipeline swaps the file
atomically on publish, and an open connection would pin the old file (and a read-write one would
block the pipeline). Results are cached per query and per published version (the file's mtime), so
a new publish is picked up on the next rerun without a restart.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import duckdb
import polars as pl
import streamlit as st
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential


@lru_cache(maxsize=1)
def serving_path() -> Path:
    override = os.environ.get("AFTERCARE_PATHS_SERVING")
    if override:
        return Path(override)
    from pipelines.config import load_settings

    return Path(load_settings().paths.serving)


def published_version() -> float | None:
    """The serving file's modification time, or None before the first publish."""
    path = serving_path()
    return path.stat().st_mtime if path.exists() else None


# A publish replaces the file in one rename; a reader that races it retries briefly.
@retry(
    retry=retry_if_exception_type(duckdb.IOException),
    stop=stop_after_attempt(5),
    wait=wait_exponential(multiplier=0.1, max=2),
    reraise=True,
)
def _read(sql: str, params: tuple) -> pl.DataFrame:
    con = duckdb.connect(str(serving_path()), read_only=True)
    try:
        return con.sql(sql, params=list(params) if params else None).pl()
    finally:
        con.close()


@st.cache_data(ttl=600, show_spinner=False)
def _cached(sql: str, params: tuple, version: float | None) -> pl.DataFrame:
    return _read(sql, params)


def query(sql: str, params: tuple = ()) -> pl.DataFrame:
    """Run a read-only query on the published database."""
    return _cached(sql, params, published_version())


@st.cache_data(ttl=600, show_spinner=False)
def _tables(version: float | None) -> frozenset[str]:
    if version is None:
        return frozenset()
    return frozenset(
        _read("select table_name from information_schema.tables where table_schema = 'main'", ()).to_series()
    )


def has_table(name: str) -> bool:
    return name in _tables(published_version())


def publish_info() -> dict | None:
    """When and for which month the serving database was last published."""
    if not has_table("publish_log"):
        return None
    rows = query("select * from publish_log").to_dicts()
    return rows[0] if rows else None
