"""OneID for a whole warehouse: sources → clean identifiers → guarded components → stable ids → explanations.

Everything over the records runs in DuckDB; the graph runs in NumPy/SciPy (while a second DuckDB
connection writes the nodes' table), and with every node's component in memory the per-component
summary and the OneID of each node a link starts from are array lookups. Writes, in one
transaction, the ``identity`` schema of ``docs/architecture.md``:

| table | grain |
|---|---|
| ``oneid_map`` | one row per live identifier: its OneID and first/last sighting (a view over the registry) |
| ``oneid_registry`` / ``oneid_issued`` | every identifier ever seen / every OneID ever issued (stability) |
| ``oneid_changes`` | one row per OneID merged or split in a run |
| ``oneid_links`` | every link kept: which record, which rule, which OneID |
| ``dropped_links`` | every link refused, with the reason |
| ``excluded_identifiers`` | mobiles that are never an identity (placeholder, staff, shared) |
| ``suspicious_clusters`` | OneIDs above the review thresholds of ``settings.oneid`` |
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial

import duckdb
import numpy as np
import pyarrow as pa

from assets.faults import crash_point
from assets.identity import sightings
from assets.identity.graph import FIRST_SEEN_NONE, GuardedGraph, component_summary
from assets.identity.scratch import DEFAULT_MEMORY_LIMIT, beside, lap_timer, scratch_space, work_compression
from assets.identity.sightings import (
    CONFLICT_REASONS,
    DEFAULT_GUARDS,
    GUARDED_TYPES,
    GUARDS_BY_TIER,
    IDENTIFIER_TYPE_ENUM,
    work_table,
    work_view,
)
from assets.identity.spark_components import SparkComponents, run_spark_components
from assets.identity.stability import apply_oneids, plan_oneids
from sources.duckdb_files import changed_settings
from sources.sql_text import quote_literal


@dataclass(frozen=True)
class OneidParams:
    """The ``[oneid]`` settings, with placeholder mobiles already keyed-hashed like landing."""

    max_ids_per_mobile: int = 1
    placeholder_mobile_hmacs: tuple[str, ...] = ()
    suspicious_vehicles: int = 8
    suspicious_mobiles: int = 4
    suspicious_id_numbers: int = 1
    # DuckDB's share of memory during the stage (see scratch.py). None: leave as is.
    duckdb_memory_limit: str | None = DEFAULT_MEMORY_LIMIT
    # engine.kind = "spark": the components in a Spark job (spark_components.py). None: SciPy here
    spark: SparkComponents | None = None

    @classmethod
    def from_settings(cls, oneid, pii_hash=None) -> OneidParams:
        """From ``Settings.oneid``; ``pii_hash`` (e.g. ``PiiVault.hash``) keys the placeholder list."""
        hmacs = tuple(pii_hash(m) for m in oneid.placeholder_mobiles) if pii_hash else ()
        return cls(
            max_ids_per_mobile=oneid.max_ids_per_mobile,
            placeholder_mobile_hmacs=hmacs,
            suspicious_vehicles=oneid.suspicious_vehicles,
            suspicious_mobiles=oneid.suspicious_mobiles,
            suspicious_id_numbers=oneid.suspicious_id_numbers,
        )


@dataclass
class ResolveSummary:
    sources_read: list[str] = field(default_factory=list)
    sources_missing: list[str] = field(default_factory=list)
    identifiers: int = 0
    oneids: int = 0
    links_kept: int = 0
    links_dropped: dict[str, int] = field(default_factory=dict)
    excluded_identifiers: dict[str, int] = field(default_factory=dict)
    changes: dict[str, int] = field(default_factory=dict)
    suspicious: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # the same laps in CPU time
    spark: dict = field(default_factory=dict)  # the Spark components job's rounds and seconds


IDENTIFIER_PARTS = 2  # the identifiers of a type are grouped in this many parts (by node key)


def _identifiers(con: duckdb.DuckDBPyConnection, work: str = "temp") -> int:
    """Work table ``id_identifiers``: one row per identifier, its node key and its history.

    Returns how many node keys stand for more than one identifier (a hash collision: then the
    caller collects again with another salt, see ``sightings.node_key_sql``).
    """
    columns = """identifier_type, identifier_key, any_value(node_key) as node_key,
               bool_or(mobile_status = 'placeholder') as flagged_placeholder,
               min(seen_at) as first_seen_at, max(seen_at) as last_seen_at,
               count(*) as n_records,  -- a record names each of its identifiers once
               count(*) filter (where source = 'landing.vehicle_sales') as n_sales"""
    # one grouping per identifier type and half of the node keys, not one over all: at L one
    # grouping of the ~95M sightings into 38M identifiers spilled 9 GB under the stage's memory cap
    # and kept one core busy (76 s); by type 40 s, the mobiles' still spilling (18 s on 1.3 cores,
    # 12 s in halves). The view's branches of other types are pruned by the filter; every
    # sighting's type is listed (``sightings._known``); an identifier's node key is its own, so
    # the halves split no identifier
    _create_in_parts(
        con,
        work_table(work, "id_identifiers"),
        f"{work}.id_identifiers",
        [
            f"select {columns} from {work}.id_sightings where identifier_type = '{identifier_type}' "
            f"and node_key % {IDENTIFIER_PARTS} = {part} group by identifier_type, identifier_key"
            for identifier_type in sightings.IDENTIFIER_TYPES
            for part in range(IDENTIFIER_PARTS)
        ],
    )
    # grouping by the strings is as fast as by the key (measured); what the key saves is the joins
    (shared,) = con.execute(
        f"select count(*) - count(distinct node_key) from {work}.id_identifiers"
    ).fetchone()
    return shared


def _exclude_unclean_mobiles(
    con: duckdb.DuckDBPyConnection, params: OneidParams, staff_sql: str, work: str = "temp"
) -> None:
    """Rule 3: a mobile is an identity only if it is no placeholder, no staff mobile, not shared."""
    con.execute(
        f"""
        {work_table(work, "id_excluded")} as
        with staff as ({staff_sql}),
        owners as (
            select right_node as node_key, count(distinct left_node) as n_ids
            from {work}.id_candidates where left_type = 'id_number' and right_type = 'mobile'
            group by right_node)
        select m.node_key, 'mobile' as identifier_type, m.identifier_key,
               case when m.flagged_placeholder or list_contains($placeholders::varchar[], m.identifier_key)
                        then 'placeholder_mobile'
                    when s.identifier_key is not null then 'staff_mobile'
                    else 'shared_mobile' end as reason,
               case when o.n_ids > $max_ids
                        then 'used by ' || o.n_ids || ' distinct valid ID numbers (max ' || $max_ids || ')'
                    else '' end as detail
        from {work}.id_identifiers m
        left join staff s using (identifier_key)
        left join owners o using (node_key)
        where m.identifier_type = 'mobile'
          and (m.flagged_placeholder or list_contains($placeholders::varchar[], m.identifier_key)
               or s.identifier_key is not null or coalesce(o.n_ids, 0) > $max_ids)
        """,
        {"placeholders": list(params.placeholder_mobile_hmacs), "max_ids": params.max_ids_per_mobile},
    )


# a hash collision between two identifiers' node keys is rare (see sightings.node_key_sql); after
# this many salts in a row something else is wrong
MAX_SALTS = 4


def collect_identifiers(
    con: duckdb.DuckDBPyConnection, params: OneidParams, work: str = "temp"
) -> sightings.SourceLog:
    """Sightings, candidates, one row per identifier and the excluded mobiles, free of key collisions."""
    for salt in range(MAX_SALTS):
        log = sightings.collect(con, work, salt)
        if not _identifiers(con, work):
            break
    else:
        raise RuntimeError(f"identifier node keys collided under {MAX_SALTS} salts in a row")
    _exclude_unclean_mobiles(con, params, sightings.staff_mobiles_sql(con, log), work)
    return log


def _build_nodes_and_links(
    con: duckdb.DuckDBPyConnection, link_types: list[tuple[str, str]], work: str = "temp"
) -> None:
    """Dense integer node ids and the links between them, with their priority (DuckDB, set-based).

    Writes ``id_node_ids`` (node_key, identifier_type, node_id) and ``id_pairs``: all the graph
    reads. The nodes with their strings and history (``id_nodes``) are written while the graph runs
    (``_node_table``)."""
    # node ids in node-key order, not in whatever order DuckDB's threads deliver the rows: the same
    # data gives the same ids on every run and engine, and with them the same guarded node named in
    # a dropped link's explanation (graph.py: a component's smallest node of the type). The window
    # sorts the keys and their type alone: no 64-character identifier key (at L 37M rows, an
    # external sort under the cap), the type as a one-byte enum (as a string 12 s against 5)
    con.execute(
        f"""
        {work_table(work, "id_node_ids")} as
        select node_key, identifier_type, (row_number() over (order by node_key) - 1)::bigint as node_id
        from (
            select node_key, identifier_type::{IDENTIFIER_TYPE_ENUM} as identifier_type
            from {work}.id_identifiers anti join {work}.id_excluded using (node_key))
        """
    )

    # one graph edge per node pair (both clean, distinct), decided at its strongest tier and earliest
    # assertion: a link's priority is its tier, then first seen (a number, not a global sort of the
    # links: ties are broken by a hash of the record, deterministic across runs). Straight from the
    # candidates view: no table of the links is written. At L the candidates' strings written to the
    # scratch database cost ten times reading them again from the landing tables (50 s against 5 s),
    # so the explanation tables read the view again too (``_links_kept_sql``, ``_write_outputs``).
    # One pair of identifier types at a time: a node pair's types name its pair of types, so each
    # pair is grouped whole, and each statement's joins hold only the nodes of its two types (at L
    # one statement over all joined 52M links to 38M nodes twice and spilled 8 GB of the links)
    # The priority and tie-break are computed from the candidates before the joins, so only
    # integers pass through them: DuckDB carries a join's probe columns along, and computed after
    # the joins the tie-break's five strings went through both (at L the mobile—ID number pair's
    # joins spilled 3.7 GB of them: 23 s, 6 s without). Each direction of links (left type, right
    # type) joins each side to its own type's nodes only, rather than both sides to both types'.
    def directed(left_type: str, right_type: str) -> str:
        def nodes(identifier_type: str) -> str:
            return (
                f"(select node_key, node_id from {work}.id_node_ids "
                f"where identifier_type = '{identifier_type}')"
            )

        return f"""
                select l.node_id as u, r.node_id as v, c.tier, c.priority, c.tiebreak
                from (
                    select left_node, right_node, tier,
                           tier::bigint * 10000000000 + coalesce(epoch(seen_at)::bigint, 9999999999)
                               as priority,
                           hash(source, record_key, rule, left_key, right_key) as tiebreak
                    from {work}.id_candidates
                    where left_type = '{left_type}' and right_type = '{right_type}') c
                join {nodes(left_type)} l on l.node_key = c.left_node
                join {nodes(right_type)} r on r.node_key = c.right_node"""

    parts = []
    for type_a, type_b in _type_pairs():
        directions = [(left, right) for left, right in link_types if {left, right} == {type_a, type_b}]
        if not directions:
            continue
        parts.append(f"""
            select least(u, v) as a, greatest(u, v) as b, min(tier) as tier,
                   min(priority) as priority, min(tiebreak) as tiebreak
            from ({" union all ".join(directed(left, right) for left, right in directions)})
            where u <> v group by 1, 2
        """)
    if not parts:  # no source with links: an empty, typed table
        parts = [
            "select null::bigint as a, null::bigint as b, null::integer as tier, null::bigint as priority, "
            "null::ubigint as tiebreak where false"
        ]
    _create_in_parts(con, work_table(work, "id_pairs"), f"{work}.id_pairs", parts)


def _node_table(work: str) -> list[str]:
    """The statements writing ``id_nodes``: each node with its identifier and history (one row per
    node id). Nothing in the graph reads it, so it is written beside the graph (``_components``)."""
    return [
        f"""
        {work_table(work, "id_nodes")} as
        select n.node_id, i.node_key, i.identifier_type, enum_code(n.identifier_type) as type_code,
               i.identifier_key, i.first_seen_at, i.last_seen_at, i.n_records, i.n_sales
        from {work}.id_identifiers i join {work}.id_node_ids n using (node_key)
        """,
        f"drop table {work}.id_identifiers",
    ]


@dataclass
class NodeFacts:
    """Per node, in no particular order (``node_id`` names each): what the components' summary
    (``graph.component_summary``) and the node OneIDs need, as NumPy arrays."""

    node_id: np.ndarray  # int32
    node_key: np.ndarray  # uint64
    type_code: np.ndarray  # uint8: the position of the type in sightings.IDENTIFIER_TYPES
    first_seen: np.ndarray  # int64 microseconds since 1970; graph.FIRST_SEEN_NONE: never with a time
    n_sales: np.ndarray  # int32


def _write_nodes(db: duckdb.DuckDBPyConnection, work: str) -> NodeFacts:
    """``id_nodes`` written, and the facts of every node read back (at L ~0.9 GB of arrays)."""
    for statement in _node_table(work):
        db.execute(statement)
    facts = db.execute(
        f"""
        select node_id::integer as node_id, node_key, type_code,
               coalesce(epoch_us(first_seen_at), {FIRST_SEEN_NONE}) as first_seen,
               n_sales::integer as n_sales
        from {work}.id_nodes
        """
    ).fetchnumpy()
    return NodeFacts(**{name: np.asarray(column) for name, column in facts.items()})


@dataclass
class Placement:
    """Where the graph put every node: ``component[node_id]``, and the nodes' facts."""

    component: np.ndarray  # int64
    nodes: NodeFacts


