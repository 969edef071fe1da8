"""The gate fails closed: a personal number in any column of any type, or a missing published table,
stops the publish and says where (issue 14, deliverables 2 and 7)."""

from __future__ import annotations

import duckdb
import pytest

from assets.publish.gate import (
    CONTRACT_COLUMNS,
    PUBLISHED_TABLES,
    GateFailed,
    required_tables,
    run_quality_gate,
)


def candidate(path, tables: list[str], extra_sql: tuple[str, ...] = ()):
    con = duckdb.connect(str(path))
    for table in tables:
        columns = ", ".join(f'"{c}" varchar' for c in CONTRACT_COLUMNS.get(table, ("id",)))
        con.execute(f'create table "{table}" ({columns})')
    for sql in extra_sql:
        con.execute(sql)
    con.close()
    return path


def test_the_required_tables_are_the_contract_s_that_this_project_builds():
    required = required_tables()
    assert {"oneid_map", "oneid_changes", "quarantine", "customer_360", "vehicles"} <= set(required)
    assert set(required) <= set(PUBLISHED_TABLES)


def test_a_publish_without_customer_360_is_refused(tmp_path):
    partial = [t for t in required_tables() if t != "customer_360"]
    with pytest.raises(GateFailed) as failed:
        run_quality_gate(candidate(tmp_path / "c.duckdb", partial), None, tmp_path / "report")
    assert "tables_present [*]: customer_360" in failed.value.failures
    # with it, the same candidate passes
    report = run_quality_gate(candidate(tmp_path / "ok.duckdb", required_tables()), None, tmp_path / "r2")
    assert not report.failures


@pytest.mark.parametrize(
    ("sql", "hit"),
    [
        ("create table leak as select '8613912345678' as contact", "leak.contact (1 rows)"),
        ("create table leak as select 8613912345678 as contact_number", "leak.contact_number (1 rows)"),
        (
            """create table leak as select '{"raw": "+86 139-1234-5678"}'::json as raw_row from range(3)""",
            "leak.raw_row (3 rows)",
        ),
        ("create table leak as select ['a', '１３９１２３４５６７８'] as notes", "leak.notes (1 rows)"),
        ("create table leak as select {'id': '11010519491231002X'} as person", "leak.person (1 rows)"),
        ("create table leak as select '客户 110105491231002' as remark", "leak.remark (1 rows)"),
        # a timestamp of a five-digit year writes eleven digits: matched as text, as any value is
        (
            "create table leak as select timestamp '13912-11-30 08:00:00' as visited_at",
            "leak.visited_at (1 rows)",
        ),
    ],
)
def test_every_column_of_every_type_is_scanned_with_every_written_form(tmp_path, sql, hit):
    db = candidate(tmp_path / "c.duckdb", [], (sql, "create table fine as select 'RO13912345678' as ro_no"))
    with pytest.raises(GateFailed) as failed:
        run_quality_gate(db, None, tmp_path / "report", required=[])
    assert failed.value.failures == [f"no_plaintext_pii [*]: {hit}"]
