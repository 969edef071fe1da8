"""Stable OneIDs: carry each run's fresh components over to the OneIDs already issued.

Components are recomputed from scratch every run (cheap, see ``graph.py``); this step maps them
onto the persisted registry (``identity.oneid_registry``: identifier → OneID) so that:

* a OneID keeps its value while any of its identifiers remain (new identifiers adopt it);
* each old OneID is kept by exactly one new component, its **keeper**: the one holding the most of
  its history (sum of source records of its identifiers, then most identifiers, then the earliest
  first sighting, then the smallest identifier hash (node key), so the choice is deterministic);
* a component that keeps several old OneIDs (a **merge**) takes the oldest, i.e. the lowest number
  (numbers are issued in increasing order); the others are retired, ``merge`` old → new;
* a component holding part of an old OneID without being its keeper (a **split**) takes the OneID
  it keeps, or a new one, ``split`` old → new;
* components with no old identifier get new numbers, in order of first sighting.

On unchanged data every component is exactly one old OneID's identifiers: nothing changes and
nothing is written to ``identity.oneid_changes``.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from assets.identity.sightings import work_table

ONEID_PREFIX = "OID"
ONEID_DIGITS = 12


def format_oneid(seq: int) -> str:
    return f"{ONEID_PREFIX}{seq:0{ONEID_DIGITS}d}"


# The registry's columns. Identifier keys (64-character HMACs, openids) and OneIDs are nearly all
# distinct: DuckDB's automatic choice analyses them for dictionary and FSST compression and ends
# on FSST, which at L cost twice the time of writing them with zstd (19.5 s against 11.0 for
# 37M rows, the file 10 % larger); the few-valued type keeps the automatic choice
REGISTRY_COLUMNS = """
    identifier_type varchar not null,
    identifier_key varchar not null using compression zstd,
    oneid varchar not null using compression zstd,
    first_seen_at timestamp, last_seen_at timestamp,
    active boolean not null  -- false: no longer in any source (kept for history)