def _create_in_parts(con: duckdb.DuckDBPyConnection, create: str, table: str, parts: list[str]) -> None:
    """``create`` (``create or replace table ...``) as the first of ``parts``, the others appended to
    ``table``: one statement per part, so each part's joins and groupings hold only its own rows."""
    con.execute(f"{create} as {parts[0]}")
    for part in parts[1:]:
        con.execute(f"insert into {table} {part}")


def _type_pairs() -> list[tuple[str, str]]:
    """Every unordered pair of identifier types, a type with itself included."""
    types = sightings.IDENTIFIER_TYPES
    return [(a, b) for i, a in enumerate(types) for b in types[i:]]


CONFLICT_COLUMNS = {
    "a": pa.int64(), "b": pa.int64(), "reason": pa.string(), "id_left": pa.int64(), "id_right": pa.int64(),
}  # fmt: skip


def _components(
    con: duckdb.DuckDBPyConnection, work: str = "temp", spark: SparkComponents | None = None
) -> tuple[Placement, dict]:
    """Run the guarded union tier by tier; leave work tables ``id_nodes``, ``id_labels``,
    ``id_clusters`` (a view), ``id_components`` (one row per component) and ``id_conflicts``.

    On NumPy/SciPy in this process, or with ``spark`` in a Spark job (``spark_components``: the
    same partition and dropped links, other label values, which only name the components).
    Returns each node's component with the nodes' facts, and the Spark job's statistics (empty on
    SciPy).
    """
    stats: dict = {}
    # the graph keeps one core busy (at L ~28 s in NumPy/SciPy; a Spark job its own processes):
    # meanwhile DuckDB writes the nodes' table on the other (at L 13-16 s of two cores' work)
    with beside(con, work, lambda db: _write_nodes(db, work)) as written:
        if spark is None:
            labels, conflicts = _components_scipy(con, work)
        else:
            labels, conflicts, stats = run_spark_components(con, work, spark)
    nodes = written.result()
    component = np.empty(len(labels), dtype=np.int64)
    component[labels.column("node_id").to_numpy()] = labels.column("component").to_numpy()
    con.register("component_labels", labels)
    con.execute(
        f"{work_table(work, 'id_labels')} as "
        "select node_id::bigint as node_id, component::bigint as component from component_labels"
    )
    con.unregister("component_labels")
    del labels
    # a view, not a copy of the nodes' strings with their labels (at L 37M rows written, read four
    # times by integer joins that cost less than the write)
    con.execute(
        f"""
        {work_view(work, "id_clusters")} as
        select n.node_id, n.identifier_type, n.identifier_key, l.component,
               n.first_seen_at, n.last_seen_at, n.n_records
        from {work}.id_nodes n join {work}.id_labels l using (node_id)
        """
    )
    # one row per component, what both the stable ids (first sighting, a deterministic anchor) and
    # the review profile need, grouped in NumPy from the labels in memory (at L a join of 37M nodes
    # to their labels and a grouping in DuckDB took 13 s). The anchor is the smallest node key:
    # hash(identifier_type, identifier_key), salted only in the rare run whose keys collided
    # (``sightings.node_key_sql``)
    codes = {t: i for i, t in enumerate(sightings.IDENTIFIER_TYPES)}
    summary = component_summary(
        component[nodes.node_id],
        nodes.first_seen,
        nodes.node_key,
        nodes.type_code == codes["id_number"],
        nodes.type_code == codes["mobile"],
        nodes.n_sales,
    )
    con.register("component_summary", pa.table(vars(summary)))
    con.execute(
        f"""
        {work_table(work, "id_components")} as
        select component, case when first_seen = {FIRST_SEEN_NONE} then null
                               else make_timestamp(first_seen) end as first_seen_at,
               anchor, n_id_numbers, n_mobiles, n_identifiers,
               n_sale_sightings  -- >= distinct vehicles: a cheap upper bound
        from component_summary
        """
    )
    con.unregister("component_summary")
    del summary
    con.register(
        "conflicts_arrow", conflicts.select(list(CONFLICT_COLUMNS)).cast(pa.schema(CONFLICT_COLUMNS))
    )
    con.execute(f"{work_table(work, 'id_conflicts')} as select * from conflicts_arrow")
    con.unregister("conflicts_arrow")
    return Placement(component, nodes), stats


