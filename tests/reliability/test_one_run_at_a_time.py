"""One run at a time (issue 14, deliverable 4): the run lock across processes, Dagster's run queue,
a candidate file per run; and the inbox sensor's runs take the current month's files."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from pipelines.run_lock import RunLocked, lock_path, run_lock

ROOT = Path(__file__).resolve().parents[2]


def hold_lock_in_another_process(state: Path) -> subprocess.Popen:
    code = (
        "import sys, time; from pathlib import Path; from pipelines.run_lock import run_lock\n"
        f"with run_lock(Path({str(state)!r}), month='2026-11', launched_by='test'):\n"
        "    print('held', flush=True); time.sleep(600)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_second_run_is_refused_while_the_first_holds_the_lock_and_a_killed_holder_frees_it(tmp_path):
    holder = hold_lock_in_another_process(tmp_path)
    try:
        with pytest.raises(RunLocked) as refused, run_lock(tmp_path, month="2026-12"):
            pass
        assert f"pid {holder.pid}" in str(refused.value) and "month 2026-11" in str(refused.value)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with run_lock(tmp_path, month="2026-12") as path:  # the kernel released it with the process
        assert "2026-12" in path.read_text()
    assert lock_path(tmp_path).read_text() == ""  # released: no holder recorded


def test_the_lock_is_re_entrant_within_the_run_s_process(tmp_path):
    with run_lock(tmp_path, launched_by="cli"), run_lock(tmp_path, run_id="r1"):
        holder = hold_lock_in_another_process_expecting_refusal(tmp_path)
        assert holder.returncode == 1
    with run_lock(tmp_path):  # and free again afterwards
        pass


def hold_lock_in_another_process_expecting_refusal(state: Path) -> subprocess.CompletedProcess:
    code = (
        "import sys; from pathlib import Path; from pipelines.run_lock import run_lock, RunLocked\n"
        f"try:\n    with run_lock(Path({str(state)!r})): sys.exit(0)\n"
        "except RunLocked: sys.exit(1)\n"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_dagster_s_queue_lets_one_warehouse_run_go_at_a_time(tmp_path):
    from pipelines.definitions import defs
    from pipelines.instance import WAREHOUSE_TAG, ensure_instance

    home = ensure_instance(tmp_path / "dagster_home")
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
        assert {"key": WAREHOUSE_TAG, "limit": 1} in limits
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
    finally:
        instance.dispose()
    for job in ("monthly_run", "ingest_inbox"):  # every job that writes the warehouse carries the tag
        assert WAREHOUSE_TAG in defs.resolve_job_def(job).tags
    # an existing dagster.yaml without the limit gets it appended, once
    other = tmp_path / "other"
    other.mkdir()
    (other / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    ensure_instance(other)
    ensure_instance(other)
    assert (other / "dagster.yaml").read_text().count(WAREHOUSE_TAG) == 2  # the comment and the limit


def test_stale_candidates_are_removed_and_each_run_gets_its_own(tmp_path):
    from assets.publish.candidates import candidate_path, remove_stale_candidates

    serving = tmp_path / "serving.duckdb"
    serving.write_bytes(b"live")
    first, second = candidate_path(serving, "run-a"), candidate_path(serving, "run-b")
    assert first != second and first.name == "serving.duckdb.run-a.next"
    first.write_bytes(b"half")
    Path(f"{first}.wal").write_bytes(b"wal")
    assert sorted(p.name for p in remove_stale_candidates(serving)) == [
        "serving.duckdb.run-a.next",
        "serving.duckdb.run-a.next.wal",
    ]
    assert serving.read_bytes() == b"live"


def test_the_inbox_sensor_s_run_ingests_a_file_dated_this_month(tmp_path, monkeypatch):
    """A file dropped mid-month is ingested by the sensor's run, not deferred to next month's."""
    from assets.ingestion.assets import landing_tables
    from assets.resources import AftercareSettings, RunMonth, WarehouseResource
    from pipelines.definitions import defs
    from pipelines.sensors import inbox_sensor, month_taking_today

    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    data = tmp_path / "data"
    (data / "inbox" / "master").mkdir(parents=True)
    (data / "inbox" / "master" / f"dealers_{today:%Y-%m-%d}.csv").write_text(
        "dealer_code,name\nD001,北京一店\n"
    )
    monkeypatch.setenv("AFTERCARE_PATHS_DATA", str(data))
    monkeypatch.setenv("AFTERCARE_PII_KEY", "sensor-test-pii-key-0123456789abcdef")
    monkeypatch.delenv("AFTERCARE_CONFIG", raising=False)

    with dg.instance_for_test() as instance:
        request = inbox_sensor(dg.build_sensor_context(instance=instance))
    assert isinstance(request, dg.RunRequest)
    month = request.run_config["resources"]["run_month"]["config"]["month"]
    assert month == month_taking_today(today) > today.strftime("%Y-%m")
    # the sensor's job (the ingestion group) with the sensor's run config
    assert defs.resolve_job_def("ingest_inbox").asset_layer.executable_asset_keys >= {
        dg.AssetKey(["landing", "dealers"])
    }
    result = dg.materialize(
        [landing_tables],
        run_config=request.run_config,
        resources={
            "settings": AftercareSettings(),
            "warehouse": WarehouseResource(database=str(data / "warehouse.duckdb")),
            "run_month": RunMonth(),
        },
    )
    assert result.success
    import duckdb

    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    assert con.execute("select dealer_code from landing.dealers").fetchall() == [("D001",)]
    con.close()
