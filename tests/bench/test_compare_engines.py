"""The SQL comparison of two engines' published tables (tests/bench/compare_engines.py)."""

from __future__ import annotations

import duckdb

from tests.bench.compare_engines import compare


def _database(path, statements):
    con = duckdb.connect(str(path))
    for statement in statements:
        con.execute(statement)
    con.close()


def test_same_rows_typed_differently_are_the_same_and_a_changed_row_is_found(tmp_path):
    duck, spark = tmp_path / "duck.duckdb", tmp_path / "spark.duckdb"
    _database(
        duck,
        [
            "create table kpi (dealer varchar, rate double, amount decimal(18,2), run_at timestamp)",
            "insert into kpi values ('D1', 0.1916666666, 10.50, '2026-11-30 10:00'), ('D2', 0.5, 3, now())",
            "create table dealers (dealer varchar)",
            "insert into dealers values ('D1'), ('D1'), ('D2')",
        ],
    )
    _database(
        spark,
        [
            # the same measures as decimal / double the other way round, another run's clock
            "create table kpi (dealer varchar, rate decimal(20,12), amount double, run_at timestamp)",
            "insert into kpi values ('D1', 0.191666666600, 10.5, '2026-12-01 09:00'), ('D2', 0.5, 3, now())",
            # one duplicate row fewer: a multiset difference
            "create table dealers (dealer varchar)",
            "insert into dealers values ('D1'), ('D2')",
        ],
    )
    report = compare(str(duck), str(spark), show=2)
    assert report["tables"]["kpi"] == {"rows_a": 2, "rows_b": 2, "only_in_a": 0, "only_in_b": 0}
    assert report["differing"] == ["dealers"]
    assert (report["tables"]["dealers"]["only_in_a"], report["tables"]["dealers"]["only_in_b"]) == (1, 0)
    assert report["tables"]["dealers"]["examples_a"] == [["D1"]]