def _components_scipy(con: duckdb.DuckDBPyConnection, work: str) -> tuple[pa.Table, pa.Table]:
    """``graph.GuardedGraph`` over the work tables: (node_id, component) and the dropped links."""
    n = con.execute(f"select count(*) from {work}.id_node_ids").fetchall()[0][0]
    guarded = []
    for identifier_type in GUARDED_TYPES:
        mask = np.zeros(n, dtype=bool)
        nodes = con.execute(
            f"select node_id::integer as node_id from {work}.id_node_ids where identifier_type = ?",
            [identifier_type],
        ).fetchnumpy()["node_id"]
        mask[nodes] = True
        guarded.append(mask)
        del nodes
    graph = GuardedGraph(n, guarded)
    del guarded
    conflicts: list[pa.Table] = [pa.schema(CONFLICT_COLUMNS).empty_table()]
    tiers = [t for (t,) in con.execute(f"select distinct tier from {work}.id_pairs order by tier").fetchall()]
    for tier in tiers:
        # the tier's links in no order: the union of a whole tier does not depend on it, and only
        # the links that compete for a guarded identifier (few) are ranked, by ``_assertion_rank``
        # (at L sorting every tier's links cost 4-7 s of the graph's critical path). NumPy holds
        # only the two int32 node columns
        pairs = con.execute(
            f"select a::integer as a, b::integer as b from {work}.id_pairs where tier = ?", [tier]
        ).fetchnumpy()
        a, b = pairs["a"], pairs["b"]
        del pairs
        # links that attach to a person already holding an ID number go first: when two weak links
        # compete, the one backed by an owner record wins over a stray one of the same day
        id_holder = graph.holders[0]
        unanchored = (id_holder[graph.labels[a]] < 0) & (id_holder[graph.labels[b]] < 0)
        result = graph.add_tier(
            a,
            b,
            rank=partial(_assertion_rank, con, work, tier, a, b),
            guard=GUARDS_BY_TIER.get(tier, DEFAULT_GUARDS),
            deferred=unanchored,
        )
        if len(result.dropped):
            conflicts.append(
                pa.table(
                    {
                        "a": a[result.dropped].astype(np.int64),
                        "b": b[result.dropped].astype(np.int64),
                        "reason": [CONFLICT_REASONS[t] for t in result.conflict_type],
                        "id_left": result.conflict_left.astype(np.int64),
                        "id_right": result.conflict_right.astype(np.int64),
                    }
                ).cast(pa.schema(CONFLICT_COLUMNS))
            )
        del a, b, unanchored, result
    labels = pa.table({"node_id": np.arange(n, dtype=np.int32), "component": graph.labels})
    return labels, pa.concat_tables(conflicts)


