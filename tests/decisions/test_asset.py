"""The ``decisions/task_decisions`` asset copies the store into the warehouse, whole, at every run."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb
import pytest

from assets.decisions.task_decisions import task_decisions
from assets.resources import AftercareSettings, RunMonth, WarehouseResource
from sources.decisions import record_decision


@pytest.fixture
def data(tmp_path, monkeypatch):
    (tmp_path / "aftercare.toml").write_text('[paths]\ndata = "data"\n')
    monkeypatch.setenv("AFTERCARE_CONFIG", str(tmp_path / "aftercare.toml"))
    (tmp_path / "data").mkdir()
    return tmp_path / "data"


def materialize(data):
    result = dg.materialize(
        [task_decisions],
        resources={
            "settings": AftercareSettings(),
            "warehouse": WarehouseResource(database=str(data / "warehouse.duckdb")),
            "run_month": RunMonth(month="2026-11"),
        },
        instance=dg.DagsterInstance.ephemeral(),
    )
    (event,) = result.get_asset_materialization_events()
    return {k: v.value for k, v in event.event_specific_data.materialization.metadata.items()}


def warehouse_rows(data):
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(
            "select task_id, action, reason, decided_by, decided_at from decisions.task_decisions order by "
            "decision_id"
        ).fetchall()
    finally:
        con.close()


def test_no_store_yet_gives_an_empty_table(data):
    assert materialize(data) == {"decisions": 0, "closes": 0}
    assert warehouse_rows(data) == []  # the table exists, so dbt never meets a missing source


def test_the_store_is_copied_whole_and_a_rerun_adds_nothing(data):
    state = data / "state"
    record_decision(state, "t1", "close", "wang.li", reason="sold", decided_at=dt.datetime(2026, 10, 10, 9))
    record_decision(state, "t1", "reopen", "wang.li", decided_at=dt.datetime(2026, 11, 2, 8))
    record_decision(
        state, "t2", "close", "zhao.min", reason="moved", decided_at=dt.datetime(2026, 10, 31, 23)
    )
    assert materialize(data) == {"decisions": 3, "closes": 2}
    expected = [
        ("t1", "close", "sold", "wang.li", dt.datetime(2026, 10, 10, 9)),
        ("t1", "reopen", None, "wang.li", dt.datetime(2026, 11, 2, 8)),
        ("t2", "close", "moved", "zhao.min", dt.datetime(2026, 10, 31, 23)),
    ]
    assert warehouse_rows(data) == expected
    assert materialize(data) == {"decisions": 3, "closes": 2}
    assert warehouse_rows(data) == expected

    # a decision recorded between two runs appears at the next one
    record_decision(state, "t3", "close", "ops", reason="duplicate", decided_at=dt.datetime(2026, 11, 5))
    assert materialize(data)["decisions"] == 4
    assert warehouse_rows(data)[-1][:3] == ("t3", "close", "duplicate")
