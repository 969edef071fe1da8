"""OneID's guarded components on Apache Spark (``engine.kind = "spark"``, docs/spark.md "OneID on Spark").

The same result as ``graph.GuardedGraph`` (the same partition of identifiers, the same dropped links
with the same guarded identifiers), computed on Spark DataFrames so the graph can outgrow one
machine. Tier by tier, strongest first, over the previous tier's component labels:

1. the tier's links between two different components become edges between those components;
   connected components of that graph (large-star/small-star, below) give each touched component
   its *group*: what the whole tier would make of it if every link went in;
2. a group holding guarded nodes (ID numbers; on the weak tier also mobiles) of more than one
   previous component is a *conflicting group*; only its links (few) and its components' guarded
   nodes are collected to the driver, in priority order, and replayed by ``graph.replay_conflicts``,
   the one rule both engines apply;
3. every other group is the new component; a conflicting group splits into the components of its
   accepted links.

A component's label is its smallest node id (large-star/small-star converges to it), so labels
differ in value from scipy's 0..k-1 but name the same sets, and a component's holder of a guarded
type is its smallest node of that type, as in ``graph.py``.

The Dagster process never starts a JVM: ``run_spark_components`` hands the two work tables to a
subprocess (``python -m assets.identity.spark_components``) as Parquet (node ids and types only:
no identifier key leaves DuckDB), and reads the labels and dropped links back. Only ``main`` and
the functions it calls import pyspark.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from assets.identity.graph import NODE, replay_conflicts
from assets.identity.sightings import CONFLICT_REASONS, DEFAULT_GUARDS, GUARDED_TYPES, GUARDS_BY_TIER
from sources.sql_text import quote_literal

# large-star/small-star halves the longest path about every round; 64 rounds would take a chain of
# 2**64 nodes, so reaching the cap means a bug, not a large graph
MAX_ROUNDS = 64


@dataclass(frozen=True)
class SparkComponents:
    """Where and how the Spark job runs: ``[engine]``'s session settings and a hand-over folder."""

    work_dir: Path  # the Parquet hand-over; replaced at each run, removed after a good one
    master: str = "local[2]"
    driver_memory: str = "2g"
    shuffle_partitions: int = 2

    @classmethod
    def from_settings(cls, settings) -> SparkComponents:
        """From ``Settings``: ``oneid/`` in Spark's folder (``EngineConfig.spark_path``)."""
        engine = settings.engine
        return cls(
            work_dir=engine.spark_path(settings.paths) / "oneid",
            master=engine.spark_master,
            driver_memory=engine.spark_driver_memory,
            shuffle_partitions=engine.spark_shuffle_partitions,
        )

    def arguments(self) -> list[str]:
        return [
            "--work", str(self.work_dir), "--master", self.master,
            "--driver-memory", self.driver_memory, "--shuffle-partitions", str(self.shuffle_partitions),
        ]  # fmt: skip


# ---------------------------------------------------------------------------- the Dagster side