def _assertion_rank(
    con: duckdb.DuckDBPyConnection, work: str, tier: int, a: np.ndarray, b: np.ndarray, competing: np.ndarray
) -> np.ndarray:
    """The rank of each link ``a[i]``—``b[i]`` (``i`` in ``competing``) of ``tier`` in the order
    the links were first asserted: priority (first seen), then the record's hash, then the node ids
    (a total order: Spark sorts the same)."""
    a, b = a[competing], b[competing]
    con.register(
        "competing", pa.table({"i": np.arange(len(a)), "a": a.astype(np.int64), "b": b.astype(np.int64)})
    )
    try:
        ordered = con.execute(
            f"""
            select c.i from competing c
            join {work}.id_pairs p on p.a = c.a and p.b = c.b and p.tier = ?
            order by p.priority, p.tiebreak, p.a, p.b
            """,
            [tier],
        ).fetchnumpy()["i"]
    finally:
        con.unregister("competing")
    if len(ordered) != len(a):  # a node pair is one row of id_pairs: a miss would be a bug
        raise RuntimeError(f"tier {tier}: {len(a) - len(ordered)} competing links not in id_pairs")
    rank = np.empty(len(a), dtype=np.int64)
    rank[ordered] = np.arange(len(a))
    return rank


def _rows_of(components: np.ndarray, wanted: np.ndarray, nodes: int) -> np.ndarray:
    """The row of ``components`` (distinct labels of a graph of ``nodes`` nodes) holding each of
    ``wanted``; every one must be there."""
    if len(components) and components.max() < nodes:  # SciPy's 0..k-1, Spark's node ids
        position = np.full(int(components.max()) + 1, -1, dtype=np.int64)
        position[components] = np.arange(len(components))
        rows = position[wanted]  # a label with no row gives -1, which take() refuses
    else:  # any other labels (a test renames them): by search
        order = np.argsort(components)
        rows = order[np.minimum(np.searchsorted(components, wanted, sorter=order), len(order) - 1)]
        if not np.array_equal(components[rows], wanted):
            raise RuntimeError("a component without its OneID")
    return rows


