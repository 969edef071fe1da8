"""Publishing the dbt marts through the quality gate, with Dagster, as ``aftercare run`` does."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest

from sources.scrub import sql_holds_personal_number
from tests.dbt.conftest import WITHOUT_UNIT_TESTS, assert_built, dbt_build, query
from tests.dbt.fixture_warehouse import AS_OF
from tests.publish.required import publish


@pytest.fixture()
def project(tmp_path, monkeypatch, fixture_warehouse) -> Path:
    """A data folder holding a copy of the built fixture warehouse (tests may spoil it)."""
    (tmp_path / "aftercare.toml").write_text('[paths]\ndata = "data"\n')
    monkeypatch.setenv("AFTERCARE_CONFIG", str(tmp_path / "aftercare.toml"))
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(fixture_warehouse, data / "warehouse.duckdb")
    return data


def plaintext_pii_in_every_column(database: Path) -> list[str]:
    """Every column of every table, whatever its type, cast to text and matched."""
    con = duckdb.connect(str(database), read_only=True)
    hits = []
    try:
        columns = con.execute(
            "select table_name, column_name from information_schema.columns where table_schema = 'main'"
        ).fetchall()
        for table, column in columns:
            holds = sql_holds_personal_number(f'cast("{column}" as varchar)')
            found = con.execute(f'select count(*) from main."{table}" where {holds}').fetchone()[0]
            if found:
                hits.append(f"{table}.{column}")
    finally:
        con.close()
    return hits


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def failed_checks(result) -> set[str]:
    return {e.check_name for e in result.get_asset_check_evaluations() if not e.passed}


def test_publish_passes_the_gate_keeps_data_docs_and_leaks_no_pii(project):
    result = publish(project)

    assert result.success
    serving = project / "serving.duckdb"
    published = {t for (t,) in query(serving, "select table_name from information_schema.tables")}
    assert {"customer_360", "vehicles", "repair_orders", "wechat_followers", "publish_log"} <= published
    assert plaintext_pii_in_every_column(serving) == []
    # every gate check reported to Dagster, all passed
    evaluations = result.get_asset_check_evaluations()
    assert {e.check_name for e in evaluations} >= {"no_plaintext_pii", "keys_unique", "row_counts_in_range"}
    assert all(e.passed for e in evaluations)
    run_dir = project / "runs" / result.run_id
    assert (run_dir / "data_docs" / "index.html").exists()
    assert list((run_dir / "data_docs" / "validations").rglob("*.html"))
    assert "keys_unique" in (run_dir / "quality_gate.md").read_text()


def test_the_pii_scan_itself_finds_a_plaintext_mobile(tmp_path):
    leaky = tmp_path / "leaky.duckdb"
    con = duckdb.connect(str(leaky))
    con.execute("create table t as select 13912345670 as contact_number")  # even as a number
    con.close()
    assert plaintext_pii_in_every_column(leaky) == ["t.contact_number"]


def test_rows_doubled_in_the_candidate_trip_the_gate_and_yesterday_stays(project):
    assert publish(project).success
    serving = project / "serving.duckdb"
    before = digest(serving)
    con = duckdb.connect(str(project / "warehouse.duckdb"))
    # marts.repair_orders is a view over this table: every repair order now appears twice
    con.execute(
        "insert into intermediate.int_repair_orders_attributed select * from "
        "intermediate.int_repair_orders_attributed"
    )
    con.close()

    result = publish(project)

    assert not result.success
    assert {"keys_unique", "row_counts_in_range"} <= failed_checks(result)
    failure = result.get_step_failure_events()[0].event_specific_data.error.message
    assert "repair_orders" in failure and "left as it was" in failure
    assert digest(serving) == before
    assert not list(project.glob("serving.duckdb.*next*"))  # the run's candidate is gone
    report = (project / "runs" / result.run_id / "quality_gate.md").read_text()
    assert "| keys_unique | repair_orders | FAIL |" in report


@pytest.mark.slow
def test_a_landed_batch_doubling_every_repair_order_trips_the_gate(project, tmp_path):
    assert publish(project).success
    serving = project / "serving.duckdb"
    before = digest(serving)
    warehouse = project / "warehouse.duckdb"
    # a second file re-sending every repair order under new numbers, as a broken DMS export would
    con = duckdb.connect(str(warehouse))
    con.execute(
        "insert into landing.repair_orders select * replace (ro_no || '-DUP' as ro_no, "
        "'repair_orders_dup.csv' as _source_file) from landing.repair_orders"
    )
    con.close()
    # what reads the repair orders is rebuilt, as a run would rebuild it; the rest stays as built
    assert_built(
        dbt_build(warehouse, AS_OF.isoformat(), tmp_path, "--select", "source:landing.repair_orders+",
                  *WITHOUT_UNIT_TESTS)
    )  # fmt: skip
    assert query(warehouse, "select count(*) from marts.repair_orders")[0][0] == 14

    result = publish(project)

    assert not result.success
    assert "row_counts_in_range" in failed_checks(result)
    assert digest(serving) == before
    assert query(serving, "select count(*) from repair_orders") == [(7,)]


def test_append_only_logs_may_grow_past_the_band_but_a_mart_may_not(tmp_path):
    """A month with many merges or bad rows is not a bad batch; a mart that doubles is."""
    from assets.publish.gate import GateFailed, run_quality_gate

    def database(name, changes, dealers):
        path = tmp_path / name
        con = duckdb.connect(str(path))
        con.execute(
            "create table oneid_changes as select now() as run_at, 'merge' as change, "
            f"'OID' || range as old_oneid, 'OID0' as new_oneid from range({changes})"
        )
        con.execute(f"create table dealers as select 'D' || range as dealer_code from range({dealers})")
        con.close()
        return path

    previous = database("previous.duckdb", changes=60, dealers=10)
    report = run_quality_gate(database("grown_log.duckdb", 250, 10), previous, tmp_path / "r1", required=[])
    assert not report.failures
    with pytest.raises(GateFailed, match="dealers"):
        run_quality_gate(database("doubled.duckdb", 60, 20), previous, tmp_path / "r2", required=[])