def run_spark_components(con, work: str, job: SparkComponents) -> tuple[pa.Table, pa.Table, dict]:
    """Components of ``{work}.id_node_ids`` / ``{work}.id_pairs`` computed by the Spark job.

    Returns ``(labels, conflicts, stats)``: ``labels`` (node_id, component) for every node,
    ``conflicts`` (a, b, reason, id_left, id_right) as ``resolve._components`` writes them, and the
    job's rounds and seconds per tier.
    """
    folder = job.work_dir
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    nodes, pairs = folder / "nodes.parquet", folder / "pairs.parquet"
    con.execute(f"copy (select node_id, identifier_type from {work}.id_node_ids) to {quote_literal(nodes)}")
    con.execute(
        f"copy (select a, b, tier, priority, tiebreak from {work}.id_pairs) to {quote_literal(pairs)}"
    )
    done = subprocess.run(
        [sys.executable, "-m", "assets.identity.spark_components", *job.arguments()],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(
            f"the Spark components job failed (exit {done.returncode}); its last output:\n"
            f"{done.stderr[-4000:]}"
        )
    stats = json.loads((folder / "stats.json").read_text())
    labelled = f"read_parquet({quote_literal(folder / 'labels' / '*.parquet')})"
    if not list((folder / "labels").glob("*.parquet")):
        if stats["tiers"]:  # links, yet no labels: never guess
            raise RuntimeError(f"the Spark components job wrote no labels under {folder / 'labels'}")
        labelled = "(select null::bigint as node_id, null::bigint as component)"  # no link: all alone
    labels = con.sql(
        f"""
        select n.node_id, coalesce(l.component, n.node_id) as component
        from {work}.id_node_ids n left join {labelled} l using (node_id)
        """
    ).to_arrow_table()
    conflicts = pq.read_table(folder / "conflicts.parquet")
    shutil.rmtree(folder)
    return labels, conflicts, stats


# ---------------------------------------------------------------------------- the Spark side


def _checkpoint(frame):
    """The frame with its plan cut (an iteration's state must not carry every earlier round's
    plan); lazy: stored by the first action that computes it, so it costs no Spark job of its own."""
    return frame.localCheckpoint()


def connected_components(edges, checkpoint=_checkpoint):
    """Connected components of the undirected graph ``edges`` (columns ``u``, ``v``, longs).

    Large-star/small-star (Kiveris et al., "Connected Components in MapReduce and Beyond", 2014):
    *large-star* links every neighbour larger than a node to the smallest of its neighbourhood,
    *small-star* links a node and its smaller neighbours to the smallest of them; alternated, they
    turn each component into a star around its smallest node in O(log n) rounds. Returns
    ``(roots, rounds)``: ``roots`` (``node``, ``root``) for every node with an edge, ``root`` the
    smallest node of its component.
    """
    from pyspark.sql import functions as F

    big, small = F.col("big"), F.col("small")
    current = (
        edges.where(F.col("u") != F.col("v"))
        .select(F.greatest("u", "v").alias("big"), F.least("u", "v").alias("small"))
        .distinct()
    )
    rounds = 0
    while rounds < MAX_ROUNDS:
        rounds += 1
        # large-star: each node's neighbourhood (itself included) has a minimum; every larger
        # neighbour is linked to it
        both = current.select(big.alias("x"), small.alias("y")).unionByName(
            current.select(small.alias("x"), big.alias("y"))
        )
        least_of = both.groupBy("x").agg(F.least(F.min("y"), F.col("x")).alias("m"))
        large = (
            both.where(F.col("y") > F.col("x"))
            .join(least_of, "x")
            .select(F.col("y").alias("big"), F.col("m").alias("small"))
            .distinct()
        )
        # small-star: a node and its smaller neighbours are linked to the smallest of these
        parent = large.groupBy("big").agg(F.min("small").alias("m"))
        stars = checkpoint(
            large.join(parent, "big")
            .select(small.alias("big"), F.col("m").alias("small"))
            .where(big != small)
            .unionByName(parent.select("big", F.col("m").alias("small")))
            .distinct()
        )
        # done when every edge goes from a node to its root: no node has two parents, no parent
        # has a parent (then both steps leave the edges as they are). One Spark job per round.
        two_parents = stars.groupBy("big").count().where(F.col("count") > 1).select(big.alias("node"))
        parent_with_parent = stars.select(small.alias("node")).join(
            stars.select(big.alias("node")), "node", "left_semi"
        )
        current = stars
        if two_parents.unionByName(parent_with_parent).limit(1).isEmpty():
            break
    else:
        raise RuntimeError(f"connected components did not converge in {MAX_ROUNDS} rounds")
    roots = current.select(big.alias("node"), small.alias("root")).unionByName(
        current.select(small.alias("node"), small.alias("root"))
    )
    return roots.distinct(), rounds


def _collect_conflicting(links):
    """Driver-side arrays for ``replay_conflicts`` from the collected rows, with local labels:
    ``(index, holders, ca, cb)``, ``index`` the previous label -> local label."""
    index: dict[int, int] = {}
    for row in links:
        for comp in (row["ca"], row["cb"]):
            index.setdefault(comp, len(index))
    local = [np.full(len(index), -1, dtype=NODE) for _ in GUARDED_TYPES]
    for row in links:
        for side in ("a", "b"):
            for t, holder in enumerate(local):
                if row[f"h{side}{t}"] is not None:
                    holder[index[row[f"c{side}"]]] = row[f"h{side}{t}"]
    ca = np.array([index[row["ca"]] for row in links], dtype=np.int64)
    cb = np.array([index[row["cb"]] for row in links], dtype=np.int64)
    return index, local, ca, cb


def _split_groups(index: dict[int, int], ca, cb, accepted) -> list[tuple[int, int]]:
    """(component, new component) for the components of conflicting groups: the components of
    the accepted links, each named by its smallest previous label (so, its smallest node)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components as scipy_components

    n = len(index)
    graph = coo_matrix((np.ones(int(accepted.sum())), (ca[accepted], cb[accepted])), shape=(n, n))
    _, part = scipy_components(graph, directed=False)
    labels = np.array(list(index.keys()), dtype=np.int64)  # local index -> previous label
    smallest = np.full(int(part.max()) + 1 if n else 0, np.iinfo(np.int64).max)
    np.minimum.at(smallest, part, labels)
    return [(int(labels[i]), int(smallest[part[i]])) for i in range(n)]


def _guarded_nodes(nodes):
    """(node_id, gtype): the nodes of a guarded type, ``gtype`` its index in ``GUARDED_TYPES``."""
    from pyspark.sql import functions as F

    gtype = F.coalesce(*[F.when(F.col("identifier_type") == name, t) for t, name in enumerate(GUARDED_TYPES)])
    return nodes.select("node_id", gtype.cast("int").alias("gtype")).where(F.col("gtype").isNotNull())


def _cross_links(tier_pairs, labels):
    """The tier's links between two different components: (a, b, priority, tiebreak, ca, cb)."""
    from pyspark.sql import functions as F

    return (
        tier_pairs.join(labels.select(_as("node_id", "a"), _as("component", "la")), "a", "left")
        .join(labels.select(_as("node_id", "b"), _as("component", "lb")), "b", "left")
        .select(
            "a",
            "b",
            "priority",
            "tiebreak",
            F.coalesce("la", "a").alias("ca"),
            F.coalesce("lb", "b").alias("cb"),
        )  # fmt: skip
        .where(F.col("ca") != F.col("cb"))
    )


def _in_conflict(holders, group, guard):
    """(comp, grp) of the components whose group holds a guarded type in more than one of them."""
    from pyspark.sql import functions as F

    conflicting = (
        holders.where(F.col("gtype").isin(guard))
        .join(group, "comp")
        .groupBy("grp", "gtype")
        .count()
        .where(F.col("count") > 1)
        .select("grp")
        .distinct()
    )
    return group.join(conflicting, "grp", "left_semi")


def _conflicting_links(cross, in_conflict, holders):
    """The conflicting groups' links, collected in priority order: links attaching to a component
    that already holds an ID number first (``resolve._components`` defers the others), then
    priority, tie-break and the node ids (the order DuckDB sorts the tier in). Each row carries
    both components' guarded nodes (``ha0``, ``hb1``, ...: side, then type), so one Spark job
    brings everything the replay needs."""
    from pyspark.sql import functions as F

    by_comp = holders.groupBy("comp").pivot("gtype", list(range(len(GUARDED_TYPES)))).agg(F.first("holder"))
    rows = cross.join(in_conflict.select(_as("comp", "ca")), "ca", "left_semi")
    for side in ("a", "b"):
        rows = rows.join(
            by_comp.select(
                _as("comp", f"c{side}"), *[_as(str(t), f"h{side}{t}") for t in range(len(GUARDED_TYPES))]
            ),
            f"c{side}",
            "left",
        )
    late = F.col("ha0").isNull() & F.col("hb0").isNull()  # neither side holds an ID number yet
    return rows.withColumn("late", late).orderBy("late", "priority", "tiebreak", "a", "b").collect()


def _relabel(labels, tier_pairs, new_comp):
    """Every node touched so far or by this tier, labelled by its new component. A node not yet
    labelled is its own component; a labelled node's label is its component's smallest node, so
    the ``min`` keeps it."""
    from pyspark.sql import functions as F

    touched = (
        labels.unionByName(tier_pairs.select(_as("a", "node_id"), _as("a", "component")))
        .unionByName(tier_pairs.select(_as("b", "node_id"), _as("b", "component")))
        .groupBy("node_id")
        .agg(F.min("component").alias("component"))
    )
    return touched.join(new_comp.withColumnRenamed("comp", "component"), "component", "left").select(
        "node_id", F.coalesce("new_comp", "component").alias("component")
    )


def guarded_components(spark, nodes, pairs, checkpoint=_checkpoint):
    """The guarded union of ``pairs`` (a, b, tier, priority, tiebreak) over ``nodes`` (node_id,
    identifier_type), tier by tier. Returns ``(labels, conflicts, stats)``: ``labels`` a DataFrame
    (node_id, component) of the nodes some link touched (every other node is its own component,
    labelled by itself), ``conflicts`` the dropped links as tuples (a, b, guarded type, id_left,
    id_right), ``stats`` per tier: links, replayed and dropped links, rounds, seconds."""
    from pyspark.sql import functions as F

    guarded = _guarded_nodes(nodes)
    labels = spark.createDataFrame([], "node_id long, component long")  # nodes touched so far
    conflicts: list[tuple[int, int, int, int, int]] = []
    stats = []
    tiers = [row["tier"] for row in pairs.select("tier").distinct().orderBy("tier").collect()]
    for tier in tiers:
        started = time.perf_counter()
        guard = list(GUARDS_BY_TIER.get(tier, DEFAULT_GUARDS))
        tier_pairs = pairs.where(F.col("tier") == tier)
        # each component's smallest node of each guarded type, by the labels before the tier
        holders = (
            guarded.join(labels, "node_id", "left")
            .select(F.coalesce("component", "node_id").alias("comp"), "gtype", "node_id")
            .groupBy("comp", "gtype")
            .agg(F.min("node_id").alias("holder"))
        )
        cross = checkpoint(_cross_links(tier_pairs, labels))
        # what the whole tier would make of the components it touches
        roots, rounds = connected_components(cross.select(_as("ca", "u"), _as("cb", "v")), checkpoint)
        group = roots.select(_as("node", "comp"), _as("root", "grp"))
        in_conflict = _in_conflict(holders, group, guard)
        replayed = _conflicting_links(cross, in_conflict, holders)
        split: list[tuple[int, int]] = []
        dropped = 0
        if replayed:
            index, local, ca, cb = _collect_conflicting(replayed)
            replay = replay_conflicts(ca, cb, local, guard)
            for i, t, left, right in zip(
                replay.dropped, replay.conflict_type, replay.conflict_left, replay.conflict_right, strict=True
            ):
                conflicts.append((replayed[i]["a"], replayed[i]["b"], int(t), int(left), int(right)))
            dropped = len(replay.dropped)
            split = _split_groups(index, ca, cb, replay.accepted)
        # a conflicting group splits into the components of its accepted links; any other group
        # is the new component
        splits = spark.createDataFrame(split, "comp long, split long")
        new_comp = group.join(splits, "comp", "left").select(
            "comp", F.coalesce("split", "grp").alias("new_comp")
        )
        labels = checkpoint(_relabel(labels, tier_pairs, new_comp))
        stats.append(
            {
                "tier": int(tier),
                "replayed_links": len(replayed),
                "dropped_links": dropped,
                "rounds": rounds,
                "seconds": round(time.perf_counter() - started, 2),
            }
        )
    return labels, conflicts, stats


def _as(column: str, name: str):
    from pyspark.sql import functions as F

    return F.col(column).alias(name)


def _session(master: str, driver_memory: str, shuffle_partitions: int, local_dir: Path):
    from pyspark.sql import SparkSession

    local = master.startswith("local")
    builder = (
        SparkSession.builder.appName("aftercare-oneid-components")
        .master(master)
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.local.dir", str(local_dir))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        # a local session's job is dozens of small queries (a few per round and tier): compiling
        # each to Java costs more than it saves, as for dbt's session target (profiles.yml). Off,
        # the components test's job took 97 s instead of 119 (docs/spark.md "Speed"); a cluster keeps it
        .config("spark.sql.codegen.wholeStage", str(not local).lower())
    )
    if local:
        # and each expression's projection interpreted rather than compiled with Janino, the JVM
        # on the throughput collector: as for dbt's session target (profiles.yml, docs/spark.md
        # "Speed"); the driver's JVM options reach it because pyspark starts that JVM here
        builder = builder.config("spark.sql.codegen.factoryMode", "NO_CODEGEN").config(
            "spark.driver.extraJavaOptions", "-XX:+UseParallelGC"
        )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


def run_job(spark, work_dir: Path) -> dict:
    """The job on an open session: read the hand-over, write labels, dropped links and stats."""
    started = time.perf_counter()
    nodes = spark.read.parquet(str(work_dir / "nodes.parquet"))
    pairs = spark.read.parquet(str(work_dir / "pairs.parquet"))
    labels, conflicts, tiers = guarded_components(spark, nodes, pairs)
    labels.write.mode("overwrite").parquet(str(work_dir / "labels"))
    columns = list(zip(*conflicts, strict=True)) if conflicts else [(), (), (), (), ()]
    pq.write_table(
        pa.table(
            {
                "a": pa.array(columns[0], pa.int64()),
                "b": pa.array(columns[1], pa.int64()),
                "reason": pa.array([CONFLICT_REASONS[t] for t in columns[2]], pa.string()),
                "id_left": pa.array(columns[3], pa.int64()),
                "id_right": pa.array(columns[4], pa.int64()),
            }
        ),
        work_dir / "conflicts.parquet",
    )
    stats = {"tiers": tiers, "seconds": round(time.perf_counter() - started, 2)}
    (work_dir / "stats.json").write_text(json.dumps(stats))
    return stats


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="the hand-over folder")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="2g")
    parser.add_argument("--shuffle-partitions", type=int, default=2)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    spark = _session(args.master, args.driver_memory, args.shuffle_partitions, args.work / "spark-local")
    try:
        start_seconds = round(time.perf_counter() - started, 2)
        stats = run_job(spark, args.work)
    finally:
        spark.stop()
    stats["session_start_seconds"] = start_seconds
    (args.work / "stats.json").write_text(json.dumps(stats))


if __name__ == "__main__":
    main()