def _explain(
    con: duckdb.DuckDBPyConnection,
    params: OneidParams,
    left_types: list[str],
    placement: Placement,
    work: str = "temp",
) -> None:
    """Work tables behind the explanations: the OneID of each node a link starts from, the refused
    pairs, the review profile. ``left_types``: the types candidate links start from."""
    # a kept link's OneID is its left identifier's: only those types' nodes (at L 20M of 38M: the
    # unionids and mobiles, never a link's left side, are not written), each with its component's
    # OneID looked up in memory (at L the join of 37M labels, 11M OneIDs and 37M nodes took 11 s)
    facts = placement.nodes
    is_left_type = np.zeros(len(sightings.IDENTIFIER_TYPES), dtype=bool)  # by type code
    is_left_type[[sightings.IDENTIFIER_TYPES.index(t) for t in left_types]] = True
    left = is_left_type[facts.type_code]
    assigned = con.sql(f"select component, oneid from {work}.id_assigned").to_arrow_table()
    oneids = assigned.column("oneid").take(
        _rows_of(
            assigned.column("component").to_numpy(),
            placement.component[facts.node_id[left]],
            len(placement.component),
        )
    )
    types = pa.DictionaryArray.from_arrays(facts.type_code[left].astype(np.int8), sightings.IDENTIFIER_TYPES)
    con.register(
        "left_node_oneids",
        pa.table({"node_key": facts.node_key[left], "identifier_type": types, "oneid": oneids}),
    )
    del assigned, oneids, types, left
    con.execute(f"{work_table(work, 'node_oneid')} as select * from left_node_oneids")
    con.unregister("left_node_oneids")
    # the refused pairs also by their node keys (``ka`` < ``kb``): the explanation tables find the
    # candidates behind them in the candidates view, which knows node keys, not node ids
    con.execute(
        f"""
        {work_table(work, "dropped_pairs")} as
        select k.a, k.b, least(na.node_key, nb.node_key) as ka, greatest(na.node_key, nb.node_key) as kb,
               na.identifier_type as type_a, nb.identifier_type as type_b,
               k.reason, ln.identifier_type as guarded_type,
               ln.identifier_key as id_left_key, rn.identifier_key as id_right_key,
               lo.oneid as id_left_oneid, ro.oneid as id_right_oneid
        from {work}.id_conflicts k
        join {work}.id_nodes ln on ln.node_id = k.id_left
        join {work}.id_nodes rn on rn.node_id = k.id_right
        join {work}.id_labels ll on ll.node_id = k.id_left
        join {work}.id_assigned lo on lo.component = ll.component
        join {work}.id_labels rl on rl.node_id = k.id_right
        join {work}.id_assigned ro on ro.component = rl.component
        join {work}.id_node_ids na on na.node_id = k.a
        join {work}.id_node_ids nb on nb.node_id = k.b
        """
    )
    # a vehicle belongs to a OneID when its owner's ID number or (clean) mobile is in it (VIN from the
    # sale's record key); only OneIDs whose sale sightings exceed the threshold can qualify
    con.execute(
        f"""
        {work_table(work, "oneid_vehicles")} as
        with flagged_nodes as materialized (  -- first: left to DuckDB, it joined the sightings first
            select p.component, n.node_key
            from (select component from {work}.id_components where n_sale_sightings > $v) p
            join {work}.id_labels l using (component)
            join {work}.id_nodes n using (node_id))
        select f.component, count(distinct split_part(s.record_key, '|', 1)) as n_vehicles
        from flagged_nodes f
        join {work}.id_sightings s on s.node_key = f.node_key
        where s.source = 'landing.vehicle_sales'
        group by f.component
        """,
        {"v": params.suspicious_vehicles},
    )