"""


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists identity")
    con.execute(f"create table if not exists identity.oneid_registry ({REGISTRY_COLUMNS})")
    con.execute(
        "create table if not exists identity.oneid_issued (oneid varchar not null, seq bigint not null, "
        "issued_at timestamp)"
    )
    con.execute(
        "create table if not exists identity.oneid_changes (run_at timestamp, change varchar, old_oneid "
        "varchar, new_oneid varchar)"
    )


def plan_oneids(con: duckdb.DuckDBPyConnection, work: str = "temp") -> None:
    """Map work table ``id_clusters`` onto OneIDs, reading the registry, writing only work tables.

    ``id_clusters``: node_id, identifier_type, identifier_key, component, first_seen_at,
    last_seen_at, n_records; ``id_components``: one row per component, its first sighting
    ``first_seen_at`` and ``anchor``, the smallest node key (``hash(identifier_type,
    identifier_key)``, see ``sightings.node_key_sql``) of its identifiers: a deterministic
    tie-breaker (``resolve._components`` writes both). Leaves work
    tables ``id_assigned`` (component, oneid, minted),
    ``run_changes`` (change, old_oneid, new_oneid) and ``cluster_registry`` for ``apply_oneids``.
    ``work`` is ``temp`` or an attached scratch database (see ``sightings.work_table``).
    """
    ensure_tables(con)
    # the one join on identifier strings against the registry; everything after joins on integers.
    # Only the identifiers the registry knows: a first run writes nothing here (at L a left join
    # wrote a row for each of 37M new identifiers, 11 s)
    con.execute(
        f"""
        {work_table(work, "cluster_registry")} as
        select c.node_id, c.component, c.n_records, c.first_seen_at, c.last_seen_at,
               r.rowid as registry_row, r.oneid as old_oneid, r.active as was_active,
               r.first_seen_at as registry_first_seen_at, r.last_seen_at as registry_last_seen_at
        from {work}.id_clusters c
        join identity.oneid_registry r using (identifier_type, identifier_key)
        """
    )
    con.execute(
        f"""
        {work_table(work, "comp_overlap")} as
        select component, old_oneid as oneid, sum(n_records) as weight, count(*) as n_identifiers,
               min(first_seen_at) as first_seen_at
        from {work}.cluster_registry
        where was_active
        group by component, old_oneid
        """
    )
    con.execute(
        f"""
        {work_table(work, "comp_keeper")} as
        select oneid, component from (
            select o.oneid, o.component, row_number() over (
                partition by o.oneid
                order by o.weight desc, o.n_identifiers desc, o.first_seen_at nulls last, i.anchor) as rn
            from {work}.comp_overlap o join {work}.id_components i using (component))
        where rn = 1
        """
    )
    next_seq = con.execute("select coalesce(max(seq), 0) from identity.oneid_issued").fetchall()[0][0]
    con.execute(
        f"""
        {work_table(work, "id_assigned")} as
        with survivor as (select component, min(oneid) as oneid from {work}.comp_keeper group by component)
        select component, oneid, false as minted from survivor
        union all
        select i.component,
               '{ONEID_PREFIX}' || lpad(cast({next_seq} + row_number() over (
                   order by i.first_seen_at nulls last, i.anchor) as varchar), {ONEID_DIGITS}, '0'),
               true
        from {work}.id_components i anti join survivor s using (component)
        """
    )
    con.execute(
        f"""
        {work_table(work, "run_changes")} as
        select distinct 'merge' as change, k.oneid as old_oneid, a.oneid as new_oneid
        from {work}.comp_keeper k join {work}.id_assigned a using (component)
        where k.oneid <> a.oneid
        union
        select distinct 'split', o.oneid, a.oneid
        from {work}.comp_overlap o join {work}.id_assigned a using (component)
        anti join {work}.comp_keeper k on k.oneid = o.oneid and k.component = o.component
        """
    )


def apply_oneids(con: duckdb.DuckDBPyConnection, run_at: dt.datetime, work: str = "temp") -> dict[str, int]:
    """Write ``plan_oneids``' result: issued OneIDs, the change log, the new registry.

    Writes only the ``identity`` schema: call inside the transaction that publishes the stage (a
    DuckDB transaction writes to one database, so all the planning happens before it).
    """
    con.execute(
        f"""
        insert into identity.oneid_issued
        select oneid, cast(substr(oneid, 4) as bigint), ? from {work}.id_assigned where minted
        """,
        [run_at],
    )
    con.execute(
        f"insert into identity.oneid_changes select ?, change, old_oneid, new_oneid from {work}.run_changes "
        "order by 2, 3, 4",
        [run_at],
    )
    # the registry: every identifier ever seen, its current (or last) OneID and history span.
    # Built beside the old one and swapped in (one write, inside the caller's transaction).
    con.execute("drop table if exists identity.oneid_registry_next")
    con.execute(f"create table identity.oneid_registry_next ({REGISTRY_COLUMNS})")
    con.execute(
        f"""
        insert into identity.oneid_registry_next
        select c.identifier_type, c.identifier_key, a.oneid,
               case when r.registry_first_seen_at is null then c.first_seen_at
                    when c.first_seen_at is null then r.registry_first_seen_at
                    else least(r.registry_first_seen_at, c.first_seen_at) end as first_seen_at,
               case when r.registry_last_seen_at is null then c.last_seen_at
                    when c.last_seen_at is null then r.registry_last_seen_at
                    else greatest(r.registry_last_seen_at, c.last_seen_at) end as last_seen_at,
               true as active
        from {work}.id_clusters c
        left join {work}.cluster_registry r using (node_id)
        join {work}.id_assigned a on a.component = c.component
        union all
        select r.identifier_type, r.identifier_key, r.oneid, r.first_seen_at, r.last_seen_at, false
        from identity.oneid_registry r
        where r.rowid not in (select registry_row from {work}.cluster_registry where registry_row is not null)
        """
    )
    con.execute("drop table identity.oneid_registry")
    con.execute("alter table identity.oneid_registry_next rename to oneid_registry")
    counts = dict(con.execute(f"select change, count(*) from {work}.run_changes group by change").fetchall())
    minted = con.execute(f"select count(*) from {work}.id_assigned where minted").fetchall()[0][0]
    return {"merged": counts.get("merge", 0), "split": counts.get("split", 0), "minted": minted}
