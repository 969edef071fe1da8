"""OneID's guarded components on Spark equal SciPy's (docs/spark.md "OneID on Spark").

One graph holds every case, each on nodes of its own (the guards act per component, so the cases
cannot disturb each other), plus a random graph of a few thousand nodes: both engines resolve it
once through ``resolve._components`` (the Spark side through the real subprocess and Parquet
hand-over), and the cases are read off the two results. The expected answers of the hand-made
cases are worked out by hand from the rules in docs/identity.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from assets.identity.resolve import _components
from assets.identity.sightings import IDENTIFIER_TYPE_ENUM
from assets.identity.spark_components import SparkComponents
from sources.settings import load_settings
from tests.spark.conftest import require_spark

RANDOM_PEOPLE = 1_200  # ~3,600 identifiers


@dataclass
class Graph:
    """Nodes (their type) and links (their tier and priority), as ``resolve`` hands them over."""

    types: list[str] = field(default_factory=list)
    links: list[tuple[int, int, int, int]] = field(default_factory=list)

    def node(self, identifier_type: str) -> int:
        self.types.append(identifier_type)
        return len(self.types) - 1

    def link(self, u: int, v: int, tier: int, priority: int) -> tuple[int, int]:
        self.links.append((min(u, v), max(u, v), tier, priority))
        return min(u, v), max(u, v)

    def connection(self) -> duckdb.DuckDBPyConnection:
        """A connection holding, in ``temp``, the work tables ``resolve`` has written when it
        computes the components (with the columns it gives them): ``id_identifiers``,
        ``id_node_ids`` and ``id_pairs``."""
        con = duckdb.connect()
        n = len(self.types)
        identifiers = pa.table(
            {
                "identifier_type": self.types,
                "identifier_key": [f"k{i}" for i in range(n)],
                "node_key": pa.array(range(1_000, 1_000 + n), pa.uint64()),
                "flagged_placeholder": [False] * n,
                "first_seen_at": pa.nulls(n, pa.timestamp("us")),
                "last_seen_at": pa.nulls(n, pa.timestamp("us")),
                "n_records": pa.array([1] * n, pa.int64()),
                "n_sales": pa.array([0] * n, pa.int64()),
            }
        )
        a, b, tier, priority = (list(c) for c in zip(*self.links, strict=True))
        pairs = pa.table(
            {
                "a": pa.array(a, pa.int64()),
                "b": pa.array(b, pa.int64()),
                "tier": pa.array(tier, pa.int32()),
                "priority": pa.array(priority, pa.int64()),
                # equal priorities are broken by the record's hash: here by a fixed function
                "tiebreak": pa.array([(x * 7_919 + y * 104_729) % 1_000 for x, y in zip(a, b, strict=True)]),
            }
        )
        for name, table in (("id_identifiers", identifiers), ("id_pairs", pairs)):
            con.register("handed", table)
            con.execute(f"create temp table {name} as select * from handed")
            con.unregister("handed")
        # node ids in the order of the node keys, as resolve numbers them
        con.execute(
            "create temp table id_node_ids as select node_key, "
            f"identifier_type::{IDENTIFIER_TYPE_ENUM} as identifier_type, "
            "(row_number() over (order by node_key) - 1)::bigint as node_id from id_identifiers"
        )
        return con


def _hand_made(g: Graph) -> dict[str, dict]:
    """The guard cases; each returns its nodes and what the rules make of them."""
    cases = {}

    # two ID numbers joined by a chain of openids: the chain merges on tier 1, then both verified
    # bindings (tier 2) would put both ID numbers into it: the first asserted wins
    for name, first, second in (("chain", 1, 2), ("chain, priority swapped", 2, 1)):
        i1, i2 = g.node("id_number"), g.node("id_number")
        o1, o2, o3 = g.node("oa_openid"), g.node("oa_openid"), g.node("oa_openid")
        g.link(o1, o2, 1, 1)
        g.link(o2, o3, 1, 2)
        to_i1, to_i2 = g.link(o1, i1, 2, first), g.link(o3, i2, 2, second)
        winner, loser, lost = (i1, i2, to_i2) if first < second else (i2, i1, to_i1)
        cases[name] = {
            "components": [{winner, o1, o2, o3}, {loser}],
            "dropped": {(*lost, "would_join_id_numbers", frozenset({i1, i2}))},
        }

    # a weak link would give an owner a second mobile
    i1, m1, m2, o = g.node("id_number"), g.node("mobile"), g.node("mobile"), g.node("oa_openid")
    g.link(i1, m1, 3, 1)
    g.link(o, m1, 4, 1)
    weak = g.link(o, m2, 4, 2)
    cases["weak link to a second mobile"] = {
        "components": [{i1, m1, o}, {m2}],
        "dropped": {(*weak, "weak_link_second_mobile", frozenset({m1, m2}))},
    }

    # a weak link attaching to someone holding an ID number goes before an earlier stray one
    i1, m1, m3, o = g.node("id_number"), g.node("mobile"), g.node("mobile"), g.node("oa_openid")
    g.link(i1, m1, 3, 1)
    stray = g.link(o, m3, 4, 1)
    g.link(o, m1, 4, 5)
    cases["anchored link first"] = {
        "components": [{i1, m1, o}, {m3}],
        "dropped": {(*stray, "weak_link_second_mobile", frozenset({m1, m3}))},
    }

    # owner records give a person two mobiles (allowed on tier 3); a weak link to a third mobile
    # is refused and names the person's smallest mobile, whichever mobile the link came through
    m2, m1, i1 = g.node("mobile"), g.node("mobile"), g.node("id_number")
    m3, w = g.node("mobile"), g.node("wecom_external_userid")
    g.link(i1, m1, 3, 1)
    g.link(i1, m2, 3, 2)
    g.link(w, m1, 4, 1)
    third = g.link(w, m3, 4, 2)
    cases["two owner mobiles"] = {
        "components": [{i1, m1, m2, w}, {m3}],
        "dropped": {(*third, "weak_link_second_mobile", frozenset({m2, m3}))},
    }

    # a weak link between two owners: the ID-number guard speaks first
    i1, m1, i2, m2, o = (g.node(t) for t in ("id_number", "mobile", "id_number", "mobile", "oa_openid"))
    g.link(i1, m1, 3, 1)
    g.link(i2, m2, 3, 1)
    g.link(o, m1, 4, 1)
    late = g.link(o, m2, 4, 2)
    cases["weak link between two owners"] = {
        "components": [{i1, m1, o}, {i2, m2}],
        "dropped": {(*late, "would_join_id_numbers", frozenset({i1, i2}))},
    }
    # a long chain of WeChat ids (one person's many openids and unionids, in a scrambled order of
    # node ids): large-star/small-star needs several rounds before it is a star
    chain = [g.node(("unionid", "oa_openid")[k % 2]) for k in range(64)]
    order = np.random.default_rng(3).permutation(chain)
    for k, (u, v) in enumerate(zip(order, order[1:], strict=False)):
        g.link(int(u), int(v), 1, k)
    cases["long chain"] = {"components": [set(chain)], "dropped": set()}
    return cases


def _random(g: Graph, people: int, seed: int = 17) -> None:
    """People of 2-4 identifiers linked on random tiers, plus stray links between people (a
    relative's mobile, a shared openid) that the guards must sort out."""
    rng = np.random.default_rng(seed)
    kinds = ["unionid", "oa_openid", "wecom_external_userid"]
    persons = []
    for _ in range(people):
        members = [g.node("id_number")] if rng.random() < 0.7 else []
        members += [g.node("mobile") for _ in range(rng.integers(0, 3))]
        members += [g.node(kinds[rng.integers(0, 3)]) for _ in range(rng.integers(1, 3))]
        for u, v in zip(members, members[1:], strict=False):
            g.link(u, v, int(rng.integers(1, 5)), int(rng.integers(0, 50)))
        persons.append(members)
    for _ in range(people // 3):
        x, y = rng.choice(len(persons), 2, replace=False)
        u, v = rng.choice(persons[x]), rng.choice(persons[y])
        g.link(int(u), int(v), int(rng.integers(1, 5)), int(rng.integers(0, 50)))


def _result(con: duckdb.DuckDBPyConnection) -> tuple[set[frozenset[int]], list[tuple]]:
    components = con.execute("select list(node_id) from id_clusters group by component").fetchall()
    conflicts = con.execute("select a, b, reason, id_left, id_right from id_conflicts order by all")
    conflicts = conflicts.fetchall()
    return {frozenset(c) for (c,) in components}, conflicts


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    """The graph, and the work tables each engine left: {"scipy": con, "spark": con, ...}."""
    require_spark("the OneID components test on Spark")
    graph = Graph()
    cases = _hand_made(graph)
    _random(graph, RANDOM_PEOPLE)
    scipy_con, spark_con = graph.connection(), graph.connection()
    _components(scipy_con, "temp")
    job = SparkComponents(tmp_path_factory.mktemp("oneid") / "oneid", master="local[2]")
    _, stats = _components(spark_con, "temp", job)
    yield {"graph": graph, "cases": cases, "scipy": scipy_con, "spark": spark_con, "stats": stats, "job": job}
    scipy_con.close()
    spark_con.close()


def test_spark_components_equal_scipys_partition_and_dropped_links(engines):
    scipy_parts, scipy_dropped = _result(engines["scipy"])
    spark_parts, spark_dropped = _result(engines["spark"])
    assert spark_parts == scipy_parts
    assert spark_dropped == scipy_dropped
    # the random graph gives the guards work: the comparison is not one of two empty lists
    reasons = {row[2] for row in scipy_dropped}
    assert reasons == {"would_join_id_numbers", "weak_link_second_mobile"}
    assert len(scipy_dropped) > 20
    # every node has a component; Spark names each by its smallest node
    assert sum(len(p) for p in spark_parts) == len(engines["graph"].types)
    named_by_smallest = engines["spark"].execute(
        "select bool_and(component = smallest) from ("
        "select component, min(node_id) over (partition by component) as smallest from id_clusters)"
    )
    assert named_by_smallest.fetchone()[0]


@pytest.mark.parametrize(
    "case",
    [
        "chain",
        "chain, priority swapped",
        "weak link to a second mobile",
        "anchored link first",
        "two owner mobiles",
        "weak link between two owners",
        "long chain",
    ],
)
def test_spark_applies_the_guard_rules_worked_out_by_hand(engines, case):
    expected = engines["cases"][case]
    nodes = set().union(*expected["components"])
    for engine in ("scipy", "spark"):
        parts, dropped = _result(engines[engine])
        assert {p for p in parts if p & nodes} == set(map(frozenset, expected["components"])), engine
        mine = {(a, b, why, frozenset({left, right})) for a, b, why, left, right in dropped if a in nodes}
        assert mine == expected["dropped"], engine


def test_spark_job_reports_its_rounds_and_cleans_its_hand_over(engines):
    stats = engines["stats"]
    assert [t["tier"] for t in stats["tiers"]] == [1, 2, 3, 4]
    # large-star/small-star converges in a few rounds: one on people-sized components, more on the
    # 64-node chain of tier 1 (each round about halves the longest path)
    rounds = [t["rounds"] for t in stats["tiers"]]
    assert 2 <= rounds[0] <= 8 and all(1 <= r <= 8 for r in rounds)
    replayed = sum(t["replayed_links"] for t in stats["tiers"])
    assert replayed > sum(t["dropped_links"] for t in stats["tiers"]) > 20
    assert not engines["job"].work_dir.exists()


def test_the_job_takes_the_engine_settings(tmp_path):
    """No Spark needed: ``[engine]`` reaches the job as arguments, never the environment."""
    (tmp_path / "aftercare.toml").write_text(
        '[paths]\nwarehouse = "wh/warehouse.duckdb"\n\n[engine]\nkind = "spark"\n'
        'spark_master = "local[1]"\nspark_driver_memory = "3g"\nspark_shuffle_partitions = 5\n'
    )
    job = SparkComponents.from_settings(load_settings(environ={}, cwd=tmp_path))
    assert job.work_dir == tmp_path / "wh" / "spark" / "oneid"
    args = job.arguments()
    assert args[args.index("--master") + 1] == "local[1]"
    assert args[args.index("--driver-memory") + 1] == "3g"
    assert args[args.index("--shuffle-partitions") + 1] == "5"