def _write_outputs(
    con: duckdb.DuckDBPyConnection,
    params: OneidParams,
    left_types: list[str],
    work: str = "temp",
    stored_links: bool = False,
) -> None:
    """The ``identity`` explanation tables, from the work tables (inside the publishing transaction)."""
    kind = con.execute(
        "select table_type from information_schema.tables where table_schema = 'identity' and table_name = "
        "'oneid_map'"
    ).fetchall()
    if kind and kind[0][0] != "VIEW":  # written as a table by an earlier version
        con.execute("drop table identity.oneid_map")
    con.execute(
        """
        create or replace view identity.oneid_map as
        select identifier_type, identifier_key, oneid, first_seen_at, last_seen_at
        from identity.oneid_registry where active
        """
    )
    link_columns = (
        "l.left_type, l.left_key, l.right_type, l.right_key, l.source, l.record_key, l.rule, "
        "l.tier, l.seen_at"
    )
    _append_links(con, work, stored_links, left_types)
    con.execute(
        f"""
        create or replace table identity.dropped_links as
        select {link_columns}, e.reason,
               coalesce(nullif(e.detail, ''), 'the mobile is not an identity') as detail
        from {work}.id_candidates l
        join {work}.id_excluded e on e.node_key = l.right_node
        where l.right_type = 'mobile'  -- only mobiles are excluded: the view's other branches pruned
        union all
        select {link_columns}, d.reason,
               'would join ' || replace(d.guarded_type, '_', ' ') || ' ' || d.id_left_key
                   || ' (' || d.id_left_oneid || ') with '
                   || d.id_right_key || ' (' || d.id_right_oneid || ')'
        from {work}.id_candidates l
        join {work}.dropped_pairs d
          on d.ka = least(l.left_node, l.right_node) and d.kb = greatest(l.left_node, l.right_node)
        where {_refused_types_sql(con, work)}
        """
    )
    con.execute(
        f"""
        create or replace table identity.excluded_identifiers as
        select identifier_type, identifier_key, reason, detail from {work}.id_excluded
        """
    )
    con.execute(
        f"""
        create or replace table identity.suspicious_clusters as
        with flagged as (  -- n_vehicles <= n_sale_sightings: every OneID the review can keep
            select * from {work}.id_components
            where n_sale_sightings > $v or n_mobiles > $m or n_id_numbers > $i),
        scored as (
            select a.oneid, p.n_id_numbers, p.n_mobiles, p.n_identifiers,
                   coalesce(v.n_vehicles, 0) as n_vehicles
            from flagged p
            join {work}.id_assigned a using (component)
            left join {work}.oneid_vehicles v using (component))
        select oneid, n_vehicles, n_mobiles, n_id_numbers, n_identifiers,
               array_to_string(list_filter([
                   case when n_vehicles > $v then 'vehicles ' || n_vehicles || ' > ' || $v end,
                   case when n_mobiles > $m then 'mobiles ' || n_mobiles || ' > ' || $m end,
                   case when n_id_numbers > $i then 'ID numbers ' || n_id_numbers || ' > ' || $i end],
                   lambda x: x is not null), '; ') as reasons
        from scored
        where n_vehicles > $v or n_mobiles > $m or n_id_numbers > $i
        order by n_identifiers desc, oneid
        """,
        {"v": params.suspicious_vehicles, "m": params.suspicious_mobiles, "i": params.suspicious_id_numbers},
    )


