"""The ingestion assets through Dagster with real resources, and the inbox sensor."""

import datetime as dt
import json

import dagster as dg
import duckdb
import pytest

from assets.ingestion.assets import landing_tables
from assets.resources import AftercareSettings, RunMonth, WarehouseResource
from pipelines.sensors import JOBS, SENSORS, inbox_changes, inbox_sensor
from sources.exports.tables import TABLES
from tests.ingestion.torture import build_torture_inbox


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    (tmp_path / "aftercare.toml").write_text('[paths]\ndata = "data"\n')
    monkeypatch.setenv("AFTERCARE_PII_KEY", "dagster-test-key-0123456789abcdefghij")
    monkeypatch.setenv("AFTERCARE_CONFIG", str(tmp_path / "aftercare.toml"))
    return tmp_path


def resources(workdir, month="2026-11"):
    return {
        "settings": AftercareSettings(config_file=str(workdir / "aftercare.toml")),
        "warehouse": WarehouseResource(database=str(workdir / "data" / "warehouse.duckdb")),
        "run_month": RunMonth(month=month),
    }


def test_materializing_an_empty_inbox_creates_every_landing_table(workdir):
    (workdir / "data").mkdir()
    result = dg.materialize([landing_tables], resources=resources(workdir))
    assert result.success
    con = duckdb.connect(str(workdir / "data" / "warehouse.duckdb"), read_only=True)
    tables = {
        r[0]
        for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'landing'"
        ).fetchall()
    }
    con.close()
    assert {t.name for t in TABLES} | {"quarantine", "file_manifest", "ingestion_report"} <= tables


def test_materializing_the_torture_inbox(workdir):
    build_torture_inbox(workdir / "data" / "inbox")
    result = dg.materialize([landing_tables], resources=resources(workdir))
    assert result.success
    materialized = {
        m.asset_key.to_user_string(): m.metadata
        for m in result.get_asset_materialization_events()
        for m in [m.materialization]
    }
    assert len(materialized) == len(TABLES) + 3
    orders = materialized["landing/repair_orders"]
    assert (
        orders["rows_read"].value == 8
        and orders["rows_typed"].value == 3
        and orders["rows_quarantined"].value == 5
    )
    manifest = materialized["landing/file_manifest"]
    assert manifest["files_ingested"].value == 7 and manifest["files_failed"].value == 5
    assert manifest["files_deferred"].value == 1 and manifest["as_of"].value == "2026-10-31"

    report = workdir / "data" / "runs" / result.run_id / "ingestion_report.md"
    text = report.read_text()
    assert "| repair_orders | 1 | 8 | 3 | 5 |" in text
    assert "missing required column(s): reminder_type" in text

    # a second run skips every file, and the per-run report table gets one row per file per run
    again = dg.materialize([landing_tables], resources=resources(workdir))
    metadata = {
        m.materialization.asset_key.to_user_string(): m.materialization.metadata
        for m in again.get_asset_materialization_events()
    }
    assert metadata["landing/file_manifest"]["files_skipped"].value == 12
    assert metadata["landing/file_manifest"]["files_ingested"].value == 0
    con = duckdb.connect(str(workdir / "data" / "warehouse.duckdb"), read_only=True)
    per_run = dict(con.execute("select run_id, count(*) from landing.ingestion_report group by 1").fetchall())
    con.close()
    assert per_run == {result.run_id: 13, again.run_id: 13}


def test_the_sensor_requests_a_run_only_for_new_or_changed_files(workdir):
    inbox = workdir / "data" / "inbox"
    (inbox / "master").mkdir(parents=True)
    (inbox / "master" / "dealers.csv").write_text("dealer_code,name\nD001,一店\n")
    instance = dg.DagsterInstance.ephemeral()

    context = dg.build_sensor_context(instance=instance)
    first = inbox_sensor(context)
    assert isinstance(first, dg.RunRequest) and first.run_key
    # the month is given at the tick: the ingestion run never has to guess it. It is the month after
    # today's (Beijing time), whose cut-off takes every file dated today
    month = first.run_config["resources"]["run_month"]["config"]["month"]
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    assert month == f"{today.year + today.month // 12}-{today.month % 12 + 1:02d}"
    assert list(json.loads(context.cursor)) == ["master/dealers.csv"]  # name -> [mtime, size]
    quiet = inbox_sensor(dg.build_sensor_context(instance=instance, cursor=context.cursor))
    assert isinstance(quiet, dg.SkipReason)

    (inbox / "master" / "staff.csv").write_text("staff_id,dealer_code\nS1,D001\n")
    changed = inbox_sensor(dg.build_sensor_context(instance=instance, cursor=context.cursor))
    assert (
        isinstance(changed, dg.RunRequest) and "master/staff.csv" in changed.tags["aftercare/inbox_changes"]
    )


def test_inbox_changes_compare_mtime_and_size():
    before = {"a.csv": [1.0, 10], "b.csv": [1.0, 5]}
    assert inbox_changes(before, {"a.csv": [1.0, 10], "b.csv": [2.0, 5], "c.csv": [1.0, 1]}) == [
        "b.csv",
        "c.csv",
    ]
    assert inbox_changes(before, before) == []


def test_the_sensor_and_its_job_are_exported():
    assert inbox_sensor in SENSORS
    assert [job.name for job in JOBS] == ["ingest_inbox"]
