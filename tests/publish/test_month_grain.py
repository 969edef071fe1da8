"""Publishing the month-grain ``reminders``: the gate's checks on it, the per-month row band, and a
run for an older month that replaces only that month's rows and never rolls the rest back."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from tests.exports.story import story_rows, task_id
from tests.publish.required import create_required_tables, publish


@pytest.fixture()
def project(tmp_path, monkeypatch):
    """A warehouse with one ordinary mart and the reminders of 2026-09 … 2026-11 (story rows)."""
    (tmp_path / "aftercare.toml").write_text('[paths]\ndata = "data"\n')
    monkeypatch.setenv("AFTERCARE_CONFIG", str(tmp_path / "aftercare.toml"))
    data = tmp_path / "data"
    data.mkdir()
    con = duckdb.connect(str(data / "warehouse.duckdb"))
    con.execute("create schema marts")
    con.execute("create table marts.dealers as select 'D001' as dealer_code, 10 as repair_orders_12m")
    con.register("story", story_rows().to_arrow())
    con.execute("create table marts.reminders as select * from story")
    con.execute("create table story_all as select * from story")
    create_required_tables(con)  # the other published tables, empty
    con.close()
    return data


def warehouse(data, *statements: str) -> None:
    con = duckdb.connect(str(data / "warehouse.duckdb"))
    for statement in statements:
        con.execute(statement)
    con.close()


def serving(data, sql: str):
    con = duckdb.connect(str(data / "serving.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def failed_checks(result) -> dict[str, str]:
    return {
        e.check_name: e.metadata["failures"].value
        for e in result.get_asset_check_evaluations()
        if not e.passed
    }


def test_reminders_are_published_with_the_gate_checks_on_them(project):
    result = publish(project)
    assert result.success
    assert serving(project, "select count(*) from reminders") == [(10,)]
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert all(e.passed for e in evaluations.values())


def test_a_duplicate_task_in_a_month_fails_the_key_check(project):
    warehouse(
        project, f"insert into marts.reminders select * from marts.reminders where task_id = '{task_id('a')}'"
    )
    result = publish(project)
    assert not result.success
    assert "reminders" in failed_checks(result)["keys_unique"]
    assert not (project / "serving.duckdb").exists()


def test_a_missing_contract_column_fails(project):
    warehouse(project, "alter table marts.reminders drop column closed_reason")
    result = publish(project)
    assert not result.success
    assert "reminders: closed_reason" in failed_checks(result)["contract_columns"]


def test_a_plaintext_mobile_in_reminders_fails_the_pii_scan(project):
    warehouse(
        project,
        f"update marts.reminders set owner_mobile_masked = '13812345678' where task_id = '{task_id('a')}'",
    )
    result = publish(project)
    assert not result.success
    assert "reminders.owner_mobile_masked (1 rows)" in failed_checks(result)["no_plaintext_pii"]


def test_a_new_month_may_grow_the_table_past_the_band_but_a_month_may_not_vanish(project):
    warehouse(project, "delete from marts.reminders where month <> date '2026-09-01'")
    assert publish(project, "2026-09").success  # one month, one row

    # the next months add 9 rows to 1: the whole table grows ninefold, each month is new
    warehouse(project, "delete from marts.reminders", "insert into marts.reminders select * from story_all")
    assert publish(project).success

    # a later publish that lost the list of 2026-10 is refused; the live database stays
    warehouse(project, "delete from marts.reminders where month = date '2026-10-01'")
    result = publish(project)
    assert not result.success
    assert "month 2026-10-01 (5 rows) is gone" in failed_checks(result)["row_counts_in_range"]
    assert serving(project, "select count(*) from reminders") == [(10,)]


def test_an_older_month_replaces_only_its_rows_and_rolls_nothing_back(project):
    assert publish(project).success  # the live view: month 2026-11
    before_other_months = serving(
        project, "select * from reminders where month <> date '2026-10-01' order by month, task_id"
    )

    # a rerun of 2026-10 rebuilt everything as of the end of 2026-09: the dealers mart is an older
    # view, and the warehouse recomputed 2026-10's list (one task more, one status changed) while
    # its 2026-11 rows are a different, older state as well
    rows = story_rows()
    extra = rows.filter(pl.col("task_id") == task_id("e")).with_columns(
        pl.lit("taskz00000000000").alias("task_id")
    )
    warehouse(
        project,
        "update marts.dealers set repair_orders_12m = 7",
        f"update marts.reminders set tracked = false where task_id = '{task_id('e')}' and month = date "
        "'2026-10-01'",
        "delete from marts.reminders where month = date '2026-11-01' and dealer_code = 'D002'",
    )
    con = duckdb.connect(str(project / "warehouse.duckdb"))
    con.register("extra", extra.to_arrow())
    con.execute("insert into marts.reminders select * from extra")
    con.close()

    result = publish(project, "2026-10")
    assert result.success
    # the recomputed month is published ...
    october = serving(
        project, "select task_id, tracked from reminders where month = date '2026-10-01' order by 1"
    )
    warehouse_october = (
        duckdb.connect(str(project / "warehouse.duckdb"), read_only=True)
        .execute("select task_id, tracked from marts.reminders where month = date '2026-10-01' order by 1")
        .fetchall()
    )
    assert october == warehouse_october and len(october) == 6
    assert (task_id("e"), False) in october
    # ... and nothing else moved: other months, the other marts, the view's month and cut-off
    assert (
        serving(project, "select * from reminders where month <> date '2026-10-01' order by month, task_id")
        == before_other_months
    )
    assert serving(project, "select repair_orders_12m from dealers") == [(10,)]
    assert serving(project, "select month, as_of_date from publish_log") == [("2026-11", "2026-10-31")]


def test_the_same_or_a_newer_month_rebuilds_the_whole_database(project):
    assert publish(project).success
    warehouse(project, "update marts.dealers set repair_orders_12m = 12")
    assert publish(project).success
    assert serving(project, "select repair_orders_12m from dealers") == [(12,)]