def _refused_types_sql(con: duckdb.DuckDBPyConnection, work: str) -> str:
    """A filter on the candidates view keeping only the pairs of identifier types the refused pairs
    join (either direction), as constants: DuckDB then prunes the view's other branches (at L the
    refusals are weak links of two sources' branches; the whole view is 52M candidates)."""
    pairs = con.execute(
        f"select distinct type_a::varchar, type_b::varchar from {work}.dropped_pairs"
    ).fetchall()
    terms = {
        f"(l.left_type = {quote_literal(left)} and l.right_type = {quote_literal(right)})"
        for a, b in pairs
        for left, right in ((a, b), (b, a))
    }
    return " or ".join(sorted(terms)) or "false"


LINK_COLUMNS = (
    "left_type", "left_key", "right_type", "right_key", "source", "record_key", "rule", "tier",
    "seen_at", "oneid",
)  # fmt: skip
# ``identity.oneid_links`` as created by a first run: the identifier and record keys are nearly all
# distinct, and zstd writes them in less time than DuckDB's automatic analysis picks FSST for them
# (at L 52M rows: 34 s against 41, the file 25 % larger); see stability.REGISTRY_COLUMNS
LINK_TABLE_COLUMNS = """
    left_type varchar, left_key varchar using compression zstd,
    right_type varchar, right_key varchar using compression zstd,
    source varchar, record_key varchar using compression zstd, rule varchar, tier integer,
    seen_at timestamp, oneid varchar
"""


def _links_kept_sql(work: str, left_type: str | None = None) -> str:
    """The run's kept links, as ``identity.oneid_links`` holds them: every candidate between two clean
    identifiers of different nodes, minus the pairs the guards refused, with its OneID.

    Read from the candidates view by node key (a node key stands for one identifier:
    ``collect_identifiers`` makes sure of it): the left identifier's OneID, the right one not an
    excluded mobile. Every identifier a candidate names is sighted by the same record
    (``sightings.collect``; ``tests/identity/test_rules.py`` checks it), so an identifier that is
    not excluded is a node: one join with the nodes, not two (at L each holds 37M keys).
    ``left_type``: only the links from identifiers of that type, joined to the nodes of that type."""
    nodes, only = f"{work}.node_oneid", ""
    if left_type is not None:
        nodes = f"(select node_key, oneid from {work}.node_oneid where identifier_type = '{left_type}')"
        only = f"and l.left_type = '{left_type}'"
    return f"""
        select l.left_type, l.left_key, l.right_type, l.right_key, l.source, l.record_key, l.rule, l.tier,
               l.seen_at, m.oneid
        from {work}.id_candidates l
        join {nodes} m on m.node_key = l.left_node
        anti join {work}.id_excluded x on x.node_key = l.right_node
        anti join {work}.dropped_pairs d
          on d.ka = least(l.left_node, l.right_node) and d.kb = greatest(l.left_node, l.right_node)
        where l.left_node <> l.right_node {only}
    """


@contextmanager
def _nodes_as_build_side(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Inside: DuckDB builds each join's hash table from its right side as written.

    For the statements reading ``_links_kept_sql``: DuckDB estimates the candidates view (a union
    of filtered scans) at a few thousand rows and so built the hash table from it, ~29M rows of
    strings at L for the openids' links, spilled, and probed it with the nodes; as written the
    right sides are the nodes, the excluded mobiles and the refused pairs (at L that part 31 s
    against 23). Its join order is still DuckDB's."""
    with changed_settings(con, disabled_optimizers="build_side_probe_side"):
        yield


def _fingerprint_sql() -> str:
    """A link row's 128-bit fingerprint: two 64-bit DuckDB hashes over every column."""
    cols = ", ".join(LINK_COLUMNS)
    return f"hash({cols}) as h1, hash('oneid_links', {cols}) as h2"


def _stored_links_usable(con: duckdb.DuckDBPyConnection) -> bool:
    stored = con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = 'identity' and table_name = 'oneid_links' order by ordinal_position"
    ).fetchall()
    return tuple(r[0] for r in stored) == LINK_COLUMNS


def _prepare_links(con: duckdb.DuckDBPyConnection, work: str) -> bool:
    """When a stored ``oneid_links`` exists, the difference between it and the run's kept links, as
    work tables written before the publishing transaction (a DuckDB transaction writes one database):

    * ``links_delta`` (h1, h2, n_old, n_new): the fingerprints whose count differs between the stored
      rows and the run's rows (a multiset difference: identical rows are counted, not listed);
    * ``links_gone`` (row_id): the stored rows to delete, the surplus copies of those fingerprints.

    Only integers are written: per row a fingerprint, grouped into counts. Returns whether a stored
    table exists (else the publishing transaction writes the table whole)."""
    if not _stored_links_usable(con):
        return False
    con.execute(
        f"""
        {work_table(work, "links_old")} as
        select rowid as row_id, {_fingerprint_sql()} from identity.oneid_links
        """
    )
    # one aggregate over both sides, not two grouped sides joined: at L (~52M links a side) the full
    # outer join of the two groupings ran out of the stage's 4 GB, where an aggregate spills
    with _nodes_as_build_side(con):
        con.execute(
            f"""
            {work_table(work, "links_delta")} as
            select h1, h2, sum(is_old) as n_old, sum(1 - is_old) as n_new
            from (
                select h1, h2, 1 as is_old from {work}.links_old
                union all
                select h1, h2, 0 as is_old from (select {_fingerprint_sql()} from ({_links_kept_sql(work)})))
            group by h1, h2
            having sum(is_old) <> sum(1 - is_old)
            """
        )
    # of a fingerprint stored n_old times and wanted n_new < n_old times, any n_old - n_new copies go
    con.execute(
        f"""
        {work_table(work, "links_gone")} as
        select row_id from (
            select o.row_id, d.n_new, row_number() over (partition by o.h1, o.h2 order by o.row_id) as copy
            from {work}.links_old o join {work}.links_delta d on d.h1 = o.h1 and d.h2 = o.h2
            where d.n_old > d.n_new)
        where copy > n_new
        """
    )
    return True


