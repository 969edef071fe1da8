"""The per-component summary grouped in NumPy, and DuckDB work run beside the graph.

``graph.component_summary`` replaced a DuckDB grouping of every node by its component: it must give
what SQL's min, count and sum give (nulls ignored), whatever values the labels take (SciPy's 0..k-1,
Spark's smallest node ids, any renaming). ``scratch.beside`` runs DuckDB statements on a second
connection while the graph runs: its result arrives, its errors are raised, and an in-memory
database (no second connection can see its temp tables) runs them first.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from assets.identity.graph import FIRST_SEEN_NONE, component_summary
from assets.identity.scratch import beside


def _random_nodes(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    first_seen = rng.integers(1_600_000_000_000_000, 1_700_000_000_000_000, n)
    first_seen[rng.random(n) < 0.3] = FIRST_SEEN_NONE  # never sighted with a time
    return {
        "component": rng.integers(0, n // 4, n),
        "first_seen": first_seen,
        "node_key": rng.integers(0, 2**64 - 1, n, dtype=np.uint64),
        "is_id_number": rng.random(n) < 0.2,
        "is_mobile": rng.random(n) < 0.3,
        "n_sales": rng.integers(0, 5, n),
    }


def _by_sql(nodes: dict[str, np.ndarray]) -> list[tuple]:
    """The grouping as resolve wrote it in DuckDB before (a null for a node without a time)."""
    con = duckdb.connect()
    con.register("nodes", nodes)
    return con.execute(
        f"""
        select component, min(nullif(first_seen, {FIRST_SEEN_NONE})), min(node_key),
               count(*) filter (where is_id_number), count(*) filter (where is_mobile), count(*),
               sum(n_sales)
        from nodes group by component order by component
        """
    ).fetchall()


def _as_rows(summary) -> list[tuple]:
    return [
        (
            int(c),
            None if f == FIRST_SEEN_NONE else int(f),
            int(a),
            int(i),
            int(m),
            int(n),
            int(s),
        )
        for c, f, a, i, m, n, s in zip(
            summary.component,
            summary.first_seen,
            summary.anchor,
            summary.n_id_numbers,
            summary.n_mobiles,
            summary.n_identifiers,
            summary.n_sale_sightings,
            strict=True,
        )
    ]


@pytest.mark.parametrize(
    "relabel",
    [lambda c: c, lambda c: c * 3 + 1, lambda c: 10**12 - c],
    ids=["dense", "spread_within_node_count", "far_beyond_node_count"],
)
def test_component_summary_equals_the_sql_grouping(relabel):
    nodes = _random_nodes(20_000, seed=7)
    nodes["component"] = relabel(nodes["component"])
    summary = component_summary(
        nodes["component"],
        nodes["first_seen"],
        nodes["node_key"],
        nodes["is_id_number"],
        nodes["is_mobile"],
        nodes["n_sales"],
    )
    expected = _by_sql(nodes)
    assert _as_rows(summary) == expected
    # the data exercises the nulls: some components have no time at all, most have one
    assert any(row[1] is None for row in expected)
    assert any(row[1] is not None for row in expected)


def test_beside_runs_the_job_on_a_second_connection_and_raises_its_error(tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute(f"attach '{tmp_path / 'scratch.duckdb'}' as work")
    con.execute("create table work.numbers as select range as n from range(100000)")

    def job(db: duckdb.DuckDBPyConnection) -> int:
        assert db is not con
        db.execute("create table work.total as select sum(n) as s from work.numbers")
        return db.execute("select s from work.total").fetchall()[0][0]

    with beside(con, "work", job) as total:
        meanwhile = con.execute("select count(*) from work.numbers").fetchall()[0][0]
    assert (total.result(), meanwhile) == (sum(range(100000)), 100000)

    def failing(db: duckdb.DuckDBPyConnection) -> None:
        db.execute("select * from work.no_such_table")

    with pytest.raises(duckdb.CatalogException, match="no_such_table"), beside(con, "work", failing):
        pass
    con.close()


def test_beside_in_memory_runs_the_job_first_on_the_same_connection():
    con = duckdb.connect()
    con.execute("create temp table numbers as select range as n from range(10)")
    order = []

    def job(db: duckdb.DuckDBPyConnection) -> int:
        order.append("job")
        return db.execute("select count(*) from numbers").fetchall()[0][0]  # a temp table: same connection

    with beside(con, "temp", job) as counted:
        order.append("body")
    assert (counted.result(), order) == (10, ["job", "body"])
