"""Publishing builds the serving file aside and swaps it in; a failed gate keeps the old one."""

import duckdb
import pytest

from tests.publish.required import create_required_tables, publish


@pytest.fixture()
def project(tmp_path, monkeypatch):
    (tmp_path / "aftercare.toml").write_text('[paths]\ndata = "data"\n')
    monkeypatch.setenv("AFTERCARE_CONFIG", str(tmp_path / "aftercare.toml"))
    data = tmp_path / "data"
    data.mkdir()
    con = duckdb.connect(str(data / "warehouse.duckdb"))
    con.execute("create schema marts")
    con.execute("create table marts.dealers as select 'D001' as dealer_code, 10 as repair_orders_12m")
    # the published tables of PRODUCT.md the gate requires, empty, with their contract's columns
    create_required_tables(con)
    con.close()
    return data


def test_publish_swaps_in_a_complete_database_and_an_open_reader_keeps_its_snapshot(project):
    assert publish(project).success
    serving = project / "serving.duckdb"
    reader = duckdb.connect(str(serving), read_only=True)
    assert reader.execute("select repair_orders_12m from dealers").fetchone() == (10,)

    con = duckdb.connect(str(project / "warehouse.duckdb"))
    con.execute("update marts.dealers set repair_orders_12m = 11")
    con.close()
    assert publish(project).success

    # the reader that was open during the swap still sees its complete old database
    assert reader.execute("select repair_orders_12m from dealers").fetchone() == (10,)
    reader.close()
    fresh = duckdb.connect(str(serving), read_only=True)
    assert fresh.execute("select repair_orders_12m from dealers").fetchone() == (11,)
    assert fresh.execute("select month, as_of_date from publish_log").fetchone() == ("2026-11", "2026-10-31")
    fresh.close()
    assert not list(project.glob("serving.duckdb.*next*"))  # the run's candidate is gone


def test_a_plaintext_mobile_fails_the_gate_and_leaves_the_old_database(project):
    assert publish(project).success
    before = (project / "serving.duckdb").read_bytes()
    con = duckdb.connect(str(project / "warehouse.duckdb"))
    con.execute("create table marts.leak as select '13912345670' as contact")
    con.close()

    result = publish(project)

    assert not result.success
    failure = result.get_step_failure_events()[0].event_specific_data.error.message
    assert "leak.contact" in failure
    assert (project / "serving.duckdb").read_bytes() == before
    assert not list(project.glob("serving.duckdb.*next*"))  # the run's candidate is gone