def _append_links(con: duckdb.DuckDBPyConnection, work: str, stored: bool, left_types: list[str]) -> None:
    """``identity.oneid_links`` made equal to the run's kept links by deleting the rows that went and
    appending the rows that came, instead of rewriting every row (at 10M vehicles ~70M rows: most of
    the stage's publishing time). Run to run, links change only where records arrived or OneIDs
    merged or split, so both sides of the difference are small; the result is the same multiset of
    rows a full rewrite gives (``tests/identity/test_links_append.py``)."""
    if not stored:  # the first run, or a table of another shape: written whole
        # one left identifier type at a time: each join holds only that type's nodes and their
        # OneIDs (at L one join with all 38M spilled 9 GB of the links' strings: 100 s)
        con.execute(f"create or replace table identity.oneid_links ({LINK_TABLE_COLUMNS})")
        with _nodes_as_build_side(con):
            for left_type in left_types:
                con.execute(f"insert into identity.oneid_links {_links_kept_sql(work, left_type)}")
        return
    columns = ", ".join(LINK_COLUMNS)
    con.execute(f"delete from identity.oneid_links where rowid in (select row_id from {work}.links_gone)")
    # of a fingerprint wanted n_new times and stored n_old < n_new times, n_new - n_old copies come
    with _nodes_as_build_side(con):  # and the delta, written right, is the smaller side
        con.execute(
            f"""
            insert into identity.oneid_links ({columns})
            select {columns} from (
                select k.*, d.n_old, d.n_new, row_number() over (partition by d.h1, d.h2) as copy
                from (select *, {_fingerprint_sql()} from ({_links_kept_sql(work)})) k
                join {work}.links_delta d on d.h1 = k.h1 and d.h2 = k.h2
                where d.n_new > d.n_old)
            where copy <= n_new - n_old
            """
        )


def resolve(
    con: duckdb.DuckDBPyConnection, params: OneidParams, run_at: dt.datetime | None = None
) -> ResolveSummary:
    """Build every ``identity`` table from the landing and wechat tables present on ``con``."""
    run_at = run_at or dt.datetime.now().replace(microsecond=0)
    summary = ResolveSummary()
    with scratch_space(con, "oneid_work", params.duckdb_memory_limit) as work:
        _resolve(con, params, run_at, summary, work)
    return summary


def _resolve(
    con: duckdb.DuckDBPyConnection,
    params: OneidParams,
    run_at: dt.datetime,
    summary: ResolveSummary,
    work: str,
) -> None:
    lap = lap_timer(summary.seconds, summary.cpu_seconds)

    with work_compression(con):
        log = collect_identifiers(con, params, work)
        summary.sources_read, summary.sources_missing = log.read, log.missing
        lap("collect")
        _build_nodes_and_links(con, log.link_types, work)
        lap("nodes_and_links")
        placement, summary.spark = _components(con, work, params.spark)
        summary.identifiers = len(placement.component)
        lap("components")
        plan_oneids(con, work)
        lap("stable_ids")
        _explain(con, params, log.left_types, placement, work)
        del placement
        stored_links = _prepare_links(con, work)
        lap("explanations")
    # everything the stage publishes, in one transaction: a failure leaves the last run's tables
    con.execute("begin transaction")
    try:
        summary.changes = apply_oneids(con, run_at, work)
        _write_outputs(con, params, log.left_types, work, stored_links)
        crash_point("identity")  # reliability suite only: everything written, nothing committed
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    lap("publish")  # the registry, the explanation tables and the links' delete + append, committed
    # one OneID per component, each its own (the map's distinct OneIDs, without grouping 37M strings)
    summary.oneids = con.execute(f"select count(*) from {work}.id_assigned").fetchall()[0][0]
    summary.links_kept = con.execute("select count(*) from identity.oneid_links").fetchall()[0][0]
    summary.links_dropped = dict(
        con.execute("select reason, count(*) from identity.dropped_links group by 1 order by 1").fetchall()
    )
    summary.excluded_identifiers = dict(
        con.execute(
            "select reason, count(*) from identity.excluded_identifiers group by 1 order by 1"
        ).fetchall()
    )
    summary.suspicious = con.execute("select count(*) from identity.suspicious_clusters").fetchall()[0][0]
