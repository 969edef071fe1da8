"""The gate's key check, set-based in DuckDB: what Great Expectations' unique / not-null rules failed
on still fails, with the count and examples, and what they let through still passes."""

from __future__ import annotations

import duckdb

from assets.publish.gate import check_key


def results(sql: str, key: tuple[str, ...]) -> list[tuple[bool, str]]:
    con = duckdb.connect()
    con.execute(sql)
    return [(c.passed, c.detail) for c in check_key(con, "t", key)]


def test_a_unique_key_without_nulls_passes():
    assert results("create table t as select 'RO' || range as ro_no from range(1000)", ("ro_no",)) == [
        (True, "ro_no column values to be unique"),
        (True, "ro_no column values to not be null"),
    ]


def test_a_repeated_key_fails_with_the_rows_beyond_the_first_and_examples():
    # RO1 three times, RO2 twice: 3 rows repeat a key (2 + 1)
    checks = results(
        "create table t as select * from "
        "(values ('RO1'), ('RO1'), ('RO1'), ('RO2'), ('RO2'), ('RO3')) v(ro_no)",
        ("ro_no",),
    )
    assert checks[0] == (False, "ro_no column values to be unique: 3 rows repeat a key, e.g. (key, rows) "
                                "[('RO1', 3), ('RO2', 2)]")  # fmt: skip
    assert checks[1] == (True, "ro_no column values to not be null")


def test_nulls_fail_the_not_null_check_but_are_no_duplicates_of_each_other():
    checks = results("create table t as select * from (values ('RO1'), (null), (null)) v(ro_no)", ("ro_no",))
    assert checks == [
        (True, "ro_no column values to be unique"),
        (False, "ro_no column values to not be null: 2 null rows"),
    ]


def test_a_compound_key_repeats_only_when_every_column_repeats():
    checks = results(
        "create table t as select * from (values (date '2026-10-01', 'T1'), (date '2026-11-01', 'T1'), "
        "(date '2026-11-01', 'T1'), (date '2026-11-01', null)) v(month, task_id)",
        ("month", "task_id"),
    )
    assert checks[0][0] is False
    assert checks[0][1].startswith("month,task_id compound columns to be unique: 1 rows repeat a key")
    assert "'T1'), 2)" in checks[0][1]
    assert checks[1:] == [
        (True, "month column values to not be null"),
        (False, "task_id column values to not be null: 1 null rows"),
    ]
