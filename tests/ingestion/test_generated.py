"""Ingestion over the sample OEM's output (the generator's dirt, at a small scale)."""

import datetime as dt
import json
import re

import duckdb
import pytest

from assets.ingestion.ingest import ingest_inbox
from sources.exports.personal import PersonalData
from sources.pii import PiiVault
from sources.sample_oem import generate
from tests.ingestion.test_ingest import ID_NUMBER, MOBILE, every_row, snapshot

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("oem")
    summary = generate(out, vehicles=1500, end="2026-10", months=13)
    con = duckdb.connect(str(out / "warehouse.duckdb"))
    personal = PersonalData(PiiVault(b"generated-test-key"))
    result = ingest_inbox(con, out / "inbox", personal)  # no cut-off: every file
    yield out, summary, con, result, personal
    con.close()


def test_every_generated_file_is_read_and_every_row_accounted_for(generated):
    _, summary, con, result, _ = generated
    assert {o.action for o in result.outcomes} == {"ingested"}, [o for o in result.outcomes if o.error]
    assert len(result.outcomes) == len(list((generated[0] / "inbox").rglob("*.*")))
    for o in result.outcomes:
        assert o.rows_read == o.rows_typed + o.rows_quarantined, o
    for path, read, typed, quarantined in con.execute(
        "select path, rows_read, rows_typed, rows_quarantined from landing.file_manifest"
    ).fetchall():
        assert read == typed + quarantined, path


def test_current_tables_hold_one_row_per_key_of_the_history(generated):
    _, _, con, _, _ = generated
    from sources.exports.tables import TABLES

    for table in TABLES:
        keys = ", ".join(table.key)
        current = con.execute(
            f"select count(*), count(distinct ({keys})) from landing.{table.name}"
        ).fetchone()
        history = con.execute(f"select count(distinct ({keys})) from ({every_row(table.name)})").fetchone()[0]
        assert current == (history, history), table.name
        assert history > 0, table.name


def test_rows_read_match_what_the_generator_wrote(generated):
    out, summary, _, result, _ = generated
    dirt = json.loads((out / "truth" / "dirt_rates.json").read_text())
    read: dict[str, int] = {}
    for o in result.outcomes:
        read[o.table] = read.get(o.table, 0) + o.rows_read
    for table, rows in read.items():
        resent = dirt["ro_resent"]["injected"] if table == "repair_orders" else 0
        assert rows == summary.rows[table] + resent, table


def test_quarantine_holds_the_injected_bad_rows(generated):
    out, _, con, _, _ = generated
    dirt = json.loads((out / "truth" / "dirt_rates.json").read_text())
    bad_rows = sum(dirt[k]["injected"] for k in dirt if k.startswith("bad_row_"))
    quarantined = con.execute("select count(*) from landing.quarantine").fetchone()[0]
    # every injected bad row, plus at most the rows whose bad ID number was their only identity
    assert bad_rows <= quarantined <= bad_rows + dirt["id_bad_checksum"]["injected"]
    reasons = {
        r[0] for r in con.execute("select split_part(reason, ':', 1) from landing.quarantine").fetchall()
    }
    assert {"missing key", "impossible or unreadable date", "unknown dealer code"} <= reasons


def test_dirty_identifiers_are_recognised(generated):
    out, _, con, _, _ = generated
    dirt = json.loads((out / "truth" / "dirt_rates.json").read_text())
    statuses = dict(
        con.execute(
            "select owner_id_number_status, count(*) from landing.vehicle_sales group by 1"
        ).fetchall()
    )
    # lower-case x and 15-digit numbers are valid; only the injected checksum errors are not
    assert statuses.get("invalid", 0) == 0
    assert 0 < statuses.get("bad_checksum", 0) <= dirt["id_bad_checksum"]["injected"]
    bad_vins = con.execute(
        "select count(distinct vin) from landing.vehicle_sales where not vin_check_ok"
    ).fetchone()
    assert bad_vins == (dirt["vin_bad_check_digit"]["injected"],)
    # resold vehicles keep both sale records: (vin, invoice_date) is the key
    sales, vins = con.execute("select count(*), count(distinct vin) from landing.vehicle_sales").fetchone()
    assert sales > vins


def test_no_plaintext_personal_data_lands(generated):
    _, _, con, _, _ = generated
    for schema, table, column in con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema like 'landing%' and data_type in ('VARCHAR', 'JSON')"
    ).fetchall():
        hits = con.execute(
            f'select count(*) from {schema}.{table} where regexp_matches("{column}"::varchar, ?) '
            f'or regexp_matches("{column}"::varchar, ?)',
            [MOBILE.pattern.replace(r"\d", "[0-9]"), ID_NUMBER.pattern.replace(r"\d", "[0-9]")],
        ).fetchone()[0]
        assert hits == 0, f"{schema}.{table}.{column}"


def test_a_rerun_over_the_generated_inbox_is_a_no_op(generated):
    out, _, con, _, personal = generated
    before = snapshot(con)
    again = ingest_inbox(con, out / "inbox", personal, as_of=dt.date(2100, 1, 1))
    assert {o.action for o in again.outcomes} == {"skipped"}
    assert snapshot(con) == before


def test_regexes_really_catch_plaintext():
    """The scan above would see a leak: the patterns match a bare mobile and ID number."""
    assert MOBILE.search("x 13812345678 y") and ID_NUMBER.search("11010519491231002X")
    assert re.search(MOBILE.pattern, "hmac:ab13812345678cd") is None
